"""The compiler driver: trace → fold → range → pack/lower → plan → emit."""

from __future__ import annotations

import logging
import time

import numpy as np
import torch

from henn.errors import CompileError
from henn.plan import Plan
from henn.planner import choose_plan
from henn.ranges import check_ranges, evaluate
from henn.trace import trace

log = logging.getLogger("henn.compile")


class CompiledModel:
    """A compiled model: the plan, and a summary of what it costs."""

    def __init__(self, plan: Plan, choice, reference_error: float, compile_seconds: float):
        self.plan = plan
        self.params = plan.params
        self.depth = choice.depth
        self.rotation_steps = choice.rotation_steps
        self.key_bytes = choice.key_bytes
        self.counts = choice.counts
        self.precision_bits = choice.precision_bits
        self.error_bound = choice.error_bound
        self.reference_error = reference_error
        self.compile_seconds = compile_seconds
        self.layer_rotations = [getattr(op, "rotations", 0) for op in choice.lowered]
        self.batch_size = choice.batch[0]

    @property
    def tolerance(self) -> float:
        """Bound on |encrypted − torch| per output: CKKS error bound plus release rounding."""
        return 4 * self.error_bound + 2.0 ** -(self.precision_bits - 1) + 1e-6

    def summary(self) -> str:
        p = self.params
        return (
            f"ring degree {p.ring_degree}, depth {self.depth}, moduli {p.moduli_bits} + special "
            f"{p.special_moduli_bits} (log2 QP {p.total_modulus_bits}), "
            f"{len(self.rotation_steps)} rotation keys ({self.key_bytes / 2**20:.1f} MiB), "
            f"{self.counts.get('rotations', 0)} rotations per ciphertext group of up to "
            f"{self.batch_size} sample(s), output precision 2^-{self.precision_bits}"
        )

    def __repr__(self) -> str:
        return f"CompiledModel({self.summary()})"


def compile(model: torch.nn.Module, example_inputs, calibration=None, **options) -> CompiledModel:
    """Compile a trained model into a plan of CKKS operations.

    Args:
        model: the trained ``torch.nn.Module`` (evaluated in eval mode).
        example_inputs: one tensor per model input, batch dimension first.
        calibration: a tuple of tensors like ``example_inputs`` with more samples, used to
            bound every value and check activation intervals; default ``example_inputs``.
        **options: ``scale_bits`` (default 40), ``ring_degree`` (force N), ``batch_size``
            (samples packed per ciphertext; default as many as fit), ``rotation_keys``
            ("auto", "exact" or "power_of_two": fewer keys, more rotations),
            ``key_memory_budget`` (bytes; "auto" switches to powers of two above it).

    Raises:
        UnsupportedModelError: unsupported operations, all listed.
        RangeError: calibration inputs outside an activation's interval.
        CompileError: no secure parameter set fits the model's depth.
    """
    start = time.perf_counter()
    _check_options(options)
    example_inputs = _check_tensors(example_inputs, "example_inputs")
    program = trace(model, example_inputs)
    if len(program.input_ids) != len(example_inputs):
        raise CompileError(
            f"compile: the model takes {len(program.input_ids)} input(s), example_inputs has "
            f"{len(example_inputs)}"
        )
    calibration = example_inputs if calibration is None else calibration
    calibration = _check_tensors(calibration, "calibration")
    for index, (tensor, reference) in enumerate(zip(calibration, example_inputs, strict=False)):
        if len(calibration) != len(example_inputs) or tensor.shape[1:] != reference.shape[1:]:
            raise CompileError(
                f"compile: calibration must hold one tensor per input shaped like "
                f"example_inputs (batch first); input {index} has shape {tuple(tensor.shape)}, "
                f"expected (batch, {', '.join(map(str, reference.shape[1:]))})"
            )
    arrays = [x.detach().cpu().double().numpy() for x in calibration]
    ranges = check_ranges(program, arrays)
    samples = [[a[0] for a in arrays]]
    choice = choose_plan(program, ranges, samples, options)
    plan = Plan(
        choice.params,
        program,
        choice.layouts,
        {
            "power_of_two_rotations": choice.power_of_two_rotations,
            "rotation_steps": choice.rotation_steps,
            "precision_bits": choice.precision_bits,
            "error_bound": choice.error_bound,
            "depth": choice.depth,
            "batch_size": choice.batch[0],
            "sample_stride": choice.batch[1],
        },
    )
    plan._lowered = choice.lowered
    reference_error = _check_against_torch(model, program, example_inputs)
    elapsed = time.perf_counter() - start
    compiled = CompiledModel(plan, choice, reference_error, elapsed)
    log.info("emit: %s (%.2f s)", compiled.summary(), elapsed)
    return compiled


_OPTIONS = {"scale_bits", "ring_degree", "batch_size", "rotation_keys", "key_memory_budget"}


def _check_options(options: dict) -> None:
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise CompileError(
            f"compile: unknown option(s) {unknown}; expected some of {sorted(_OPTIONS)}"
        )
    degree = options.get("ring_degree")
    if degree is not None and degree not in (8192, 16384, 32768):
        raise CompileError(
            f"compile: ring_degree must be 8192, 16384 or 32768 (secure sets with room for a "
            f"network), got {degree!r}"
        )
    bits = options.get("scale_bits", 40)
    if isinstance(bits, bool) or not isinstance(bits, int) or not 20 <= bits <= 50:
        raise CompileError(f"compile: scale_bits must be an int in 20 … 50, got {bits!r}")
    mode = options.get("rotation_keys", "auto")
    if mode not in ("auto", "exact", "power_of_two"):
        raise CompileError(
            f"compile: rotation_keys must be 'auto', 'exact' or 'power_of_two', got {mode!r}"
        )
    batch = options.get("batch_size")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise CompileError(f"compile: batch_size must be a positive int or None, got {batch!r}")


def _check_tensors(tensors, argument: str) -> tuple:
    if torch.is_tensor(tensors):
        tensors = (tensors,)
    try:
        tensors = tuple(tensors)
    except TypeError:
        raise CompileError(f"compile: {argument} must be a tensor or a tuple of tensors") from None
    for index, tensor in enumerate(tensors):
        if not torch.is_tensor(tensor):
            raise CompileError(
                f"compile: {argument}[{index}] must be a tensor, got {type(tensor).__name__}"
            )
        if tensor.ndim < 2 or tensor.shape[0] < 1:
            raise CompileError(
                f"compile: {argument}[{index}] must have a batch dimension first with at least "
                f"one sample, got shape {tuple(tensor.shape)}"
            )
        if not torch.isfinite(tensor).all():
            raise CompileError(f"compile: {argument}[{index}] contains NaN or infinity")
    return tensors


def _check_against_torch(model, program, example_inputs) -> float:
    """Largest |program − torch| on the examples: guards the folding against compiler bugs."""
    with torch.no_grad():
        expected = model.eval()(*example_inputs).detach().double().numpy()
    values = evaluate(program, [x.detach().double().numpy() for x in example_inputs])
    got = values[program.output].reshape(expected.shape)
    error = float(np.max(np.abs(got - expected))) if got.size else 0.0
    scale = 1e-4 * max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
    if error > scale:
        raise CompileError(
            f"internal: the folded program differs from torch by {error:.3g} on the examples"
        )
    return error
