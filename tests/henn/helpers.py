"""Shared helpers of the compiler tests: plaintext execution of a plan, the torch reference, and
the client/server round trip through bytes.

The reference is always the model itself, run by PyTorch in float64: an implementation
independent of the compiler's folding, layouts and diagonals.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

import henn
from henn.backends import SimulationBackend
from henn.runtime import execute, pack_input, unpack_output

#: Relative agreement of the plaintext (simulated) execution of a plan with torch. The simulation
#: computes in float64 with exactly the diagonals the server uses; the only differences from the
#: torch graph are float64 rounding in a different summation order: about 1e-15 relative per
#: operation, times at most a few thousand terms per output. 1e-6 leaves a wide margin while
#: catching any wrong slot, weight or scale (which give errors of order 1).
SIMULATION_RELATIVE_TOLERANCE = 1e-6


def torch_reference(model: torch.nn.Module, *inputs: torch.Tensor) -> np.ndarray:
    """``model(*inputs)`` computed by torch in float64 (the model itself is left untouched)."""
    reference = copy.deepcopy(model).eval().double()
    with torch.no_grad():
        return reference(*(x.double() for x in inputs)).numpy()


def simulate(plan: henn.Plan, *inputs: torch.Tensor) -> tuple[np.ndarray, list]:
    """Run the plan's lowered program in plaintext with CKKS level and scale bookkeeping.

    Samples are grouped and packed exactly as ``Client.encrypt`` does (``plan.batch_size``
    samples per ciphertext, ``plan.sample_stride`` slots apart). Returns the output batch,
    shaped like the model's, and one SimulationBackend per group (levels reached, rotation
    steps used).
    """
    params = plan.params
    arrays = [x.detach().double().numpy() for x in inputs]
    output_layout = plan.layouts[plan.program.output]
    per_group = getattr(plan, "batch_size", 1)
    stride = getattr(plan, "sample_stride", 0) if per_group > 1 else 0
    outputs, backends = [], []
    for first in range(0, arrays[0].shape[0], per_group):
        chunks = [array[first : first + per_group] for array in arrays]
        backend = SimulationBackend(
            params.moduli, params.scale, params.slot_count, plan.power_of_two_rotations
        )
        encrypted = {}
        for value, chunk in zip(plan.program.input_ids, chunks):
            layout = plan.layouts[value]
            if stride:
                vectors = pack_input(layout, chunk, params.slot_count, stride)
            else:
                vectors = pack_input(layout, chunk[0], params.slot_count)
            encrypted[value] = [backend.encrypt_values(vector) for vector in vectors]
        result, _ = execute(backend, plan.lowered(), encrypted, plan.program.output)
        vectors = [backend.decrypt_values(ct) for ct in result]
        if stride:
            outputs.extend(unpack_output(output_layout, vectors, len(chunks[0]), stride))
        else:
            outputs.append(unpack_output(output_layout, vectors))
        backends.append(backend)
    return np.stack(outputs), backends


def assert_simulation_matches(
    compiled: henn.CompiledModel, model, *inputs, plan: henn.Plan | None = None
) -> np.ndarray:
    """The simulated plan (``compiled.plan`` unless ``plan`` is given) equals torch to
    SIMULATION_RELATIVE_TOLERANCE, within the plan's depth and with rotation keys only for the
    plan's steps; returns the simulated outputs."""
    plan = compiled.plan if plan is None else plan
    expected = torch_reference(model, *inputs)
    got, backends = simulate(plan, *inputs)
    assert got.shape == expected.shape
    scale = max(1.0, float(np.max(np.abs(expected))))
    error = float(np.max(np.abs(got - expected)))
    assert error <= SIMULATION_RELATIVE_TOLERANCE * scale, (
        f"simulated plan differs from torch by {error:.3g} (scale {scale:.3g})"
    )
    for backend in backends:
        assert backend.lowest_level >= 0
        assert backend.top_level - backend.lowest_level <= compiled.depth
        assert backend.top_level == len(compiled.params.moduli) - 1
        assert backend.rotation_steps <= set(plan.rotation_steps)
    return got


class Session:
    """A client, and a server built from bytes only, for one compiled model (keys made once).

    ``plan_as_bytes=False`` hands the server the plan object instead (see the xfail
    ``test_roles.py::test_large_plan_bytes_round_trip``)."""

    def __init__(self, compiled: henn.CompiledModel, plan_as_bytes: bool = True):
        self.compiled = compiled
        self.client = henn.Client(compiled)
        self.plan_bytes = compiled.plan.to_bytes()
        self.key_bytes = self.client.evaluation_keys().to_bytes()
        plan = self.plan_bytes if plan_as_bytes else compiled.plan
        self.server = henn.Server(plan, self.key_bytes)

    def run(self, *inputs: torch.Tensor, exact: bool = False) -> torch.Tensor:
        """Encrypt, serialize, evaluate on the server, serialize back, decrypt."""
        request = self.client.encrypt(*inputs).to_bytes()
        response = self.server.run(request)
        assert isinstance(response, bytes)
        return self.client.decrypt(response, exact=exact)


def assert_encrypted_matches(session: Session, model, *inputs) -> torch.Tensor:
    """The decrypted output has torch's shape and lies within ``compiled.tolerance`` of torch;
    the predicted class agrees wherever torch's top two logits are further apart than twice the
    tolerance (closer ones may legitimately swap)."""
    expected = torch_reference(model, *inputs)
    got = session.run(*inputs)
    tolerance = session.compiled.tolerance
    assert tuple(got.shape) == expected.shape
    error = float(np.max(np.abs(got.double().numpy() - expected)))
    assert error <= tolerance, f"encrypted output differs from torch by {error:.3g} > {tolerance}"
    if expected.ndim == 2 and expected.shape[1] > 1:
        top2 = np.sort(expected, axis=1)[:, -2:]
        clear = (top2[:, 1] - top2[:, 0]) > 2 * tolerance
        np.testing.assert_array_equal(
            got.numpy().argmax(axis=1)[clear], expected.argmax(axis=1)[clear]
        )
    return got
