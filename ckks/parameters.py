"""CKKS parameters: ring degree, the modulus chain, special primes, default scale.

Validated once, at construction: every prime is found and distinct, log2(QP) is within the
HomomorphicEncryption.org 128-bit bound (unless ``insecure=True`` is passed on purpose, which the
repr then shows), and the default scale leaves headroom in the first data prime, the one that
remains at the last level. The object also builds the :class:`~ckks.context.Context` of
precomputed tables, so every later operation only reads shared, read-only data.

Levels: a ciphertext at level l lives modulo Q_l = q_0 ··· q_l; fresh ciphertexts sit at
``max_level`` = L − 1, each rescale divides by the last prime and drops one level.
"""

from __future__ import annotations

import hashlib
import math
import numbers

from ckks.errors import ParameterError
from ckks.ring.primes import check_prime_bits, prime_chain
from ckks.ring.validation import check_ring_degree
from ckks.security import MAX_MODULUS_BITS_128


class Parameters:
    """A checked CKKS parameter set and its precomputed context.

    Args:
        ring_degree: N, a power of two; N/2 complex slots.
        moduli_bits: bit sizes of the data primes q_0, …, q_(L−1), first to last. The first one
            remains at the last level and must exceed the scale; the others are usually close to
            the scale so that rescaling keeps it stable.
        special_moduli_bits: bit sizes of the special primes P used by key switching (may be
            empty: then no relinearization or rotation key can be made).
        scale_bits: log2 of the default scale Δ used by the encoder.
        insecure: accept a parameter set outside the 128-bit security table (tests only).
        key_switch_digits: dnum, the number of digits Q is split into for hybrid key switching.
            Default: the fewest digits whose sizes each fit within log2 P, which keeps the
            key-switching noise below the rounding noise.

    Raises:
        ParameterError: unsupported ring degree or prime size, too few primes of a size, log2(QP)
            above the security bound, a scale without headroom, or a bad digit count.
    """

    def __init__(
        self,
        ring_degree: int,
        moduli_bits,
        special_moduli_bits=(),
        scale_bits: float = 40,
        insecure: bool = False,
        key_switch_digits: int | None = None,
    ):
        self.ring_degree = check_ring_degree(ring_degree)
        self.moduli_bits = _check_bit_list(moduli_bits, "moduli_bits", self.ring_degree, 1)
        self.special_moduli_bits = _check_bit_list(
            special_moduli_bits, "special_moduli_bits", self.ring_degree, 0
        )
        self.insecure = bool(insecure)
        self.scale_bits = _check_scale_bits(scale_bits, self.moduli_bits)
        self.scale = 2.0**self.scale_bits
        self._check_security()

        primes = prime_chain(self.moduli_bits + self.special_moduli_bits, self.ring_degree)
        self.moduli = tuple(primes[: len(self.moduli_bits)])
        self.special_moduli = tuple(primes[len(self.moduli_bits) :])
        self.requested_digits = key_switch_digits
        self.digits = _key_switch_digits(
            self.moduli, self.special_moduli, key_switch_digits, self.insecure
        )
        self.hash = self._compute_hash()

        from ckks.context import Context  # the context reads the finished parameters

        self.context = Context(self)

    # -- derived sizes ---------------------------------------------------------------------------

    @property
    def slot_count(self) -> int:
        """N/2, the number of complex slots of a plaintext."""
        return self.ring_degree // 2

    @property
    def max_level(self) -> int:
        """Level of a fresh ciphertext: the number of rescales available."""
        return len(self.moduli) - 1

    @property
    def key_switch_digit_count(self) -> int:
        """dnum: how many digits hybrid key switching splits the data modulus into."""
        return len(self.digits)

    @property
    def total_modulus_bits(self) -> int:
        """log2(QP) as the security table counts it: the bit length of the product of primes."""
        return math.prod(self.moduli + self.special_moduli).bit_length()

    def modulus_at(self, level: int) -> int:
        """Q_level = q_0 ··· q_level."""
        return math.prod(self.moduli[: level + 1])

    # -- identity --------------------------------------------------------------------------------

    def _compute_hash(self) -> bytes:
        text = (
            f"ckks-parameters-v1|N={self.ring_degree}|q={list(self.moduli)}"
            f"|p={list(self.special_moduli)}|scale_bits={self.scale_bits!r}"
            f"|digits={self.digits}|insecure={self.insecure}"
        )
        return hashlib.sha256(text.encode()).digest()[:16]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Parameters) and other.hash == self.hash

    def __hash__(self) -> int:
        return int.from_bytes(self.hash[:8], "little")

    def __repr__(self) -> str:
        flag = ", INSECURE (outside the 128-bit security table)" if self.insecure else ""
        return (
            f"Parameters(ring_degree={self.ring_degree}, moduli_bits={self.moduli_bits}, "
            f"special_moduli_bits={self.special_moduli_bits}, scale_bits={self.scale_bits}, "
            f"log2 QP={self.total_modulus_bits}, digits={len(self.digits)}{flag})"
        )

    def to_bytes(self, compression: str | None = None) -> bytes:
        """The parameters in the ckks binary format (with the primes, to verify on reading)."""
        from ckks.io import serialize

        return serialize(self, compression)

    @classmethod
    def from_bytes(cls, data: bytes) -> Parameters:
        """Rebuild parameters written by :meth:`to_bytes`."""
        from ckks.io import deserialize

        return deserialize(data, None, expected="Parameters")

    def __reduce__(self):
        return (
            _rebuild,
            (
                self.ring_degree,
                self.moduli_bits,
                self.special_moduli_bits,
                self.scale_bits,
                self.insecure,
                self.requested_digits,
            ),
        )

    # -- checks ----------------------------------------------------------------------------------

    def _check_security(self) -> None:
        requested = sum(self.moduli_bits) + sum(self.special_moduli_bits)
        bound = MAX_MODULUS_BITS_128.get(self.ring_degree)
        if self.insecure:
            return
        if bound is None:
            raise ParameterError(
                f"ring_degree {self.ring_degree} has no 128-bit secure setting in the "
                f"HomomorphicEncryption.org table (N = 1024 … 32768); pass insecure=True only "
                f"for tests"
            )
        if requested > bound:
            raise ParameterError(
                f"total {requested} bits > {bound} allowed for 128-bit security at "
                f"N={self.ring_degree} (moduli_bits {self.moduli_bits} + special_moduli_bits "
                f"{self.special_moduli_bits}); use fewer or smaller primes or a larger ring degree"
            )


def _rebuild(ring_degree, moduli_bits, special, scale_bits, insecure, digits):
    return Parameters(ring_degree, moduli_bits, special, scale_bits, insecure, digits)


def _check_bit_list(values, argument: str, ring_degree: int, minimum: int) -> list[int]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ParameterError(f"{argument} must be a list of ints, got {values!r}")
    sizes = list(values)
    if len(sizes) < minimum:
        raise ParameterError(f"{argument} must hold at least {minimum} prime size(s), got {sizes}")
    for index, bits in enumerate(sizes):
        if isinstance(bits, numbers.Integral) and not isinstance(bits, bool):
            bits = int(bits)
        check_prime_bits(bits, ring_degree, argument=f"{argument}[{index}]")
        sizes[index] = bits
    return sizes


def _check_scale_bits(scale_bits, moduli_bits: list[int]) -> float:
    if isinstance(scale_bits, bool) or not isinstance(scale_bits, numbers.Real):
        raise ParameterError(f"scale_bits must be a number, got {scale_bits!r}")
    value = float(scale_bits)
    if not math.isfinite(value) or value <= 0:
        raise ParameterError(f"scale_bits must be a positive finite number, got {scale_bits!r}")
    if value >= moduli_bits[0]:
        raise ParameterError(
            f"scale_bits {scale_bits} must be below the first data prime's {moduli_bits[0]} bits: "
            f"q_0 remains at the last level and must hold value·scale with headroom "
            f"(log2 q_0 − scale_bits bits of integer part); raise moduli_bits[0] or lower the scale"
        )
    return value if not value.is_integer() else int(value)


def _key_switch_digits(moduli, special, requested, insecure) -> tuple[tuple[int, ...], ...]:
    """Indices of the data primes of each key-switching digit."""
    count = len(moduli)
    if not special:
        if requested not in (None, 0):
            raise ParameterError(
                f"key_switch_digits {requested} needs special primes; special_moduli_bits is empty"
            )
        return ()
    if requested is not None:
        if isinstance(requested, bool) or not isinstance(requested, int):
            raise ParameterError(f"key_switch_digits must be an int, got {requested!r}")
        if not 1 <= requested <= count:
            raise ParameterError(
                f"key_switch_digits must be between 1 and the {count} data primes, got {requested}"
            )
        size = -(-count // requested)
        groups = [tuple(range(i, min(i + size, count))) for i in range(0, count, size)]
        return tuple(groups)
    special_bits = math.prod(special).bit_length()
    groups, current, current_bits = [], [], 0
    for index, q in enumerate(moduli):
        bits = q.bit_length()
        if current and current_bits + bits > special_bits:
            groups.append(tuple(current))
            current, current_bits = [], 0
        current.append(index)
        current_bits += bits
    groups.append(tuple(current))
    return tuple(groups)
