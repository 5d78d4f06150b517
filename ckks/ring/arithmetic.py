"""Element-wise arithmetic on RNS polynomials: arrays (primes, N) of uint64 residues.

Every function takes the residues and the uint64 array of their primes (row i reduced modulo
``moduli[i]``) and returns a new array, or writes into ``out`` when given. These are the unchecked
building blocks of the scheme layer: inputs must already be reduced and shaped alike; the public
scheme objects validate before calling. Products are pointwise, so they multiply polynomials only
in NTT form.

Element-wise kernels run on one thread: they are memory-bound and take tens of microseconds,
less than the cost of waking a thread team (which, on a loaded machine, can reach milliseconds).

Legend: ``L`` primes, ``N`` ring degree, ``q`` prime, ``mu``/``b`` Barrett constant and bit length.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ckks.ring.modarith import (
    ModulusConstants,
    add_mod,
    mul_high,
    mul_mod,
    mul_shoup,
    mul_wide,
    reduce_wide,
    shoup_companion,
    sub_mod,
)


def add(a: np.ndarray, b: np.ndarray, moduli: np.ndarray, out=None) -> np.ndarray:
    """(a + b) mod q, row by row."""
    out = np.empty_like(a) if out is None else out
    _add_kernel(a, b, moduli, out)
    return out


def subtract(a: np.ndarray, b: np.ndarray, moduli: np.ndarray, out=None) -> np.ndarray:
    """(a − b) mod q, row by row."""
    out = np.empty_like(a) if out is None else out
    _subtract_kernel(a, b, moduli, out)
    return out


def negate(a: np.ndarray, moduli: np.ndarray, out=None) -> np.ndarray:
    """(−a) mod q, row by row."""
    out = np.empty_like(a) if out is None else out
    _negate_kernel(a, moduli, out)
    return out


def multiply(a: np.ndarray, b: np.ndarray, constants: ModulusConstants, out=None) -> np.ndarray:
    """a · b mod q pointwise (a ring product when both are in NTT form)."""
    out = np.empty_like(a) if out is None else out
    _multiply_kernel(a, b, constants.moduli, constants.barrett, constants.bits, out)
    return out


def multiply_add(
    a: np.ndarray, b: np.ndarray, accumulator: np.ndarray, constants: ModulusConstants
) -> None:
    """accumulator ← accumulator + a · b mod q, pointwise, in place."""
    _multiply_add_kernel(a, b, accumulator, constants.moduli, constants.barrett, constants.bits)


def multiply_by_row_constants(
    a: np.ndarray, factors: list[int] | np.ndarray, moduli: np.ndarray, out=None
) -> np.ndarray:
    """a[i] · factors[i] mod q_i: each row times its own constant (factors already reduced)."""
    factors = np.array([int(f) for f in factors], dtype=np.uint64)
    companions = np.array(
        [shoup_companion(int(f), int(q)) for f, q in zip(factors, moduli, strict=True)],
        dtype=np.uint64,
    )
    out = np.empty_like(a) if out is None else out
    _row_constant_kernel(a, factors, companions, moduli, out)
    return out


@njit(cache=True)
def _add_kernel(a, b, moduli, out):  # pragma: no cover - compiled
    L, N = a.shape
    for r in range(L):
        q = moduli[r]
        for n in range(N):
            out[r, n] = add_mod(a[r, n], b[r, n], q)


@njit(cache=True)
def _subtract_kernel(a, b, moduli, out):  # pragma: no cover - compiled
    L, N = a.shape
    for r in range(L):
        q = moduli[r]
        for n in range(N):
            out[r, n] = sub_mod(a[r, n], b[r, n], q)


@njit(cache=True)
def _negate_kernel(a, moduli, out):  # pragma: no cover - compiled
    L, N = a.shape
    zero = np.uint64(0)
    for r in range(L):
        q = moduli[r]
        for n in range(N):
            v = a[r, n]
            out[r, n] = q - v if v != zero else zero


@njit(cache=True)
def _multiply_kernel(a, b, moduli, mu, bits, out):  # pragma: no cover - compiled
    L, N = a.shape
    for r in range(L):
        q = moduli[r]
        for n in range(N):
            out[r, n] = mul_mod(a[r, n], b[r, n], q, mu[r], bits[r])


@njit(cache=True)
def _multiply_add_kernel(a, b, acc, moduli, mu, bits):  # pragma: no cover - compiled
    L, N = a.shape
    for r in range(L):
        q = moduli[r]
        for n in range(N):
            acc[r, n] = add_mod(acc[r, n], mul_mod(a[r, n], b[r, n], q, mu[r], bits[r]), q)


@njit(cache=True)
def _row_constant_kernel(a, factors, companions, moduli, out):  # pragma: no cover - compiled
    L, N = a.shape
    for r in range(L):
        q = moduli[r]
        for n in range(N):
            out[r, n] = mul_shoup(a[r, n], factors[r], companions[r], q)


__all__ = [
    "add",
    "mul_wide",
    "multiply",
    "multiply_add",
    "multiply_by_row_constants",
    "negate",
    "reduce_wide",
    "subtract",
]


def subtract_and_scale(
    a: np.ndarray,
    b: np.ndarray,
    factors: np.ndarray,
    factors_shoup: np.ndarray,
    moduli: np.ndarray,
    out: np.ndarray,
    offsets: np.ndarray | None = None,
) -> None:
    """out[i] = (a[i] − b[i] + offsets[i]) · factors[i] mod q_i (the core of rescale and mod-down).

    ``a`` and ``offsets`` are reduced modulo q_i; ``b`` may be lazy, below 2q_i.
    """
    if offsets is None:
        offsets = np.zeros(len(moduli), dtype=np.uint64)
    _subtract_and_scale_kernel(a, b, factors, factors_shoup, moduli, offsets, out)


def replicate_reduced(values: np.ndarray, constants: ModulusConstants) -> np.ndarray:
    """Rows values mod q_i for every prime, from one row of words (any size below 2^64)."""
    out = np.empty((len(constants.moduli), values.shape[0]), dtype=np.uint64)
    _replicate_kernel(values, constants.moduli, constants.word_ratio, out)
    return out


@njit(cache=True)
def _subtract_and_scale_kernel(a, b, f, fs, moduli, offsets, out):  # pragma: no cover - compiled
    L, N = a.shape
    for r in range(L):
        q = moduli[r]
        two_q = q + q
        for n in range(N):
            y = b[r, n]
            y = y - q if y >= q else y
            x = a[r, n] + offsets[r] + q - y
            x = x - two_q if x >= two_q else x
            x = x - q if x >= q else x
            out[r, n] = mul_shoup(x, f[r], fs[r], q)


@njit(cache=True)
def _replicate_kernel(values, moduli, ratios, out):  # pragma: no cover - compiled
    L = moduli.shape[0]
    N = values.shape[0]
    for r in range(L):
        q = moduli[r]
        ratio = ratios[r]
        for n in range(N):
            v = values[n]
            out[r, n] = v - mul_high(v, ratio) * q
            if out[r, n] >= q:
                out[r, n] -= q
