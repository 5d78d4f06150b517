"""Argument checks shared by the public functions of the ring layer.

Kernels check nothing; the functions that hand arrays to them call these first, so that bad input
surfaces as a named error instead of a crash or a wrong answer inside a kernel.
"""

from __future__ import annotations

import numpy as np

from ckks.errors import ArrayShapeError, ArrayTypeError, ParameterError

#: Ring degrees the engine supports: 2^1 … 2^17.
MIN_RING_DEGREE = 2
MAX_RING_DEGREE = 1 << 17


def check_ring_degree(
    ring_degree: object, argument: str = "ring_degree", operation: str | None = None
) -> int:
    """Return ``ring_degree`` as an int after checking it is a supported power of two.

    Args:
        ring_degree: the value to check.
        argument: its name in the message.
        operation: the public function to name at the start of the message, if any.

    Raises:
        ParameterError: not an integer, not a power of two, or outside 2 … 2^17.
    """
    prefix = f"{operation}: " if operation else ""
    supported = f"[{MIN_RING_DEGREE}, {MAX_RING_DEGREE}]"
    if isinstance(ring_degree, (bool, np.bool_)) or not isinstance(ring_degree, (int, np.integer)):
        raise ParameterError(
            f"{prefix}{argument} must be an integer power of two in {supported}, got "
            f"{ring_degree!r} of type {type(ring_degree).__name__}"
        )
    value = int(ring_degree)
    if value < MIN_RING_DEGREE or value > MAX_RING_DEGREE or value & (value - 1):
        raise ParameterError(
            f"{prefix}{argument} must be a power of two in {supported}, got {value}"
        )
    return value


def check_residues(array: object, moduli_count: int, ring_degree: int, argument: str) -> None:
    """Check that ``array`` is a C-contiguous uint64 array of shape (moduli_count, ring_degree).

    Raises:
        ArrayTypeError: not a NumPy array, or not uint64.
        ArrayShapeError: wrong shape, or not C-contiguous.
    """
    if not isinstance(array, np.ndarray):
        raise ArrayTypeError(
            f"{argument} must be a numpy.ndarray of uint64, got {type(array).__name__}"
        )
    if array.dtype != np.uint64:
        raise ArrayTypeError(f"{argument} must have dtype uint64, got {array.dtype}")
    expected = (moduli_count, ring_degree)
    if array.shape != expected:
        raise ArrayShapeError(
            f"{argument} must have shape (moduli, ring_degree) = {expected}, got {array.shape}"
        )
    if not array.flags.c_contiguous:
        raise ArrayShapeError(f"{argument} must be C-contiguous; pass numpy.ascontiguousarray(...)")


def check_reduced(array: np.ndarray, moduli: np.ndarray, argument: str) -> None:
    """Check every residue of row i lies in [0, moduli[i]).

    Raises:
        ArrayShapeError: a residue is not reduced, naming the row and the value.
    """
    too_large = array >= moduli[:, None]
    if too_large.any():
        row, column = np.argwhere(too_large)[0]
        raise ArrayShapeError(
            f"{argument} must hold residues reduced modulo each prime: row {row} column {column} "
            f"holds {int(array[row, column])} >= {int(moduli[row])}"
        )
