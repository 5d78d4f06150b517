"""Pass 6 (plan): choose secure CKKS parameters, rotation keys and the level of every step.

The depth of a program does not depend on the primes, so it is measured first with a
simulation on a long dummy chain; then the smallest secure ring degree whose 128-bit bound
holds q_0 + depth·Δ-bits + special primes is chosen, the primes are fixed, and a second
simulation with the real primes records exact levels, scales and the rotation steps used.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np

import ckks
from ckks.keygen import estimate_key_switch_key_bytes
from ckks.security import MAX_MODULUS_BITS_128
from henn.backends import SimulationBackend
from henn.errors import CompileError
from henn.lowering import LoweredLinear, lower_program
from henn.runtime import execute, pack_input
from henn.trace import LinearStep, Program

log = logging.getLogger("henn.compile")

SPECIAL_PRIME_BITS = 60
MAX_FIRST_PRIME_BITS = 60
DEFAULT_KEY_MEMORY_BUDGET = 2 << 30


@dataclass
class PlanChoice:
    params: ckks.Parameters
    layouts: dict
    lowered: list
    depth: int
    rotation_steps: list[int]
    power_of_two_rotations: bool
    key_bytes: int
    precision_bits: int
    error_bound: float
    counts: dict
    batch: tuple[int, int] = (1, 0)  # samples per ciphertext, slots between samples


def _simulate(
    program, layouts, lowered, moduli, scale, slot_count, samples, power_of_two, noise: float = 0.0
):
    backend = SimulationBackend(moduli, scale, slot_count, power_of_two, noise=noise)
    backend.outputs = []
    for sample in samples:
        inputs = {
            value: [backend.encrypt_values(v) for v in pack_input(layouts[value], x, slot_count)]
            for value, x in zip(program.input_ids, sample, strict=True)
        }
        result, _ = execute(backend, lowered, inputs, program.output)
        backend.outputs.append(np.concatenate([backend.decrypt_values(ct) for ct in result]))
    return backend


def _simulated_error(program, layouts, lowered, params, samples, power_of_two, clean) -> float:
    """Output error measured by replaying the plan with CKKS-sized noise injected.

    Every encryption, rescale and key switch adds Gaussian noise of standard deviation
    2^-(scale_bits − 19) to each slot, a little above what the engine shows (about 1e-7 to
    1e-6 per key switch at Δ = 2^40); the largest output deviation, times 4, is the bound.
    """
    sigma = 2.0 ** -(params.scale_bits - 19)
    noisy = _simulate(
        program,
        layouts,
        lowered,
        params.moduli,
        params.scale,
        params.slot_count,
        samples,
        power_of_two,
        noise=sigma,
    )
    deviation = max(
        float(np.max(np.abs(a - b))) for a, b in zip(noisy.outputs, clean.outputs, strict=True)
    )
    return 4.0 * max(deviation, sigma)


def _error_bound(program: Program, ranges: dict, scale_bits: float) -> float:
    """A high-probability bound on the absolute output error, propagated layer by layer.

    Each rescale or key switch leaves an error of about 2^-(scale_bits − 20) on a value (measured:
    about 1e-6 at Δ = 2^40, N = 2^14). CKKS errors of different slots are independent and
    centred, so an affine map amplifies them by the Euclidean norm of its rows (times 3 for a
    high-probability margin, capped by the worst-case row sum); a polynomial by its largest
    derivative on the calibrated range.
    """
    fresh = 2.0 ** -(scale_bits - 20)
    error = {value: fresh for value in program.input_ids}
    for step in program.steps:
        if isinstance(step, LinearStep):
            total = fresh
            for value, (rows, _, vals) in zip(step.inputs, step.matrices, strict=True):
                row_sums = np.zeros(len(step.bias))
                row_squares = np.zeros(len(step.bias))
                np.add.at(row_sums, rows, np.abs(vals))
                np.add.at(row_squares, rows, vals * vals)
                gain = min(3.0 * np.sqrt(row_squares.max(initial=0.0)), row_sums.max(initial=0.0))
                total += float(gain) * error[value]
            error[step.output] = total
        else:
            reach = ranges.get(step.input, 1.0)
            slope = sum(k * abs(c) * reach ** (k - 1) for k, c in enumerate(step.coefficients))
            error[step.output] = slope * error[step.input] + fresh * (
                1 + sum(map(abs, step.coefficients))
            )
    return error[program.output]


def choose_plan(program: Program, ranges: dict, samples, options: dict) -> PlanChoice:
    """Parameters, layouts, lowered steps and rotation keys for ``program`` (see module doc)."""
    start = time.perf_counter()
    scale_bits = int(options.get("scale_bits", 40))
    peak = max(ranges.values()) if ranges else 1.0
    headroom = max(2, math.ceil(math.log2(peak + 1.0)) + 2)
    degrees = [options["ring_degree"]] if options.get("ring_degree") else [8192, 16384, 32768]
    rotation_mode = options.get("rotation_keys", "auto")
    budget = options.get("key_memory_budget", DEFAULT_KEY_MEMORY_BUDGET)
    depth = None
    for ring_degree in degrees:
        slot_count = ring_degree // 2
        layouts, lowered, batch = lower_program(program, slot_count, options.get("batch_size"))
        dummy = [2**60] + [2**scale_bits] * 64
        probe = _simulate(
            program, layouts, lowered, dummy, 2.0**scale_bits, slot_count, samples[:1], False
        )
        depth = probe.top_level - probe.lowest_level
        first_bits = min(MAX_FIRST_PRIME_BITS, scale_bits + headroom)
        if scale_bits + headroom > MAX_FIRST_PRIME_BITS:
            raise CompileError(
                f"values reach {peak:.4g}, which needs {headroom} bits of headroom above the "
                f"2^{scale_bits} scale: more than a {MAX_FIRST_PRIME_BITS}-bit first prime holds; "
                f"lower scale_bits or normalise the model's inputs"
            )
        bound = MAX_MODULUS_BITS_128[ring_degree]
        for special_count in (2, 1):
            total = first_bits + depth * scale_bits + special_count * SPECIAL_PRIME_BITS
            if total <= bound:
                params = ckks.Parameters(
                    ring_degree,
                    [first_bits] + [scale_bits] * depth,
                    [SPECIAL_PRIME_BITS] * special_count,
                    scale_bits,
                )
                choice = _finish(
                    program,
                    ranges,
                    samples,
                    options,
                    params,
                    layouts,
                    lowered,
                    depth,
                    rotation_mode,
                    budget,
                    start,
                )
                choice.batch = batch
                return choice
    largest = degrees[-1]
    room = (
        MAX_MODULUS_BITS_128[largest] - SPECIAL_PRIME_BITS - scale_bits - headroom
    ) // scale_bits
    raise CompileError(
        f"no secure parameter set fits: the model needs multiplicative depth {depth}, i.e. "
        f"{scale_bits + headroom + depth * scale_bits + SPECIAL_PRIME_BITS} bits of modulus at a "
        f"2^{scale_bits} scale, but the largest secure set (N={largest}) offers "
        f"{MAX_MODULUS_BITS_128[largest]} bits, room for depth {room}. Use fewer or lower-degree "
        f"activations, or a smaller scale_bits"
    )


def _finish(
    program, ranges, samples, options, params, layouts, lowered, depth, rotation_mode, budget, start
) -> PlanChoice:
    slot_count = params.slot_count
    power_of_two = rotation_mode == "power_of_two"
    backend = _simulate(
        program, layouts, lowered, params.moduli, params.scale, slot_count, samples, power_of_two
    )
    steps = sorted(backend.rotation_steps)
    key_bytes = estimate_key_switch_key_bytes(params, len(steps) + 1)
    if rotation_mode == "auto" and key_bytes > budget:
        power_of_two = True
        backend = _simulate(
            program, layouts, lowered, params.moduli, params.scale, slot_count, samples, True
        )
        steps = sorted(backend.rotation_steps)
        key_bytes = estimate_key_switch_key_bytes(params, len(steps) + 1)
    error = min(
        _error_bound(program, ranges, params.scale_bits),
        _simulated_error(program, layouts, lowered, params, samples, power_of_two, backend),
    )
    precision = int(min(30, max(4, math.floor(-math.log2(max(error, 2.0**-40))) - 2)))
    log.info(
        "plan: N=%d, depth %d, moduli %s + special %s, %d rotation keys (%s), keys %.1f MiB, "
        "%d rotations per inference, output precision 2^-%d (%.2f s)",
        params.ring_degree,
        depth,
        params.moduli_bits,
        params.special_moduli_bits,
        len(steps),
        "powers of two" if power_of_two else "exact steps",
        key_bytes / 2**20,
        backend.counts["rotations"] // max(1, len(samples)),
        precision,
        time.perf_counter() - start,
    )
    return PlanChoice(
        params=params,
        layouts=layouts,
        lowered=lowered,
        depth=depth,
        rotation_steps=steps,
        power_of_two_rotations=power_of_two,
        key_bytes=key_bytes,
        precision_bits=precision,
        error_bound=error,
        counts={k: v // max(1, len(samples)) for k, v in backend.counts.items()},
    )


def rotations_per_layer(lowered) -> list[int]:
    return [op.rotations if isinstance(op, LoweredLinear) else 0 for op in lowered]
