"""Tests of ckks.ring.ntt: the negacyclic NTT against schoolbook products in Python integers.

The reference is independent of every transform: the product of a(X) and b(X) modulo X^N + 1
computed term by term, c_k = Σ_(i≤k) a_i b_(k−i) − Σ_(i>k) a_i b_(N+k−i), in exact integers. Primes
are drawn here with sympy (q = 1 + k·2N from a seeded random k), not by ckks.ring.primes. Small
degrees are checked exhaustively (every power of two up to 64, primes of 14 to 61 bits); large
degrees by a few output coefficients, each O(N) to compute.
"""

from __future__ import annotations

import functools
import itertools
import random

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from ckks.errors import ArrayShapeError, ArrayTypeError, ParameterError
from ckks.ring.ntt import NttTables, bit_reverse_permutation, primitive_root_of_unity

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)
SMALL_DEGREES = [2, 4, 8, 16, 32, 64]
SMALL_PRIME_BITS = [14, 20, 31, 32, 45, 59, 60, 61]


def ntt_prime(bits: int, ring_degree: int, seed: int) -> int:
    """A prime q ≡ 1 mod 2N of exactly ``bits`` bits, from a seeded random starting multiplier."""
    step = 2 * ring_degree
    first = (1 << (bits - 1)) // step + 1
    last = ((1 << bits) - 1) // step
    start = random.Random(seed).randrange(first, last + 1)
    for k in itertools.chain(range(start, last + 1), range(first, start)):
        if sympy.isprime(1 + k * step):
            return 1 + k * step
    raise AssertionError(f"no {bits}-bit prime ≡ 1 mod {step}")


@functools.lru_cache(maxsize=64)
def tables_for(ring_degree: int, moduli: tuple[int, ...]) -> NttTables:
    return NttTables(ring_degree, list(moduli))


def random_residues(moduli, ring_degree: int, rng: np.random.Generator) -> np.ndarray:
    rows = [rng.integers(0, q, ring_degree, dtype=np.uint64) for q in moduli]
    return np.array(rows, dtype=np.uint64).reshape(len(rows), ring_degree)


def negacyclic_product(a: np.ndarray, b: np.ndarray, q: int) -> list[int]:
    """Schoolbook a·b mod (X^N + 1, q) in Python integers."""
    N = len(a)
    left, right = a.astype(object), b.astype(object)
    full = np.zeros(2 * N, dtype=object)
    for i in range(N):
        full[i : i + N] += left[i] * right
    return [int(v) % q for v in full[:N] - full[N:]]


def negacyclic_coefficient(a: np.ndarray, b: np.ndarray, k: int, q: int) -> int:
    """Coefficient k of a·b mod (X^N + 1, q), in O(N) Python-integer operations."""
    left, right = a.astype(object), b.astype(object)
    positive = np.dot(left[: k + 1], right[k::-1])
    negative = np.dot(left[k + 1 :], right[:k:-1]) if k + 1 < len(a) else 0
    return int(positive - negative) % q


def pointwise(x: np.ndarray, y: np.ndarray, moduli) -> np.ndarray:
    """Row-wise x·y mod q_i in Python integers."""
    rows = [(x[i].astype(object) * y[i].astype(object)) % q for i, q in enumerate(moduli)]
    return np.array(rows, dtype=np.uint64)


def evaluate(coefficients: np.ndarray, point: int, q: int) -> int:
    value = 0
    for c in reversed(coefficients.tolist()):
        value = (value * point + c) % q
    return value


# --- known answers: small degrees exhaustively ---------------------------------------------------


@pytest.mark.parametrize("ring_degree", SMALL_DEGREES)
def test_products_match_schoolbook_for_small_degrees(ring_degree):
    moduli = tuple(ntt_prime(bits, ring_degree, seed=bits) for bits in SMALL_PRIME_BITS)
    tables = tables_for(ring_degree, moduli)
    rng = np.random.default_rng(ring_degree)
    edge = np.array([[q - 1] * ring_degree for q in moduli], dtype=np.uint64)
    zero = np.zeros_like(edge)
    operands = [random_residues(moduli, ring_degree, rng) for _ in range(6)] + [edge, zero]

    for a, b in zip(operands, operands[1:] + operands[:1]):
        product = tables.inverse(pointwise(tables.forward(a), tables.forward(b), moduli))
        for row, q in enumerate(moduli):
            assert product[row].tolist() == negacyclic_product(a[row], b[row], q)


@pytest.mark.parametrize("ring_degree", SMALL_DEGREES)
def test_forward_evaluates_at_odd_powers_of_psi_in_bit_reversed_order(ring_degree):
    moduli = tuple(ntt_prime(bits, ring_degree, seed=2 * bits) for bits in (20, 61))
    tables = tables_for(ring_degree, moduli)
    a = random_residues(moduli, ring_degree, np.random.default_rng(1))
    brv = bit_reverse_permutation(ring_degree)
    transformed = tables.forward(a)

    for row, q in enumerate(moduli):
        psi = int(tables.psi[row])
        assert pow(psi, ring_degree, q) == q - 1  # primitive 2N-th root
        points = [pow(psi, 2 * int(brv[k]) + 1, q) for k in range(ring_degree)]
        assert transformed[row].tolist() == [evaluate(a[row], x, q) for x in points]


@pytest.mark.parametrize("ring_degree", [*SMALL_DEGREES, 1 << 12])
def test_transform_of_x_is_the_roots_in_bit_reversed_order(ring_degree):
    moduli = tuple(ntt_prime(bits, ring_degree, seed=3 * bits) for bits in (17, 40, 60))
    tables = tables_for(ring_degree, moduli)
    monomial = np.zeros((len(moduli), ring_degree), dtype=np.uint64)
    monomial[:, 1] = 1
    brv = bit_reverse_permutation(ring_degree)

    transformed = tables.forward(monomial)
    for row, q in enumerate(moduli):
        psi = int(tables.psi[row])
        assert transformed[row].tolist() == [pow(psi, 2 * int(j) + 1, q) for j in brv]
    np.testing.assert_array_equal(tables.inverse(transformed), monomial)


def test_bit_reversal_known_answer():
    assert bit_reverse_permutation(2).tolist() == [0, 1]
    assert bit_reverse_permutation(8).tolist() == [0, 4, 2, 6, 1, 5, 3, 7]
    permutation = bit_reverse_permutation(1 << 10)
    assert permutation[permutation].tolist() == list(range(1 << 10))


def test_primitive_root_known_answer():
    # 17 ≡ 1 mod 16: the primitive 16th roots mod 17 are the quadratic non-residues 3, 5, 6, 7, ….
    root = primitive_root_of_unity(16, 17)
    assert sorted(pow(root, e, 17) for e in range(16)) == list(range(1, 17))
    assert pow(primitive_root_of_unity(8, 17), 4, 17) == 16


# --- known answers: large degrees by spot checks -------------------------------------------------


def spot_check_products(log_degree: int) -> None:
    ring_degree = 1 << log_degree
    moduli = tuple(ntt_prime(bits, ring_degree, seed=log_degree) for bits in (30, 50, 61))
    tables = tables_for(ring_degree, moduli)
    rng = np.random.default_rng(log_degree)
    a = random_residues(moduli, ring_degree, rng)
    b = random_residues(moduli, ring_degree, rng)

    product = tables.inverse(pointwise(tables.forward(a), tables.forward(b), moduli))
    positions = [0, 1, ring_degree // 2, ring_degree - 1, *rng.integers(0, ring_degree, 3)]
    for row, q in enumerate(moduli):
        for k in positions:
            assert int(product[row, k]) == negacyclic_coefficient(a[row], b[row], int(k), q)
    np.testing.assert_array_equal(tables.inverse(tables.forward(a)), a)


@pytest.mark.parametrize("log_degree", [12, 13, 14, 15])
def test_products_at_large_degrees_match_schoolbook_coefficients(log_degree):
    spot_check_products(log_degree)


@pytest.mark.slow
@pytest.mark.parametrize("log_degree", [16, 17])
def test_products_at_largest_degrees_match_schoolbook_coefficients(log_degree):
    spot_check_products(log_degree)


# --- properties ----------------------------------------------------------------------------------


@st.composite
def transform_cases(draw, max_log_degree: int = 8):
    """A ring degree 2 … 2^max_log_degree, 1–3 primes of 20–61 bits and a seed for operands."""
    ring_degree = 1 << draw(st.integers(1, max_log_degree))
    sizes = draw(st.lists(st.integers(20, 61), min_size=1, max_size=3, unique=True))
    moduli = tuple(ntt_prime(bits, ring_degree, seed=draw(st.integers(0, 2**16))) for bits in sizes)
    return ring_degree, moduli, draw(st.integers(0, 2**32))


@SETTINGS
@given(case=transform_cases())
def test_round_trip_property(case):
    ring_degree, moduli, seed = case
    tables = tables_for(ring_degree, moduli)
    a = random_residues(moduli, ring_degree, np.random.default_rng(seed))

    transformed = tables.forward(a)
    assert transformed.dtype == np.uint64 and (transformed < tables.moduli[:, None]).all()
    np.testing.assert_array_equal(tables.inverse(transformed), a)
    np.testing.assert_array_equal(tables.forward(tables.inverse(a)), a)


@SETTINGS
@given(case=transform_cases())
def test_convolution_theorem_property(case):
    ring_degree, moduli, seed = case
    tables = tables_for(ring_degree, moduli)
    rng = np.random.default_rng(seed)
    a = random_residues(moduli, ring_degree, rng)
    b = random_residues(moduli, ring_degree, rng)

    product = tables.inverse(pointwise(tables.forward(a), tables.forward(b), moduli))
    for row, q in enumerate(moduli):
        assert product[row].tolist() == negacyclic_product(a[row], b[row], q)


# --- in-place forms and prime selection ----------------------------------------------------------


def test_in_place_forms_match_copying_forms():
    ring_degree = 256
    moduli = tuple(ntt_prime(bits, ring_degree, seed=5) for bits in (35, 55))
    tables = tables_for(ring_degree, moduli)
    a = random_residues(moduli, ring_degree, np.random.default_rng(5))
    work = a.copy()

    assert tables.forward_inplace(work) is None
    np.testing.assert_array_equal(work, tables.forward(a))
    assert tables.inverse_inplace(work) is None
    np.testing.assert_array_equal(work, a)


def test_prime_indices_select_table_rows():
    ring_degree = 128
    moduli = tuple(ntt_prime(bits, ring_degree, seed=6) for bits in (25, 40, 55, 61))
    tables = tables_for(ring_degree, moduli)
    rng = np.random.default_rng(6)
    for indices in ([2, 0], [3], [1, 1, 1], [3, 2, 1, 0], []):
        chosen = [moduli[i] for i in indices]
        a = random_residues(chosen, ring_degree, rng)
        selected = tables.forward(a, prime_indices=indices)
        for row, index in enumerate(indices):
            alone = tables_for(ring_degree, (moduli[index],))
            np.testing.assert_array_equal(selected[row], alone.forward(a[row : row + 1])[0])
        np.testing.assert_array_equal(tables.inverse(selected, prime_indices=indices), a)
        np.testing.assert_array_equal(
            tables.forward(a, prime_indices=np.array(indices, dtype=np.int64)), selected
        )


def test_tables_are_read_only():
    tables = tables_for(16, (ntt_prime(30, 16, seed=1),))
    for name in ("moduli", "psi", "forward_roots", "inverse_roots", "degree_inverse"):
        assert not getattr(tables, name).flags.writeable


# --- misuse --------------------------------------------------------------------------------------

MISUSE_DEGREE = 32
MISUSE_MODULI = (ntt_prime(30, MISUSE_DEGREE, seed=9), ntt_prime(50, MISUSE_DEGREE, seed=9))


def misuse_tables() -> NttTables:
    return tables_for(MISUSE_DEGREE, MISUSE_MODULI)


def valid_residues() -> np.ndarray:
    return random_residues(MISUSE_MODULI, MISUSE_DEGREE, np.random.default_rng(9))


def all_transforms(tables: NttTables):
    return [tables.forward_inplace, tables.inverse_inplace, tables.forward, tables.inverse]


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (lambda a: a.astype(np.int64), ArrayTypeError, "dtype uint64, got int64"),
        (lambda a: a.astype(np.float64), ArrayTypeError, "dtype uint64, got float64"),
        (lambda a: a.astype(np.uint32), ArrayTypeError, "dtype uint64, got uint32"),
        (lambda a: a[0], ArrayShapeError, r"got \(32,\)"),
        (lambda a: a[:, :16].copy(), ArrayShapeError, r"got \(2, 16\)"),
        (lambda a: a[None], ArrayShapeError, r"got \(1, 2, 32\)"),
        (lambda a: np.array(1, dtype=np.uint64), ArrayShapeError, r"got \(\)"),
        (lambda a: np.repeat(a, 2, axis=1)[:, ::2], ArrayShapeError, "C-contiguous"),
        (lambda a: np.asfortranarray(np.repeat(a, 2, axis=0)[:2]), ArrayShapeError, "contiguous"),
        (lambda a: a.tolist(), ArrayTypeError, "numpy.ndarray of uint64, got list"),
    ],
    ids=[
        "int64",
        "float64",
        "uint32",
        "1-D",
        "short",
        "3-D",
        "scalar",
        "strided",
        "fortran",
        "list",
    ],
)
def test_bad_arrays_raise_named_errors_in_place(bad, error, message):
    tables = misuse_tables()
    for transform in (tables.forward_inplace, tables.inverse_inplace):
        with pytest.raises(error, match=message):
            transform(bad(valid_residues()))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda a: a.astype(np.int64), "dtype uint64, got int64"),
        (lambda a: a.astype(np.float64), "dtype uint64, got float64"),
        (lambda a: a.tolist(), "numpy.ndarray of uint64, got list"),
    ],
    ids=["int64", "float64", "list"],
)
def test_copying_forms_refuse_wrong_types_before_copying(bad, message):
    tables = misuse_tables()
    for transform in (tables.forward, tables.inverse):
        with pytest.raises(ArrayTypeError, match=message):
            transform(bad(valid_residues()))


def test_copying_forms_accept_strided_views():
    # The copying forms make their own contiguous copy, so only the in-place forms need layout.
    tables = misuse_tables()
    a = valid_residues()
    strided = np.repeat(a, 2, axis=1)[:, ::2]
    np.testing.assert_array_equal(tables.forward(strided), tables.forward(a))
    np.testing.assert_array_equal(tables.inverse(strided), tables.inverse(a))
    np.testing.assert_array_equal(strided, a)


def test_unreduced_residues_are_refused():
    tables = misuse_tables()
    for row, value in ((0, MISUSE_MODULI[0]), (1, MISUSE_MODULI[1]), (1, 2**64 - 1)):
        a = valid_residues()
        a[row, 7] = value
        for transform in all_transforms(tables):
            with pytest.raises(ArrayShapeError, match="reduced"):
                transform(a)
    # A residue valid for the larger prime but not for the smaller one, selected by prime_indices.
    a = valid_residues()
    a[0, 0] = MISUSE_MODULI[0]
    tables.forward(a, prime_indices=[1, 1])
    with pytest.raises(ArrayShapeError, match="reduced"):
        tables.forward(a, prime_indices=[0, 1])


@pytest.mark.parametrize(
    ("indices", "message"),
    [
        ([0, 2], r"\[0, 2\)"),
        ([-1, 0], r"\[0, 2\)"),
        ([0], "one table row per polynomial row"),
        ([0, 1, 1], "one table row per polynomial row"),
        ([[0, 1]], "one table row per polynomial row"),
        (0, "one table row per polynomial row"),
    ],
)
def test_bad_prime_indices_are_refused(indices, message):
    tables = misuse_tables()
    for transform in all_transforms(tables):
        with pytest.raises(ArrayShapeError, match=message):
            transform(valid_residues(), prime_indices=indices)


def test_refused_input_is_left_untouched():
    tables = misuse_tables()
    a = valid_residues()
    a[1, 3] = MISUSE_MODULI[1]
    before = a.copy()
    with pytest.raises(ArrayShapeError):
        tables.forward_inplace(a)
    np.testing.assert_array_equal(a, before)


@pytest.mark.parametrize("ring_degree", [0, 1, 3, 24, 1 << 18, True, 16.0])
def test_bad_ring_degree_is_refused(ring_degree):
    with pytest.raises(ParameterError, match="ring_degree"):
        NttTables(ring_degree, [ntt_prime(30, 16, seed=1)])


@pytest.mark.parametrize(
    ("ring_degree", "modulus", "message"),
    [
        (16, 33, "prime ≡ 1 mod 2N = 32, got 33"),
        (64, 97, "prime ≡ 1 mod 2N = 128, got 97"),
        (16, 1, "below 2.61 .*, got 1 "),
        (16, 2, "got 2 "),
        (16, -31, "got -31 "),
        (16, ntt_prime(62, 16, seed=62), r"\(62 bits\)"),
        (16, ntt_prime(63, 16, seed=63), r"\(63 bits\)"),
        (16, ntt_prime(64, 16, seed=64), r"\(64 bits\)"),
        (16, 97.0, "an int, got 97.0"),
        (16, "97", "an int, got '97'"),
        (16, True, "an int, got True"),
    ],
)
def test_unusable_moduli_are_refused(ring_degree, modulus, message):
    # 33 ≡ 1 mod 32 is composite; 97 is prime but not ≡ 1 mod 128; the lazy butterflies need
    # q < 2^61, and at 63 and 64 bits would silently return wrong values.
    with pytest.raises(ParameterError, match=f"moduli\\[0\\] must .*{message}"):
        NttTables(ring_degree, [modulus])
    with pytest.raises(ParameterError, match=r"moduli\[1\]"):
        NttTables(ring_degree, [MISUSE_MODULI[1], modulus])


def test_tables_accept_numpy_moduli():
    moduli = np.array(MISUSE_MODULI, dtype=np.uint64)
    tables = NttTables(MISUSE_DEGREE, moduli)
    assert tables.moduli.tolist() == list(MISUSE_MODULI)
    expected = misuse_tables().forward(valid_residues())
    np.testing.assert_array_equal(tables.forward(valid_residues()), expected)
