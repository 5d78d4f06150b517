"""ckks: a from-scratch CKKS homomorphic-encryption engine (NumPy and Numba only)."""

from ckks.errors import (
    ArrayShapeError,
    ArrayTypeError,
    CkksError,
    EncodingError,
    InsecureRandomnessError,
    KeyMismatchError,
    LevelMismatchError,
    MemoryBudgetError,
    MissingKeyError,
    OutOfLevelsError,
    ParameterError,
    ScaleMismatchError,
    SerializationError,
    TransparentCiphertextError,
)

__all__ = [
    "ArrayShapeError",
    "ArrayTypeError",
    "CkksError",
    "EncodingError",
    "InsecureRandomnessError",
    "KeyMismatchError",
    "LevelMismatchError",
    "MemoryBudgetError",
    "MissingKeyError",
    "OutOfLevelsError",
    "ParameterError",
    "ScaleMismatchError",
    "SerializationError",
    "TransparentCiphertextError",
]
