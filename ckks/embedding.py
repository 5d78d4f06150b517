"""The CKKS canonical embedding between slot values and real polynomial coefficients.

A real polynomial m(X) = Σ_k m_k X^k of degree below the ring degree N is identified with its
values at the primitive 2N-th roots of unity. Because m is real, the values at a root and at its
conjugate are conjugate, so N/2 of them (the *slots*) determine m. Slot j holds

    m(ζ^(5^j mod 2N)),   ζ = exp(iπ/N),   0 ≤ j < N/2.

With this order the ring automorphism X → X^5 rotates the slots left by one place, and
X → X^(2N-1) conjugates every slot.

Method: the odd powers of ζ are ζ^(2t+1) for 0 ≤ t < N, so

    m(ζ^(2t+1)) = Σ_k (m_k ζ^k) ω^(tk),   ω = ζ^2 = exp(2πi/N),

which is one length-N complex FFT of the ψ-twisted coefficients m_k ζ^k. Slot j is the entry t_j
with 2 t_j + 1 ≡ 5^j (mod 2N). The inverse fills all N odd-power values (each slot and, at the
position of -5^j, its conjugate), applies the inverse FFT and removes the twist. Both directions
cost O(N log N), in numpy's compiled FFT; index maps and twist factors are built once per ring
degree and cached.

Legend used in the code: ``N`` ring degree, ``n`` = N/2 number of slots, ``zeta`` = exp(iπ/N),
``t`` index of the odd power 2t+1 of ``zeta``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ckks.errors import ArrayShapeError, ArrayTypeError, EncodingError
from ckks.ring.validation import MAX_RING_DEGREE, MIN_RING_DEGREE, check_ring_degree

__all__ = [
    "MAX_RING_DEGREE",
    "MIN_RING_DEGREE",
    "coefficients_to_slots",
    "slots_to_coefficients",
]

# The supported range is the ring layer's (2 … 2^17), re-exported for callers of this module.

# numpy dtype kinds accepted for slot values: signed and unsigned integers, floats, complex.
_NUMERIC_VALUE_KINDS = frozenset("iufc")


class _EmbeddingTables(NamedTuple):
    """Read-only tables of one ring degree N (see :func:`_embedding_tables`)."""

    twist: np.ndarray
    """complex128 (N,): zeta^k, multiplies coefficient k before the forward FFT."""

    untwist: np.ndarray
    """complex128 (N,): zeta^(-k) / N, removes the twist and the 1/N of the inverse FFT."""

    forward_slot_index: np.ndarray
    """int64 (n,): position of slot j in numpy's ``fft`` output, (-t_j) mod N."""

    slot_position: np.ndarray
    """int64 (n,): t_j, with 2 t_j + 1 ≡ 5^j (mod 2N)."""

    conjugate_position: np.ndarray
    """int64 (n,): t'_j, with 2 t'_j + 1 ≡ -5^j (mod 2N)."""


def _validate_ring_degree(ring_degree: object, operation: str) -> int:
    """``ring_degree`` as an int, checked by the ring layer's shared rule (2 … 2^17, a power of
    two); the message starts with ``operation``."""
    return check_ring_degree(ring_degree, operation=operation)


def _powers_of_five_modulo(count: int, modulus: int) -> np.ndarray:
    """Return 5^j mod ``modulus`` for 0 ≤ j < ``count``, by doubling (log2 ``count`` steps).

    Args:
        count: how many powers; a power of two.
        modulus: the modulus 2N, at most 2^18, so products of two residues fit in int64.

    Returns:
        int64 array of shape (count,).
    """
    powers = np.ones(count, dtype=np.int64)
    filled = 1
    step_factor = 5 % modulus  # 5^filled mod modulus
    while filled < count:
        powers[filled : 2 * filled] = (powers[:filled] * step_factor) % modulus
        filled *= 2
        step_factor = (step_factor * step_factor) % modulus
    return powers


@functools.cache
def _embedding_tables(ring_degree: int) -> _EmbeddingTables:
    """Build the twist factors and slot index maps of one ring degree.

    Cached per ring degree (``functools.cache``, an unbounded ``functools.lru_cache``; at most 17
    ring degrees exist). The cache stores a result only once the call returns,
    so a table is never seen half built; two threads missing the cache together may each build
    the same tables, and either copy is correct. Every array is marked read-only before it is
    returned.

    Args:
        ring_degree: a validated ring degree N (power of two in the supported range).

    Returns:
        The tables of N.
    """
    N = ring_degree
    n = N // 2
    k = np.arange(N, dtype=np.float64)
    twist = np.exp(1j * np.pi * k / N)
    untwist = np.conj(twist) / N

    exponents = _powers_of_five_modulo(n, 2 * N)  # 5^j mod 2N, all odd
    slot_position = (exponents - 1) // 2
    conjugate_position = (2 * N - exponents - 1) // 2
    # numpy's fft computes Σ a_k ω^(-tk); the sum Σ a_k ω^(tk) we need sits at index -t mod N.
    forward_slot_index = (-slot_position) % N

    tables = _EmbeddingTables(
        twist=twist,
        untwist=untwist,
        forward_slot_index=forward_slot_index,
        slot_position=slot_position,
        conjugate_position=conjugate_position,
    )
    for table in tables:
        table.flags.writeable = False
    return tables


def _validated_slot_values(values: npt.ArrayLike, slot_count: int, operation: str) -> np.ndarray:
    """Convert slot values to a complex128 vector of length ``slot_count``, zero padded.

    Args:
        values: 1-D array-like of real or complex numbers, at most ``slot_count`` of them.
        slot_count: the number of slots n = N/2.
        operation: name of the public function, used in error messages.

    Returns:
        A new complex128 array of shape (slot_count,).

    Raises:
        ArrayTypeError: ``values`` has a non-numeric dtype (strings, objects, booleans).
        ArrayShapeError: ``values`` is not 1-D, or cannot be made into an array.
        EncodingError: ``values`` contains NaN or infinity, or has more entries than slots.
    """
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as error:
        raise ArrayShapeError(
            f"{operation}: values must be a 1-D array of real or complex numbers; "
            f"numpy could not convert it ({error})"
        ) from error
    if array.dtype.kind not in _NUMERIC_VALUE_KINDS:
        raise ArrayTypeError(
            f"{operation}: values must have an integer, float or complex dtype, "
            f"got dtype {array.dtype} (from {type(values).__name__}); "
            "convert the data to float64 or complex128 first"
        )
    if array.ndim != 1:
        raise ArrayShapeError(
            f"{operation}: values must be 1-D, got an array of shape {array.shape}; "
            "flatten it or encode each row separately"
        )
    if array.shape[0] > slot_count:
        raise EncodingError(
            f"{operation}: too many values for the ring degree: {array.shape[0]} values > "
            f"{slot_count} slots (ring degree {2 * slot_count}); split the data over several "
            "plaintexts or use a larger ring degree"
        )

    padded = np.zeros(slot_count, dtype=np.complex128)
    padded[: array.shape[0]] = array
    finite = np.isfinite(padded)
    if not finite.all():
        bad_index = int(np.argmin(finite))
        kind = "NaN" if np.isnan(padded[bad_index]) else "infinity"
        raise EncodingError(
            f"{operation}: values must be finite, but values contain {kind} at index {bad_index}"
        )
    return padded


def _slots_to_complex_coefficients(padded_values: np.ndarray, ring_degree: int) -> np.ndarray:
    """Inverse embedding without discarding the imaginary part (which is rounding noise).

    Args:
        padded_values: complex128 array of shape (N/2,), finite.
        ring_degree: a validated ring degree N.

    Returns:
        complex128 array of shape (N,): m_k plus an imaginary part of rounding size.
    """
    tables = _embedding_tables(ring_degree)
    odd_power_values = np.empty(ring_degree, dtype=np.complex128)
    odd_power_values[tables.slot_position] = padded_values
    odd_power_values[tables.conjugate_position] = np.conj(padded_values)
    # Σ_t E_t ω^(-tk) is exactly numpy's forward fft; untwist also divides by N.
    return np.fft.fft(odd_power_values) * tables.untwist


def slots_to_coefficients(values: npt.ArrayLike, ring_degree: int) -> np.ndarray:
    """Inverse canonical embedding: real coefficients whose slots hold ``values``.

    Finds the real polynomial m(X) = Σ_k m_k X^k of degree below N with
    m(ζ^(5^j mod 2N)) = values[j] for every slot j, where ζ = exp(iπ/N). Missing trailing values
    count as zero. No scaling or rounding is done here.

    Args:
        values: 1-D array-like of real or complex numbers, at most N/2 of them.
        ring_degree: the ring degree N, a power of two in [2, 2^17].

    Returns:
        float64 array of shape (N,): the coefficients m_0, ..., m_(N-1).

    Raises:
        ParameterError: ``ring_degree`` is not a power of two in [2, 2^17].
        ArrayTypeError: ``values`` has a non-numeric dtype (strings, objects, booleans).
        ArrayShapeError: ``values`` is not 1-D.
        EncodingError: ``values`` contains NaN or infinity, or has more than N/2 entries.
    """
    operation = "slots_to_coefficients"
    degree = _validate_ring_degree(ring_degree, operation)
    padded_values = _validated_slot_values(values, degree // 2, operation)

    coefficients = _slots_to_complex_coefficients(padded_values, degree)

    return np.ascontiguousarray(coefficients.real)


def coefficients_to_slots(coefficients: np.ndarray, ring_degree: int) -> np.ndarray:
    """Forward canonical embedding: the slot values of a real polynomial.

    Evaluates m(X) = Σ_k m_k X^k at ζ^(5^j mod 2N), ζ = exp(iπ/N), for every slot j.

    Args:
        coefficients: float64 array of shape (N,), finite; the caller converts integer
            coefficients (for instance after centring residues) to float64.
        ring_degree: the ring degree N, a power of two in [2, 2^17].

    Returns:
        complex128 array of shape (N/2,): the slot values.

    Raises:
        ParameterError: ``ring_degree`` is not a power of two in [2, 2^17].
        ArrayTypeError: ``coefficients`` is not a numpy array of dtype float64.
        ArrayShapeError: ``coefficients`` does not have shape (N,), or holds NaN or infinity.
    """
    operation = "coefficients_to_slots"
    degree = _validate_ring_degree(ring_degree, operation)
    if not isinstance(coefficients, np.ndarray) or coefficients.dtype != np.float64:
        seen = (
            f"dtype {coefficients.dtype}"
            if isinstance(coefficients, np.ndarray)
            else f"type {type(coefficients).__name__}"
        )
        raise ArrayTypeError(
            f"{operation}: coefficients must be a numpy array of dtype float64, got {seen}; "
            "convert with numpy.asarray(coefficients, dtype=numpy.float64)"
        )
    if coefficients.shape != (degree,):
        raise ArrayShapeError(
            f"{operation}: coefficients must have shape ({degree},) for ring degree {degree}, "
            f"got shape {coefficients.shape}"
        )
    finite = np.isfinite(coefficients)
    if not finite.all():
        bad_index = int(np.argmin(finite))
        kind = "NaN" if np.isnan(coefficients[bad_index]) else "infinity"
        raise ArrayShapeError(
            f"{operation}: coefficients must be finite, but coefficients contain {kind} "
            f"at index {bad_index}"
        )

    tables = _embedding_tables(degree)
    spectrum = np.fft.fft(coefficients * tables.twist)

    return spectrum[tables.forward_slot_index]
