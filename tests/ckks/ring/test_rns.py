"""Tests of ckks.ring.rns: Chinese remaindering and fast base conversion, in exact integers.

Compose is checked against sympy's CRT and against values built in Python integers, far beyond
2^1024 and of both signs. Fast base conversion is specified as exact up to a multiple of the
source modulus: the output must be the residues of x + u·Q for one 0 ≤ u < L (L source primes,
the same u in every target prime), which is checked against the exact x from Python integers.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.ntheory.modular import crt

from ckks.errors import ArrayShapeError, ArrayTypeError, ParameterError
from ckks.ring.rns import MAX_CONVERSION_PRIMES, BaseConverter, RnsBase

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


@functools.cache
def primes_below(bits: int, count: int, step: int = 1 << 17) -> tuple[int, ...]:
    """The ``count`` largest primes q ≡ 1 mod ``step`` below 2^bits, from sympy."""
    found, candidate = [], ((1 << bits) - 1) // step * step + 1
    while len(found) < count:
        if sympy.isprime(candidate):
            found.append(candidate)
        candidate -= step
    return tuple(found)


# Twenty 60-bit primes give Q ≈ 2^1200; a separate set serves as conversion targets.
WIDE_PRIMES = primes_below(60, 26)
WIDE_BASE = RnsBase(WIDE_PRIMES[:20])
MIXED_PRIMES = (*primes_below(61, 3), *primes_below(40, 3), *primes_below(20, 2, step=64))


def reduced_residues(base: RnsBase, columns: int, rng: np.random.Generator) -> np.ndarray:
    rows = [rng.integers(0, q, columns, dtype=np.uint64) for q in base.moduli]
    return np.array(rows, dtype=np.uint64).reshape(len(base), columns)


def exact_values(base: RnsBase, residues: np.ndarray) -> list[int]:
    """The integers in [0, Q) with the given residues, by sympy's CRT."""
    moduli = list(base.moduli)
    return [int(crt(moduli, [int(v) for v in column])[0]) for column in residues.T]


def centered(value: int, modulus: int) -> int:
    value %= modulus
    return value - modulus if value > modulus // 2 else value


# --- construction --------------------------------------------------------------------------------


def test_base_holds_its_primes_product_and_idempotents():
    base = RnsBase(list(MIXED_PRIMES))
    assert base.moduli == MIXED_PRIMES and len(base) == len(MIXED_PRIMES)
    assert base.product == math.prod(MIXED_PRIMES)
    for index, q in enumerate(MIXED_PRIMES):
        cofactor = base.cofactors[index]
        assert cofactor * q == base.product
        assert cofactor * int(base.cofactor_inverse[index]) % q == 1
    assert "log2 Q=" in repr(base) and str(len(MIXED_PRIMES)) in repr(base)


# --- decompose and compose -----------------------------------------------------------------------


def test_decompose_known_answers_with_negatives_and_huge_values():
    modulus = WIDE_BASE.product
    values = [0, 1, -1, 2**1100 + 12345, -(2**1100) - 7, modulus // 2, -(modulus // 2), modulus]
    values += [3 * modulus + 5, -5 * modulus - 3, 2**64 - 1, -(2**63)]
    residues = WIDE_BASE.decompose(values)

    assert residues.dtype == np.uint64 and residues.shape == (len(WIDE_PRIMES[:20]), len(values))
    for row, q in enumerate(WIDE_BASE.moduli):
        assert [int(v) for v in residues[row]] == [v % q for v in values]
    assert WIDE_BASE.decompose(np.array([5, -5], dtype=np.int64)).tolist() == (
        WIDE_BASE.decompose([5, -5]).tolist()
    )
    assert WIDE_BASE.decompose([]).shape == (20, 0)


def test_compose_matches_sympy_crt():
    base = RnsBase(list(MIXED_PRIMES))
    residues = reduced_residues(base, 64, np.random.default_rng(11))
    residues[:, 0] = 0
    residues[:, 1] = np.array(MIXED_PRIMES, dtype=np.uint64) - np.uint64(1)
    expected = exact_values(base, residues)

    assert base.compose(residues, centered=False).tolist() == expected
    assert base.compose(residues).tolist() == [centered(v, base.product) for v in expected]
    assert base.compose(residues)[1] == -1


@SETTINGS
@given(
    values=st.lists(
        st.integers(-(WIDE_BASE.product // 2), WIDE_BASE.product // 2), min_size=1, max_size=24
    )
)
def test_round_trip_of_centered_values_beyond_2_to_1024(values):
    residues = WIDE_BASE.decompose(values)
    assert WIDE_BASE.compose(residues).tolist() == values
    unsigned = WIDE_BASE.compose(residues, centered=False).tolist()
    assert unsigned == [v % WIDE_BASE.product for v in values]


@SETTINGS
@given(values=st.lists(st.integers(-(2**2000), 2**2000), min_size=1, max_size=24))
def test_round_trip_reduces_values_beyond_the_modulus(values):
    modulus = WIDE_BASE.product
    composed = WIDE_BASE.compose(WIDE_BASE.decompose(values)).tolist()
    assert composed == [centered(v, modulus) for v in values]
    assert all(-(modulus // 2) <= v <= modulus // 2 for v in composed)


# --- fast base conversion ------------------------------------------------------------------------


def assert_exact_up_to_multiples(converter: BaseConverter, residues: np.ndarray) -> list[int]:
    """Check the converted residues equal x + u·Q, 0 ≤ u < L; return the u of each column."""
    source, target = converter.source, converter.target
    converted = converter.convert(residues)
    assert converted.dtype == np.uint64 and converted.shape == (len(target), residues.shape[1])
    multiples = []
    for column, x in enumerate(exact_values(source, residues)):
        got = [int(v) for v in converted[:, column]]
        candidates = [
            u
            for u in range(len(source))
            if got == [(x + u * source.product) % p for p in target.moduli]
        ]
        assert candidates, f"column {column}: {got} is no x + u·Q with 0 <= u < {len(source)}"
        multiples.append(candidates[0])
    return multiples


@st.composite
def conversion_cases(draw):
    pool = list(WIDE_PRIMES) + list(MIXED_PRIMES)
    sources = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=8, unique=True))
    targets = draw(
        st.lists(
            st.sampled_from([p for p in pool if p not in sources]),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    return sources, targets, draw(st.integers(0, 2**32))


@SETTINGS
@given(case=conversion_cases())
def test_conversion_is_exact_up_to_small_multiples_property(case):
    sources, targets, seed = case
    converter = BaseConverter(RnsBase(sources), RnsBase(targets))
    residues = reduced_residues(converter.source, 16, np.random.default_rng(seed))
    assert_exact_up_to_multiples(converter, residues)


def test_conversion_of_zero_and_of_small_values_is_exact():
    converter = BaseConverter(RnsBase(WIDE_PRIMES[:6]), RnsBase(WIDE_PRIMES[6:9]))
    values = [0, 1, 2, 3, 1000]
    multiples = assert_exact_up_to_multiples(converter, converter.source.decompose(values))
    assert multiples[0] == 0


def test_conversion_at_the_accumulator_limit():
    # 63 source primes of 61 bits, each y_i = q_i − 1: the largest sum the 128-bit accumulator
    # must hold without overflow (63 products below 2^122).
    sources = primes_below(61, MAX_CONVERSION_PRIMES, step=2)
    targets = primes_below(61, MAX_CONVERSION_PRIMES + 2, step=2)[MAX_CONVERSION_PRIMES:]
    converter = BaseConverter(RnsBase(sources), RnsBase(targets))
    source = converter.source
    worst = [(q - 1) * source.cofactors[i] % q for i, q in enumerate(source.moduli)]
    residues = np.array(worst, dtype=np.uint64).reshape(-1, 1)
    rng = np.random.default_rng(63)
    residues = np.hstack([residues, reduced_residues(source, 3, rng)])

    multiples = assert_exact_up_to_multiples(converter, residues)
    expected_sum = sum((q - 1) * source.cofactors[i] for i, q in enumerate(source.moduli))
    assert multiples[0] == expected_sum // source.product


def test_convert_into_writes_the_same_as_convert():
    converter = BaseConverter(RnsBase(WIDE_PRIMES[:4]), RnsBase(WIDE_PRIMES[4:6]))
    residues = reduced_residues(converter.source, 32, np.random.default_rng(3))
    out = np.zeros((2, 32), dtype=np.uint64)
    converter.convert_into(residues, out)
    np.testing.assert_array_equal(out, converter.convert(residues))


# --- misuse --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moduli", "message"),
    [
        ([], "at least one prime"),
        ([97, 97], "distinct"),
        ([97, 2], r"moduli\[1\] .* got 2"),
        ([1], "got 1"),
        ([-97], "got -97"),
        ([2**61 + 1], f"got {2**61 + 1}"),
    ],
)
def test_bad_moduli_are_refused(moduli, message):
    with pytest.raises(ParameterError, match=message):
        RnsBase(moduli)


@pytest.mark.parametrize(
    ("moduli", "shown"),
    [([4, 6], r"moduli\[0\] .* got 4"), ([4], "got 4"), ([97, 9, 35], r"moduli\[1\] .* got 9")],
)
def test_non_prime_moduli_are_refused(moduli, shown):
    # Coprimality is not enough for the kernels, which invert modulo each q.
    with pytest.raises(ParameterError, match=shown):
        RnsBase(moduli)


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ([1, 2.5], ArrayTypeError, "got float at index 1"),
        ([1, True], ArrayTypeError, "got bool at index 1"),
        ([1, "2"], ArrayTypeError, "got str at index 1"),
        ([1, None], ArrayTypeError, "got NoneType at index 1"),
        (np.array([1.0, 2.0]), ArrayTypeError, "got float at index 0"),
        ([[1, 2]], ArrayShapeError, r"1-D, got shape \(1, 2\)"),
        (7, ArrayShapeError, r"1-D, got shape \(\)"),
    ],
)
def test_decompose_refuses_non_integers(values, error, message):
    with pytest.raises(error, match=message):
        RnsBase(MIXED_PRIMES[:2]).decompose(values)


def compose_and_convert(base: RnsBase):
    converter = BaseConverter(base, RnsBase(WIDE_PRIMES[20:22]))
    return [base.compose, converter.convert]


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (lambda a: a.astype(np.int64), ArrayTypeError, "dtype uint64, got int64"),
        (lambda a: a.astype(np.float64), ArrayTypeError, "dtype uint64, got float64"),
        (lambda a: a[:2], ArrayShapeError, r"got \(2, 8\)"),
        (lambda a: a[0], ArrayShapeError, "2-D"),
        (lambda a: a.tolist(), ArrayShapeError, "2-D"),
    ],
    ids=["int64", "float64", "rows", "1-D", "list"],
)
def test_compose_and_convert_refuse_bad_arrays(bad, error, message):
    base = RnsBase(WIDE_PRIMES[:3])
    residues = reduced_residues(base, 8, np.random.default_rng(1))
    for call in compose_and_convert(base):
        with pytest.raises(error, match=message):
            call(bad(residues))


def test_compose_accepts_strided_views_and_convert_refuses_them():
    base = RnsBase(WIDE_PRIMES[:3])
    residues = reduced_residues(base, 8, np.random.default_rng(4))
    strided = np.repeat(residues, 2, axis=1)[:, ::2]
    assert not strided.flags.c_contiguous

    assert base.compose(strided).tolist() == base.compose(residues).tolist()
    with pytest.raises(ArrayShapeError, match="C-contiguous"):
        compose_and_convert(base)[1](strided)


def test_compose_and_convert_refuse_unreduced_residues():
    base = RnsBase(WIDE_PRIMES[:3])
    residues = reduced_residues(base, 8, np.random.default_rng(2))
    residues[2, 5] = WIDE_PRIMES[2]
    for call in compose_and_convert(base):
        with pytest.raises(ArrayShapeError, match=f"row 2 column 5 holds {WIDE_PRIMES[2]}"):
            call(residues)


def test_conversion_refuses_too_many_source_primes():
    sources = primes_below(61, MAX_CONVERSION_PRIMES + 1, step=2)
    with pytest.raises(ParameterError, match=f"at most {MAX_CONVERSION_PRIMES} primes, got 64"):
        BaseConverter(RnsBase(sources), RnsBase(WIDE_PRIMES[:1]))
