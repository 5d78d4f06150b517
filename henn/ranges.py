"""Pass 3 (range): run calibration data through the traced program in plaintext.

Gives the largest magnitude of every value (for the modulus headroom) and checks every
polynomial activation's inputs against the interval its approximation is valid on.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from henn.errors import RangeError
from henn.trace import LinearStep, Program

log = logging.getLogger("henn.compile")


def evaluate(program: Program, inputs: list[np.ndarray]) -> dict[int, np.ndarray]:
    """Every value of the program for a batch: ``inputs[k]`` is (batch, *shape of input k)."""
    batch = inputs[0].shape[0]
    values = {
        value: np.asarray(x, dtype=np.float64).reshape(batch, -1)
        for value, x in zip(program.input_ids, inputs, strict=True)
    }
    for step in program.steps:
        if isinstance(step, LinearStep):
            out = np.tile(step.bias, (batch, 1))
            for value, (rows, cols, vals) in zip(step.inputs, step.matrices, strict=True):
                np.add.at(out, (slice(None), rows), values[value][:, cols] * vals)
            values[step.output] = out
        else:
            x = values[step.input]
            result = np.zeros_like(x)
            for c in reversed(step.coefficients):
                result = result * x + c
            values[step.output] = result
    return values


def value_ranges(program: Program, inputs: list[np.ndarray]) -> dict[int, float]:
    """Largest |value| of every program value over the calibration batch."""
    return {
        k: float(np.max(np.abs(v))) if v.size else 0.0 for k, v in evaluate(program, inputs).items()
    }


def out_of_range(program: Program, values: dict[int, np.ndarray]) -> list[str]:
    """Descriptions of activations whose inputs leave their interval, with the worst sample."""
    problems = []
    for step in program.steps:
        if isinstance(step, LinearStep) or not math.isfinite(step.bound):
            continue
        peaks = np.max(np.abs(values[step.input]), axis=1)
        worst = int(np.argmax(peaks))
        if peaks[worst] > step.bound:
            problems.append(
                f"activation '{step.name}': inputs reach {peaks[worst]:.4g} (sample {worst}), "
                f"outside its interval [-{step.bound:g}, {step.bound:g}]"
            )
    return problems


def check_ranges(program: Program, inputs: list[np.ndarray]) -> dict[int, float]:
    """Ranges of every value; raises RangeError if an activation's inputs leave its interval."""
    values = evaluate(program, inputs)
    problems = out_of_range(program, values)
    if problems:
        raise RangeError(
            "calibration inputs fall outside polynomial intervals:\n  - "
            + "\n  - ".join(problems)
            + "\nTrain with henn.nn.RangePenalty, normalise the inputs, or widen the bound."
        )
    ranges = {k: float(np.max(np.abs(v))) if v.size else 0.0 for k, v in values.items()}
    log.info("range: %d values, largest magnitude %.4g", len(ranges), max(ranges.values()))
    return ranges
