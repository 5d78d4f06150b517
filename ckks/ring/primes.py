"""NTT-friendly primes: q ≡ 1 (mod 2N) of an exact bit size, distinct across a chain.

A prime q ≡ 1 (mod 2N) has a primitive 2N-th root of unity ψ, which the negacyclic NTT needs.
Candidates are q = 1 + k·2N searched downward from 2^bits; primality is decided by sympy.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy

from ckks.errors import ParameterError
from ckks.ring.modarith import MAX_PRIME_BITS
from ckks.ring.validation import check_ring_degree

#: Smallest prime size accepted; smaller primes leave no room for CKKS noise.
MIN_PRIME_BITS = 14


def check_prime_bits(bits: object, ring_degree: int, argument: str = "bits") -> int:
    """Return ``bits`` after checking the kernels can use primes of that size at this ring degree.

    Raises:
        ParameterError: not an int, above 61 bits (lazy kernels keep values below 4q < 2^63),
            below 14 bits, or too small to hold a prime ≡ 1 mod 2N.
    """
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise ParameterError(f"{argument} must be an int, got {bits!r}")
    bits = int(bits)
    if bits > MAX_PRIME_BITS or bits < MIN_PRIME_BITS:
        raise ParameterError(
            f"{argument} must be between {MIN_PRIME_BITS} and {MAX_PRIME_BITS} bits "
            f"(the kernels keep lazy values below 4q < 2^63), got {bits}"
        )
    if (1 << bits) <= 2 * ring_degree:
        raise ParameterError(
            f"{argument} = {bits} is too small: a prime ≡ 1 mod 2N needs more than "
            f"{(2 * ring_degree).bit_length()} bits at ring_degree {ring_degree}"
        )
    return bits


@functools.lru_cache(maxsize=256)
def _primes_of_size(bits: int, ring_degree: int, limit: int) -> tuple[int, ...]:
    """Up to ``limit`` primes q ≡ 1 mod 2N with exactly ``bits`` bits, largest first."""
    step = 2 * ring_degree
    lowest = 1 << (bits - 1)
    candidate = ((1 << bits) - 1) // step * step + 1
    found = []
    while candidate > lowest and len(found) < limit:
        if sympy.isprime(candidate):
            found.append(candidate)
        candidate -= step
    return tuple(found)


def count_ntt_primes(bits: int, ring_degree: int, limit: int = 1 << 20) -> int:
    """How many primes of exactly ``bits`` bits are ≡ 1 mod 2N (counting stops at ``limit``)."""
    ring_degree = check_ring_degree(ring_degree)
    check_prime_bits(bits, ring_degree)
    return len(_primes_of_size(bits, ring_degree, limit))


def find_ntt_primes(
    bits: int, ring_degree: int, count: int, exclude: tuple[int, ...] = ()
) -> list[int]:
    """The ``count`` largest primes of exactly ``bits`` bits with q ≡ 1 mod 2N, not in ``exclude``.

    Args:
        bits: bit length of every prime (2^(bits-1) < q < 2^bits).
        ring_degree: N, a power of two.
        count: how many primes to return.
        exclude: primes already used elsewhere in the chain.

    Returns:
        The primes, largest first.

    Raises:
        ParameterError: fewer than ``count`` such primes exist; the message says how many do.
    """
    ring_degree = check_ring_degree(ring_degree)
    check_prime_bits(bits, ring_degree)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ParameterError(f"count must be a non-negative int, got {count!r}")
    excluded = set(exclude)
    available = _primes_of_size(bits, ring_degree, count + len(excluded))
    primes = [q for q in available if q not in excluded][:count]
    if len(primes) < count:
        total = len(_primes_of_size(bits, ring_degree, 1 << 20))
        raise ParameterError(
            f"cannot find {count} distinct primes of {bits} bits with q ≡ 1 mod {2 * ring_degree} "
            f"(ring_degree {ring_degree}): only {total} exist"
            + (f", {total - len(primes)} of them already used in the chain" if excluded else "")
            + f"; use fewer {bits}-bit primes or larger ones"
        )
    return primes


def prime_chain(bit_sizes: list[int] | tuple[int, ...], ring_degree: int) -> list[int]:
    """Distinct NTT-friendly primes, one per requested bit size, in the order requested.

    Raises:
        ParameterError: a size is unsupported, or the sizes ask for more primes of one size
            than exist (the message says how many exist).
    """
    ring_degree = check_ring_degree(ring_degree)
    sizes = list(bit_sizes)
    for index, bits in enumerate(sizes):
        check_prime_bits(bits, ring_degree, argument=f"bit_sizes[{index}]")
    by_size = {}
    for bits in sorted(set(sizes)):
        by_size[bits] = iter(find_ntt_primes(bits, ring_degree, sizes.count(bits)))
    return [next(by_size[bits]) for bits in sizes]
