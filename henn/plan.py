"""Pass 7 (emit): the serializable plan a server runs with evaluation keys only.

The plan holds the parameters, the traced program (sparse affine maps, polynomial
coefficients), the layout of every value and the rotation settings. The server rebuilds the
diagonals from them with the same deterministic lowering the compiler used.
"""

from __future__ import annotations

import json

import numpy as np

import ckks
from ckks.errors import SerializationError
from ckks.serialization import pack, unpack
from henn.layout import Layout
from henn.lowering import LoweredPoly, lower_linear
from henn.trace import LinearStep, PolyStep, Program


class Plan:
    """What the server needs: parameters, program, layouts, rotation settings; nothing secret."""

    def __init__(self, params, program: Program, layouts: dict, options: dict):
        self.params = params
        self.program = program
        self.layouts = layouts
        self.power_of_two_rotations = bool(options["power_of_two_rotations"])
        self.rotation_steps = [int(s) for s in options["rotation_steps"]]
        self.precision_bits = int(options["precision_bits"])
        self.error_bound = float(options["error_bound"])
        self.depth = int(options["depth"])
        self.batch_size = int(options.get("batch_size", 1))
        self.sample_stride = int(options.get("sample_stride", 0))
        self._lowered = None

    @property
    def options(self) -> dict:
        return {
            "power_of_two_rotations": self.power_of_two_rotations,
            "rotation_steps": self.rotation_steps,
            "precision_bits": self.precision_bits,
            "error_bound": self.error_bound,
            "depth": self.depth,
            "batch_size": self.batch_size,
            "sample_stride": self.sample_stride,
        }

    @property
    def input_shapes(self) -> list[tuple[int, ...]]:
        return [self.program.shapes[v] for v in self.program.input_ids]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.program.shapes[self.program.output]

    def lowered(self) -> list:
        """The executable steps (diagonals built once, on first use)."""
        if self._lowered is None:
            slots = self.params.slot_count
            lowered = []
            for step in self.program.steps:
                if isinstance(step, LinearStep):
                    inputs = [self.layouts[v] for v in step.inputs]
                    lowered.append(
                        lower_linear(
                            step,
                            inputs,
                            self.layouts[step.output],
                            slots,
                            (self.batch_size, self.sample_stride),
                        )
                    )
                else:
                    lowered.append(LoweredPoly(step, self.layouts[step.input]))
            self._lowered = lowered
        return self._lowered

    # -- bytes ------------------------------------------------------------------------------------

    def to_bytes(self, compression: str | None = "zstd") -> bytes:
        program = self.program
        steps, arrays = [], {}
        for index, step in enumerate(program.steps):
            if isinstance(step, LinearStep):
                steps.append(
                    {
                        "kind": "linear",
                        "inputs": step.inputs,
                        "output": step.output,
                        "name": step.name,
                    }
                )
                arrays[f"s{index}.bias"] = step.bias
                for position, (rows, cols, vals) in enumerate(step.matrices):
                    arrays[f"s{index}.{position}.rows"] = rows.astype(np.int64)
                    arrays[f"s{index}.{position}.cols"] = cols.astype(np.int64)
                    arrays[f"s{index}.{position}.vals"] = vals.astype(np.float64)
            else:
                steps.append(
                    {
                        "kind": "poly",
                        "input": step.input,
                        "output": step.output,
                        "name": step.name,
                        "coefficients": [float(c).hex() for c in step.coefficients],
                        "bound": float(step.bound).hex(),
                    }
                )
        layouts = {}
        for value, layout in self.layouts.items():
            layouts[str(value)] = layout.to_meta()
            arrays[f"l{value}.ciphertext"] = layout.ciphertext.astype(np.int64)
            arrays[f"l{value}.slot"] = layout.slot.astype(np.int64)
        meta = {
            "params": self.params.to_bytes().hex(),
            "shapes": {str(k): list(v) for k, v in program.shapes.items()},
            "names": {str(k): v for k, v in program.names.items()},
            "inputs": program.input_ids,
            "output": program.output,
            "steps": steps,
            "layouts": layouts,
            "options": self.options,
        }
        return pack("CompiledPlan", self.params.hash, None, meta, arrays, compression)

    @classmethod
    def from_bytes(cls, data: bytes) -> Plan:
        blob = unpack(data, "CompiledPlan", None)
        meta, arrays = blob.meta, blob.arrays
        try:
            params = ckks.Parameters.from_bytes(bytes.fromhex(meta["params"]))
            if params.hash != blob.params_hash:
                raise SerializationError("CompiledPlan: parameter hash mismatch")
            program = Program(
                shapes={int(k): tuple(v) for k, v in meta["shapes"].items()},
                input_ids=[int(v) for v in meta["inputs"]],
                output=int(meta["output"]),
                names={int(k): str(v) for k, v in meta["names"].items()},
            )
            for index, step in enumerate(meta["steps"]):
                if step["kind"] == "linear":
                    matrices = [
                        (
                            arrays[f"s{index}.{p}.rows"],
                            arrays[f"s{index}.{p}.cols"],
                            arrays[f"s{index}.{p}.vals"],
                        )
                        for p in range(len(step["inputs"]))
                    ]
                    program.steps.append(
                        LinearStep(
                            [int(v) for v in step["inputs"]],
                            int(step["output"]),
                            matrices,
                            arrays[f"s{index}.bias"],
                            str(step["name"]),
                        )
                    )
                else:
                    program.steps.append(
                        PolyStep(
                            int(step["input"]),
                            int(step["output"]),
                            [float.fromhex(c) for c in step["coefficients"]],
                            float.fromhex(step["bound"]),
                            str(step["name"]),
                        )
                    )
            layouts = {
                int(k): Layout.from_meta(v, arrays[f"l{k}.ciphertext"], arrays[f"l{k}.slot"])
                for k, v in meta["layouts"].items()
            }
            plan = cls(params, program, layouts, meta["options"])
        except SerializationError:
            raise
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as error:
            raise SerializationError(f"malformed CompiledPlan: {error}") from None
        _check_plan(plan)
        return plan


def _check_plan(plan: Plan) -> None:
    """Indices in range, so that a malformed plan fails here, not inside the runtime."""
    slots = plan.params.slot_count
    if (
        plan.batch_size < 1
        or plan.sample_stride < 0
        or (plan.batch_size > 1 and plan.batch_size * plan.sample_stride > slots)
    ):
        raise SerializationError(
            f"CompiledPlan: {plan.batch_size} samples of {plan.sample_stride} slots exceed the "
            f"{slots} slots"
        )
    for value, layout in plan.layouts.items():
        size = int(np.prod(layout.shape)) if layout.shape else 1
        if layout.slot.shape != (size,) or layout.ciphertext.shape != (size,):
            raise SerializationError(f"CompiledPlan: layout of value {value} has the wrong size")
        if size and (layout.slot.min() < 0 or layout.slot.max() >= slots):
            raise SerializationError(f"CompiledPlan: layout of value {value} leaves the slots")
    for step in plan.program.steps:
        if isinstance(step, LinearStep):
            outputs = len(step.bias)
            for value, (rows, cols, _) in zip(step.inputs, step.matrices, strict=True):
                inputs = len(plan.layouts[value].slot)
                if rows.size and (
                    rows.min() < 0
                    or rows.max() >= outputs
                    or cols.min() < 0
                    or cols.max() >= inputs
                ):
                    raise SerializationError(f"CompiledPlan: step {step.name} indexes out of range")
