"""Automorphisms X → X^g of Z_q[X]/(X^N + 1), g odd, in coefficient and in NTT form.

In coefficient form, coefficient i moves to position i·g mod 2N, negated when that exceeds N
(because X^N = −1). In NTT form (bit-reversed evaluation order, value k at ψ^(2·brv(k)+1)), the
automorphism only permutes values: the new value at root ψ^e is the old value at ψ^(e·g).

CKKS uses g = 5^k mod 2N to rotate slots by k and g = 2N − 1 to conjugate them.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

from ckks.errors import ParameterError
from ckks.ring.ntt import bit_reverse_permutation
from ckks.ring.validation import check_reduced, check_residues, check_ring_degree


def check_galois_element(galois_element: object, ring_degree: int) -> int:
    """Return ``galois_element`` reduced mod 2N after checking it is an odd integer."""
    if isinstance(galois_element, bool) or not isinstance(galois_element, (int, np.integer)):
        raise ParameterError(f"galois_element must be an odd int, got {galois_element!r}")
    value = int(galois_element) % (2 * ring_degree)
    if value % 2 == 0:
        raise ParameterError(
            f"galois_element must be odd (a unit mod 2N = {2 * ring_degree}), got {galois_element}"
        )
    return value


@functools.lru_cache(maxsize=512)
def coefficient_map(ring_degree: int, galois_element: int) -> tuple[np.ndarray, np.ndarray]:
    """Destination index and sign flag (1 where negated) of each coefficient under X → X^g."""
    two_n = 2 * ring_degree
    exponents = np.arange(ring_degree, dtype=np.int64) * galois_element % two_n
    negate = (exponents >= ring_degree).astype(np.uint8)
    destination = exponents % ring_degree
    destination.flags.writeable = False
    negate.flags.writeable = False
    return destination, negate


@functools.lru_cache(maxsize=512)
def ntt_permutation(ring_degree: int, galois_element: int) -> np.ndarray:
    """Source index of each NTT value under X → X^g (out[k] = in[perm[k]])."""
    brv = bit_reverse_permutation(ring_degree)
    exponents = (2 * brv + 1) * galois_element % (2 * ring_degree)
    source = brv[(exponents - 1) // 2]
    source.flags.writeable = False
    return source


def apply_coefficient_form(
    residues: np.ndarray, moduli: np.ndarray, galois_element: int
) -> np.ndarray:
    """Image of a polynomial in coefficient form under X → X^g (a new array).

    Args:
        residues: uint64 (primes, N), reduced modulo ``moduli``.
        moduli: uint64 (primes,).
        galois_element: odd g.
    """
    _check_array(residues)
    ring_degree = check_ring_degree(residues.shape[-1], "residues.shape[-1]")
    check_residues(residues, len(moduli), ring_degree, "residues")
    check_reduced(residues, np.asarray(moduli, np.uint64), "residues")
    g = check_galois_element(galois_element, ring_degree)
    destination, negate = coefficient_map(ring_degree, g)
    out = np.empty_like(residues)
    _coefficient_kernel(residues, np.asarray(moduli, np.uint64), destination, negate, out)
    return out


def apply_ntt_form(residues: np.ndarray, galois_element: int) -> np.ndarray:
    """Image of a polynomial in NTT form under X → X^g (a new array)."""
    _check_array(residues)
    ring_degree = check_ring_degree(residues.shape[-1], "residues.shape[-1]")
    check_residues(residues, residues.shape[0], ring_degree, "residues")
    g = check_galois_element(galois_element, ring_degree)
    return permute_rows(residues, ntt_permutation(ring_degree, g))


def _check_array(residues) -> None:
    if not isinstance(residues, np.ndarray) or residues.ndim != 2:
        check_residues(residues, 0, 0, "residues")  # raises the matching named error


def permute_rows(residues: np.ndarray, permutation: np.ndarray) -> np.ndarray:
    """Unchecked gather out[:, k] = residues[:, permutation[k]] (the NTT-form automorphism)."""
    out = np.empty_like(residues)
    _permute_kernel(residues, permutation, out)
    return out


@njit(parallel=True, cache=True)
def _coefficient_kernel(a, moduli, destination, negate, out):  # pragma: no cover - compiled
    L, N = a.shape
    for r in prange(L):
        q = moduli[r]
        for i in range(N):
            v = a[r, i]
            if negate[i] and v != 0:
                v = q - v
            out[r, destination[i]] = v


@njit(parallel=True, cache=True)
def _permute_kernel(a, permutation, out):  # pragma: no cover - compiled
    L, N = a.shape
    for r in prange(L):
        row = a[r]
        target = out[r]
        for k in range(N):
            target[k] = row[permutation[k]]
