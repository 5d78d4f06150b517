"""Tests of ckks.ring.primes: NTT-friendly primes of exact sizes, chains, and refusals.

Known answers come from an independent brute force in this file: every q = 1 + k·2N of the size,
tested with sympy. The counts used by requirement C10(a) were computed that way (and are checked
again here): at N = 8192 there are 5 such primes of 20 bits, 10 of 21 bits and 17 of 22 bits.
"""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from ckks.errors import ParameterError
from ckks.ring.primes import (
    MIN_PRIME_BITS,
    check_prime_bits,
    count_ntt_primes,
    find_ntt_primes,
    prime_chain,
)

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


def brute_force_ntt_primes(bits: int, ring_degree: int) -> list[int]:
    """Every prime q ≡ 1 mod 2N with 2^(bits-1) < q < 2^bits, largest first."""
    step = 2 * ring_degree
    candidates = range(1 + step, 1 << bits, step)
    return sorted(
        (q for q in candidates if q.bit_length() == bits and sympy.isprime(q)), reverse=True
    )


def assert_ntt_friendly(primes: list[int], bits: int, ring_degree: int) -> None:
    assert len(set(primes)) == len(primes)
    for q in primes:
        assert isinstance(q, int)
        assert sympy.isprime(q)
        assert q % (2 * ring_degree) == 1
        assert q.bit_length() == bits


# --- requirement C10(a) --------------------------------------------------------------------------


def test_c10a_six_20_bit_primes_at_8192():
    ring_degree = 8192
    for bits, known_count in ((20, 5), (21, 10), (22, 17)):
        reference = brute_force_ntt_primes(bits, ring_degree)
        assert len(reference) == known_count
        assert count_ntt_primes(bits, ring_degree) == known_count
        assert find_ntt_primes(bits, ring_degree, known_count) == reference

    with pytest.raises(ParameterError, match="only 5 exist"):
        find_ntt_primes(20, ring_degree, 6)
    with pytest.raises(ParameterError, match="only 5 exist"):
        prime_chain([20] * 6, ring_degree)
    assert prime_chain([20] * 5, ring_degree) == brute_force_ntt_primes(20, ring_degree)


# --- known answers and properties ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("bits", "ring_degree"), [(14, 2), (14, 1024), (17, 4096), (20, 8192), (24, 1 << 16)]
)
def test_small_sizes_match_brute_force(bits, ring_degree):
    reference = brute_force_ntt_primes(bits, ring_degree)
    assert count_ntt_primes(bits, ring_degree) == len(reference)
    assert find_ntt_primes(bits, ring_degree, len(reference)) == reference
    assert find_ntt_primes(bits, ring_degree, 0) == []


@pytest.mark.parametrize("ring_degree", [2, 1 << 12, 1 << 16, 1 << 17])
@pytest.mark.parametrize("bits", [30, 40, 50, 59, 60, 61])
def test_large_primes_are_the_largest_of_their_size(bits, ring_degree):
    primes = find_ntt_primes(bits, ring_degree, 3)
    assert_ntt_friendly(primes, bits, ring_degree)
    # Largest first, with no NTT-friendly prime skipped between 2^bits and the last one.
    assert primes == sorted(primes, reverse=True)
    skipped = range(primes[-1] + 2 * ring_degree, 1 << bits, 2 * ring_degree)
    assert [q for q in reversed(skipped) if sympy.isprime(q)] == primes[:-1]


def test_exclude_skips_primes_already_in_the_chain():
    ring_degree = 8192
    all_primes = brute_force_ntt_primes(20, ring_degree)

    assert find_ntt_primes(20, ring_degree, 3, exclude=tuple(all_primes[:2])) == all_primes[2:]
    with pytest.raises(ParameterError, match="only 5 exist, 2 of them already used"):
        find_ntt_primes(20, ring_degree, 4, exclude=tuple(all_primes[:2]))


@SETTINGS
@given(
    log_degree=st.integers(1, 17),
    bits=st.integers(MIN_PRIME_BITS, 61),
    count=st.integers(0, 4),
)
def test_found_primes_property(log_degree, bits, count):
    ring_degree = 1 << log_degree
    if (1 << bits) <= 2 * ring_degree:
        with pytest.raises(ParameterError, match=f"= {bits} is too small"):
            find_ntt_primes(bits, ring_degree, count)
        return

    available = count_ntt_primes(bits, ring_degree, limit=count)
    if available < count:
        with pytest.raises(ParameterError, match=f"only {available} exist"):
            find_ntt_primes(bits, ring_degree, count)
        return
    primes = find_ntt_primes(bits, ring_degree, count)
    assert len(primes) == count
    assert_ntt_friendly(primes, bits, ring_degree)
    assert primes == sorted(primes, reverse=True)


# --- chains --------------------------------------------------------------------------------------


def test_prime_chain_keeps_order_and_distinctness_with_repeated_sizes():
    ring_degree = 1 << 14
    sizes = [60, 40, 40, 60, 50, 40, 60, 61]
    chain = prime_chain(sizes, ring_degree)

    assert [q.bit_length() for q in chain] == sizes
    assert len(set(chain)) == len(chain)
    for q in chain:
        assert sympy.isprime(q) and q % (2 * ring_degree) == 1
    # Each size takes its largest primes, in the order the size recurs.
    for bits in set(sizes):
        taken = [q for q, size in zip(chain, sizes) if size == bits]
        assert taken == find_ntt_primes(bits, ring_degree, len(taken))
    assert prime_chain(tuple(sizes), ring_degree) == chain
    assert prime_chain([], ring_degree) == []


@SETTINGS
@given(sizes=st.lists(st.integers(30, 61), max_size=12), log_degree=st.integers(1, 16))
def test_prime_chain_property(sizes, log_degree):
    ring_degree = 1 << log_degree
    chain = prime_chain(sizes, ring_degree)
    assert [q.bit_length() for q in chain] == sizes
    assert len(set(chain)) == len(chain)
    assert all(q % (2 * ring_degree) == 1 for q in chain)


# --- misuse --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bits", "ring_degree", "shown"),
    [
        (62, 1024, "got 62"),
        (64, 1024, "got 64"),
        (13, 1024, "got 13"),
        (0, 1024, "got 0"),
        (-20, 1024, "got -20"),
        (14, 8192, "= 14 is too small"),
        (17, 1 << 16, "= 17 is too small"),
        (18, 1 << 17, "= 18 is too small"),
        (20.0, 1024, "got 20.0"),
        ("20", 1024, "got '20'"),
        (True, 1024, "got True"),
        (None, 1024, "got None"),
    ],
)
def test_bad_prime_sizes_name_the_value(bits, ring_degree, shown):
    for call in (
        lambda: check_prime_bits(bits, ring_degree),
        lambda: find_ntt_primes(bits, ring_degree, 1),
        lambda: count_ntt_primes(bits, ring_degree),
        lambda: prime_chain([60, bits], ring_degree),
    ):
        with pytest.raises(ParameterError, match=shown):
            call()
    with pytest.raises(ParameterError, match=r"bit_sizes\[1\]"):
        prime_chain([60, bits], ring_degree)


def test_size_without_any_prime_says_none_exist():
    # 14 bits fit below 2N = 8192 · 2 only at N = 4096, where 8193 = 3 · 2731 is the one candidate.
    assert brute_force_ntt_primes(14, 4096) == []
    with pytest.raises(ParameterError, match="only 0 exist"):
        find_ntt_primes(14, 4096, 1)


@pytest.mark.parametrize("count", [-1, 1.5, "3", None])
def test_bad_count_is_refused(count):
    with pytest.raises(ParameterError, match=f"got {count!r}"):
        find_ntt_primes(40, 1024, count)


@pytest.mark.parametrize("ring_degree", [0, 3, 1000, 1 << 18, True, 1024.0, "1024"])
def test_bad_ring_degree_is_refused(ring_degree):
    for call in (
        lambda: find_ntt_primes(40, ring_degree, 1),
        lambda: count_ntt_primes(40, ring_degree),
        lambda: prime_chain([40], ring_degree),
    ):
        with pytest.raises(ParameterError, match="ring_degree"):
            call()
