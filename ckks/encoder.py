"""Encoder: vectors of up to N/2 real or complex numbers ↔ plaintext polynomials.

Encoding applies the inverse canonical embedding (slot j at ζ^(5^j), see ``ckks.embedding``),
multiplies by the scale, rounds to integers and reduces them modulo every prime of the level.
Rounding goes through int64 while |coefficient·scale| < 2^62 and through exact Python integers
above that, so large values and large scales never wrap around. A coefficient that would not fit
the modulus of the level (|coefficient·scale| ≥ Q_level / 2) is an error, not a wrap-around.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ckks.embedding import coefficients_to_slots, slots_to_coefficients
from ckks.errors import EncodingError, ParameterError
from ckks.plaintext import Plaintext
from ckks.ring.rns import RnsBase

#: Below this magnitude, scaled coefficients round through int64; above it, through Python ints.
_INT64_SAFE = 2.0**62


class Encoder:
    """Encodes and decodes CKKS plaintexts for one parameter set.

    Args:
        params: the :class:`~ckks.parameters.Parameters`.
    """

    def __init__(self, params):
        self.params = params
        self._context = params.context

    def encode(self, values, level: int | None = None, scale: float | None = None) -> Plaintext:
        """Encode a vector (or a scalar, copied to every slot) into a plaintext.

        Args:
            values: up to N/2 real or complex numbers (zero-padded), or one number for all slots.
            level: level of the plaintext; default the top level.
            scale: exact scale; default the parameters' 2^scale_bits.

        Returns:
            The plaintext, in NTT form.

        Raises:
            EncodingError: NaN or infinity, more values than slots, or a coefficient whose
                magnitude times the scale reaches half the modulus of the level.
            ParameterError: a level outside 0 … max_level or a non-positive scale.
        """
        level = self._check_level(level)
        scale = self._check_scale(scale) or self.params.scale
        if np.ndim(values) == 0 and isinstance(values, numbers.Number):
            return self.encode_constant(values, level, scale)
        coefficients = slots_to_coefficients(values, self.params.ring_degree)
        plain = self._from_coefficients(coefficients * scale, level, scale, "values")
        magnitudes = np.abs(np.asarray(values, dtype=np.complex128))
        plain.bound = float(magnitudes.max()) if magnitudes.size else 0.0
        return plain

    def encode_constant(self, value, level: int | None = None, scale: float | None = None):
        """Encode one real or complex number into every slot, rounding exactly (no FFT).

        A real constant c is the polynomial round(c·Δ); an imaginary part b adds round(b·Δ)·X^(N/2),
        since X^(N/2) evaluates to i at every slot root.
        """
        level = self._check_level(level)
        scale = self._check_scale(scale) or self.params.scale
        value = complex(value)
        if not (math.isfinite(value.real) and math.isfinite(value.imag)):
            raise EncodingError(f"encode: value must be finite, got {value!r}")
        coefficients = np.zeros(self.params.ring_degree, dtype=np.float64)
        coefficients[0] = value.real * scale
        coefficients[self.params.ring_degree // 2] = value.imag * scale
        plain = self._from_coefficients(coefficients, level, scale, "value")
        plain.bound = abs(value)
        return plain

    def decode(self, plaintext: Plaintext) -> np.ndarray:
        """The N/2 slot values of a plaintext, as complex128.

        Raises:
            ParameterError: the plaintext belongs to other parameters.
        """
        if plaintext.params != self.params:
            raise ParameterError(
                "decode: plaintext belongs to other parameters "
                f"({plaintext.params!r}, expected {self.params!r})"
            )
        integers = plaintext.centered
        if integers is None:
            integers = self.to_integers(plaintext.data, plaintext.level)
        return coefficients_to_slots(integers / plaintext.scale, self.params.ring_degree)

    # -- helpers shared with the decryptor --------------------------------------------------------

    def to_integers(self, ntt_data: np.ndarray, level: int) -> np.ndarray:
        """Centered integer coefficients of an NTT-form polynomial, as float64."""
        coefficients = self._context.ntt.inverse(ntt_data)
        return centered_float(coefficients, self._context.bases[level])

    def _from_coefficients(self, scaled: np.ndarray, level: int, scale: float, argument: str):
        peak = float(np.max(np.abs(scaled))) if scaled.size else 0.0
        if not math.isfinite(peak):
            raise EncodingError(f"encode: {argument} times scale {scale!r} is not finite")
        if peak > 0 and math.log2(peak) >= _log2_half_modulus(self.params, level):
            raise EncodingError(
                f"encode: {argument} overflow the modulus at level {level}: a coefficient reaches "
                f"2^{math.log2(peak):.1f} but Q_{level}/2 is "
                f"2^{_log2_half_modulus(self.params, level):.1f}"
                f" (scale 2^{math.log2(scale):.1f}); use smaller values, a smaller scale or a "
                f"higher level"
            )
        moduli = self.params.moduli[: level + 1]
        if peak < _INT64_SAFE:
            integers = np.rint(scaled).astype(np.int64)
            residues = np.mod(integers[None, :], np.array(moduli, dtype=np.int64)[:, None])
            residues = residues.astype(np.uint64)
        else:
            exact = [int(x) for x in np.rint(scaled)]
            residues = np.empty((len(moduli), len(exact)), dtype=np.uint64)
            objects = np.array(exact, dtype=object)
            for row, q in enumerate(moduli):
                residues[row] = (objects % q).astype(np.uint64)
        self._context.ntt.forward_inplace(residues)
        return Plaintext(residues, level, scale, self.params)

    def _check_level(self, level) -> int:
        if level is None:
            return self.params.max_level
        if isinstance(level, bool) or not isinstance(level, numbers.Integral):
            raise ParameterError(f"encode: level must be an int, got {level!r}")
        if not 0 <= level <= self.params.max_level:
            raise ParameterError(
                f"encode: level must be between 0 and {self.params.max_level}, got {level}"
            )
        return int(level)

    @staticmethod
    def _check_scale(scale) -> float:
        if scale is None:
            return None
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
            raise ParameterError(f"encode: scale must be a positive number, got {scale!r}")
        if not math.isfinite(scale) or scale <= 0:
            raise ParameterError(f"encode: scale must be positive and finite, got {scale!r}")
        return float(scale)


def _log2_half_modulus(params, level: int) -> float:
    return params.context.log2_modulus[level] - 1


def centered_float(coefficients: np.ndarray, base: RnsBase) -> np.ndarray:
    """Float64 values of residues (rows modulo the primes of ``base``), centered into (−Q/2, Q/2].

    One prime is centered in int64; several are composed by Garner's algorithm in word arithmetic
    (``RnsBase.compose_float``), correct to a relative 2^-52 however large Q is.
    """
    if len(base) == 1:
        q = base.moduli[0]
        row = coefficients[0].astype(np.int64)
        return np.where(row > q // 2, row - q, row).astype(np.float64)
    return base.compose_float(coefficients)
