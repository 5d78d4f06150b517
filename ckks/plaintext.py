"""Plaintext: an encoded message, a polynomial in NTT form at a level and an exact scale."""

from __future__ import annotations

import numpy as np


class Plaintext:
    """An encoded vector: polynomial residues (level + 1, N) in NTT form, level and scale.

    Attributes:
        data: uint64 array (level + 1, N), NTT form, row i modulo q_i.
        level: number of rescales still available; the polynomial lives modulo q_0 ··· q_level.
        scale: the exact factor the message was multiplied by before rounding.
        params: the :class:`~ckks.parameters.Parameters` it belongs to.
    """

    __slots__ = ("bound", "centered", "data", "level", "params", "scale")

    def __init__(
        self, data: np.ndarray, level: int, scale: float, params, centered=None, bound=None
    ):
        self.data = data
        self.level = level
        self.scale = float(scale)
        self.params = params
        # Centered integer coefficients as float64, when already known (set by the decryptor).
        self.centered = centered
        # Largest |slot value| encoded (None when unknown, as after a decryption).
        self.bound = bound

    def __repr__(self) -> str:
        return (
            f"Plaintext(level={self.level}, scale=2^{np.log2(self.scale):.4f}, "
            f"ring_degree={self.params.ring_degree})"
        )

    def to_bytes(self, compression: str | None = None) -> bytes:
        """The plaintext in the ckks binary format."""
        from ckks.io import serialize

        return serialize(self, compression)

    @classmethod
    def from_bytes(cls, data: bytes, params) -> Plaintext:
        """Read a plaintext written by :meth:`to_bytes`."""
        from ckks.io import deserialize

        return deserialize(data, params, expected="Plaintext")
