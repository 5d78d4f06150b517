"""Hybrid key switching (Han–Ki 2020): decompose, raise to QP, inner product with the key, /P.

Given a polynomial c (NTT form, level l) that multiplies a key s', key switching returns a pair
(k0, k1) with k0 + k1·s ≈ c·s' modulo Q_l. Steps:

1. Decompose: the residues of c on the primes of digit d are c mod Q_d; each digit is raised to
   the whole basis q_0 … q_l, p_0 … p_(K−1) by fast base conversion ("mod-up"), then put in NTT
   form. The conversion is exact up to a multiple of Q_d, which the key's gadget factor cancels.
2. Inner product: Σ_d raised_d · (b_d, a_d) over the extended basis. An automorphism may be
   applied to the raised digits on the fly (hoisted rotations: one decomposition, many
   automorphisms), because X → X^g commutes with decomposition and raising.
3. Mod-down: divide by P with rounding: (x_Q − convert(x_P)) · P^-1 on every data prime.

Legend in kernels: ``D`` digits, ``R`` rows of the extended basis, ``N`` ring degree.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ckks.ring.arithmetic import subtract_and_scale
from ckks.ring.modarith import add_mod, mul_shoup, mul_wide, reduce_word


def decompose_and_raise(context, polynomial: np.ndarray, level: int) -> np.ndarray:
    """Raised digits (D, l + 1 + K, N) in NTT form over the extended basis of ``level``."""
    tables = context.level(level)
    digits = tables.digits
    coefficients = context.ntt.inverse(polynomial)
    extended_size = level + 1 + len(context.special_moduli)
    raised = np.empty((len(digits), extended_size, polynomial.shape[1]), dtype=np.uint64)
    for index, digit in enumerate(digits):
        out = raised[index]
        out[digit.source_rows] = polynomial[digit.source_rows]
        converted = np.empty((len(digit.target_positions), polynomial.shape[1]), dtype=np.uint64)
        digit.converter.convert_into(
            np.ascontiguousarray(coefficients[digit.source_rows]), converted
        )
        context.ntt.forward_inplace(converted, digit.target_prime_indices)
        out[digit.target_positions] = converted
    return raised


def inner_product(context, raised: np.ndarray, key_data: np.ndarray, level: int, permutation=None):
    """Σ_d raised_d ∘ σ · (b_d, a_d) as (2, l + 1 + K, N); σ permutes NTT values if given."""
    tables = context.level(level)
    constants = tables.extended_constants
    _, rows, size = raised.shape
    out = np.empty((2, rows, size), dtype=np.uint64)
    if permutation is None:
        permutation = context.identity_permutation
    _inner_product_kernel(
        raised,
        key_data,
        tables.extended_prime_indices,
        permutation,
        constants.moduli,
        constants.word_ratio,
        constants.two64,
        constants.two64_shoup,
        out,
    )
    return out


def mod_down(context, extended: np.ndarray, level: int) -> np.ndarray:
    """Divide a polynomial over the extended basis (NTT form) by P, rounding; (l + 1, N) out."""
    tables = context.level(level)
    special = np.array(extended[level + 1 :], copy=True)  # the input stays untouched
    context.ntt.inverse_inplace(special, context.special_rows)
    # Round rather than floor: t = [x + floor(P/2)]_P, then x − (t − floor(P/2)) is a multiple
    # of P nearest to x (a floor would bias every key switch by −(1 + s)/2 per coefficient).
    _add_rows(special, context.special_half_mod, context.special_moduli_array)
    converted = np.empty((level + 1, extended.shape[1]), dtype=np.uint64)
    tables.mod_down.convert_into(special, converted)
    _add_rows(converted, context.special_half_negated[: level + 1], tables.constants.moduli)
    context.ntt.forward_inplace(converted)
    out = np.empty_like(converted)
    subtract_and_scale(
        extended[: level + 1],
        converted,
        tables.special_inverse,
        tables.special_inverse_shoup,
        tables.constants.moduli,
        out,
    )
    return out


def _add_rows(values: np.ndarray, offsets: np.ndarray, moduli: np.ndarray) -> None:
    """values[i] ← values[i] + offsets[i] mod q_i, in place (offsets reduced)."""
    values += offsets[:, None]
    values -= np.where(values >= moduli[:, None], moduli[:, None], np.uint64(0))


def switch_key(context, polynomial, key_data, level, permutation=None, raised=None):
    """Key-switch ``polynomial`` (NTT, level l) with ``key_data``: the pair (k0, k1) at level l."""
    if raised is None:
        raised = decompose_and_raise(context, polynomial, level)
    product = inner_product(context, raised, key_data, level, permutation)
    return mod_down(context, product[0], level), mod_down(context, product[1], level)


@njit(parallel=True, cache=True)
def _inner_product_kernel(
    raised, key, key_rows, permutation, moduli, ratios, two64, two64_shoup, out
):  # pragma: no cover - compiled
    D, R, N = raised.shape
    for r in prange(R):
        q = moduli[r]
        ratio = ratios[r]
        kr = key_rows[r]
        for component in range(2):
            high = np.zeros(N, dtype=np.uint64)
            low = np.zeros(N, dtype=np.uint64)
            for d in range(D):
                digit = raised[d, r]
                key_row = key[d, component, kr]
                for n in range(N):
                    h, lo = mul_wide(digit[permutation[n]], key_row[n])
                    s = low[n] + lo
                    if s < lo:
                        h += np.uint64(1)
                    low[n] = s
                    high[n] += h
            target = out[component, r]
            for n in range(N):
                top = mul_shoup(reduce_word(high[n], q, ratio), two64[r], two64_shoup[r], q)
                target[n] = add_mod(top, reduce_word(low[n], q, ratio), q)
