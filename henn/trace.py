"""Pass 1–2 (trace, fold): a torch model → a program of affine maps and polynomial activations.

The model is traced with ``torch.fx``. Every node is either a *source* (a model input or the
output of a polynomial activation), an *affine* node (convolution, batch norm, pooling, flatten,
linear, sums, concatenation, reshapes, scaling by constants), or unsupported. All unsupported
nodes are reported together.

Folding is done by composition: the input of every activation (and the model output) is an
affine function of the sources it depends on, y = Σ_t W_t·x_t + b. Its matrices are measured
from the model itself in float64 (b from zero inputs, column i of W_t from the unit vector e_i),
so batch norm, padding, strides, non-square kernels and pooling are folded exactly as torch
computes them, and a chain of affine layers costs one multiplicative level in total.
"""

from __future__ import annotations

import copy
import logging
import math
import operator
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import fx, nn

from henn.errors import UnsupportedModelError
from henn.nn import PolynomialActivation

log = logging.getLogger("henn.compile")

SUPPORTED = (
    "Conv2d (groups=1, dilation=1, zero padding; any kernel, stride, padding per axis)",
    "BatchNorm1d/2d (eval mode; folded)",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Flatten / torch.flatten / view / reshape",
    "Linear",
    "Identity, Dropout (eval mode: identity)",
    "henn.nn polynomial activations (Square, Polynomial, ApproxReLU, ApproxSiLU), x*x, x**2",
    "addition and subtraction of tensors, multiplication or division by a constant",
    "torch.cat of branches",
)

_AFFINE_MODULES = (
    nn.Conv2d,
    nn.Linear,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool2d,
    nn.Flatten,
    nn.Identity,
    nn.Dropout,
)
_AFFINE_FUNCTIONS = {
    torch.flatten,
    torch.cat,
    torch.concat,
    torch.add,
    torch.sub,
    torch.reshape,
    operator.add,
    operator.sub,
    operator.neg,
    operator.getitem,
}
_AFFINE_METHODS = {"view", "reshape", "flatten", "size", "contiguous", "add", "sub"}


@dataclass
class LinearStep:
    """output = Σ_t matrices[t] · inputs[t] + bias (all on flattened per-sample tensors)."""

    inputs: list[int]
    output: int
    matrices: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # COO rows, cols, values
    bias: np.ndarray
    name: str


@dataclass
class PolyStep:
    """output = Σ_k coefficients[k] · input^k, element-wise."""

    input: int
    output: int
    coefficients: list[float]
    bound: float
    name: str


@dataclass
class Program:
    """The traced model: value shapes, steps in order, the output value."""

    shapes: dict[int, tuple[int, ...]]
    input_ids: list[int]
    steps: list = field(default_factory=list)
    output: int = -1
    names: dict[int, str] = field(default_factory=dict)


def trace(model: nn.Module, example_inputs: tuple[torch.Tensor, ...]) -> Program:
    """Trace ``model`` and fold its affine parts (see the module docstring).

    Raises:
        UnsupportedModelError: listing every unsupported node and the supported set.
    """
    start = time.perf_counter()
    model = copy.deepcopy(model).eval().double()
    if _is_leaf(model):  # a bare layer: trace it as a one-layer network
        model = nn.Sequential(model)
    try:
        graph = _Tracer().trace(model)
        graph_module = fx.GraphModule(model, graph)
    except Exception as error:  # fx raises many kinds for dynamic control flow
        raise UnsupportedModelError(
            f"torch.fx could not trace the model ({type(error).__name__}: {error}); the model's "
            f"forward must be a static graph of supported operations:\n  - "
            + "\n  - ".join(SUPPORTED)
        ) from None
    nodes = list(graph_module.graph.nodes)
    kinds = _classify(graph_module, nodes)
    samples = tuple(x[:1].detach().double() for x in example_inputs)
    shapes = _propagate_shapes(graph_module, nodes, samples)

    program = Program(shapes={}, input_ids=[])
    ids: dict[fx.Node, int] = {}

    def value_id(node: fx.Node) -> int:
        if node not in ids:
            ids[node] = len(ids)
            program.shapes[ids[node]] = tuple(shapes[node][1:])
            program.names[ids[node]] = node.name
        return ids[node]

    for node in nodes:
        if node.op == "placeholder":
            program.input_ids.append(value_id(node))
    emitted: set = set()

    def affine(target):
        """The LinearStep computing ``target``, once: a value read twice is computed once."""
        if target in emitted:
            return []
        emitted.add(target)
        return _affine_step(graph_module, kinds, shapes, target, value_id, samples)

    for node in nodes:
        if kinds[node][0] == "poly":
            _, coefficients, bound = kinds[node]
            source = node.args[0]
            program.steps.extend(affine(source))
            program.steps.append(
                PolyStep(value_id(source), value_id(node), coefficients, bound, node.name)
            )
        elif node.op == "output":
            result = node.args[0]
            if not isinstance(result, fx.Node):
                raise UnsupportedModelError("the model must return a single tensor")
            program.steps.extend(affine(result))
            program.output = value_id(result)
    log.info(
        "trace: %d nodes, %d affine maps, %d activations (%.2f s)",
        len(nodes),
        sum(isinstance(s, LinearStep) for s in program.steps),
        sum(isinstance(s, PolyStep) for s in program.steps),
        time.perf_counter() - start,
    )
    return program


def _is_leaf(model: nn.Module) -> bool:
    return isinstance(model, (*_AFFINE_MODULES, PolynomialActivation)) or (
        not list(model.children()) and type(model).__module__.startswith("torch.nn")
    )


class _Tracer(fx.Tracer):
    """Keeps polynomial activations whole: the compiler lowers them, not their arithmetic."""

    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        return isinstance(module, PolynomialActivation) or super().is_leaf_module(
            module, qualified_name
        )


def _classify(graph_module: fx.GraphModule, nodes) -> dict:
    """Kind of each node: ('source',), ('poly', coefficients, bound), ('affine',); or report."""
    kinds = {}
    problems = []
    for node in nodes:
        if node.op in ("placeholder", "output", "get_attr"):
            kinds[node] = ("source",) if node.op == "placeholder" else ("affine",)
            continue
        if node.op == "call_module":
            module = graph_module.get_submodule(node.target)
            if isinstance(module, PolynomialActivation):
                kinds[node] = ("poly", module.coefficients(), float(module.bound))
                continue
            if isinstance(module, _AFFINE_MODULES):
                problem = _check_module(node.target, module)
                if problem:
                    problems.append(problem)
                kinds[node] = ("affine",)
                continue
            problems.append(f"module '{node.target}' of type {type(module).__name__}")
            kinds[node] = ("affine",)
            continue
        square = _as_square(node)
        if square:
            kinds[node] = ("poly", [0.0, 0.0, 1.0], math.inf)
            continue
        if node.op == "call_function" and (
            node.target in _AFFINE_FUNCTIONS or _is_constant_scaling(node)
        ):
            kinds[node] = ("affine",)
            continue
        if node.op == "call_method" and node.target in _AFFINE_METHODS:
            kinds[node] = ("affine",)
            continue
        problems.append(
            f"{node.op} '{getattr(node.target, '__name__', node.target)}' ({node.name})"
        )
        kinds[node] = ("affine",)
    if problems:
        raise UnsupportedModelError(
            f"{len(problems)} unsupported operation(s):\n  - "
            + "\n  - ".join(problems)
            + "\nSupported:\n  - "
            + "\n  - ".join(SUPPORTED)
        )
    return kinds


def _check_module(name: str, module: nn.Module) -> str | None:
    if isinstance(module, nn.Conv2d):
        if module.groups != 1:
            return f"Conv2d '{name}': groups={module.groups} is not supported (groups=1 only)"
        if tuple(module.dilation) != (1, 1):
            return f"Conv2d '{name}': dilation={module.dilation} is not supported (1 only)"
        if module.padding_mode != "zeros":
            return f"Conv2d '{name}': padding_mode='{module.padding_mode}' (zeros only)"
        if isinstance(module.padding, str) and module.padding != "valid":
            return None
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) and module.training:
        return None
    return None


def _as_square(node: fx.Node) -> bool:
    if node.op == "call_function" and node.target in (operator.mul, torch.mul):
        return len(node.args) == 2 and node.args[0] is node.args[1]
    if node.op == "call_function" and node.target in (operator.pow, torch.pow):
        return len(node.args) == 2 and node.args[1] == 2
    return bool(node.op == "call_function" and node.target is torch.square)


def _is_constant_scaling(node: fx.Node) -> bool:
    if node.target not in (operator.mul, operator.truediv, torch.mul, torch.div):
        return False
    tensors = [a for a in node.args if isinstance(a, fx.Node)]
    return len(tensors) == 1 and all(
        isinstance(a, (int, float)) for a in node.args if not isinstance(a, fx.Node)
    )


def _propagate_shapes(graph_module, nodes, samples) -> dict:
    env = {}
    shapes = {}
    inputs = iter(samples)
    for node in nodes:
        if node.op == "placeholder":
            try:
                env[node] = next(inputs)
            except StopIteration:
                raise UnsupportedModelError(
                    f"example_inputs has {len(samples)} tensor(s) but the model takes more"
                ) from None
        elif node.op != "output":
            env[node] = _run_node(graph_module, node, env)
        value = env.get(node)
        if isinstance(value, torch.Tensor):
            shapes[node] = tuple(value.shape)
    return shapes


def _run_node(graph_module, node, env):
    args = fx.node.map_arg(node.args, lambda n: env[n])
    kwargs = fx.node.map_arg(node.kwargs, lambda n: env[n])
    if node.op == "call_module":
        return graph_module.get_submodule(node.target)(*args, **kwargs)
    if node.op == "call_function":
        return node.target(*args, **kwargs)
    if node.op == "call_method":
        return getattr(args[0], node.target)(*args[1:], **kwargs)
    if node.op == "get_attr":
        return getattr(graph_module, node.target)
    raise UnsupportedModelError(f"cannot evaluate node {node.name} ({node.op})")


def _sources_of(node: fx.Node, kinds) -> list[fx.Node]:
    """Sources (inputs, activation outputs) that ``node`` depends on through affine nodes."""
    found, stack, seen = [], [node], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        if kinds[current][0] in ("source", "poly"):
            found.append(current)
            continue
        stack.extend(current.all_input_nodes)
    return sorted(found, key=lambda n: n.name)


def _affine_step(graph_module, kinds, shapes, target, value_id, samples, chunk=2048):
    """A LinearStep computing ``target`` from its sources; [] when target is a source."""
    if kinds[target][0] in ("source", "poly"):
        return []
    sources = _sources_of(target, kinds)
    start = time.perf_counter()

    def evaluate(source_values: dict) -> torch.Tensor:
        env = dict(source_values)
        order = [n for n in graph_module.graph.nodes]
        needed = _ancestors(target, kinds)
        for n in order:
            if n in env or n not in needed:
                continue
            env[n] = _run_node(graph_module, n, env)
        return env[target]

    def zeros(batch: int) -> dict:
        return {s: torch.zeros((batch, *shapes[s][1:]), dtype=torch.float64) for s in sources}

    with torch.no_grad():
        bias = evaluate(zeros(1)).reshape(-1).numpy().copy()
        matrices = []
        for source in sources:
            size = math.prod(shapes[source][1:])
            rows, cols, vals = [], [], []
            for first in range(0, size, chunk):
                count = min(chunk, size - first)
                probe = zeros(count)
                basis = torch.zeros((count, size), dtype=torch.float64)
                basis[torch.arange(count), torch.arange(first, first + count)] = 1.0
                probe[source] = basis.reshape((count, *shapes[source][1:]))
                response = evaluate(probe).reshape(count, -1).numpy() - bias
                column, row = np.nonzero(response)
                rows.append(row.astype(np.int64))
                cols.append((column + first).astype(np.int64))
                vals.append(response[column, row])
            matrices.append((np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)))
    step = LinearStep(
        inputs=[value_id(s) for s in sources],
        output=value_id(target),
        matrices=matrices,
        bias=bias,
        name=target.name,
    )
    log.info(
        "fold: %s = affine map of %s, %d weights (%.2f s)",
        target.name,
        [s.name for s in sources],
        sum(len(m[2]) for m in matrices),
        time.perf_counter() - start,
    )
    return [step]


def _ancestors(node: fx.Node, kinds) -> set:
    found, stack = set(), [node]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        if kinds[current][0] in ("source", "poly"):
            continue
        stack.extend(current.all_input_nodes)
    return found
