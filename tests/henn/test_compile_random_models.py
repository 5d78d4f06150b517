"""Random small CNNs compiled by ``henn`` agree with PyTorch.

A hypothesis strategy draws network *specifications* (kernel sizes, strides, paddings, channel
counts, pooling, activations, one or two inputs); each is built with a seeded torch generator,
its weights rescaled so that every activation's inputs stay inside the polynomial's interval,
and compiled. The plaintext property runs the compiled plan on the simulation backend (the
server's code path, in float64, with level and scale bookkeeping) and compares with torch; the
encrypted property runs a few of them through Client and Server, every message as bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from torch import nn

import henn
from tests.henn.helpers import Session, assert_encrypted_matches, assert_simulation_matches

#: Largest value an activation input may reach after rescaling, as a fraction of its interval
#: (ApproxReLU) or absolutely (Square, Polynomial: keeps every value, hence the modulus
#: headroom the planner adds, small).
INTERVAL_FRACTION = 0.5
UNBOUNDED_ACTIVATION_PEAK = 1.5

ACTIVATIONS = ("square", "polynomial", "relu2", "relu4")


@dataclass(frozen=True)
class ConvSpec:
    out_channels: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    activation: str | None


@dataclass(frozen=True)
class NetSpec:
    in_channels: int
    height: int
    width: int
    convs: tuple[ConvSpec, ...]
    pool: tuple  # (), ("avg", kernel, stride) or ("adaptive", (height, width))
    pool_after: int  # index of the conv the pooling follows
    vector_features: int  # 0: one input; else the size of a second, vector input
    hidden: tuple[int, ...]  # widths of hidden linear layers (0 or 1 of them)
    head_activation: str | None
    outputs: int
    seed: int


def _conv_output(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def _pooled(size: tuple[int, int], pool: tuple) -> tuple[int, int]:
    if pool[0] == "avg":
        _, kernel, stride = pool
        return tuple((s - kernel) // stride + 1 for s in size)
    return pool[1]


@st.composite
def net_specs(draw, max_activations: int = 3, max_side: int = 12) -> NetSpec:
    """Small CNNs: 1–3 convs (kernel 1–5 per axis, stride 1–3, padding 0–2, 1–4 channels),
    optional pooling, 1–2 linear layers, polynomial activations, optionally a vector input.

    At most ``max_activations`` activations (each costs 1–3 levels); an activation follows a
    layer with probability 4/5 until the budget is spent."""
    in_channels = draw(st.integers(1, 4))
    height = draw(st.integers(6, max_side))
    width = draw(st.integers(6, max_side))
    conv_count = draw(st.integers(1, 3))
    pool_after = draw(st.integers(0, conv_count - 1))
    pool_kind = draw(st.sampled_from(["none", "avg", "adaptive"]))
    pool: tuple = ()
    budget = max_activations

    def activation():
        nonlocal budget
        kind = draw(st.sampled_from((None, *ACTIVATIONS))) if budget else None
        budget -= kind is not None
        return kind

    convs = []
    size = (height, width)
    for index in range(conv_count):
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
        kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        assume(all(k <= s + 2 * p for k, s, p in zip(kernel, size, padding)))
        size = tuple(_conv_output(*args) for args in zip(size, kernel, stride, padding))
        convs.append(ConvSpec(draw(st.integers(1, 4)), kernel, stride, padding, activation()))
        if index == pool_after and pool_kind == "avg":
            pool = ("avg", draw(st.integers(1, min(3, *size))), draw(st.integers(1, 3)))
        elif index == pool_after and pool_kind == "adaptive":
            pool = ("adaptive", (draw(st.integers(1, 3)), draw(st.integers(1, 3))))
        if index == pool_after and pool:
            size = _pooled(size, pool)
    hidden = tuple(draw(st.lists(st.integers(2, 6), max_size=1)))
    return NetSpec(
        in_channels,
        height,
        width,
        tuple(convs),
        pool,
        pool_after,
        draw(st.sampled_from([0, 0, 1, 3, 4])),
        hidden,
        activation() if hidden else None,
        draw(st.integers(1, 5)),
        draw(st.integers(0, 2**16)),
    )


def _activation(kind: str, generator: torch.Generator) -> nn.Module:
    if kind == "square":
        return henn.nn.Square()
    if kind == "polynomial":
        degree = int(torch.randint(2, 4, (1,), generator=generator))
        coefficients = (torch.rand(degree + 1, generator=generator) - 0.5).tolist()
        coefficients[-1] = 0.5 if coefficients[-1] >= 0 else -0.5  # keep the degree
        return henn.nn.Polynomial(coefficients)
    return henn.nn.ApproxReLU(degree=2 if kind == "relu2" else 4, bound=4.0)


class RandomNet(nn.Module):
    """A network built from a :class:`NetSpec`: ``forward(image)``."""

    def __init__(self, spec: NetSpec):
        super().__init__()
        generator = torch.Generator().manual_seed(spec.seed)
        torch.manual_seed(spec.seed)
        body: list[nn.Module] = []
        channels = spec.in_channels
        size = (spec.height, spec.width)
        for index, conv in enumerate(spec.convs):
            body.append(
                nn.Conv2d(channels, conv.out_channels, conv.kernel, conv.stride, conv.padding)
            )
            channels = conv.out_channels
            size = tuple(
                _conv_output(*args) for args in zip(size, conv.kernel, conv.stride, conv.padding)
            )
            if conv.activation:
                body.append(_activation(conv.activation, generator))
            if index == spec.pool_after and spec.pool:
                if spec.pool[0] == "avg":
                    body.append(nn.AvgPool2d(spec.pool[1], spec.pool[2]))
                else:
                    body.append(nn.AdaptiveAvgPool2d(spec.pool[1]))
                size = _pooled(size, spec.pool)
        body.append(nn.Flatten())
        self.body = nn.Sequential(*body)
        features = channels * size[0] * size[1] + spec.vector_features
        head: list[nn.Module] = []
        for width in spec.hidden:
            head.append(nn.Linear(features, width))
            if spec.head_activation:
                head.append(_activation(spec.head_activation, generator))
            features = width
        head.append(nn.Linear(features, spec.outputs))
        self.head = nn.Sequential(*head)
        self.features = channels * size[0] * size[1]
        self.eval()

    def forward(self, image):
        return self.head(self.body(image))


class RandomTwoInputNet(RandomNet):
    """An image and a vector, concatenated after flattening, before the head."""

    def forward(self, image, vector):
        return self.head(torch.cat([self.body(image), vector], dim=1))


def example_inputs(spec: NetSpec, batch: int = 2) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(spec.seed + 1)
    image = torch.randn(batch, spec.in_channels, spec.height, spec.width, generator=generator)
    if spec.vector_features:
        return image, torch.randn(batch, spec.vector_features, generator=generator)
    return (image,)


def _peak_input(model: nn.Module, layer: nn.Module, inputs) -> float:
    """Largest |input| that ``layer`` sees when ``model`` runs on ``inputs``."""
    seen = []
    handle = layer.register_forward_pre_hook(lambda _module, args: seen.append(args[0]))
    with torch.no_grad():
        model(*inputs)
    handle.remove()
    return float(seen[0].abs().max())


def keep_activations_in_range(model: RandomNet, inputs) -> None:
    """Rescale the affine layer feeding each activation so that its inputs on ``inputs`` stay
    within INTERVAL_FRACTION of the interval (or UNBOUNDED_ACTIVATION_PEAK), in forward order."""
    layers = [*model.body, *model.head]
    for position, layer in enumerate(layers):
        if not isinstance(layer, henn.nn.PolynomialActivation):
            continue
        feeding = next(
            m for m in reversed(layers[:position]) if isinstance(m, (nn.Conv2d, nn.Linear))
        )
        peak = _peak_input(model, layer, inputs)
        bound = layer.bound
        target = INTERVAL_FRACTION * bound if bound != float("inf") else UNBOUNDED_ACTIVATION_PEAK
        if peak > target:
            with torch.no_grad():
                feeding.weight.mul_(target / peak)
                feeding.bias.mul_(target / peak)


def build(spec: NetSpec, batch: int = 2) -> tuple[RandomNet, tuple[torch.Tensor, ...]]:
    model = (RandomTwoInputNet if spec.vector_features else RandomNet)(spec)
    inputs = example_inputs(spec, batch)
    assume(model.features <= 400)
    keep_activations_in_range(model, inputs)
    activations = [c.activation for c in spec.convs] + [spec.head_activation]
    event(f"{sum(a is not None for a in activations)} activation(s)")
    event(f"{len(inputs)} input(s)")
    event(f"pooling: {spec.pool[0] if spec.pool else 'none'}")
    return model, inputs


def compile_and_describe(model, inputs, **options) -> henn.CompiledModel:
    compiled = henn.compile(model, inputs, **options)
    event(f"N={compiled.params.ring_degree}")
    plan = compiled.plan
    event(f"samples per ciphertext: {'several' if getattr(plan, 'batch_size', 1) > 1 else 1}")
    event(f"input ciphertexts: {sum(plan.layouts[v].ciphertexts for v in plan.program.input_ids)}")
    return compiled


PLAINTEXT_SETTINGS = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@PLAINTEXT_SETTINGS
@given(
    spec=net_specs(),
    rotation_keys=st.sampled_from(["auto", "power_of_two"]),
    scale_bits=st.sampled_from([30, 40]),
    batch_size=st.sampled_from([None, 1, 2]),
)
def test_random_cnn_plan_matches_torch_in_simulation(spec, rotation_keys, scale_bits, batch_size):
    """Three samples; packed as many per ciphertext as fit (None), one each, or two (groups of
    two and one)."""
    model, inputs = build(spec, batch=3)
    options = {"rotation_keys": rotation_keys, "scale_bits": scale_bits}
    if batch_size is not None:
        options["batch_size"] = batch_size
    compiled = compile_and_describe(model, inputs, **options)
    if rotation_keys == "power_of_two":
        steps = compiled.plan.rotation_steps
        slots = compiled.params.slot_count
        assert all(min(s, slots - s) & (min(s, slots - s) - 1) == 0 for s in steps)
    assert compiled.plan.input_shapes == [tuple(x.shape[1:]) for x in inputs]
    assert_simulation_matches(compiled, model, *inputs)

    # The server rebuilds its diagonals from the plan's bytes: the same program must come out.
    restored = henn.Plan.from_bytes(compiled.plan.to_bytes())
    assert_simulation_matches(compiled, model, *inputs, plan=restored)


@settings(
    max_examples=3,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(spec=net_specs(max_activations=1, max_side=10))
def test_random_cnn_encrypted_matches_torch(spec):
    model, inputs = build(spec)
    compiled = compile_and_describe(model, inputs)
    assert_encrypted_matches(Session(compiled), model, *inputs)


@pytest.mark.slow
@settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(spec=net_specs(max_activations=2))
def test_random_cnn_encrypted_matches_torch_many(spec):
    model, inputs = build(spec)
    compiled = compile_and_describe(model, inputs)
    assert_encrypted_matches(Session(compiled), model, *inputs)
