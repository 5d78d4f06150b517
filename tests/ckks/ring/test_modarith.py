"""Tests of ckks.ring.modarith: every word kernel against exact Python integers.

The kernels are inlined Numba functions, so each is driven through a small compiled wrapper that
applies it across arrays. References are plain Python integers (arbitrary precision), hence
independent of the word tricks under test. Prime sizes run over the whole supported range 14 … 61
bits: for every size the smallest and the largest prime of that size and one drawn at random
(seeded). Edge values are 0, 1, q − 1 and, where a kernel's contract allows any 64-bit word,
q, 2q − 1, 4q − 1, 2^63 and 2^64 − 1.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from ckks.ring.modarith import (
    MAX_PRIME_BITS,
    ModulusConstants,
    add_mod,
    barrett_constant,
    mul_high,
    mul_mod,
    mul_shoup,
    mul_shoup_lazy,
    mul_wide,
    mul_wide_portable,
    reduce_wide,
    reduce_word,
    shoup_companion,
    sub_mod,
    word_ratio,
)

WORD = 1 << 64
PRIME_BITS = list(range(14, MAX_PRIME_BITS + 1))
SAMPLES = 2000
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


def primes_of_size(bits: int) -> list[int]:
    """The smallest, the largest and one random (seeded by the size) prime of exactly ``bits``."""
    low, high = 1 << (bits - 1), 1 << bits
    start = random.Random(bits).randrange(low, high - (high >> 4))
    return [sympy.nextprime(low), sympy.prevprime(high), sympy.nextprime(start)]


PRIMES = {bits: primes_of_size(bits) for bits in PRIME_BITS}
ALL_PRIMES = [q for bits in PRIME_BITS for q in PRIMES[bits]]


def words(values) -> np.ndarray:
    return np.array([int(v) for v in values], dtype=np.uint64)


def reduced_operands(q: int, seed: int) -> np.ndarray:
    """Random residues in [0, q) followed by the edge residues."""
    rng = np.random.default_rng(seed)
    edges = words([0, 1, 2, q // 2, q - 2, q - 1])
    return np.concatenate([rng.integers(0, q, SAMPLES, dtype=np.uint64), edges])


def any_words(q: int, seed: int) -> np.ndarray:
    """Random 64-bit words followed by edge words around multiples of q and the word limits."""
    rng = np.random.default_rng(seed)
    edges = words([0, 1, q - 1, q, q + 1, 2 * q - 1, 2 * q, 4 * q - 1, 1 << 63, WORD - 1])
    return np.concatenate([rng.integers(0, WORD, SAMPLES, dtype=np.uint64), edges])


def pairs(values: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Every value against a shuffled copy, plus the corner products of the edge values."""
    shuffled = np.random.default_rng(seed).permutation(values)
    tail = values[-6:]
    left = np.concatenate([values, np.repeat(tail, len(tail))])
    right = np.concatenate([shuffled, np.tile(tail, len(tail))])
    return left, right


# --- compiled wrappers: one kernel applied element by element ------------------------------------


@njit(cache=True)
def wide_all(a, b):
    high = np.empty_like(a)
    low = np.empty_like(a)
    for i in range(a.shape[0]):
        high[i], low[i] = mul_wide(a[i], b[i])
    return high, low


@njit(cache=True)
def wide_portable_all(a, b):
    high = np.empty_like(a)
    low = np.empty_like(a)
    for i in range(a.shape[0]):
        high[i], low[i] = mul_wide_portable(a[i], b[i])
    return high, low


@njit(cache=True)
def high_all(a, b):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = mul_high(a[i], b[i])
    return out


@njit(cache=True)
def shoup_all(a, w, ws, q):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = mul_shoup(a[i], w[i], ws[i], q)
    return out


@njit(cache=True)
def shoup_lazy_all(a, w, ws, q):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = mul_shoup_lazy(a[i], w[i], ws[i], q)
    return out


@njit(cache=True)
def barrett_all(a, b, q, mu, bits):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = mul_mod(a[i], b[i], q, mu, bits)
    return out


@njit(cache=True)
def reduce_wide_all(high, low, q, mu, bits):
    out = np.empty_like(low)
    for i in range(low.shape[0]):
        out[i] = reduce_wide(high[i], low[i], q, mu, bits)
    return out


@njit(cache=True)
def reduce_word_all(a, q, ratio):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = reduce_word(a[i], q, ratio)
    return out


@njit(cache=True)
def add_all(a, b, q):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = add_mod(a[i], b[i], q)
    return out


@njit(cache=True)
def sub_all(a, b, q):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = sub_mod(a[i], b[i], q)
    return out


def as_ints(array: np.ndarray) -> list[int]:
    return [int(v) for v in array]


def shoup_inputs(q: int, a: np.ndarray, w: np.ndarray):
    companions = words(shoup_companion(int(v), q) for v in w)
    return a, w, companions, np.uint64(q)


def barrett_inputs(q: int):
    return np.uint64(q), np.uint64(barrett_constant(q)), np.uint64(q.bit_length())


# --- full products -------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", PRIME_BITS)
def test_wide_products_match_python_integers(bits):
    q = PRIMES[bits][2]
    a, b = pairs(any_words(q, seed=bits), seed=100 + bits)
    expected = [x * y for x, y in zip(as_ints(a), as_ints(b))]

    for kernel in (wide_all, wide_portable_all):
        high, low = kernel(a, b)
        assert [(h << 64) | lo for h, lo in zip(as_ints(high), as_ints(low))] == expected
    assert as_ints(high_all(a, b)) == [p >> 64 for p in expected]


def test_wide_product_of_largest_words():
    top = words([WORD - 1])
    for kernel in (wide_all, wide_portable_all):
        high, low = kernel(top, top)
        assert (int(high[0]), int(low[0])) == ((WORD - 1) ** 2 >> 64, (WORD - 1) ** 2 % WORD)
        assert (int(high[0]), int(low[0])) == (WORD - 2, 1)


def test_portable_product_in_pure_python_matches_compiled():
    # The portable form needs no LLVM intrinsic, so its Python body runs as written.
    rng = np.random.default_rng(7)
    with np.errstate(over="ignore"):
        for a, b in rng.integers(0, WORD, (200, 2), dtype=np.uint64):
            high, low = mul_wide_portable.py_func(a, b)
            assert (int(high) << 64) | int(low) == int(a) * int(b)


@SETTINGS
@given(
    a=st.lists(st.integers(0, WORD - 1), min_size=1, max_size=32),
    b=st.lists(st.integers(0, WORD - 1), min_size=1, max_size=32),
)
def test_wide_products_property(a, b):
    size = min(len(a), len(b))
    left, right = words(a[:size]), words(b[:size])
    for kernel in (wide_all, wide_portable_all):
        high, low = kernel(left, right)
        for h, lo, x, y in zip(as_ints(high), as_ints(low), a, b):
            assert (h << 64) | lo == x * y


# --- Shoup multiplication by a constant ----------------------------------------------------------


@pytest.mark.parametrize("bits", PRIME_BITS)
def test_shoup_products_for_any_word(bits):
    for index, q in enumerate(PRIMES[bits]):
        seed = 1000 * bits + index
        a = any_words(q, seed)
        w = np.resize(reduced_operands(q, seed + 1)[::-1], a.shape)
        args = shoup_inputs(q, a, w)
        expected = [x * y % q for x, y in zip(as_ints(a), as_ints(w))]

        lazy = as_ints(shoup_lazy_all(*args))
        assert all(0 <= r < 2 * q for r in lazy)
        assert [r % q for r in lazy] == expected
        assert as_ints(shoup_all(*args)) == expected


@SETTINGS
@given(
    q=st.sampled_from(ALL_PRIMES),
    a=st.lists(st.integers(0, WORD - 1), min_size=1, max_size=16),
    data=st.data(),
)
def test_shoup_products_property(q, a, data):
    w = data.draw(st.lists(st.integers(0, q - 1), min_size=len(a), max_size=len(a)))
    args = shoup_inputs(q, words(a), words(w))
    lazy = as_ints(shoup_lazy_all(*args))
    exact = as_ints(shoup_all(*args))
    for x, y, r_lazy, r in zip(a, w, lazy, exact):
        assert 0 <= r_lazy < 2 * q and r_lazy % q == x * y % q
        assert r == x * y % q


# --- Barrett reductions --------------------------------------------------------------------------


@pytest.mark.parametrize("bits", PRIME_BITS)
def test_barrett_products_of_reduced_operands(bits):
    for index, q in enumerate(PRIMES[bits]):
        a, b = pairs(reduced_operands(q, seed=2000 * bits + index), seed=bits)
        expected = [x * y % q for x, y in zip(as_ints(a), as_ints(b))]
        assert as_ints(barrett_all(a, b, *barrett_inputs(q))) == expected


@pytest.mark.parametrize("bits", PRIME_BITS)
def test_reduce_wide_below_its_bound(bits):
    # The contract covers every value below 2^(2b), well past q^2: the estimate's worst cases sit
    # at the top of that range and next to multiples of q.
    rng = random.Random(bits)
    for q in PRIMES[bits]:
        bound = 1 << (2 * bits)
        values = [rng.randrange(bound) for _ in range(500)]
        values += [0, 1, q - 1, q, (q - 1) ** 2, q * q - 1, bound - 1, bound - q]
        top_multiple = (bound - 1) // q
        values += [k * q + delta for k in (top_multiple - 1, top_multiple) for delta in (-1, 0, 1)]
        values = [v for v in values if 0 <= v < bound]
        high, low = words(v >> 64 for v in values), words(v % WORD for v in values)
        result = as_ints(reduce_wide_all(high, low, *barrett_inputs(q)))
        assert result == [v % q for v in values]


@pytest.mark.parametrize("bits", PRIME_BITS)
def test_reduce_word_for_any_word(bits):
    for index, q in enumerate(PRIMES[bits]):
        a = any_words(q, seed=3000 * bits + index)
        assert as_ints(reduce_word_all(a, np.uint64(q), np.uint64(word_ratio(q)))) == [
            x % q for x in as_ints(a)
        ]


@SETTINGS
@given(q=st.sampled_from(ALL_PRIMES), data=st.data())
def test_barrett_and_word_reduction_property(q, data):
    operand = st.integers(0, q - 1)
    a = data.draw(st.lists(operand, min_size=1, max_size=16))
    b = data.draw(st.lists(operand, min_size=len(a), max_size=len(a)))
    wide = data.draw(st.lists(st.integers(0, (1 << (2 * q.bit_length())) - 1), min_size=1))
    any_word = data.draw(st.lists(st.integers(0, WORD - 1), min_size=1))

    products = as_ints(barrett_all(words(a), words(b), *barrett_inputs(q)))
    assert products == [x * y % q for x, y in zip(a, b)]
    high, low = words(v >> 64 for v in wide), words(v % WORD for v in wide)
    assert as_ints(reduce_wide_all(high, low, *barrett_inputs(q))) == [v % q for v in wide]
    reduced = reduce_word_all(words(any_word), np.uint64(q), np.uint64(word_ratio(q)))
    assert as_ints(reduced) == [v % q for v in any_word]


# --- addition and subtraction --------------------------------------------------------------------


@pytest.mark.parametrize("bits", PRIME_BITS)
def test_add_and_subtract_of_reduced_operands(bits):
    for index, q in enumerate(PRIMES[bits]):
        a, b = pairs(reduced_operands(q, seed=4000 * bits + index), seed=bits + 1)
        pairs_int = list(zip(as_ints(a), as_ints(b)))
        assert as_ints(add_all(a, b, np.uint64(q))) == [(x + y) % q for x, y in pairs_int]
        assert as_ints(sub_all(a, b, np.uint64(q))) == [(x - y) % q for x, y in pairs_int]


def test_add_and_subtract_in_pure_python_match_python_integers():
    q = PRIMES[MAX_PRIME_BITS][1]
    edges = [0, 1, q // 2, q - 1]
    for x in edges:
        for y in edges:
            assert int(add_mod.py_func(np.uint64(x), np.uint64(y), np.uint64(q))) == (x + y) % q
            assert int(sub_mod.py_func(np.uint64(x), np.uint64(y), np.uint64(q))) == (x - y) % q


@SETTINGS
@given(q=st.sampled_from(ALL_PRIMES), data=st.data())
def test_add_and_subtract_property(q, data):
    a = data.draw(st.lists(st.integers(0, q - 1), min_size=1, max_size=16))
    b = data.draw(st.lists(st.integers(0, q - 1), min_size=len(a), max_size=len(a)))
    assert as_ints(add_all(words(a), words(b), np.uint64(q))) == [(x + y) % q for x, y in zip(a, b)]
    assert as_ints(sub_all(words(a), words(b), np.uint64(q))) == [(x - y) % q for x, y in zip(a, b)]


# --- constants -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", PRIME_BITS)
def test_constants_fit_a_word_and_match_their_definitions(bits):
    for q in PRIMES[bits]:
        mu = barrett_constant(q)
        assert mu == (1 << (2 * bits)) // q and mu < 1 << (bits + 1)
        assert word_ratio(q) == WORD // q < WORD
        for w in (0, 1, q - 1):
            companion = shoup_companion(w, q)
            assert companion == (w * WORD) // q and companion < WORD


def test_modulus_constants_are_aligned_read_only_words():
    moduli = [PRIMES[14][0], PRIMES[40][1], PRIMES[61][2]]
    constants = ModulusConstants(moduli)

    assert as_ints(constants.moduli) == moduli
    assert as_ints(constants.bits) == [14, 40, 61]
    assert as_ints(constants.barrett) == [barrett_constant(q) for q in moduli]
    assert as_ints(constants.word_ratio) == [WORD // q for q in moduli]
    assert as_ints(constants.two64) == [WORD % q for q in moduli]
    assert as_ints(constants.two64_shoup) == [shoup_companion(WORD % q, q) for q in moduli]
    arrays = [constants.moduli, constants.bits, constants.barrett, constants.word_ratio]
    for array in [*arrays, constants.two64, constants.two64_shoup]:
        assert array.dtype == np.uint64 and not array.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 3
