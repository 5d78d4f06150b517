"""Residue number system (RNS): a big modulus Q = q_0 ··· q_(L-1) held as its word-sized primes.

A value x mod Q is the tuple (x mod q_i). This module converts between that form and exact Python
integers (Chinese remaindering, never floats: values pass 2^1024), and converts residues from one
prime base to another without leaving the word domain ("fast base conversion", Bajard–Eynard–
Hasan–Zucca 2016), which rescaling and hybrid key switching rely on.

Fast base conversion of x from base Q to a prime p computes
    Σ_i [x_i · (Q/q_i)^(-1)]_(q_i) · (Q/q_i)  mod p,
which equals x + u·Q for some 0 ≤ u < L: exact up to a small multiple of Q, which the schemes
built on it absorb as noise.
"""

from __future__ import annotations

import math

import numpy as np
import sympy
from numba import njit, prange

from ckks.errors import ArrayShapeError, ArrayTypeError, ParameterError
from ckks.ring.modarith import (
    ModulusConstants,
    add_mod,
    mul_mod,
    mul_shoup,
    mul_wide,
    reduce_word,
    shoup_companion,
    sub_mod,
)
from ckks.ring.validation import check_reduced, check_residues

#: Products of two words below 2^122 are summed in 128 bits; 63 of them cannot overflow.
MAX_CONVERSION_PRIMES = 63


class RnsBase:
    """An ordered set of distinct word-sized primes and its CRT constants.

    Attributes:
        moduli: the primes, as Python ints.
        product: Q, the product of the primes.
        constants: the kernels' per-prime constants.
    """

    def __init__(self, moduli: list[int] | tuple[int, ...]):
        moduli = [int(q) for q in moduli]
        if not moduli:
            raise ParameterError("moduli must hold at least one prime, got an empty list")
        if len(set(moduli)) != len(moduli):
            raise ParameterError(f"moduli must be distinct, got {moduli}")
        for index, q in enumerate(moduli):
            # Primality (not mere coprimality) is required: the kernels invert modulo each q.
            if q < 3 or q >= 1 << 61 or not sympy.isprime(q):
                raise ParameterError(f"moduli[{index}] must be an odd prime below 2^61, got {q}")
        self.moduli = tuple(moduli)
        self.product = math.prod(moduli)
        self.constants = ModulusConstants(moduli)
        # Q/q_i and its inverse mod q_i: the CRT idempotents.
        self.cofactors = tuple(self.product // q for q in moduli)
        inverses = [pow(c % q, -1, q) for c, q in zip(self.cofactors, moduli, strict=True)]
        self.cofactor_inverse = _frozen(inverses)
        self.cofactor_inverse_shoup = _frozen(
            [shoup_companion(w, q) for w, q in zip(inverses, moduli, strict=True)]
        )
        # Garner: (q_0···q_(j−1))^-1 mod q_j, q_t mod q_j, and the weights W_j as floats.
        prefix = [math.prod(moduli[:j]) for j in range(len(moduli))]
        self._garner_prefix_inverse = _frozen(
            [pow(p % q, -1, q) for p, q in zip(prefix, moduli, strict=True)]
        )
        self._garner_moduli_mod = _frozen([[t % q for t in moduli] for q in moduli])
        weights = np.array([float(p) if p.bit_length() < 1000 else np.inf for p in prefix])
        weights.flags.writeable = False
        self._garner_weights = weights

    def __len__(self) -> int:
        return len(self.moduli)

    def __repr__(self) -> str:
        bits = [q.bit_length() for q in self.moduli]
        return f"RnsBase({len(self)} primes, bits={bits}, log2 Q={self.product.bit_length()})"

    def decompose(self, values) -> np.ndarray:
        """Residues (primes, N) uint64 of integers of any size and sign.

        Args:
            values: a 1-D sequence of Python ints (or a NumPy integer or object array).

        Raises:
            ArrayTypeError: an element is not an integer.
        """
        items = np.asarray(values, dtype=object)
        if items.ndim != 1:
            raise ArrayShapeError(f"values must be 1-D, got shape {items.shape}")
        for index, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
                raise ArrayTypeError(
                    f"values must be integers, got {type(item).__name__} at index {index}"
                )
        items = np.array([int(v) for v in items], dtype=object)
        out = np.empty((len(self.moduli), len(items)), dtype=np.uint64)
        for row, q in enumerate(self.moduli):
            # Python's % is non-negative for a positive modulus, negatives included.
            out[row] = (items % q).astype(np.uint64)
        return out

    def compose_float(self, residues: np.ndarray) -> np.ndarray:
        """Float64 values of the centered composition in (−Q/2, Q/2], without Python integers.

        Garner's algorithm gives the mixed-radix digits v_j of x = Σ v_j·W_j (W_j = q_0···q_(j−1))
        in word arithmetic; since (Q − 1)/2 has every digit (q_j − 1)/2, the sign of the centered
        value is a digit-wise comparison from the top, and the float sum of the top digits is
        correct to a relative 2^-52. Falls back to exact integers when Q passes 2^1000.
        """
        if not isinstance(residues, np.ndarray) or residues.ndim != 2:
            raise ArrayShapeError("residues must be a 2-D uint64 array (primes, N)")
        residues = np.ascontiguousarray(residues)
        check_residues(residues, len(self.moduli), residues.shape[1], "residues")
        check_reduced(residues, self.constants.moduli, "residues")
        if self.product.bit_length() > 1000:
            return np.array([float(v) for v in self.compose(residues)], dtype=np.float64)
        out = np.empty(residues.shape[1], dtype=np.float64)
        _garner_float_kernel(
            residues,
            self.constants.moduli,
            self.constants.barrett,
            self.constants.bits,
            self._garner_prefix_inverse,
            self._garner_moduli_mod,
            self._garner_weights,
            out,
        )
        return out

    def compose(self, residues: np.ndarray, centered: bool = True) -> np.ndarray:
        """Exact integers (object array) from residues (primes, N), by Chinese remaindering.

        Args:
            residues: uint64 (primes, N), each row reduced modulo its prime.
            centered: map into (−Q/2, Q/2] rather than [0, Q).
        """
        if not isinstance(residues, np.ndarray) or residues.ndim != 2:
            raise ArrayShapeError("residues must be a 2-D uint64 array (primes, N)")
        residues = np.ascontiguousarray(residues)
        check_residues(residues, len(self.moduli), residues.shape[1], "residues")
        check_reduced(residues, self.constants.moduli, "residues")
        total = np.zeros(residues.shape[1], dtype=object)
        for row, q in enumerate(self.moduli):
            w = int(self.cofactor_inverse[row])
            scaled = (residues[row].astype(object) * w) % q
            total += scaled * self.cofactors[row]
        total %= self.product
        if centered:
            total = np.where(total > self.product // 2, total - self.product, total)
        return total


class BaseConverter:
    """Fast conversion of residues from one RNS base to another.

    Plain: exact up to a multiple u·Q of the source modulus (0 ≤ u < L). Centered: subtracts
    round(Σ_i y_i/q_i)·Q (the count estimated in floating point), which yields the centered
    representative of x in (−Q/2, Q/2] except within ~L·2^-53 of the midpoint; key switching
    uses it so that raised digits are small on both sides of zero.
    """

    def __init__(self, source: RnsBase, target: RnsBase, centered: bool = False):
        if len(source) > MAX_CONVERSION_PRIMES:
            raise ParameterError(
                f"source base must have at most {MAX_CONVERSION_PRIMES} primes, got {len(source)}"
            )
        self.source = source
        self.target = target
        self.cofactors_mod_target = _frozen(
            [[c % p for c in source.cofactors] for p in target.moduli]
        )
        self.centered = centered
        self.source_mod_target = _frozen([source.product % p for p in target.moduli])
        self.source_mod_target_shoup = _frozen(
            [shoup_companion(source.product % p, p) for p in target.moduli]
        )
        self.source_reciprocals = np.array([1.0 / q for q in source.moduli])
        self.source_reciprocals.flags.writeable = False

    def convert(self, residues: np.ndarray) -> np.ndarray:
        """Residues in the target base of x + u·Q, x given by ``residues`` in the source base."""
        if not isinstance(residues, np.ndarray) or residues.ndim != 2:
            raise ArrayShapeError("residues must be a 2-D uint64 array (primes, N)")
        check_residues(residues, len(self.source), residues.shape[1], "residues")
        check_reduced(residues, self.source.constants.moduli, "residues")
        out = np.empty((len(self.target), residues.shape[1]), dtype=np.uint64)
        self.convert_into(residues, out)
        return out

    def convert_into(self, residues: np.ndarray, out: np.ndarray) -> None:
        """Unchecked ``convert`` into a preallocated array, for callers that validated already."""
        source = self.source.constants
        target = self.target.constants
        base_convert_kernel(
            residues,
            source.moduli,
            self.source.cofactor_inverse,
            self.source.cofactor_inverse_shoup,
            target.moduli,
            target.word_ratio,
            self.cofactors_mod_target,
            target.two64,
            target.two64_shoup,
            self.source_mod_target,
            self.source_mod_target_shoup,
            self.source_reciprocals,
            self.centered,
            out,
        )


def _frozen(values) -> np.ndarray:
    array = np.array(values, dtype=np.uint64)
    array.flags.writeable = False
    return array


@njit(parallel=True, cache=True)
def base_convert_kernel(
    x,
    q,
    q_hat_inv,
    q_hat_inv_s,
    p,
    p_ratio,
    q_hat_mod_p,
    two64,
    two64_s,
    q_mod_p,
    q_mod_p_s,
    q_recip,
    centered,
    out,
):  # pragma: no cover - compiled
    """out[j] = Σ_i [x_i · q̂_i^-1]_(q_i) · q̂_i (− v·Q when centered) mod p_j, sums kept in
    128 bits (q̂_i = Q/q_i, v = round(Σ_i y_i / q_i))."""
    L, N = x.shape
    K = out.shape[0]
    y = np.empty((L, N), dtype=np.uint64)
    for i in prange(L):
        for n in range(N):
            y[i, n] = mul_shoup(x[i, n], q_hat_inv[i], q_hat_inv_s[i], q[i])
    count = np.zeros(N, dtype=np.uint64)
    if centered:
        for n in range(N):
            total = 0.0
            for i in range(L):
                total += float(y[i, n]) * q_recip[i]
            count[n] = np.uint64(np.floor(total + 0.5))
    for j in prange(K):
        high = np.zeros(N, dtype=np.uint64)
        low = np.zeros(N, dtype=np.uint64)
        for i in range(L):
            c = q_hat_mod_p[j, i]
            yi = y[i]
            for n in range(N):
                h, lo = mul_wide(yi[n], c)
                s = low[n] + lo
                if s < lo:
                    h += np.uint64(1)
                low[n] = s
                high[n] += h
        pj = p[j]
        for n in range(N):
            top = mul_shoup(reduce_word(high[n], pj, p_ratio[j]), two64[j], two64_s[j], pj)
            value = add_mod(top, reduce_word(low[n], pj, p_ratio[j]), pj)
            if centered:
                correction = mul_shoup(count[n], q_mod_p[j], q_mod_p_s[j], pj)
                value = sub_mod(value, correction, pj)
            out[j, n] = value


@njit(parallel=True, cache=True)
def _garner_float_kernel(
    x, q, mu, bits, prefix_inverse, moduli_mod, weights, out
):  # pragma: no cover - compiled
    L, N = x.shape
    for n in prange(N):
        digits = np.empty(L, dtype=np.uint64)
        for j in range(L):
            qj = q[j]
            # Horner: value of the lower digits modulo q_j.
            acc = np.uint64(0)
            for t in range(j - 1, -1, -1):
                acc = mul_mod(acc, moduli_mod[j, t], qj, mu[j], bits[j])
                acc = add_mod(acc, digits[t] % qj, qj)
            diff = x[j, n] + qj - acc
            if diff >= qj:
                diff -= qj
            digits[j] = mul_mod(diff, prefix_inverse[j], qj, mu[j], bits[j])
        # Compare with (Q − 1)/2, whose digits are all (q_j − 1)/2, from the top digit down.
        negative = False
        for j in range(L - 1, -1, -1):
            half = (q[j] - np.uint64(1)) >> np.uint64(1)
            if digits[j] != half:
                negative = digits[j] > half
                break
        total = 0.0
        if negative:
            for j in range(L - 1, -1, -1):
                total += float(q[j] - np.uint64(1) - digits[j]) * weights[j]
            out[n] = -(total + 1.0)
        else:
            for j in range(L - 1, -1, -1):
                total += float(digits[j]) * weights[j]
            out[n] = total
