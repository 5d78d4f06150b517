"""Automatic alignment of levels and scales, used by the Python operators and ``align=True``.

Levels: the operand higher in the chain is brought down. Scales (kept within the evaluator's
relative tolerance, never silently ignored):

* If one operand is higher in the chain, it is mod-switched to one level above the other, then
  multiplied by the integer k = round(s_low · q / s_high) and rescaled by that level's prime q,
  which lands it on the other's level with scale s_high·k/q ≈ s_low (relative error ≤ 1/2k).
* At the same level, a scale smaller by a large integer-like factor r is multiplied by round(r)
  (no level used). Otherwise one level is spent on the same multiply-and-rescale, and the other
  operand is mod-switched down alongside.
"""

from __future__ import annotations

import numbers

import numpy as np

from ckks.ciphertext import Ciphertext
from ckks.errors import ParameterError, ScaleMismatchError
from ckks.evaluator import SCALE_RELATIVE_TOLERANCE, Evaluator, scales_close
from ckks.plaintext import Plaintext

#: An integer factor at least this large changes a scale within the tolerance.
_LARGE_FACTOR = 1.0 / SCALE_RELATIVE_TOLERANCE


def align_pair(evaluator: Evaluator, a: Ciphertext, b: Ciphertext):
    """(a', b') at one level with scales equal within the tolerance; a's scale wins if possible."""
    if a.level > b.level:
        b2, a2 = _bring_down(evaluator, a, b)
        return a2, b2
    if b.level > a.level:
        return _bring_down(evaluator, b, a)
    if scales_close(a.scale, b.scale):
        return a, b
    high, low = (a, b) if a.scale > b.scale else (b, a)
    ratio = high.scale / low.scale
    if ratio >= _LARGE_FACTOR:
        lifted = Ciphertext(
            evaluator._times_integer(low, round(ratio)),
            low.level,
            low.scale * round(ratio),
            low.params,
            low.fingerprint,
            low.zero_source,
        )
        lifted.bound = low.bound
        return (high, lifted) if high is a else (lifted, high)
    if a.level == 0:
        raise ScaleMismatchError(
            f"cannot align scales {a.scale!r} and {b.scale!r} at level 0: no level left to "
            f"adjust them; encode or encrypt at matching scales"
        )
    adjusted = _rescale_to_scale(evaluator, b, a.scale)
    return evaluator.mod_switch_to(a, adjusted.level), adjusted


def _bring_down(evaluator: Evaluator, high: Ciphertext, low: Ciphertext):
    """``high`` moved to ``low``'s level with ``low``'s scale; returns (low, moved high)."""
    if scales_close(high.scale, low.scale):
        return low, evaluator.mod_switch_to(high, low.level)
    staged = evaluator.mod_switch_to(high, low.level + 1)
    return low, _rescale_to_scale(evaluator, staged, low.scale)


def _rescale_to_scale(evaluator: Evaluator, value: Ciphertext, target: float) -> Ciphertext:
    """Multiply by an integer and rescale so that the scale becomes ``target`` (one level)."""
    prime = evaluator.params.moduli[value.level]
    factor = round(target * prime / value.scale)
    if factor < 1:
        raise ScaleMismatchError(
            f"cannot align scale {value.scale!r} down to {target!r}: the ratio exceeds one prime"
        )
    scaled = Ciphertext(
        evaluator._times_integer(value, factor),
        value.level,
        value.scale * factor,
        value.params,
        value.fingerprint,
        value.zero_source,
    )
    scaled.bound = value.bound
    result = evaluator.rescale(scaled)
    if not scales_close(result.scale, target):
        raise ScaleMismatchError(
            f"cannot align scale {value.scale!r} to {target!r}: the integer factor {factor} is "
            f"too coarse"
        )
    result.scale = target  # within the tolerance; the tiny residue is below CKKS noise
    return result


def _evaluator_for(ciphertext: Ciphertext) -> Evaluator:
    return Evaluator(ciphertext.params, public_key=ciphertext.zero_source)


def _encode_like(ciphertext: Ciphertext, value, scale=None) -> Plaintext:
    from ckks.encoder import Encoder

    encoder = Encoder(ciphertext.params)
    if isinstance(value, numbers.Number):
        return encoder.encode_constant(value, level=ciphertext.level, scale=scale)
    return encoder.encode(np.asarray(value), level=ciphertext.level, scale=scale)


def _is_plain_value(other) -> bool:
    return isinstance(other, (numbers.Number, np.ndarray, list, tuple)) and not isinstance(
        other, bool
    )


def _additive(a: Ciphertext, other, subtract: bool):
    """a ± other for a ciphertext, plaintext, scalar or vector, aligned."""
    evaluator = _evaluator_for(a)
    cipher_op, plain_op = (
        (evaluator.sub, evaluator.sub_plain) if subtract else (evaluator.add, evaluator.add_plain)
    )
    if isinstance(other, Ciphertext):
        return cipher_op(a, other, align=True)
    if isinstance(other, Plaintext):
        return plain_op(*_align_with_plain(evaluator, a, other))
    if _is_plain_value(other):
        return plain_op(a, _encode_like(a, other, scale=a.scale))
    if subtract:
        raise ParameterError(f"cannot subtract a {type(other).__name__} from a Ciphertext")
    raise ParameterError(f"cannot add a Ciphertext and a {type(other).__name__}")


def add(a: Ciphertext, other):
    return _additive(a, other, subtract=False)


def subtract(a: Ciphertext, other):
    return _additive(a, other, subtract=True)


def multiply(a: Ciphertext, other):
    evaluator = _evaluator_for(a)
    if isinstance(other, Ciphertext):
        return evaluator.multiply(a, other, align=True)
    if isinstance(other, Plaintext):
        return evaluator.multiply_plain(a, other, align=True)
    if isinstance(other, numbers.Number) and not isinstance(other, bool):
        return evaluator.multiply_constant(a, other)
    if _is_plain_value(other):
        return evaluator.multiply_plain(a, _encode_like(a, other))
    raise ParameterError(f"cannot multiply a Ciphertext by a {type(other).__name__}")


def negate(a: Ciphertext):
    return _evaluator_for(a).negate(a)


def _align_with_plain(evaluator: Evaluator, a: Ciphertext, plain: Plaintext):
    """(ciphertext, plaintext) at one level and one scale, for an addition.

    The plaintext's values are not known here, so only the ciphertext moves: down to the
    plaintext's level, and through one multiply-and-rescale when the scales differ.
    """
    if plain.level < a.level:
        a = evaluator.mod_switch_to(a, plain.level)
    if not scales_close(a.scale, plain.scale):
        if a.level == 0:
            raise ScaleMismatchError(
                f"cannot align the ciphertext scale {a.scale!r} with the plaintext scale "
                f"{plain.scale!r} at level 0; encode the plaintext with scale=ciphertext.scale"
            )
        a = _rescale_to_scale(evaluator, a, plain.scale)
    return a, Plaintext(plain.data[: a.level + 1], a.level, plain.scale, plain.params)
