"""What the compiler refuses, and how it says so: every unsupported operation at once, a model too
deep for any secure parameter set, and calibration data outside an activation's interval."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

import henn
from henn.trace import SUPPORTED
from tests.henn.helpers import assert_simulation_matches


class FiveProblems(nn.Module):
    def __init__(self):
        super().__init__()
        self.grouped = nn.Conv2d(2, 2, 3, groups=2)
        self.dilated = nn.Conv2d(2, 2, 3, dilation=2)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(2, 1)

    def forward(self, x):
        x = self.relu(self.grouped(x))
        x = self.pool(self.dilated(x))
        return torch.sigmoid(self.head(torch.flatten(x, 1)))


def test_every_unsupported_operation_is_listed_at_once():
    with pytest.raises(henn.UnsupportedModelError) as caught:
        henn.compile(FiveProblems().eval(), torch.randn(1, 2, 10, 10))
    message = str(caught.value)

    assert message.startswith("5 unsupported operation(s)")
    assert re.search(r"Conv2d 'grouped': groups=2", message)
    assert re.search(r"Conv2d 'dilated': dilation=\(2, 2\)", message)
    assert "module 'relu' of type ReLU" in message
    assert "module 'pool' of type MaxPool2d" in message
    assert "sigmoid" in message
    supported = message.split("Supported:", 1)[1]
    for entry in SUPPORTED:
        assert entry in supported
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, henn.HennError)


@pytest.mark.parametrize(
    ("layer", "name"),
    [
        (nn.ReLU(), "ReLU"),
        (nn.MaxPool2d(2), "MaxPool2d"),
        (nn.Sigmoid(), "Sigmoid"),
        (nn.GELU(), "GELU"),
    ],
)
def test_single_unsupported_layer_is_named(layer, name):
    model = nn.Sequential(nn.Conv2d(1, 1, 3), layer).eval()
    with pytest.raises(henn.UnsupportedModelError, match=rf"(?s)1 unsupported.*type {name}\n"):
        henn.compile(model, torch.randn(1, 1, 8, 8))


def test_unsupported_functions_are_named_with_the_node():
    class Functional(nn.Module):
        def forward(self, x):
            return torch.relu(x) + torch.exp(x)

    with pytest.raises(henn.UnsupportedModelError) as caught:
        henn.compile(Functional(), torch.randn(1, 4))
    assert str(caught.value).startswith("2 unsupported operation(s)")
    assert "relu" in str(caught.value)
    assert "exp" in str(caught.value)


def test_data_dependent_control_flow_is_refused_with_the_supported_set():
    class Branching(nn.Module):
        def forward(self, x):
            return x * 2 if x.sum() > 0 else x

    with pytest.raises(henn.UnsupportedModelError, match="static graph") as caught:
        henn.compile(Branching(), torch.randn(1, 4))
    assert SUPPORTED[0] in str(caught.value)


@pytest.mark.parametrize(
    ("layer", "shape"), [(nn.Conv2d(1, 2, 3), (2, 1, 6, 6)), (nn.Linear(5, 3), (2, 5))]
)
def test_bare_layer_as_model_compiles(layer, shape):
    torch.manual_seed(0)
    x = torch.randn(shape)
    compiled = henn.compile(layer.eval(), x)
    assert_simulation_matches(compiled, layer, x)


# -- too deep for any secure parameters ------------------------------------------------------


class DeepSquares(nn.Module):
    """``blocks`` times (Linear → Square): 2 levels each."""

    def __init__(self, blocks: int, width: int = 4):
        super().__init__()
        layers = []
        for _ in range(blocks):
            linear = nn.Linear(width, width)
            with torch.no_grad():
                linear.weight.copy_(torch.eye(width) * 0.5)
                linear.bias.fill_(0.25)
            layers += [linear, henn.nn.Square()]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x)


def test_too_deep_model_states_depth_needed_and_what_is_offered():
    x = torch.full((1, 4), 0.5)  # stays in [0.25, 0.5]: values never grow
    with pytest.raises(henn.CompileError) as caught:
        henn.compile(DeepSquares(12).eval(), x)
    message = str(caught.value)

    needed = int(re.search(r"multiplicative depth (\d+)", message).group(1))
    assert needed == 24  # 12 × (one affine level + one squaring level)
    assert "largest secure set (N=32768) offers 881 bits" in message
    room = int(re.search(r"room for depth (\d+)", message).group(1))
    assert room < needed
    assert isinstance(caught.value, ValueError)


def test_deepest_model_that_fits_compiles():
    x = torch.full((1, 4), 0.5)
    # 881 bits − 60 special − (40 + headroom) first prime leave 19 levels of 40 bits.
    compiled = henn.compile(DeepSquares(9).eval(), x)
    assert compiled.depth == 18
    assert compiled.params.ring_degree == 32768
    assert compiled.params.total_modulus_bits <= 881


# -- calibration outside an activation's interval ---------------------------------------------


class ApproxReluNet(nn.Module):
    def __init__(self, bound: float):
        super().__init__()
        self.linear = nn.Linear(3, 3)
        with torch.no_grad():
            self.linear.weight.copy_(torch.eye(3))
            self.linear.bias.zero_()
        self.relu = henn.nn.ApproxReLU(2, bound=bound)
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        return self.head(self.relu(self.linear(x)))


def test_calibration_outside_the_interval_raises_range_error():
    model = ApproxReluNet(bound=2.0).eval()
    inside = torch.tensor([[0.5, -1.0, 1.5]])
    calibration = torch.tensor([[0.5, -1.0, 1.5], [0.1, 3.5, 0.0]])
    with pytest.raises(henn.RangeError) as caught:
        henn.compile(model, inside, calibration=calibration)
    message = str(caught.value)
    assert "'relu'" in message
    assert "3.5" in message
    assert "sample 1" in message
    assert "[-2, 2]" in message
    assert isinstance(caught.value, ValueError)


def test_example_inputs_outside_the_interval_raise_range_error():
    model = ApproxReluNet(bound=2.0).eval()
    with pytest.raises(henn.RangeError, match="outside its interval"):
        henn.compile(model, torch.tensor([[0.0, -2.5, 0.0]]))


def test_calibration_inside_the_interval_compiles():
    model = ApproxReluNet(bound=4.0).eval()
    calibration = torch.tensor([[0.5, -1.0, 1.5], [0.1, 3.5, 0.0]])
    compiled = henn.compile(model, calibration[:1], calibration=calibration)
    assert_simulation_matches(compiled, model, calibration)
