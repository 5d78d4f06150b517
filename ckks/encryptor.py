"""Encryption under a public key or, symmetrically, under the secret key itself."""

from __future__ import annotations

import numpy as np

from ckks.ciphertext import Ciphertext
from ckks.errors import KeyMismatchError, ParameterError
from ckks.keygen import encrypt_zero_secret, small_to_residues
from ckks.keys import PublicKey, SecretKey
from ckks.plaintext import Plaintext
from ckks.ring import arithmetic
from ckks.ring.sampling import BaseRandomSource, check_random_source


class Encryptor:
    """Encrypts plaintexts.

    Args:
        params: the :class:`~ckks.parameters.Parameters`.
        key: a :class:`PublicKey` (public-key encryption: (b·u + e0 + m, a·u + e1)) or a
            :class:`SecretKey` (symmetric: (−a·s + e + m, a), with a expanded from a seed).
        random_source: randomness; default the OS CSPRNG.

    Raises:
        ParameterError: the key is of another type.
        KeyMismatchError: the key belongs to other parameters.
    """

    def __init__(self, params, key, random_source: BaseRandomSource | None = None):
        if not isinstance(key, (PublicKey, SecretKey)):
            raise ParameterError(
                f"Encryptor: key must be a PublicKey or a SecretKey, got {type(key).__name__}"
            )
        if key.params != params:
            raise KeyMismatchError(
                "Encryptor: the key belongs to other parameters "
                f"({key.params!r}, expected {params!r})"
            )
        self.params = params
        self._key = key
        self._random = check_random_source(random_source)
        self._context = params.context
        # Public material that lets operations re-randomize a result whose mask is zero.
        self._zero_source = key if isinstance(key, PublicKey) else self._public_from_secret(key)

    @property
    def zero_source(self) -> PublicKey:
        return self._zero_source

    def encrypt(self, plaintext: Plaintext) -> Ciphertext:
        """Encrypt ``plaintext`` at its level and scale.

        Raises:
            ParameterError: ``plaintext`` is not a Plaintext.
            KeyMismatchError: the plaintext belongs to other parameters.
        """
        if not isinstance(plaintext, Plaintext):
            raise ParameterError(
                f"encrypt: expected a Plaintext (use Encoder.encode first), got "
                f"{type(plaintext).__name__}"
            )
        if plaintext.params != self.params:
            raise KeyMismatchError("encrypt: the plaintext belongs to other parameters")
        seed = None
        if isinstance(self._key, PublicKey):
            data = self.encrypt_zero_public(self._key, plaintext.level)
        else:
            seed = self._random.seed()
            data = self._encrypt_zero_symmetric(self._key, plaintext.level, seed)
        constants = self._context.level(plaintext.level).constants
        arithmetic.add(data[0], plaintext.data, constants.moduli, out=data[0])
        ciphertext = Ciphertext(
            data,
            plaintext.level,
            plaintext.scale,
            self.params,
            self._key.fingerprint,
            self._zero_source,
            seed,
        )
        ciphertext.bound = plaintext.bound
        return ciphertext

    def encrypt_zero_public(self, public_key: PublicKey, level: int) -> np.ndarray:
        """(b·u + e0, a·u + e1) at ``level``: a fresh public-key encryption of zero."""
        context = self._context
        constants = context.level(level).constants
        moduli = self.params.moduli[: level + 1]
        N = self.params.ring_degree
        u = small_to_residues(self._random.ternary(N), moduli)
        context.ntt.forward_inplace(u)
        out = np.empty((2, level + 1, N), dtype=np.uint64)
        for component in range(2):
            error = small_to_residues(self._random.gaussian(N), moduli)
            context.ntt.forward_inplace(error)
            key_part = np.ascontiguousarray(public_key.data[component, : level + 1])
            arithmetic.multiply(key_part, u, constants, out=out[component])
            arithmetic.add(out[component], error, constants.moduli, out=out[component])
        return out

    def _encrypt_zero_symmetric(self, secret_key: SecretKey, level: int, seed: bytes):
        return encrypt_zero_secret(self.params, secret_key, level, seed, self._random)

    def _public_from_secret(self, secret_key: SecretKey) -> PublicKey:
        seed = self._random.seed()
        data = self._encrypt_zero_symmetric(secret_key, self.params.max_level, seed)
        return PublicKey(data, seed, secret_key.fingerprint, self.params)
