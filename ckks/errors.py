"""Exceptions of the CKKS engine.

Every error derives from :class:`CkksError` and from the builtin that matches its meaning, so
callers may catch either. Messages follow one shape: the operation, the argument, the constraint,
the value seen and, where one exists, a hint.

This module imports nothing from the package so that every layer, the ring included, can use it.
"""

from __future__ import annotations


class CkksError(Exception):
    """Base class of every error raised by ``ckks`` (and by ``ckks.ring``)."""


class ParameterError(CkksError, ValueError):
    """Invalid or insecure parameters: ring degree, prime sizes, moduli, scale."""


class ArrayShapeError(CkksError, ValueError):
    """An array reached a public function with the wrong shape or with out-of-range values."""


class ArrayTypeError(CkksError, TypeError):
    """An array reached a public function with the wrong dtype or type."""


class InsecureRandomnessError(CkksError, ValueError):
    """Deterministic (seeded) randomness was requested where only the OS CSPRNG is allowed."""


class EncodingError(CkksError, ValueError):
    """Values cannot be encoded: NaN, infinity, too many values, or overflow of the modulus."""


class ScaleMismatchError(CkksError, ValueError):
    """Two operands carry scales that differ beyond the relative tolerance."""


class LevelMismatchError(CkksError, ValueError):
    """Two operands sit at different levels and alignment was not requested."""


class OutOfLevelsError(CkksError, ValueError):
    """The modulus chain has no level left for the requested operation."""


class KeyMismatchError(CkksError, ValueError):
    """A key or ciphertext belongs to another secret key or another parameter set."""


class MissingKeyError(CkksError, KeyError):
    """A needed evaluation key (relinearization or a rotation step) was not provided."""

    def __str__(self) -> str:
        # KeyError quotes its argument; our messages are sentences, keep them readable.
        return str(self.args[0]) if self.args else ""


class MemoryBudgetError(CkksError, MemoryError):
    """A key set would need more memory than the configured budget."""


class SerializationError(CkksError, ValueError):
    """Bytes are foreign, truncated, of a newer version or of the wrong type or parameters."""


class TransparentCiphertextError(CkksError, ValueError):
    """A ciphertext whose mask polynomial is zero would be readable without the key."""
