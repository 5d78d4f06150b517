"""Decryption with the secret key: m = c0 + c1·s (+ c2·s²) at the ciphertext's level."""

from __future__ import annotations

import math
import numbers
import secrets

import numpy as np

from ckks.ciphertext import Ciphertext
from ckks.encoder import Encoder
from ckks.errors import EncodingError, KeyMismatchError, ParameterError
from ckks.keys import SecretKey
from ckks.plaintext import Plaintext
from ckks.ring import arithmetic


class Decryptor:
    """Decrypts ciphertexts made under one secret key.

    Args:
        params: the :class:`~ckks.parameters.Parameters`.
        secret_key: the :class:`SecretKey`.
    """

    def __init__(self, params, secret_key: SecretKey):
        if not isinstance(secret_key, SecretKey):
            raise ParameterError(
                f"Decryptor: secret_key must be a SecretKey, got {type(secret_key).__name__}"
            )
        if secret_key.params != params:
            raise KeyMismatchError("Decryptor: the secret key belongs to other parameters")
        self.params = params
        self._secret_key = secret_key
        self._context = params.context
        self._encoder = Encoder(params)

    def decrypt(self, ciphertext: Ciphertext) -> Plaintext:
        """The plaintext c0 + c1·s (+ c2·s²), at the ciphertext's level and scale.

        Raises:
            KeyMismatchError: the ciphertext is under another secret key or other parameters.
            EncodingError: the decrypted coefficients reach a quarter of the modulus, the mark of
                a value that overflowed it (value · scale ≥ Q_level / 2) and wrapped around.
        """
        if not isinstance(ciphertext, Ciphertext):
            raise ParameterError(f"decrypt: expected a Ciphertext, got {type(ciphertext).__name__}")
        if ciphertext.params != self.params:
            raise KeyMismatchError("decrypt: the ciphertext belongs to other parameters")
        if ciphertext.fingerprint != self._secret_key.fingerprint:
            raise KeyMismatchError(
                "decrypt: the ciphertext is encrypted under a different secret key "
                f"(fingerprint {ciphertext.fingerprint.hex()}, this key "
                f"{self._secret_key.fingerprint.hex()})"
            )
        level = ciphertext.level
        constants = self._context.level(level).constants
        s = np.ascontiguousarray(self._secret_key.ntt[: level + 1])
        result = ciphertext.data[0].copy()
        power = s
        for component in range(1, ciphertext.size):
            arithmetic.multiply_add(ciphertext.data[component], power, result, constants)
            if component + 1 < ciphertext.size:
                power = arithmetic.multiply(power, s, constants)
        values = self._centered_checked(result, level)
        return Plaintext(result, level, ciphertext.scale, self.params, centered=values)

    def decrypt_for_release(
        self, ciphertext: Ciphertext, precision_bits: int = 16, flood: bool = True
    ) -> np.ndarray:
        """Slot values safe to hand to another party: noise flooded, then rounded to 2^-p.

        An exact CKKS decryption exposes the ciphertext's noise, from which a party that chose
        the ciphertexts can recover the secret key (Li–Micciancio 2021). This mode adds fresh
        Gaussian noise of standard deviation 2^-(p+2) to every slot's real and imaginary part
        (drawn from the OS CSPRNG, independent of the key) and rounds the result to a multiple
        of 2^-p, so that what leaves the key holder carries p bits after the binary point and no
        trace of the low-order bits where the CKKS noise lives. It protects the key only while
        the ciphertext's own error stays well below 2^-p; choose p accordingly (the compiler
        derives it from the plan's precision).

        Args:
            ciphertext: the result to release.
            precision_bits: p, the bits after the binary point that survive (0 … 52).
            flood: add the flooding noise before rounding (default True).

        Returns:
            complex128 slot values, each a multiple of 2^-p.
        """
        if isinstance(precision_bits, bool) or not isinstance(precision_bits, numbers.Integral):
            raise ParameterError(f"precision_bits must be an int, got {precision_bits!r}")
        precision_bits = int(precision_bits)
        if not 0 <= precision_bits <= 52:
            raise ParameterError(f"precision_bits must be in 0 … 52, got {precision_bits}")
        values = self._encoder.decode(self.decrypt(ciphertext))
        step = 2.0**-precision_bits
        if flood:
            noise = _secure_normal(2 * values.size).reshape(2, -1) * (step / 4)
            values = values + noise[0] + 1j * noise[1]
        return (np.round(values.real / step) + 1j * np.round(values.imag / step)) * step

    def _centered_checked(self, ntt_data: np.ndarray, level: int) -> np.ndarray:
        """Centered coefficients, after checking they have not wrapped around the modulus."""
        values = self._encoder.to_integers(ntt_data, level)
        peak = float(np.max(np.abs(values)))
        log2_modulus = self._context.log2_modulus[level]
        if peak > 0 and math.log2(peak) >= log2_modulus - 2:
            raise EncodingError(
                f"decrypt: the result overflowed the modulus at level {level}: a coefficient "
                f"reaches 2^{math.log2(peak):.1f} of Q_{level} = 2^{log2_modulus:.1f}. The value "
                f"times its scale exceeded Q/2 and wrapped around; use a smaller scale, smaller "
                f"values or a larger first prime (headroom log2 q_0 − log2 scale)"
            )
        return values


def _secure_normal(count: int) -> np.ndarray:
    """Standard normal samples from the OS CSPRNG (Box–Muller on 53-bit uniforms)."""
    words = np.frombuffer(secrets.token_bytes(8 * (count + count % 2)), dtype=np.uint64)
    uniform = ((words >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    first, second = uniform[0::2], uniform[1::2]
    radius = np.sqrt(-2.0 * np.log(first))
    normal = np.concatenate(
        [radius * np.cos(2 * np.pi * second), radius * np.sin(2 * np.pi * second)]
    )
    return normal[:count]
