"""Tests of ckks.embedding: the canonical embedding between slots and real coefficients.

The reference is an independent, direct evaluation: the matrix of the roots ζ^(5^j) raised to
every power k, built with plain numpy powers of exp(iπ/N) (no FFT), and for the inverse a dense
linear solve of the same system.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckks.embedding import (
    MAX_RING_DEGREE,
    _embedding_tables,
    _slots_to_complex_coefficients,
    coefficients_to_slots,
    slots_to_coefficients,
)
from ckks.errors import (
    ArrayShapeError,
    ArrayTypeError,
    CkksError,
    EncodingError,
    ParameterError,
)

SMALL_RING_DEGREES = [2, 4, 8, 16, 32, 64, 128, 256]
DOUBLE_EPSILON = 2.0**-52


# ------------------------------------------------------------------------------------------------
# Independent reference and error bounds
# ------------------------------------------------------------------------------------------------


def direct_evaluation_matrix(ring_degree: int) -> np.ndarray:
    """Return the (N/2, N) matrix whose row j holds ζ_j^k, ζ_j = exp(iπ (5^j mod 2N) / N).

    Exponents are reduced exactly, in integers, before the single call to exp, so each entry is
    correct to about one rounding; nothing here shares code with the FFT under test.
    """
    N = ring_degree
    root_exponents = np.array([pow(5, j, 2 * N) for j in range(N // 2)], dtype=np.int64)
    power_exponents = (root_exponents[:, None] * np.arange(N, dtype=np.int64)[None, :]) % (2 * N)
    return np.exp(1j * np.pi * power_exponents / N)


def direct_inverse(values: np.ndarray, ring_degree: int) -> np.ndarray:
    """Solve [V; conj V] m = [v; conj v] densely for the coefficients m (complex result)."""
    matrix = direct_evaluation_matrix(ring_degree)
    system = np.vstack([matrix, np.conj(matrix)])
    right_hand_side = np.concatenate([values, np.conj(values)])
    return np.linalg.solve(system, right_hand_side)


def round_trip_bound(ring_degree: int, magnitude: float) -> float:
    """Bound on the max-norm error of one forward plus one inverse transform.

    Reasoning: a radix-2 FFT of length N in double precision has a normwise relative error of at
    most about c · log2(N) · ε with a small constant c (Higham, Accuracy and Stability of
    Numerical Algorithms, §24.1); the twist multiplications and the conjugate fill add a few ε
    more, hence log2(N) + 3. Up to the factor N that the inverse removes, both transforms are
    sqrt(N) times a unitary map, so a round trip returns a vector of the input's 2-norm with a
    2-norm error of at most 2 · c · (log2 N + 3) · ε · ||x||_2, and ||x||_2 ≤ sqrt(N) · max|x|
    (for slots, the N odd-power values count: the slots and their conjugates). The error of one
    entry is at most the 2-norm error. With c = 4 for safety the bound is
    8 · sqrt(N) · (log2 N + 3) · ε · max|x|, about 7.4e-13 · max|x| at N = 1024. Measured errors
    are two to four orders of magnitude below it (per-entry errors grow like sqrt(log N), not
    sqrt(N) · log N), so the test is not fragile, yet any indexing or sign mistake gives errors
    of order max|x| and fails it. The additive term covers inputs so small that the scaling by
    1/N falls into the subnormal range.
    """
    log_degree = int(np.log2(ring_degree))
    return 8.0 * np.sqrt(ring_degree) * (log_degree + 3) * DOUBLE_EPSILON * magnitude + 1e-300


def assert_close_relative(actual: np.ndarray, expected: np.ndarray, relative: float) -> None:
    """Assert max|actual - expected| ≤ relative · max(max|expected|, tiny)."""
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    error = float(np.max(np.abs(actual - expected), initial=0.0))
    assert error <= relative * scale, f"error {error:.3e} > {relative:.1e} × {scale:.3e}"


def rotate_by_automorphism(coefficients: np.ndarray, galois_element: int) -> np.ndarray:
    """Coefficients of m(X^g) in R[X]/(X^N + 1): X^k → X^(gk mod 2N), negated past N."""
    N = coefficients.shape[0]
    target = (galois_element * np.arange(N)) % (2 * N)
    wraps = target >= N
    result = np.zeros(N, dtype=np.float64)
    result[np.where(wraps, target - N, target)] = np.where(wraps, -coefficients, coefficients)
    return result


# ------------------------------------------------------------------------------------------------
# Hypothesis strategies
# ------------------------------------------------------------------------------------------------

ring_degrees = st.integers(min_value=1, max_value=10).map(lambda exponent: 1 << exponent)
finite_floats = st.floats(
    min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False
)


@st.composite
def ring_degree_and_coefficients(draw: st.DrawFn) -> tuple[int, np.ndarray]:
    degree = draw(ring_degrees)
    coefficients = draw(st.lists(finite_floats, min_size=degree, max_size=degree))
    return degree, np.array(coefficients, dtype=np.float64)


@st.composite
def ring_degree_and_slot_values(draw: st.DrawFn) -> tuple[int, np.ndarray]:
    degree = draw(ring_degrees)
    length = draw(st.integers(min_value=0, max_value=degree // 2))
    real = draw(st.lists(finite_floats, min_size=length, max_size=length))
    imaginary = draw(st.lists(finite_floats, min_size=length, max_size=length))
    return degree, np.array(real, dtype=np.float64) + 1j * np.array(imaginary, dtype=np.float64)


# ------------------------------------------------------------------------------------------------
# Known answers against the direct evaluation
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ring_degree", SMALL_RING_DEGREES)
def test_forward_matches_direct_evaluation(ring_degree: int) -> None:
    rng = np.random.default_rng(1000 + ring_degree)
    coefficients = rng.standard_normal(ring_degree) * 100.0

    slots = coefficients_to_slots(coefficients, ring_degree)

    assert slots.dtype == np.complex128
    assert slots.shape == (ring_degree // 2,)
    assert_close_relative(slots, direct_evaluation_matrix(ring_degree) @ coefficients, 1e-9)


@pytest.mark.parametrize("ring_degree", SMALL_RING_DEGREES)
def test_inverse_matches_direct_solve(ring_degree: int) -> None:
    rng = np.random.default_rng(2000 + ring_degree)
    slot_count = ring_degree // 2
    values = rng.standard_normal(slot_count) + 1j * rng.standard_normal(slot_count)

    coefficients = slots_to_coefficients(values, ring_degree)

    expected = direct_inverse(values, ring_degree)
    assert coefficients.dtype == np.float64
    assert coefficients.shape == (ring_degree,)
    assert np.max(np.abs(expected.imag)) < 1e-9 * np.max(np.abs(expected.real))
    assert_close_relative(coefficients, expected.real, 1e-9)


@pytest.mark.parametrize("ring_degree", [2, 8, 1024])
def test_constant_polynomial_fills_every_slot(ring_degree: int) -> None:
    coefficients = np.zeros(ring_degree)
    coefficients[0] = 3.5

    slots = coefficients_to_slots(coefficients, ring_degree)
    constant_back = slots_to_coefficients(np.full(ring_degree // 2, 3.5), ring_degree)

    assert np.array_equal(slots, np.full(ring_degree // 2, 3.5 + 0j))
    assert_close_relative(constant_back, coefficients, 1e-13)


def test_monomial_x_gives_the_roots_in_powers_of_five_order() -> None:
    ring_degree = 16
    coefficients = np.zeros(ring_degree)
    coefficients[1] = 1.0

    slots = coefficients_to_slots(coefficients, ring_degree)

    # 5^j mod 32 for j = 0..7, written out by hand.
    expected = np.exp(1j * np.pi * np.array([1, 5, 25, 29, 17, 21, 9, 13]) / 16)
    assert_close_relative(slots, expected, 1e-14)


@pytest.mark.parametrize("ring_degree", [2, 4, 64, 4096, MAX_RING_DEGREE])
def test_tables_cover_every_odd_power_once_and_are_read_only(ring_degree: int) -> None:
    tables = _embedding_tables(ring_degree)

    positions = np.concatenate([tables.slot_position, tables.conjugate_position])
    assert np.array_equal(np.sort(positions), np.arange(ring_degree))
    for table in tables:
        assert not table.flags.writeable
    assert _embedding_tables(ring_degree) is tables
    with pytest.raises(ValueError, match="read-only"):
        tables.twist[0] = 0.0


# ------------------------------------------------------------------------------------------------
# Round trips (hypothesis)
# ------------------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=150)
@given(ring_degree_and_coefficients())
def test_round_trip_coefficients_slots_coefficients(case: tuple[int, np.ndarray]) -> None:
    ring_degree, coefficients = case

    back = slots_to_coefficients(coefficients_to_slots(coefficients, ring_degree), ring_degree)

    magnitude = float(np.max(np.abs(coefficients)))
    error = float(np.max(np.abs(back - coefficients)))
    assert error <= round_trip_bound(ring_degree, magnitude)


@settings(deadline=None, max_examples=150)
@given(ring_degree_and_slot_values())
def test_round_trip_slots_coefficients_slots(case: tuple[int, np.ndarray]) -> None:
    ring_degree, values = case
    padded = np.zeros(ring_degree // 2, dtype=np.complex128)
    padded[: values.shape[0]] = values

    back = coefficients_to_slots(slots_to_coefficients(values, ring_degree), ring_degree)

    magnitude = float(np.max(np.abs(padded), initial=0.0))
    error = float(np.max(np.abs(back - padded)))
    assert error <= round_trip_bound(ring_degree, magnitude)


@settings(deadline=None, max_examples=50)
@given(ring_degree_and_slot_values())
def test_recovered_coefficients_are_real(case: tuple[int, np.ndarray]) -> None:
    ring_degree, values = case
    padded = np.zeros(ring_degree // 2, dtype=np.complex128)
    padded[: values.shape[0]] = values

    complex_coefficients = _slots_to_complex_coefficients(padded, ring_degree)

    # The conjugate half makes the exact result real; what is left is rounding noise.
    magnitude = float(np.max(np.abs(padded), initial=0.0))
    assert np.max(np.abs(complex_coefficients.imag)) <= round_trip_bound(ring_degree, magnitude)


# ------------------------------------------------------------------------------------------------
# Structure: padding, real slots, automorphisms
# ------------------------------------------------------------------------------------------------


def test_short_vector_is_zero_padded() -> None:
    ring_degree = 64
    values = np.array([1.0, -2.5, 3.0 + 1.0j, 0.25, 7.0])

    coefficients = slots_to_coefficients(values, ring_degree)
    slots = coefficients_to_slots(coefficients, ring_degree)

    padded = np.concatenate([values, np.zeros(ring_degree // 2 - values.shape[0])])
    assert np.array_equal(coefficients, slots_to_coefficients(padded, ring_degree))
    bound = round_trip_bound(ring_degree, 7.0)
    assert np.max(np.abs(slots[:5] - values)) <= bound
    assert np.max(np.abs(slots[5:])) <= bound


def test_empty_vector_gives_the_zero_polynomial() -> None:
    assert np.array_equal(slots_to_coefficients([], 16), np.zeros(16))


def test_real_slot_values_give_coefficients_odd_under_x_to_minus_one() -> None:
    # Real slots mean m(ζ^e) = m(ζ^-e) for every odd e, i.e. m(X) = m(X^-1) in the ring, which
    # for X^-1 = -X^(N-1) reads m_k = -m_(N-k) for 1 ≤ k < N.
    ring_degree = 512
    rng = np.random.default_rng(7)
    values = rng.uniform(-10.0, 10.0, ring_degree // 2)

    coefficients = slots_to_coefficients(values, ring_degree)

    assert coefficients.dtype == np.float64
    assert np.max(np.abs(coefficients[1:] + coefficients[:0:-1])) <= round_trip_bound(
        ring_degree, 10.0
    )


@pytest.mark.parametrize("ring_degree", [2, 4, 16, 256, 4096])
def test_x_to_the_five_rotates_slots_left_by_one(ring_degree: int) -> None:
    rng = np.random.default_rng(3000 + ring_degree)
    coefficients = rng.standard_normal(ring_degree)

    slots = coefficients_to_slots(coefficients, ring_degree)
    rotated = coefficients_to_slots(rotate_by_automorphism(coefficients, 5), ring_degree)

    assert_close_relative(rotated, np.roll(slots, -1), 1e-12)


@pytest.mark.parametrize("ring_degree", [2, 4, 16, 256, 4096])
def test_x_to_the_two_n_minus_one_conjugates_slots(ring_degree: int) -> None:
    rng = np.random.default_rng(4000 + ring_degree)
    coefficients = rng.standard_normal(ring_degree)

    slots = coefficients_to_slots(coefficients, ring_degree)
    conjugated = coefficients_to_slots(
        rotate_by_automorphism(coefficients, 2 * ring_degree - 1), ring_degree
    )

    assert_close_relative(conjugated, np.conj(slots), 1e-12)


def test_integer_and_list_inputs_match_float_input() -> None:
    ring_degree = 32
    integers = np.arange(-8, 8, dtype=np.int32)

    expected = slots_to_coefficients(integers.astype(np.float64), ring_degree)

    assert np.array_equal(slots_to_coefficients(integers, ring_degree), expected)
    assert np.array_equal(slots_to_coefficients(integers.tolist(), ring_degree), expected)
    assert np.array_equal(slots_to_coefficients(integers, np.int64(ring_degree)), expected)


def test_concurrent_first_use_builds_consistent_tables() -> None:
    ring_degree = 1 << 13
    values = np.linspace(-1.0, 1.0, ring_degree // 2)
    _embedding_tables.cache_clear()
    results: list[np.ndarray] = []
    lock = threading.Lock()

    def worker() -> None:
        coefficients = slots_to_coefficients(values, ring_degree)
        with lock:
            results.append(coefficients)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 8
    for coefficients in results[1:]:
        assert np.array_equal(coefficients, results[0])


# ------------------------------------------------------------------------------------------------
# Speed
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("log_ring_degree", [15, 16])
def test_large_ring_degrees_are_fast_once_tables_are_built(log_ring_degree: int) -> None:
    ring_degree = 1 << log_ring_degree
    rng = np.random.default_rng(log_ring_degree)
    values = rng.standard_normal(ring_degree // 2) + 1j * rng.standard_normal(ring_degree // 2)
    coefficients = slots_to_coefficients(values, ring_degree)  # builds and caches the tables

    def best_seconds(function, argument) -> float:
        timings = []
        for _ in range(5):
            start = time.perf_counter()
            function(argument, ring_degree)
            timings.append(time.perf_counter() - start)
        return min(timings)

    assert best_seconds(slots_to_coefficients, values) < 0.050
    assert best_seconds(coefficients_to_slots, coefficients) < 0.050
    back = coefficients_to_slots(coefficients, ring_degree)
    magnitude = float(np.max(np.abs(values)))
    assert np.max(np.abs(back - values)) <= round_trip_bound(ring_degree, magnitude)


# ------------------------------------------------------------------------------------------------
# Misuse: one test per documented error
# ------------------------------------------------------------------------------------------------


def test_nan_value_is_reported_with_its_index() -> None:
    values = [1.0, 2.0, 3.0, float("nan"), 5.0]
    with pytest.raises(EncodingError, match="values contain NaN at index 3"):
        slots_to_coefficients(values, 16)


def test_nan_in_imaginary_part_is_reported() -> None:
    values = np.array([1.0, complex(0.0, float("nan"))])
    with pytest.raises(EncodingError, match="values contain NaN at index 1"):
        slots_to_coefficients(values, 16)


@pytest.mark.parametrize("bad", [float("inf"), -float("inf"), complex(1.0, float("inf"))])
def test_infinite_value_is_reported_with_its_index(bad: complex) -> None:
    values = np.array([0.0, 0.0, bad], dtype=np.complex128)
    with pytest.raises(EncodingError, match="values contain infinity at index 2"):
        slots_to_coefficients(values, 16)


def test_too_many_values_names_both_counts() -> None:
    with pytest.raises(EncodingError, match="48000 values > 16384 slots"):
        slots_to_coefficients(np.zeros(48000), 1 << 15)


def test_two_dimensional_values_are_rejected() -> None:
    with pytest.raises(
        ArrayShapeError, match=r"values must be 1-D, got an array of shape \(2, 3\)"
    ):
        slots_to_coefficients(np.zeros((2, 3)), 16)


def test_scalar_value_is_rejected() -> None:
    with pytest.raises(ArrayShapeError, match=r"values must be 1-D.*shape \(\)"):
        slots_to_coefficients(1.5, 16)


def test_ragged_values_are_rejected() -> None:
    with pytest.raises(ArrayShapeError, match="numpy could not convert it"):
        slots_to_coefficients([1.0, [2.0, 3.0]], 16)


@pytest.mark.parametrize(
    "values",
    ["hello", ["1.0", "2.0"], np.array([1, 2**80], dtype=object), np.array([True, False]), None],
)
def test_non_numeric_values_are_rejected(values: object) -> None:
    with pytest.raises(ArrayTypeError, match="values must have an integer, float or complex dtype"):
        slots_to_coefficients(values, 16)


@pytest.mark.parametrize("ring_degree", [1000, 1, 0, -16, 3, 1 << 18])
def test_bad_ring_degree_values_are_rejected(ring_degree: int) -> None:
    message = rf"ring_degree must be a power of two in \[2, 131072\], got {ring_degree}$"
    with pytest.raises(ParameterError, match=message):
        slots_to_coefficients([1.0], ring_degree)
    with pytest.raises(ParameterError, match=message):
        coefficients_to_slots(np.zeros(max(ring_degree, 1)), ring_degree)


@pytest.mark.parametrize("ring_degree", [1024.0, "1024", True, None])
def test_non_integer_ring_degree_is_rejected(ring_degree: object) -> None:
    with pytest.raises(ParameterError, match="ring_degree must be an integer power of two"):
        slots_to_coefficients([1.0], ring_degree)


def test_coefficients_must_be_a_float64_array() -> None:
    with pytest.raises(ArrayTypeError, match="dtype float64, got dtype int64"):
        coefficients_to_slots(np.zeros(16, dtype=np.int64), 16)
    with pytest.raises(ArrayTypeError, match="dtype float64, got type list"):
        coefficients_to_slots([0.0] * 16, 16)


def test_coefficients_must_match_the_ring_degree() -> None:
    with pytest.raises(
        ArrayShapeError, match=r"shape \(16,\) for ring degree 16, got shape \(8,\)"
    ):
        coefficients_to_slots(np.zeros(8), 16)
    with pytest.raises(ArrayShapeError, match=r"got shape \(4, 4\)"):
        coefficients_to_slots(np.zeros((4, 4)), 16)


def test_non_finite_coefficients_are_rejected() -> None:
    coefficients = np.zeros(16)
    coefficients[9] = -np.inf
    with pytest.raises(ArrayShapeError, match="coefficients contain infinity at index 9"):
        coefficients_to_slots(coefficients, 16)


def test_errors_are_catchable_as_builtins_and_as_ckks_errors() -> None:
    with pytest.raises(ValueError):
        slots_to_coefficients([float("nan")], 4)
    with pytest.raises(TypeError):
        slots_to_coefficients("text", 4)
    with pytest.raises(CkksError):
        slots_to_coefficients([1.0], 1000)
