"""Execution of a lowered program on a backend (simulation or CKKS), one layer at a time.

Scale discipline: every affine map multiplies its input (scale s) by plaintext weights encoded
at scale Δ·q_l / s, so that after the rescale by q_l its output sits at exactly Δ; polynomial
activations bring every term a_k·x^k to exactly Δ the same way before summing. Hence additions
only ever meet equal scales, and levels are aligned by dropping primes.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from henn.lowering import LoweredLinear, LoweredPoly

log = logging.getLogger("henn.runtime")


def run_linear(backend, op: LoweredLinear, inputs: list[list]) -> list:
    level = min(backend.level(ct) for group in inputs for ct in group)
    inputs = [[backend.mod_switch_to(ct, level) for ct in group] for group in inputs]
    for position, steps in enumerate(op.presum):
        for step in steps:  # window sums of a pooling: x + rot(x, s), doubling windows
            inputs[position] = [
                backend.add(ct, backend.rotate(ct, step)) for ct in inputs[position]
            ]
    prime = backend.modulus(level)
    target = backend.scale
    outputs = []
    for out_ct in range(op.output_layout.ciphertexts):
        accumulator = None
        for block in (b for b in op.blocks if b.output_ciphertext == out_ct):
            source = inputs[block.input_position][block.input_ciphertext]
            plain_scale = target * prime / backend.ciphertext_scale(source)
            nonzero = [j for j in block.baby_steps if j]
            rotated = dict(zip(nonzero, backend.rotate_hoisted(source, nonzero), strict=True))
            rotated[0] = source
            for giant in block.giants:
                inner = None
                for baby in block.baby_steps:
                    weights = block.weights.get((giant, baby))
                    if weights is None:
                        continue
                    term = backend.multiply_plain(rotated[baby], weights, plain_scale)
                    inner = term if inner is None else backend.add(inner, term)
                if giant:
                    inner = backend.rotate(inner, block.giant_step * giant)
                accumulator = inner if accumulator is None else backend.add(accumulator, inner)
        if accumulator is None:  # every weight into this ciphertext is zero: bias only
            source = inputs[0][0]
            accumulator = backend.zero_like(
                source, target * prime / backend.ciphertext_scale(source)
            )
        accumulator = backend.rescale(accumulator)
        if op.bias[out_ct] is not None:
            accumulator = backend.add_vector(accumulator, op.bias[out_ct])
        outputs.append(accumulator)
    return outputs


def _power(backend, powers: dict, exponent: int):
    """x^exponent by squaring, memoised in ``powers`` (depth ceil(log2 exponent))."""
    if exponent in powers:
        return powers[exponent]
    high = 1 << (exponent.bit_length() - 1)
    if high == exponent:
        half = _power(backend, powers, exponent // 2)
        result = backend.rescale(backend.multiply(half, half))
    else:
        a = _power(backend, powers, high)
        b = _power(backend, powers, exponent - high)
        level = min(backend.level(a), backend.level(b))
        a, b = backend.mod_switch_to(a, level), backend.mod_switch_to(b, level)
        result = backend.rescale(backend.multiply(a, b))
    powers[exponent] = result
    return result


def run_poly(backend, op: LoweredPoly, inputs: list) -> list:
    coefficients = list(op.step.coefficients)
    while len(coefficients) > 1 and coefficients[-1] == 0:
        coefficients.pop()
    degree = len(coefficients) - 1
    outputs = []
    for x in inputs:
        powers = {1: x}
        nonzero = [k for k in range(1, degree + 1) if coefficients[k] != 0]
        pure = len(nonzero) == 1 and coefficients[nonzero[0]] == 1 and coefficients[0] == 0
        if pure:  # x^k itself: no coefficient product, the next layer absorbs the scale
            outputs.append(_power(backend, powers, nonzero[0]))
            continue
        if not nonzero:
            nonzero = [1]
            coefficients = [coefficients[0], 0.0]
        terms_in = {k: _power(backend, powers, k) for k in nonzero}
        target_level = min(backend.level(t) for t in terms_in.values()) - 1
        prime = backend.modulus(target_level + 1)
        result = None
        for k, power in terms_in.items():
            power = backend.mod_switch_to(power, target_level + 1)
            plain_scale = backend.scale * prime / backend.ciphertext_scale(power)
            term = backend.rescale(backend.multiply_constant(power, coefficients[k], plain_scale))
            result = term if result is None else backend.add(result, term)
        if coefficients[0]:
            result = backend.add_constant(result, coefficients[0])
        outputs.append(result)
    return outputs


def execute(backend, lowered, inputs: dict, output: int, progress=None) -> list:
    """Run every step; ``inputs`` maps input value ids to lists of ciphertexts."""
    values = dict(inputs)
    timings = []
    for index, op in enumerate(lowered):
        start = time.perf_counter()
        if isinstance(op, LoweredLinear):
            values[op.step.output] = run_linear(backend, op, [values[v] for v in op.step.inputs])
            kind = f"affine ({op.rotations} rotations)"
        else:
            values[op.step.output] = run_poly(backend, op, values[op.step.input])
            kind = f"polynomial degree {len(op.step.coefficients) - 1}"
        elapsed = time.perf_counter() - start
        level = backend.level(values[op.step.output][0])
        timings.append((op.step.name, kind, level, elapsed))
        log.info("layer %d %s: %s, level %d, %.3f s", index, op.step.name, kind, level, elapsed)
        if progress is not None:
            progress.update(1)
    return values[output], timings


def pack_input(layout, tensor: np.ndarray, slot_count: int, stride: int = 0) -> list[np.ndarray]:
    """Slot vectors, one per ciphertext, holding one sample, or several samples (first axis)
    side by side every ``stride`` slots."""
    samples = (
        np.asarray(tensor, dtype=np.float64).reshape(-1, len(layout.slot))
        if stride
        else (np.asarray(tensor, dtype=np.float64).reshape(1, -1))
    )
    vectors = [np.zeros(slot_count) for _ in range(layout.ciphertexts)]
    for ct in range(layout.ciphertexts):
        chosen = layout.ciphertext == ct
        for k, flat in enumerate(samples):
            vectors[ct][layout.slot[chosen] + k * stride] = flat[chosen]
    return vectors


def unpack_output(layout, vectors: list[np.ndarray], count: int = 1, stride: int = 0) -> np.ndarray:
    """The output tensor of one sample, or of ``count`` samples packed every ``stride`` slots."""
    flat = np.empty((count, len(layout.slot)))
    for ct, vector in enumerate(vectors):
        chosen = layout.ciphertext == ct
        for k in range(count):
            flat[k, chosen] = np.real(vector[layout.slot[chosen] + k * stride])
    return flat.reshape((count, *layout.shape)) if stride else flat.reshape(layout.shape)
