"""Modular arithmetic on 64-bit words for Numba kernels.

Numba has no 128-bit integer type, yet every reduction below needs the high word of a 64×64-bit
product. Two ways to get it are kept:

* ``mul_wide`` asks LLVM for the full product directly (zero-extend to i128, multiply, split).
  LLVM lowers this to the single ``mul``/``mulx`` (x86-64) or ``umulh`` (AArch64) instruction.
* ``mul_wide_portable`` builds the high word from four 32×32-bit partial products.

Measured with ``benchmarks/bench_ring.py`` on x86-64: LLVM recognises the 32-bit-halves pattern
and emits the same single wide multiply, so both cost the same to within 10-30 % (the portable
form was slightly faster inside the Barrett kernel). The kernels keep the intrinsic because it
states the intent and does not depend on that pattern matching; the portable form is the
cross-check in the tests. The *reduction* is the choice that matters: Shoup multiplication by a
precomputed constant costs about a third of a Barrett reduction of a full product.

Reductions (q < 2^61 throughout, so that lazy values in [0, 4q) fit a word):

* Shoup multiplication by a constant w with its precomputed w' = floor(w·2^64 / q): one high and
  two low products, no division. Used for NTT twiddles and every fixed factor.
* Barrett reduction of a full 128-bit product with mu = floor(2^(2b) / q), b the bit length of q:
  used where both operands vary (pointwise products of polynomials).

Legend: ``q`` a prime modulus, ``w`` a constant factor, ``ws`` its Shoup companion, ``mu`` the
Barrett constant, ``b`` the bit length of q.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

#: Largest prime size the lazy kernels accept: values up to 4q must fit 64 bits.
MAX_PRIME_BITS = 61

_U64 = np.uint64
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)


@intrinsic
def _mul_wide_llvm(typingctx, a, b):
    if a != types.uint64 or b != types.uint64:
        return None
    signature = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

    def codegen(context, builder, sig, args):
        wide = ir.IntType(128)
        word = ir.IntType(64)
        product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        low = builder.trunc(product, word)
        high = builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), word)
        return context.make_tuple(builder, sig.return_type, [high, low])

    return signature, codegen


@njit(inline="always", cache=True)
def mul_wide(a, b):
    """Full product of two uint64 words as (high, low) words."""
    return _mul_wide_llvm(a, b)


@njit(inline="always", cache=True)
def mul_wide_portable(a, b):
    """Full product of two uint64 words from 32-bit halves, as (high, low) words."""
    a_lo = a & _MASK32
    a_hi = a >> _SHIFT32
    b_lo = b & _MASK32
    b_hi = b >> _SHIFT32
    lo_lo = a_lo * b_lo
    hi_lo = a_hi * b_lo
    lo_hi = a_lo * b_hi
    hi_hi = a_hi * b_hi
    middle = (lo_lo >> _SHIFT32) + (hi_lo & _MASK32) + lo_hi
    high = hi_hi + (hi_lo >> _SHIFT32) + (middle >> _SHIFT32)
    low = (middle << _SHIFT32) | (lo_lo & _MASK32)
    return high, low


@njit(inline="always", cache=True)
def mul_high(a, b):
    """High word of the product of two uint64 words."""
    return _mul_wide_llvm(a, b)[0]


@njit(inline="always", cache=True)
def mul_shoup_lazy(a, w, ws, q):
    """a·w mod q in [0, 2q) for any uint64 a, given ws = floor(w·2^64 / q) and w < q."""
    quotient = mul_high(a, ws)
    return a * w - quotient * q


@njit(inline="always", cache=True)
def mul_shoup(a, w, ws, q):
    """a·w mod q in [0, q) for any uint64 a, given ws = floor(w·2^64 / q) and w < q."""
    r = mul_shoup_lazy(a, w, ws, q)
    if r >= q:
        r -= q
    return r


@njit(inline="always", cache=True)
def reduce_wide(high, low, q, mu, b):
    """(high·2^64 + low) mod q for a value below 2^(2b), by Barrett with mu = floor(2^(2b)/q).

    The estimate t = floor(x / 2^(b-1)) fits a word (x < 2^(2b), b ≤ 61), and the quotient
    estimate floor(t·mu / 2^(b+1)) undershoots the true quotient by at most 2, so two
    conditional subtractions finish the reduction.
    """
    shift = b - _U64(1)
    t = (low >> shift) | (high << (_U64(64) - shift))
    t_mu_high, t_mu_low = _mul_wide_llvm(t, mu)
    up = b + _U64(1)
    quotient = (t_mu_low >> up) | (t_mu_high << (_U64(64) - up))
    r = low - quotient * q
    if r >= q:
        r -= q
    if r >= q:
        r -= q
    return r


@njit(inline="always", cache=True)
def mul_mod(a, b, q, mu, bits):
    """a·b mod q for a, b in [0, q), by Barrett (see ``reduce_wide``)."""
    high, low = _mul_wide_llvm(a, b)
    return reduce_wide(high, low, q, mu, bits)


@njit(inline="always", cache=True)
def reduce_word(a, q, word_ratio):
    """a mod q for any uint64 a, given word_ratio = floor(2^64 / q)."""
    r = a - mul_high(a, word_ratio) * q
    if r >= q:
        r -= q
    return r


@njit(inline="always", cache=True)
def add_mod(a, b, q):
    """a + b mod q for a, b in [0, q)."""
    s = a + b
    if s >= q:
        s -= q
    return s


@njit(inline="always", cache=True)
def sub_mod(a, b, q):
    """a − b mod q for a, b in [0, q)."""
    if a >= b:
        return a - b
    return a + q - b


# ----------------------------------------------------------------------------------------------
# Constants, computed in exact Python integers.


def shoup_companion(w: int, q: int) -> int:
    """floor(w·2^64 / q): the precomputed companion of a constant factor w < q."""
    return (w << 64) // q


def barrett_constant(q: int) -> int:
    """floor(2^(2b) / q) with b the bit length of q; below 2^(b+1), so it fits a word."""
    return (1 << (2 * q.bit_length())) // q


def word_ratio(q: int) -> int:
    """floor(2^64 / q), for reducing a single word."""
    return (1 << 64) // q


class ModulusConstants:
    """Per-prime constants of the kernels, as uint64 arrays aligned with the primes.

    Attributes:
        moduli: the primes q_i.
        bits: bit length b_i of each prime.
        barrett: floor(2^(2 b_i) / q_i).
        word_ratio: floor(2^64 / q_i).
        two64, two64_shoup: 2^64 mod q_i and its Shoup companion, to fold a 128-bit sum.
    """

    def __init__(self, moduli: list[int]):
        self.moduli = np.array(moduli, dtype=np.uint64)
        self.bits = np.array([q.bit_length() for q in moduli], dtype=np.uint64)
        self.barrett = np.array([barrett_constant(q) for q in moduli], dtype=np.uint64)
        self.word_ratio = np.array([word_ratio(q) for q in moduli], dtype=np.uint64)
        two64 = [(1 << 64) % q for q in moduli]
        self.two64 = np.array(two64, dtype=np.uint64)
        self.two64_shoup = np.array(
            [shoup_companion(w, q) for w, q in zip(two64, moduli, strict=True)], dtype=np.uint64
        )
        for array in (
            self.moduli,
            self.bits,
            self.barrett,
            self.word_ratio,
            self.two64,
            self.two64_shoup,
        ):
            array.flags.writeable = False
