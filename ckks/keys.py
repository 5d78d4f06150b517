"""Key objects: secret, public, and key-switching keys (relinearization and Galois keys).

Every key carries the fingerprint of the secret key it was made from; operations compare
fingerprints before any arithmetic, so keys of another secret key are refused instead of
silently producing garbage. Key material never appears in a repr.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ckks.errors import MissingKeyError


def fingerprint_of(secret_coefficients: np.ndarray) -> bytes:
    """A 16-byte identifier of a secret key: SHA-256 of its coefficients under a domain tag."""
    digest = hashlib.sha256(b"henn.ckks.secret-key-fingerprint\x00")
    digest.update(np.ascontiguousarray(secret_coefficients, dtype=np.int8).tobytes())
    return digest.digest()[:16]


class _Serializable:
    """to_bytes/from_bytes through ``ckks.io`` (imported late: it imports this module)."""

    __slots__ = ()

    def to_bytes(self, compression: str | None = None) -> bytes:
        from ckks.io import serialize

        return serialize(self, compression)

    @classmethod
    def from_bytes(cls, data: bytes, params):
        from ckks.io import deserialize

        return deserialize(data, params, expected=cls.__name__)


class SecretKey(_Serializable):
    """The ternary secret s: coefficients and NTT form over every prime (data, then special).

    ``to_bytes`` refuses it; ``export_secret_bytes`` names what it does.
    """

    __slots__ = ("coefficients", "fingerprint", "ntt", "params")

    def __init__(self, coefficients: np.ndarray, ntt: np.ndarray, params):
        self.coefficients = coefficients
        self.ntt = ntt
        self.params = params
        self.fingerprint = fingerprint_of(coefficients)

    def export_secret_bytes(self) -> bytes:
        """The secret key as bytes. Whoever holds them can decrypt everything under this key."""
        from ckks.io import export_secret_key

        return export_secret_key(self)

    def __repr__(self) -> str:
        return (
            f"SecretKey(fingerprint={self.fingerprint.hex()}, "
            f"ring_degree={self.params.ring_degree})"
        )


class PublicKey(_Serializable):
    """An encryption of zero (b, a) = (−a·s + e, a) over the data primes, NTT form.

    ``seed`` regenerates ``a`` (serialization stores it instead of the polynomial).
    """

    __slots__ = ("data", "fingerprint", "params", "seed")

    def __init__(self, data: np.ndarray, seed: bytes, fingerprint: bytes, params):
        self.data = data
        self.seed = seed
        self.fingerprint = fingerprint
        self.params = params

    def __repr__(self) -> str:
        return f"PublicKey(fingerprint={self.fingerprint.hex()})"


class KeySwitchKey(_Serializable):
    """A hybrid key-switching key from a key s' to s: one pair (b_d, a_d) per digit.

    b_d = −a_d·s + e_d + P·[Q/Q_d · (Q/Q_d)^-1 mod Q_d]·s' over all primes, NTT form; the
    bracket is 1 on the primes of digit d and 0 on the others.

    Attributes:
        data: uint64 (digits, 2, L + K, N).
        seeds: one 32-byte seed per digit, regenerating a_d.
    """

    __slots__ = ("data", "fingerprint", "params", "seeds")

    def __init__(self, data: np.ndarray, seeds: list[bytes], fingerprint: bytes, params):
        self.data = data
        self.seeds = seeds
        self.fingerprint = fingerprint
        self.params = params

    @property
    def nbytes(self) -> int:
        return self.data.nbytes


class RelinearizationKey(KeySwitchKey):
    """Switches s² to s: turns the three-part product of two ciphertexts back into two parts.

    ``public_key`` rides along (it is public) so an evaluator can re-randomize a ciphertext whose
    mask would otherwise be zero.
    """

    __slots__ = ("public_key",)

    def __init__(self, data, seeds, fingerprint, params, public_key: PublicKey | None = None):
        super().__init__(data, seeds, fingerprint, params)
        self.public_key = public_key

    def __repr__(self) -> str:
        return (
            f"RelinearizationKey(fingerprint={self.fingerprint.hex()}, "
            f"digits={self.data.shape[0]}, "
            f"{self.nbytes / 2**20:.1f} MiB)"
        )


class GaloisKeys(_Serializable):
    """Key-switching keys for automorphisms X → X^g: slot rotations (g = 5^k) and conjugation.

    Attributes:
        keys: Galois element → :class:`KeySwitchKey`.
        steps: the rotation steps the keys were requested for (normalized to 0 … N/2 − 1).
        conjugation: whether the conjugation key (g = 2N − 1) is present.
    """

    def __init__(self, keys: dict, steps, conjugation: bool, fingerprint, params, public_key=None):
        self.keys = keys
        self.steps = tuple(steps)
        self.conjugation = conjugation
        self.fingerprint = fingerprint
        self.params = params
        self.public_key = public_key

    @property
    def nbytes(self) -> int:
        return sum(key.nbytes for key in self.keys.values())

    def key_for(self, galois_element: int, operation: str, requested) -> KeySwitchKey:
        """The key for ``galois_element``, or a MissingKeyError that lists what is available."""
        try:
            return self.keys[galois_element]
        except KeyError:
            raise MissingKeyError(
                f"{operation}: no Galois key for {requested}; available rotation steps: "
                f"{sorted(self.steps)}, conjugation: {self.conjugation}. Generate it with "
                f"KeyGenerator.galois_keys([...])"
            ) from None

    def __repr__(self) -> str:
        return (
            f"GaloisKeys(steps={list(self.steps)}, conjugation={self.conjugation}, "
            f"{self.nbytes / 2**20:.1f} MiB)"
        )
