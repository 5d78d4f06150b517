"""Randomness for keys, errors and encryption masks.

Every sample starts from a 32-byte seed and is stretched with SHAKE-256, the extendable-output
function of ``hashlib``. :class:`RandomSource` takes a fresh seed from the operating system
(``secrets.token_bytes``) for every draw, so it keeps no state that could leak or be replayed.
Python's ``random`` and ``numpy.random`` are never used: seeding them changes nothing here.

Three distributions are offered, each exact up to the precision of its definition:

- ternary: uniform on {-1, 0, 1}, by rejection of the byte 255 and reduction of the rest mod 3;
- centred discrete Gaussian on [-bound, bound], probability proportional to exp(-x²/(2σ²)), by
  inversion of a cumulative table of 64-bit thresholds (each probability is exact to 2^-64);
- uniform modulo each prime, by rejection of 64-bit words masked to the bit length of q - 1.

A uniform polynomial is fully determined by its seed through :func:`expand_uniform`, so a
ciphertext or a key may store 32 bytes instead of the polynomial. Row i of the expansion is the
first ``ring_degree`` accepted words of the SHAKE-256 stream of

    seed ‖ "henn.ring.sampling.uniform" ‖ 0x00 ‖ ring_degree (4 bytes LE) ‖ i (4 bytes LE)
         ‖ q_i (8 bytes LE)

where a word is 8 bytes read little-endian, masked to the bit length of q_i - 1 and accepted when
below q_i. The result depends on the stream only, never on how much of it was requested. A row
depends on the seed, the ring degree, its own index and its own modulus only, so
``expand_uniform(seed, moduli[:k], N)`` equals the first k rows of
``expand_uniform(seed, moduli, N)``.

:class:`InsecureDeterministicSource` derives its per-draw seeds from a user seed and a counter.
It exists for reproducible tests only and says INSECURE in its repr.
"""

from __future__ import annotations

import abc
import functools
import hashlib
import math
import numbers
import secrets
import threading
from collections.abc import Sequence
from decimal import Decimal, localcontext

import numpy as np

from ckks.errors import ArrayShapeError, ArrayTypeError, InsecureRandomnessError, ParameterError
from ckks.ring.validation import check_ring_degree

__all__ = [
    "DEFAULT_GAUSSIAN_BOUND",
    "DEFAULT_SIGMA",
    "SEED_BYTES",
    "BaseRandomSource",
    "InsecureDeterministicSource",
    "RandomSource",
    "check_random_source",
    "default_source",
    "expand_uniform",
]

#: Length in bytes of every seed: per-draw seeds and seeds of uniform polynomials.
SEED_BYTES = 32
#: Standard deviation of the error distribution recommended by the HomomorphicEncryption.org
#: standard.
DEFAULT_SIGMA = 3.2
#: Tail bound of the default error distribution: ceil(6 · 3.2).
DEFAULT_GAUSSIAN_BOUND = math.ceil(6 * DEFAULT_SIGMA)

_MODULUS_LIMIT = 1 << 62
# The cumulative table holds 2·bound thresholds; beyond this width another sampler is needed.
_MAX_GAUSSIAN_BOUND = 1 << 16
_WORD_BYTES = 8
_TWO_TO_64 = 1 << 64

# Domain-separation tags, each followed by a zero byte so that no tag is a prefix of another.
_UNIFORM_TAG = b"henn.ring.sampling.uniform\x00"
_TERNARY_TAG = b"henn.ring.sampling.ternary\x00"
_GAUSSIAN_TAG = b"henn.ring.sampling.gaussian\x00"
_INSECURE_KEY_TAG = b"henn.ring.sampling.insecure-key\x00"
_INSECURE_DRAW_TAG = b"henn.ring.sampling.insecure-draw\x00"

# Ternary rejection: bytes 0 … 254 are kept (255 = 3 · 85, so b mod 3 is exactly uniform).
_TERNARY_BYTE_LIMIT = 255


# --- argument checks -------------------------------------------------------------------------


def _check_ring_degree(ring_degree: object, operation: str) -> int:
    """``ring_degree`` as an int, checked by the ring layer's shared rule (2 … 2^17, a power of
    two); the message starts with ``operation``."""
    return check_ring_degree(ring_degree, operation=operation)


def _check_moduli(moduli: object, operation: str) -> tuple[int, ...]:
    """Return ``moduli`` as a tuple of Python ints after checking each lies in [2, 2^62).

    Args:
        moduli: a sequence or one-dimensional array of integers.
        operation: name of the public function, quoted in the message.

    Returns:
        The moduli as a tuple of Python ints.

    Raises:
        ParameterError: not a non-empty sequence of integers, or a modulus outside [2, 2^62).
    """
    if isinstance(moduli, np.ndarray):
        if moduli.ndim != 1:
            raise ParameterError(
                f"{operation}: moduli must be one-dimensional, got an array of shape {moduli.shape}"
            )
        moduli = moduli.tolist()
    if isinstance(moduli, (str, bytes)) or not isinstance(moduli, Sequence):
        raise ParameterError(
            f"{operation}: moduli must be a sequence of integers, got {type(moduli).__name__}"
        )
    if len(moduli) == 0:
        raise ParameterError(f"{operation}: moduli must hold at least one modulus, got none")
    checked = []
    for index, modulus in enumerate(moduli):
        if isinstance(modulus, bool) or not isinstance(modulus, (int, np.integer)):
            raise ParameterError(
                f"{operation}: moduli[{index}] must be an integer, got {modulus!r} "
                f"of type {type(modulus).__name__}"
            )
        value = int(modulus)
        if value < 2 or value >= _MODULUS_LIMIT:
            raise ParameterError(f"{operation}: moduli[{index}] must lie in [2, 2^62), got {value}")
        checked.append(value)
    return tuple(checked)


def _check_seed(seed: object, operation: str) -> bytes:
    """Return ``seed`` as bytes after checking it is a 32-byte bytes-like object.

    Args:
        seed: the value to check.
        operation: name of the public function, quoted in the message.

    Returns:
        The seed as an immutable ``bytes`` object.

    Raises:
        ArrayTypeError: not bytes, bytearray or memoryview.
        ArrayShapeError: not exactly 32 bytes long.
    """
    if not isinstance(seed, (bytes, bytearray, memoryview)):
        raise ArrayTypeError(
            f"{operation}: seed must be {SEED_BYTES} bytes, got {type(seed).__name__} {seed!r}"
        )
    seed_bytes = bytes(seed)
    if len(seed_bytes) != SEED_BYTES:
        raise ArrayShapeError(
            f"{operation}: seed must be exactly {SEED_BYTES} bytes long, got {len(seed_bytes)} "
            "bytes; make one with RandomSource().seed()"
        )
    return seed_bytes


def _check_gaussian_shape(sigma: object, bound: object) -> tuple[float, int]:
    """Check the Gaussian parameters and resolve the default tail bound.

    Args:
        sigma: standard deviation, a finite real number > 0.
        bound: tail bound, an integer in [1, 2^16], or None for ceil(6 · sigma).

    Returns:
        ``(sigma, bound)`` as a float and an int.

    Raises:
        ParameterError: sigma not finite and positive, or bound not an integer in [1, 2^16].
    """
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real):
        raise ParameterError(
            f"gaussian: sigma must be a finite real number > 0, got {sigma!r} "
            f"of type {type(sigma).__name__}"
        )
    sigma_value = float(sigma)
    if not math.isfinite(sigma_value) or sigma_value <= 0.0:
        raise ParameterError(f"gaussian: sigma must be a finite real number > 0, got {sigma!r}")
    if bound is None:
        bound_value = math.ceil(6.0 * sigma_value)
        if bound_value > _MAX_GAUSSIAN_BOUND:
            raise ParameterError(
                f"gaussian: the default bound ceil(6·sigma) = {bound_value} for sigma = {sigma!r} "
                f"exceeds {_MAX_GAUSSIAN_BOUND}, the widest table this sampler builds"
            )
        return sigma_value, bound_value
    if isinstance(bound, bool) or not isinstance(bound, (int, np.integer)):
        raise ParameterError(
            f"gaussian: bound must be an integer in [1, {_MAX_GAUSSIAN_BOUND}], got {bound!r} "
            f"of type {type(bound).__name__}"
        )
    bound_value = int(bound)
    if bound_value < 1 or bound_value > _MAX_GAUSSIAN_BOUND:
        raise ParameterError(
            f"gaussian: bound must be an integer in [1, {_MAX_GAUSSIAN_BOUND}], got {bound_value}"
        )
    return sigma_value, bound_value


# --- stream helpers ----------------------------------------------------------------------------


def _first_accepted(
    xof_input: bytes, count: int, dtype: str, mask: int, limit: int, acceptance: float
) -> np.ndarray:
    """Return the first ``count`` accepted items of the SHAKE-256 stream of ``xof_input``.

    Items are read as ``dtype`` (little-endian), masked with ``mask`` and kept when below
    ``limit``. The length requested from SHAKE-256 is a guess; when it falls short the stream is
    asked again for twice as much, and since its prefix is unchanged the result never depends on
    the guess.

    Args:
        xof_input: the bytes absorbed by SHAKE-256.
        count: how many accepted items to return.
        dtype: ``"<u1"`` or ``"<u8"``.
        mask: bit mask applied to every item before the comparison.
        limit: items (after masking) strictly below it are accepted; it must fit in ``dtype``.
        acceptance: probability that one item is accepted, used only to size the request.

    Returns:
        A new writable array of ``count`` native unsigned integers.
    """
    item_bytes = np.dtype(dtype).itemsize
    native = np.dtype(dtype).newbyteorder("=")
    mean = count / acceptance
    spread = math.sqrt(count * (1.0 - acceptance)) / acceptance
    item_count = math.ceil(mean + 8.0 * spread) + 16
    mask_value = native.type(mask)
    limit_value = native.type(limit)
    while True:
        stream = hashlib.shake_256(xof_input).digest(item_count * item_bytes)
        items = np.frombuffer(stream, dtype=dtype) & mask_value
        accepted = items[items < limit_value]
        if accepted.size >= count:
            return np.ascontiguousarray(accepted[:count], dtype=native)
        item_count *= 2


@functools.lru_cache(maxsize=64)
def _gaussian_thresholds(sigma: float, bound: int) -> np.ndarray:
    """Return the cumulative thresholds of the discrete Gaussian on [-bound, bound].

    Threshold k (k = 0 … 2·bound - 1) is round(2^64 · P(X ≤ k - bound)) computed with 60 decimal
    digits, so value x is drawn by a uniform 64-bit word w with probability exact to 2^-64:
    x = (number of thresholds ≤ w) - bound. The table is cached per (sigma, bound) by a
    thread-safe cache and returned read-only.

    Args:
        sigma: standard deviation, checked by the caller.
        bound: tail bound, checked by the caller.

    Returns:
        A read-only uint64 array of length 2·bound, non-decreasing.
    """
    with localcontext() as context:
        context.prec = 60
        # r^(x²) with r = exp(-1/(2σ²)), built by the recurrences w_{x+1} = w_x · a_x and
        # a_{x+1} = a_x · r² (a_x = r^(2x+1)): two products per value instead of one exp.
        ratio = (-1 / (2 * Decimal(sigma) ** 2)).exp()
        ratio_squared = ratio * ratio
        half_weights = [Decimal(1)]
        step = ratio
        for _ in range(bound):
            half_weights.append(half_weights[-1] * step)
            step *= ratio_squared
        weights = half_weights[:0:-1] + half_weights
        total = sum(weights, Decimal(0))
        scale = Decimal(_TWO_TO_64) / total
        thresholds = []
        cumulative = Decimal(0)
        for weight in weights[:-1]:
            cumulative += weight
            threshold = int((cumulative * scale).to_integral_value())
            thresholds.append(min(max(threshold, 0), _TWO_TO_64 - 1))
    table = np.array(thresholds, dtype=np.uint64)
    table.flags.writeable = False
    return table


# Build the default table when the module loads, so that no draw pays for it.
_gaussian_thresholds(DEFAULT_SIGMA, DEFAULT_GAUSSIAN_BOUND)


# --- public API --------------------------------------------------------------------------------


def expand_uniform(seed: bytes, moduli: Sequence[int], ring_degree: int) -> np.ndarray:
    """Expand a 32-byte seed into a polynomial uniform modulo each prime, deterministically.

    The same seed, moduli and ring degree always give the same array (the stream format is in the
    module docstring); row i depends only on the seed, the ring degree, i and moduli[i].

    Args:
        seed: 32 bytes, for example from :meth:`RandomSource.seed`.
        moduli: the primes q_i, integers in [2, 2^62).
        ring_degree: the ring degree N, a power of two in [2, 2^17].

    Returns:
        A new uint64 array of shape (len(moduli), ring_degree) whose row i lies in [0, q_i).

    Raises:
        ArrayTypeError: seed is not bytes-like.
        ArrayShapeError: seed is not 32 bytes long.
        ParameterError: a modulus outside [2, 2^62), or a ring degree that is not a power of two
            in [2, 2^17].
    """
    seed_bytes = _check_seed(seed, "expand_uniform")
    checked_moduli = _check_moduli(moduli, "expand_uniform")
    degree = _check_ring_degree(ring_degree, "expand_uniform")
    return _expand_uniform_unchecked(seed_bytes, checked_moduli, degree)


def _expand_uniform_unchecked(seed: bytes, moduli: tuple[int, ...], ring_degree: int) -> np.ndarray:
    """Body of :func:`expand_uniform` for arguments already checked."""
    result = np.empty((len(moduli), ring_degree), dtype=np.uint64)
    prefix = seed + _UNIFORM_TAG + ring_degree.to_bytes(4, "little")
    for index, modulus in enumerate(moduli):
        bits = (modulus - 1).bit_length()
        xof_input = prefix + index.to_bytes(4, "little") + modulus.to_bytes(8, "little")
        result[index] = _first_accepted(
            xof_input,
            ring_degree,
            dtype="<u8",
            mask=(1 << bits) - 1,
            limit=modulus,
            acceptance=modulus / (1 << bits),
        )
    return result


class BaseRandomSource(abc.ABC):
    """Samplers shared by the secure and the test-only source; use it in type annotations.

    Subclasses supply :meth:`seed`, a fresh 32-byte seed per call; every draw consumes one seed and
    stretches it with SHAKE-256 under a tag naming the distribution: the stream of
    seed ‖ "henn.ring.sampling.ternary" ‖ 0x00 read as bytes for :meth:`ternary`, of
    seed ‖ "henn.ring.sampling.gaussian" ‖ 0x00 read as little-endian 64-bit words for
    :meth:`gaussian`, and :func:`expand_uniform` of the seed for :meth:`uniform`.
    """

    @abc.abstractmethod
    def seed(self) -> bytes:
        """Return 32 fresh bytes, for example the seed of a uniform polynomial.

        Returns:
            A new 32-byte ``bytes`` object.
        """

    def ternary(self, ring_degree: int) -> np.ndarray:
        """Draw N coefficients uniform in {-1, 0, 1}.

        Bytes of the stream equal to 255 are skipped; each other byte b gives (b mod 3) - 1.

        Args:
            ring_degree: the ring degree N, a power of two in [2, 2^17].

        Returns:
            A new int64 array of shape (ring_degree,).

        Raises:
            ParameterError: ring_degree is not a power of two in [2, 2^17].
        """
        degree = _check_ring_degree(ring_degree, "ternary")
        accepted = _first_accepted(
            self.seed() + _TERNARY_TAG,
            degree,
            dtype="<u1",
            mask=0xFF,
            limit=_TERNARY_BYTE_LIMIT,
            acceptance=_TERNARY_BYTE_LIMIT / 256,
        )
        return (accepted % 3).astype(np.int64) - 1

    def gaussian(
        self, ring_degree: int, sigma: float = DEFAULT_SIGMA, bound: int | None = None
    ) -> np.ndarray:
        """Draw N coefficients from the centred discrete Gaussian truncated to [-bound, bound].

        Value x has probability exp(-x²/(2·sigma²)) / Σ_{|y| ≤ bound} exp(-y²/(2·sigma²)), exact
        to 2^-64; values with |x| > bound never occur. A 64-bit word w of the stream gives
        x = #{k : t_k ≤ w} - bound, where t_k = round(2^64 · P(X ≤ k - bound)), k < 2·bound.

        Args:
            ring_degree: the ring degree N, a power of two in [2, 2^17].
            sigma: the standard deviation parameter σ, finite and > 0.
            bound: the tail bound, an integer in [1, 2^16]; None means ceil(6·sigma).

        Returns:
            A new int64 array of shape (ring_degree,).

        Raises:
            ParameterError: ring_degree is not a power of two in [2, 2^17], sigma is not finite
                and positive, or bound is not an integer in [1, 2^16].
        """
        degree = _check_ring_degree(ring_degree, "gaussian")
        sigma_value, bound_value = _check_gaussian_shape(sigma, bound)
        thresholds = _gaussian_thresholds(sigma_value, bound_value)
        stream = hashlib.shake_256(self.seed() + _GAUSSIAN_TAG).digest(degree * _WORD_BYTES)
        words = np.frombuffer(stream, dtype="<u8")
        positions = np.searchsorted(thresholds, words, side="right")
        return positions.astype(np.int64) - bound_value

    def uniform(self, moduli: Sequence[int], ring_degree: int) -> np.ndarray:
        """Draw a polynomial uniform modulo each prime, from a fresh seed.

        Equal to ``expand_uniform(self.seed(), moduli, ring_degree)``; call those two yourself
        when the seed must be kept.

        Args:
            moduli: the primes q_i, integers in [2, 2^62).
            ring_degree: the ring degree N, a power of two in [2, 2^17].

        Returns:
            A new uint64 array of shape (len(moduli), ring_degree) whose row i lies in [0, q_i).

        Raises:
            ParameterError: a modulus outside [2, 2^62), or a ring degree that is not a power of
                two in [2, 2^17].
        """
        checked_moduli = _check_moduli(moduli, "uniform")
        degree = _check_ring_degree(ring_degree, "uniform")
        return _expand_uniform_unchecked(self.seed(), checked_moduli, degree)


class RandomSource(BaseRandomSource):
    """Cryptographic randomness: a fresh seed from the OS CSPRNG for every draw.

    The source holds no state, so it can be shared between threads and leaks nothing when
    copied or serialized.

    Args:
        seed: must be left out. It exists only to refuse a seed with a helpful message.

    Raises:
        InsecureRandomnessError: a seed was passed.
    """

    def __init__(self, seed: object = None) -> None:
        if seed is not None:
            raise InsecureRandomnessError(
                f"RandomSource: seed must not be given (got {type(seed).__name__}); keys, errors "
                "and masks must come from the OS CSPRNG. For reproducible tests only, use "
                "InsecureDeterministicSource(seed) explicitly"
            )

    def seed(self) -> bytes:
        """Return 32 fresh bytes from the OS CSPRNG.

        Returns:
            A new 32-byte ``bytes`` object.
        """
        return secrets.token_bytes(SEED_BYTES)

    def __repr__(self) -> str:
        return "RandomSource(OS CSPRNG, SHAKE-256 expansion, fresh seed per draw)"


class InsecureDeterministicSource(BaseRandomSource):
    """Reproducible randomness for tests only: INSECURE, never use it for real keys.

    Draw number k uses the seed SHAKE-256(key ‖ k), where the key is SHAKE-256 of the user seed.
    Two sources built from the same seed yield the same sequence of draws. The counter is
    protected by a lock, so concurrent draws never share a seed (their order is then up to the
    threads).

    Args:
        seed: any bytes-like value or any integer; an int and its byte encoding give different
            streams.

    Raises:
        ArrayTypeError: seed is neither bytes-like nor an integer.
    """

    def __init__(self, seed: bytes | int) -> None:
        if isinstance(seed, (bytes, bytearray, memoryview)):
            encoded = b"bytes\x00" + bytes(seed)
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            value = int(seed)
            length = value.bit_length() // 8 + 1
            encoded = b"int\x00" + value.to_bytes(length, "little", signed=True)
        else:
            raise ArrayTypeError(
                f"InsecureDeterministicSource: seed must be bytes or an int, got "
                f"{type(seed).__name__} {seed!r}"
            )
        self._key = hashlib.shake_256(_INSECURE_KEY_TAG + encoded).digest(SEED_BYTES)
        self._draw_count = 0
        self._lock = threading.Lock()

    def seed(self) -> bytes:
        """Return the next 32 bytes of the deterministic sequence.

        Returns:
            A new 32-byte ``bytes`` object.
        """
        with self._lock:
            draw_index = self._draw_count
            self._draw_count += 1
        counter = draw_index.to_bytes(8, "little")
        return hashlib.shake_256(_INSECURE_DRAW_TAG + self._key + counter).digest(SEED_BYTES)

    def __repr__(self) -> str:
        return (
            f"InsecureDeterministicSource(INSECURE: deterministic, for tests only; "
            f"key fingerprint {self._key[:4].hex()}, {self._draw_count} draws)"
        )


def default_source() -> RandomSource:
    """Return the secure source used when a caller passes none.

    Returns:
        A :class:`RandomSource` (stateless, so a new one costs nothing).
    """
    return RandomSource()


def check_random_source(source: object) -> BaseRandomSource:
    """``source`` if it is one of ours, a fresh :class:`RandomSource` for None; else an error.

    Python's ``random.Random`` or NumPy generators are refused: they are predictable and
    seedable, the very fault this module exists to avoid.
    """
    if source is None:
        return RandomSource()
    if not isinstance(source, BaseRandomSource):
        raise InsecureRandomnessError(
            f"random_source must be a ckks.ring.sampling source (RandomSource, or "
            f"InsecureDeterministicSource for tests), got {type(source).__name__}; generators "
            f"such as random.Random or numpy.random are predictable and never used for keys"
        )
    return source
