"""Exceptions of the compiler and runtime.

Each subclasses :class:`HennError` and the builtin that matches its meaning; engine errors
(``ckks.CkksError``) pass through unchanged.
"""

from __future__ import annotations


class HennError(Exception):
    """Base class of every error raised by ``henn``."""


class UnsupportedModelError(HennError, ValueError):
    """The model uses operations the compiler cannot lower; the message lists all of them."""


class CompileError(HennError, ValueError):
    """The model cannot be compiled: too deep for secure parameters, ranges, shapes."""


class RangeError(HennError, ValueError):
    """An activation input lies outside the interval its polynomial approximation is valid on."""


class PlanError(HennError, ValueError):
    """A plan, key set or encrypted input does not match what the runtime expects."""
