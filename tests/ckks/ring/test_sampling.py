"""Tests of ckks.ring.sampling: ranges, distributions, determinism of seeds, misuse.

Statistical checks use tolerances of six standard deviations derived from the sample size (false
alarm rate about 2·10^-9 per check). Chi-square limits use the Wilson–Hilferty approximation of
the chi-square quantile at the same six-sigma level. Each statistical test runs with both the OS
source and a fixed-seed deterministic source, so a failure of the latter reproduces exactly.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import math
import random
import re
import threading

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckks.errors import ArrayShapeError, ArrayTypeError, InsecureRandomnessError, ParameterError
from ckks.ring import sampling
from ckks.ring.sampling import (
    DEFAULT_SIGMA,
    SEED_BYTES,
    BaseRandomSource,
    InsecureDeterministicSource,
    RandomSource,
    default_source,
    expand_uniform,
)

Z_SCORE = 6.0
STATISTICAL_DEGREE = 1 << 16
SMALL_PRIME = 12289
# Moduli spanning the edge cases of masking: the smallest, a prime of 14 bits, one whose mask
# accepts only about half of the words, a Mersenne prime, and the largest allowed.
EDGE_MODULI = [2, 3, SMALL_PRIME, (1 << 40) + 1, (1 << 61) - 1, (1 << 62) - 1]


def make_sources() -> list[BaseRandomSource]:
    """Return one secure source and one reproducible source."""
    return [RandomSource(), InsecureDeterministicSource(b"test_sampling")]


SOURCE_IDS = ["os", "deterministic"]


def chi_square_limit(degrees_of_freedom: int, z_score: float = Z_SCORE) -> float:
    """Return the chi-square quantile matching a normal z-score (Wilson–Hilferty)."""
    ratio = 2.0 / (9.0 * degrees_of_freedom)
    return degrees_of_freedom * (1.0 - ratio + z_score * math.sqrt(ratio)) ** 3


def chi_square(observed: np.ndarray, expected: np.ndarray) -> float:
    """Return Pearson's statistic of observed counts against expected counts."""
    return float(np.sum((observed - expected) ** 2 / expected))


def discrete_gaussian(sigma: float, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the support [-bound, bound] and its probabilities, computed independently."""
    support = np.arange(-bound, bound + 1)
    weights = np.exp(-(support.astype(np.float64) ** 2) / (2.0 * sigma * sigma))
    return support, weights / weights.sum()


def reference_expand_uniform(seed: bytes, moduli: list[int], ring_degree: int) -> np.ndarray:
    """Re-implement the documented stream format word by word, in plain Python."""
    rows = []
    for index, modulus in enumerate(moduli):
        xof_input = (
            seed
            + b"henn.ring.sampling.uniform\x00"
            + ring_degree.to_bytes(4, "little")
            + index.to_bytes(4, "little")
            + modulus.to_bytes(8, "little")
        )
        mask = (1 << (modulus - 1).bit_length()) - 1
        word_count = 4 * ring_degree + 64
        while True:
            stream = hashlib.shake_256(xof_input).digest(8 * word_count)
            words = (
                int.from_bytes(stream[i : i + 8], "little") & mask for i in range(0, len(stream), 8)
            )
            row = [word for word in words if word < modulus][:ring_degree]
            if len(row) == ring_degree:
                break
            word_count *= 2
        rows.append(row)
    return np.array(rows, dtype=np.uint64)


# --- shapes, dtypes and ranges -------------------------------------------------------------------


@pytest.mark.parametrize("source", make_sources(), ids=SOURCE_IDS)
@pytest.mark.parametrize("ring_degree", [2, 1024, 1 << 17])
def test_draws_have_documented_shape_dtype_and_range(source, ring_degree):
    ternary = source.ternary(ring_degree)
    gaussian = source.gaussian(ring_degree)
    uniform = source.uniform(EDGE_MODULI, ring_degree)

    assert ternary.dtype == np.int64 and ternary.shape == (ring_degree,)
    assert set(np.unique(ternary)) <= {-1, 0, 1}
    assert gaussian.dtype == np.int64 and gaussian.shape == (ring_degree,)
    assert np.abs(gaussian).max() <= math.ceil(6 * DEFAULT_SIGMA) == 20
    assert uniform.dtype == np.uint64 and uniform.shape == (len(EDGE_MODULI), ring_degree)
    assert np.all(uniform < np.array(EDGE_MODULI, dtype=np.uint64)[:, None])
    for array in (ternary, gaussian, uniform):
        assert array.flags.c_contiguous and array.flags.writeable


def test_seed_is_fresh_32_bytes():
    source = RandomSource()
    first, second = source.seed(), source.seed()
    assert isinstance(first, bytes) and len(first) == SEED_BYTES == 32
    assert first != second


def test_default_source_is_the_secure_source():
    assert isinstance(default_source(), RandomSource)
    assert "INSECURE" not in repr(default_source())


# --- distributions -------------------------------------------------------------------------------


@pytest.mark.parametrize("source", make_sources(), ids=SOURCE_IDS)
def test_ternary_frequencies_are_one_third_each(source):
    values = source.ternary(STATISTICAL_DEGREE)
    counts = np.array([np.count_nonzero(values == value) for value in (-1, 0, 1)])
    standard_deviation = math.sqrt(STATISTICAL_DEGREE * (1 / 3) * (2 / 3))

    assert counts.sum() == STATISTICAL_DEGREE
    assert np.all(np.abs(counts - STATISTICAL_DEGREE / 3) <= Z_SCORE * standard_deviation), counts


@pytest.mark.parametrize("source", make_sources(), ids=SOURCE_IDS)
def test_gaussian_mean_and_variance_match_the_exact_distribution(source):
    bound = math.ceil(6 * DEFAULT_SIGMA)
    support, probabilities = discrete_gaussian(DEFAULT_SIGMA, bound)
    variance = float(np.sum(probabilities * support**2))
    fourth_moment = float(np.sum(probabilities * support**4))
    values = source.gaussian(STATISTICAL_DEGREE).astype(np.float64)

    # The truncation at 6σ removes almost nothing: the variance stays σ² to 1e-6.
    assert variance == pytest.approx(DEFAULT_SIGMA**2, rel=1e-6)
    assert np.abs(values).max() <= bound
    mean_tolerance = Z_SCORE * math.sqrt(variance / STATISTICAL_DEGREE)
    assert abs(values.mean()) <= mean_tolerance
    # Second moment about the known mean 0: its standard error is sqrt((μ4 - σ⁴) / n).
    second_moment = float(np.mean(values**2))
    moment_tolerance = Z_SCORE * math.sqrt((fourth_moment - variance**2) / STATISTICAL_DEGREE)
    assert abs(second_moment - variance) <= moment_tolerance


@pytest.mark.parametrize("source", make_sources(), ids=SOURCE_IDS)
def test_gaussian_fits_its_distribution_by_chi_square(source):
    bound = math.ceil(6 * DEFAULT_SIGMA)
    support, probabilities = discrete_gaussian(DEFAULT_SIGMA, bound)
    values = source.gaussian(STATISTICAL_DEGREE)
    observed = np.bincount(values + bound, minlength=support.size).astype(np.float64)
    expected = probabilities * STATISTICAL_DEGREE

    # Bins expected to hold at least 10 values stand alone; the two thin tails are merged.
    central = expected >= 10.0
    observed_bins = np.append(observed[central], observed[~central].sum())
    expected_bins = np.append(expected[central], expected[~central].sum())
    degrees_of_freedom = observed_bins.size - 1

    assert central.sum() >= 15
    assert chi_square(observed_bins, expected_bins) <= chi_square_limit(degrees_of_freedom)


def test_gaussian_with_custom_sigma_and_bound_stays_in_bounds():
    source = InsecureDeterministicSource(7)
    narrow = source.gaussian(1 << 14, sigma=1.0, bound=2)
    flat = source.gaussian(1 << 14, sigma=100.0, bound=1)
    degenerate = source.gaussian(1 << 10, sigma=0.01, bound=1)

    assert set(np.unique(narrow)) == {-2, -1, 0, 1, 2}
    assert set(np.unique(flat)) == {-1, 0, 1}
    # P(±1) = exp(-5000) is below 2^-64: its thresholds coincide and it is never drawn.
    assert np.all(degenerate == 0)


@pytest.mark.parametrize("source", make_sources(), ids=SOURCE_IDS)
def test_uniform_rows_have_the_mean_and_reach_of_each_modulus(source):
    values = source.uniform(EDGE_MODULI, STATISTICAL_DEGREE)

    for row, modulus in zip(values, EDGE_MODULI, strict=True):
        standard_error = math.sqrt((modulus * modulus - 1) / 12 / STATISTICAL_DEGREE)
        mean = float(np.mean(row.astype(np.float64)))
        assert abs(mean - (modulus - 1) / 2) <= Z_SCORE * standard_error, modulus
        assert int(row.max()) < modulus
        if modulus > STATISTICAL_DEGREE:
            # The top and bottom 20/n of the range are each missed with probability e^-20.
            assert int(row.max()) >= modulus - 20 * (modulus // STATISTICAL_DEGREE)
            assert int(row.min()) <= 20 * (modulus // STATISTICAL_DEGREE)


@pytest.mark.parametrize("source", make_sources(), ids=SOURCE_IDS)
def test_uniform_small_prime_histogram_is_flat(source):
    values = source.uniform([SMALL_PRIME] * 8, STATISTICAL_DEGREE)
    observed = np.bincount(values.ravel().astype(np.int64), minlength=SMALL_PRIME)
    expected = np.full(SMALL_PRIME, values.size / SMALL_PRIME)

    assert observed.size == SMALL_PRIME
    assert chi_square(observed, expected) <= chi_square_limit(SMALL_PRIME - 1)


# --- seeds and determinism -----------------------------------------------------------------------


def test_expand_uniform_is_deterministic_and_separates_inputs():
    moduli = [SMALL_PRIME, (1 << 40) + 1, (1 << 61) - 1]
    seed = bytes(range(SEED_BYTES))
    other_seed = bytes(range(1, SEED_BYTES + 1))
    reference = expand_uniform(seed, moduli, 1024)

    np.testing.assert_array_equal(expand_uniform(seed, moduli, 1024), reference)
    np.testing.assert_array_equal(expand_uniform(bytearray(seed), tuple(moduli), 1024), reference)
    assert not np.array_equal(expand_uniform(other_seed, moduli, 1024), reference)
    changed = expand_uniform(seed, [moduli[0], (1 << 40) + 3, moduli[2]], 1024)
    assert not np.array_equal(changed[1], reference[1])
    assert not np.array_equal(expand_uniform(seed, moduli, 2048)[:, :1024], reference)
    repeated = expand_uniform(seed, [SMALL_PRIME, SMALL_PRIME], 1024)
    assert not np.array_equal(repeated[0], repeated[1])
    assert np.all(reference < np.array(moduli, dtype=np.uint64)[:, None])


def test_expand_uniform_rows_do_not_depend_on_later_moduli():
    seed = b"\x42" * SEED_BYTES
    moduli = [(1 << 50) - 27, (1 << 45) + 1, SMALL_PRIME]

    full = expand_uniform(seed, moduli, 256)
    np.testing.assert_array_equal(expand_uniform(seed, moduli[:2], 256), full[:2])


@settings(max_examples=40, deadline=None)
@given(
    seed=st.binary(min_size=SEED_BYTES, max_size=SEED_BYTES),
    moduli=st.lists(st.integers(min_value=2, max_value=(1 << 62) - 1), min_size=1, max_size=4),
    log_degree=st.integers(min_value=1, max_value=6),
)
def test_expand_uniform_matches_the_documented_stream_format(seed, moduli, log_degree):
    ring_degree = 1 << log_degree

    result = expand_uniform(seed, moduli, ring_degree)

    np.testing.assert_array_equal(result, reference_expand_uniform(seed, moduli, ring_degree))
    assert np.all(result < np.array(moduli, dtype=np.uint64)[:, None])


def test_source_uniform_equals_expansion_of_its_seed():
    moduli = [SMALL_PRIME, (1 << 55) + 1]
    drawn = InsecureDeterministicSource(b"same").uniform(moduli, 512)
    seed = InsecureDeterministicSource(b"same").seed()

    np.testing.assert_array_equal(drawn, expand_uniform(seed, moduli, 512))


@pytest.mark.parametrize("draw", ["ternary", "gaussian", "uniform"])
def test_seeding_python_and_numpy_generators_changes_nothing(draw):
    source = RandomSource()

    def sample() -> np.ndarray:
        random.seed(0)
        np.random.seed(0)
        if draw == "uniform":
            return source.uniform([SMALL_PRIME], 1024)
        return getattr(source, draw)(1024)

    first, second, third = sample(), sample(), sample()
    assert not np.array_equal(first, second)
    assert not np.array_equal(second, third)


def test_module_never_touches_python_or_numpy_random():
    tree = ast.parse(inspect.getsource(sampling))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert all("random" not in alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert "random" not in (node.module or "")
        elif isinstance(node, ast.Attribute):
            assert node.attr != "random"


def test_deterministic_source_reproduces_itself_and_says_insecure():
    first = InsecureDeterministicSource(b"fixed seed")
    second = InsecureDeterministicSource(b"fixed seed")

    for source in (first, second):
        assert "INSECURE" in repr(source)
    np.testing.assert_array_equal(first.ternary(4096), second.ternary(4096))
    np.testing.assert_array_equal(first.gaussian(4096), second.gaussian(4096))
    np.testing.assert_array_equal(first.uniform(EDGE_MODULI, 64), second.uniform(EDGE_MODULI, 64))
    assert first.seed() == second.seed()
    # Successive draws of one source differ, and so do other seeds (an int and its bytes too).
    assert not np.array_equal(first.ternary(4096), first.ternary(4096))
    assert InsecureDeterministicSource(1).seed() != InsecureDeterministicSource(2).seed()
    assert InsecureDeterministicSource(1).seed() != InsecureDeterministicSource(b"\x01").seed()
    assert InsecureDeterministicSource(-1).seed() != InsecureDeterministicSource(255).seed()


def test_deterministic_source_never_repeats_a_seed_across_threads():
    shared = InsecureDeterministicSource(99)
    collected: list[bytes] = []
    lock = threading.Lock()

    def worker() -> None:
        seeds = [shared.seed() for _ in range(50)]
        with lock:
            collected.extend(seeds)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    sequential = InsecureDeterministicSource(99)
    assert sorted(collected) == sorted(sequential.seed() for _ in range(200))


# --- misuse --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [b"\x00" * 32, 0, "seed"])
def test_random_source_refuses_a_seed(seed):
    with pytest.raises(InsecureRandomnessError, match="InsecureDeterministicSource"):
        RandomSource(seed=seed)
    with pytest.raises(InsecureRandomnessError, match="tests"):
        RandomSource(seed)


def call_with_ring_degree(name: str, ring_degree: object):
    """Call the sampler ``name`` with ``ring_degree`` and otherwise valid arguments."""
    source = RandomSource()
    if name == "uniform":
        return source.uniform([SMALL_PRIME], ring_degree)
    if name == "expand_uniform":
        return expand_uniform(b"\x00" * SEED_BYTES, [SMALL_PRIME], ring_degree)
    return getattr(source, name)(ring_degree)


@pytest.mark.parametrize("name", ["ternary", "gaussian", "uniform", "expand_uniform"])
@pytest.mark.parametrize("ring_degree", [1000, 0, -8, 2.0, 1, 1 << 18, True, "1024", None])
def test_bad_ring_degree_is_named_with_its_value(name, ring_degree):
    with pytest.raises(ParameterError, match=rf"ring_degree.*{re.escape(repr(ring_degree))}"):
        call_with_ring_degree(name, ring_degree)


@pytest.mark.parametrize(
    ("seed", "error", "pattern"),
    [
        (b"\x00" * 31, ArrayShapeError, r"seed.*32 bytes.*got 31"),
        (b"\x00" * 33, ArrayShapeError, r"seed.*32 bytes.*got 33"),
        (b"", ArrayShapeError, r"seed.*got 0"),
        ("a" * 32, ArrayTypeError, r"seed.*str"),
        (12345, ArrayTypeError, r"seed.*int 12345"),
        (None, ArrayTypeError, r"seed.*NoneType"),
    ],
)
def test_bad_seed_is_named_with_its_value(seed, error, pattern):
    with pytest.raises(error, match=pattern):
        expand_uniform(seed, [SMALL_PRIME], 16)


@pytest.mark.parametrize(
    ("moduli", "pattern"),
    [
        ([0], r"moduli\[0\].*got 0"),
        ([SMALL_PRIME, 1], r"moduli\[1\].*got 1"),
        ([-5], r"moduli\[0\].*got -5"),
        ([1 << 62], rf"moduli\[0\].*2\^62.*got {1 << 62}"),
        ([3.0], r"moduli\[0\].*integer.*3\.0"),
        ([True], r"moduli\[0\].*True"),
        ([], r"moduli.*at least one"),
        (12289, r"moduli.*sequence.*int"),
        (np.ones((2, 2), dtype=np.uint64), r"moduli.*one-dimensional.*\(2, 2\)"),
    ],
)
def test_bad_moduli_are_named_with_their_value(moduli, pattern):
    with pytest.raises(ParameterError, match=pattern):
        RandomSource().uniform(moduli, 16)
    with pytest.raises(ParameterError, match=pattern):
        expand_uniform(b"\x00" * SEED_BYTES, moduli, 16)


def test_moduli_may_be_a_numpy_array():
    moduli = np.array([SMALL_PRIME, (1 << 61) - 1], dtype=np.uint64)
    seed = b"\x07" * SEED_BYTES

    np.testing.assert_array_equal(
        expand_uniform(seed, moduli, 32), expand_uniform(seed, moduli.tolist(), 32)
    )


@pytest.mark.parametrize(
    ("sigma", "bound", "pattern"),
    [
        (0.0, None, r"sigma.*> 0.*got 0\.0"),
        (-1.0, 5, r"sigma.*got -1\.0"),
        (math.nan, 5, r"sigma.*finite.*nan"),
        (math.inf, 5, r"sigma.*finite.*inf"),
        ("3.2", None, r"sigma.*str"),
        (1e6, None, r"bound.*6000000.*sigma"),
        (3.2, 0, r"bound.*\[1, 65536\].*got 0"),
        (3.2, -3, r"bound.*got -3"),
        (3.2, 2.5, r"bound.*integer.*2\.5"),
        (3.2, (1 << 16) + 1, r"bound.*got 65537"),
    ],
)
def test_bad_gaussian_parameters_are_named_with_their_value(sigma, bound, pattern):
    with pytest.raises(ParameterError, match=pattern):
        RandomSource().gaussian(16, sigma=sigma, bound=bound)


@pytest.mark.parametrize("seed", ["text", 1.5, None, True])
def test_deterministic_source_rejects_seeds_of_other_types(seed):
    with pytest.raises(ArrayTypeError, match=rf"seed.*{type(seed).__name__}"):
        InsecureDeterministicSource(seed)


# --- known answers -------------------------------------------------------------------------------


def mpmath_thresholds(sigma: float, bound: int) -> list[int]:
    """Compute the cumulative 64-bit thresholds with mpmath at 50 digits, independently."""
    with mpmath.workdps(50):
        sigma_exact = mpmath.mpf(sigma)
        weights = [mpmath.exp(-(x * x) / (2 * sigma_exact**2)) for x in range(-bound, bound + 1)]
        total = mpmath.fsum(weights)
        thresholds, cumulative = [], mpmath.mpf(0)
        for weight in weights[:-1]:
            cumulative += weight
            thresholds.append(min(int(mpmath.nint(cumulative / total * 2**64)), 2**64 - 1))
    return thresholds


@pytest.mark.parametrize(("sigma", "bound"), [(DEFAULT_SIGMA, 20), (1.0, 2), (0.5, 30), (40.0, 7)])
def test_gaussian_table_matches_an_independent_high_precision_computation(sigma, bound):
    table = sampling._gaussian_thresholds(sigma, bound)

    assert [int(value) for value in table] == mpmath_thresholds(sigma, bound)
    assert not table.flags.writeable


def test_ternary_and_gaussian_follow_the_documented_stream_format():
    ring_degree = 512
    seeds = InsecureDeterministicSource(b"known answer")
    draws = InsecureDeterministicSource(b"known answer")
    ternary_seed, gaussian_seed = seeds.seed(), seeds.seed()
    ternary, gaussian = draws.ternary(ring_degree), draws.gaussian(ring_degree)

    stream = hashlib.shake_256(ternary_seed + b"henn.ring.sampling.ternary\x00").digest(1024)
    expected_ternary = [byte % 3 - 1 for byte in stream if byte != 255][:ring_degree]
    assert ternary.tolist() == expected_ternary
    thresholds = mpmath_thresholds(DEFAULT_SIGMA, 20)
    stream = hashlib.shake_256(gaussian_seed + b"henn.ring.sampling.gaussian\x00").digest(4096)
    words = [int.from_bytes(stream[i : i + 8], "little") for i in range(0, 4096, 8)]
    expected_gaussian = [sum(t <= word for t in thresholds) - 20 for word in words]
    assert gaussian.tolist() == expected_gaussian
