"""Exceptions of the EDSS application layer.

Each subclasses :class:`EdssError` and the builtin that matches its meaning, so callers may
catch either. A :class:`DataError` message names the file or folder, what was expected there
and what was found, in that order, with a hint where one helps.
"""

from __future__ import annotations

from os import PathLike


class EdssError(Exception):
    """Base class of every error raised by ``edss``."""


class DataError(EdssError, ValueError):
    """An input file, folder or table is missing, unreadable or not what the loader expects."""

    @classmethod
    def about(
        cls, path: str | PathLike[str], expected: str, found: str, hint: str = ""
    ) -> DataError:
        """Build the error with the message shape shared by every loader.

        Args:
            path: the file or folder at fault.
            expected: what the loader needed there, as a noun phrase.
            found: what was there instead, with the offending value where one exists.
            hint: an optional sentence on how to fix it.

        Returns:
            The error, ready to raise; ``path``, ``expected`` and ``found`` are kept as
            attributes for callers that report problems in their own words.
        """
        message = f"{path}: expected {expected}; found {found}."
        if hint:
            message += f" {hint}"
        error = cls(message)
        error.path = str(path)
        error.expected = expected
        error.found = found
        return error


class ParameterError(EdssError, ValueError):
    """An argument is out of its documented range (slice count, image size, method name)."""
