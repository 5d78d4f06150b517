"""The HomomorphicEncryption.org security table for CKKS parameters.

Largest log2(QP) (the product of every prime, special primes included) that keeps about 128 bits
of classical security for a uniform ternary secret, per ring degree (Albrecht et al., "Homomorphic
Encryption Security Standard", 2018, Table 1; the same figures as SEAL's defaults).
"""

from __future__ import annotations

MAX_MODULUS_BITS_128 = {1024: 27, 2048: 54, 4096: 109, 8192: 218, 16384: 438, 32768: 881}


def max_modulus_bits(ring_degree: int) -> int | None:
    """Largest log2(QP) allowed for 128-bit security at ``ring_degree``; None if no row exists."""
    return MAX_MODULUS_BITS_128.get(ring_degree)
