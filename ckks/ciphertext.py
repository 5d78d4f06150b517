"""Ciphertext: two (or, after a product, three) polynomials in NTT form, a level and a scale.

The Python operators ``+ - *`` accept ciphertexts, plaintexts, real or complex scalars and
vectors; they align levels and scales automatically (see ``ckks.alignment``). ``*`` between two
ciphertexts returns the three-part product; relinearize it with an
:class:`~ckks.evaluator.Evaluator` that holds a relinearization key.
"""

from __future__ import annotations

import numpy as np


class Ciphertext:
    """An encrypted vector.

    Attributes:
        data: uint64 (size, level + 1, N), NTT form; size is 2, or 3 before relinearization.
        level: rescales still available.
        scale: the exact current scale (for example Δ²/q after a rescale), a float.
        params: the parameters it was made under.
        fingerprint: the fingerprint of the secret key it is encrypted under.
    """

    __slots__ = ("bound", "data", "fingerprint", "level", "params", "scale", "seed", "zero_source")

    # Make numpy defer to our reflected operators: array + ct must give one Ciphertext.
    __array_ufunc__ = None

    def __init__(self, data, level, scale, params, fingerprint, zero_source=None, seed=None):
        self.data = data
        self.level = int(level)
        self.scale = float(scale)
        self.params = params
        self.fingerprint = fingerprint
        # A public key (public material) used to re-randomize a result whose mask is zero.
        self.zero_source = zero_source
        # Seed of the mask of a fresh symmetric encryption: serialization stores it instead.
        self.seed = seed
        # Public upper bound on |slot value| (None: unknown); see Evaluator._check_bound.
        self.bound = None

    @property
    def size(self) -> int:
        """Number of polynomials: 2, or 3 for an unrelinearized product."""
        return self.data.shape[0]

    def copy(self) -> Ciphertext:
        twin = Ciphertext(
            self.data.copy(),
            self.level,
            self.scale,
            self.params,
            self.fingerprint,
            self.zero_source,
            self.seed,
        )
        twin.bound = self.bound
        return twin

    def to_bytes(self, compression: str | None = None) -> bytes:
        """The ciphertext in the ckks binary format (a fresh symmetric one stores its seed)."""
        from ckks.io import serialize

        return serialize(self, compression)

    @classmethod
    def from_bytes(cls, data: bytes, params) -> Ciphertext:
        """Read a ciphertext written by :meth:`to_bytes`; ``params`` must match its hash."""
        from ckks.io import deserialize

        return deserialize(data, params, expected="Ciphertext")

    def __repr__(self) -> str:
        return (
            f"Ciphertext(size={self.size}, level={self.level}, scale=2^{np.log2(self.scale):.4f}, "
            f"ring_degree={self.params.ring_degree})"
        )

    # -- operators: aligned automatically ---------------------------------------------------------

    def __add__(self, other):
        return _operators().add(self, other)

    def __radd__(self, other):
        return _operators().add(self, other)

    def __sub__(self, other):
        return _operators().subtract(self, other)

    def __rsub__(self, other):
        return _operators().negate(_operators().subtract(self, other))

    def __mul__(self, other):
        return _operators().multiply(self, other)

    def __rmul__(self, other):
        return _operators().multiply(self, other)

    def __neg__(self):
        return _operators().negate(self)


def _operators():
    from ckks import alignment  # imported late: alignment uses the evaluator, which uses us

    return alignment
