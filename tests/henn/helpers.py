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

    Returns the output batch, shaped like the model's, and one SimulationBackend per sample
    (levels reached, rotation steps used).
    """
    params = plan.params
    arrays = [x.detach().double().numpy() for x in inputs]
    output_layout = plan.layouts[plan.program.output]
    outputs, backends = [], []
    for sample in range(arrays[0].shape[0]):
        backend = SimulationBackend(
            params.moduli, params.scale, params.slot_count, plan.power_of_two_rotations
        )
        encrypted = {
            value: [
                backend.encrypt_values(vector)
                for vector in pack_input(plan.layouts[value], array[sample], params.slot_count)
            ]
            for value, array in zip(plan.program.input_ids, arrays)
        }
        result, _ = execute(backend, plan.lowered(), encrypted, plan.program.output)
        outputs.append(unpack_output(output_layout, [backend.decrypt_values(ct) for ct in result]))
        backends.append(backend)
    return np.stack(outputs), backends


def assert_simulation_matches(compiled: henn.CompiledModel, model, *inputs) -> np.ndarray:
    """The simulated plan equals torch to SIMULATION_RELATIVE_TOLERANCE, within the plan's depth
    and with rotation keys only for the plan's steps; returns the simulated outputs."""
    expected = torch_reference(model, *inputs)
    got, backends = simulate(compiled.plan, *inputs)
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
        assert backend.rotation_steps <= set(compiled.plan.rotation_steps)
    return got


class Session:
    """A client, and a server built from bytes only, for one compiled model (keys made once)."""

    def __init__(self, compiled: henn.CompiledModel):
        self.compiled = compiled
        self.client = henn.Client(compiled)
        self.plan_bytes = compiled.plan.to_bytes()
        self.key_bytes = self.client.evaluation_keys().to_bytes()
        self.server = henn.Server(self.plan_bytes, self.key_bytes)

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
