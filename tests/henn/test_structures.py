"""Graph shapes the random CNNs do not draw: residual additions of values at different levels,
an activation as the model output or applied to a model input, an input used twice, every
spelling of a square, folded batch norm, constant scaling, reshapes, and the identity."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import henn
from tests.henn.helpers import Session, assert_encrypted_matches, assert_simulation_matches


class Residual(nn.Module):
    """y + SiLU(y), then Square(conv)·½ − z: additions of values at different levels."""

    def __init__(self):
        super().__init__()
        self.first = nn.Conv2d(2, 2, 3, padding=1)
        self.silu = henn.nn.ApproxSiLU()
        self.second = nn.Conv2d(2, 2, 3, padding=1)
        self.square = henn.nn.Square()
        self.head = nn.Linear(2 * 6 * 6, 3)

    def forward(self, x):
        y = self.first(x)
        z = y + self.silu(y)
        w = self.square(self.second(z)) * 0.5 - z
        return self.head(torch.flatten(w, 1))


class ActivationOutput(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)
        self.relu = henn.nn.ApproxReLU(4)

    def forward(self, x):
        return self.relu(self.linear(x))


class InputUsedTwice(nn.Module):
    def __init__(self):
        super().__init__()
        self.square = henn.nn.Square()
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(torch.cat([self.square(x), x], dim=1))


class SquareSpellings(nn.Module):
    """Linear → BatchNorm1d → Dropout, then y·y + y**2 − square(y/2), reshaped, divided by 3."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)
        self.norm = nn.BatchNorm1d(4)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x):
        y = self.dropout(self.norm(self.linear(x)))
        return (y * y + y**2 - torch.square(y / 2)).view(-1, 2, 2).reshape(-1, 4) / 3


class CubicOfInput(nn.Module):
    def __init__(self):
        super().__init__()
        self.cubic = henn.nn.Polynomial([1.0, 0.0, 0.0, 0.5])

    def forward(self, x):
        return self.cubic(x)


class Identity(nn.Module):
    def forward(self, x):
        return x


def _square_spellings():
    model = SquareSpellings()
    with torch.no_grad():
        model.norm.running_mean.uniform_(-1, 1)
        model.norm.running_var.uniform_(0.5, 2.0)
    return model


STRUCTURES = {
    "residual": (Residual, (2, 2, 6, 6), 0.3),
    "activation-output": (ActivationOutput, (2, 4), 1.0),
    "input-used-twice": (InputUsedTwice, (2, 4), 1.0),
    "square-spellings": (_square_spellings, (3, 4), 1.0),
    "cubic-of-input": (CubicOfInput, (2, 5), 1.0),
    "identity": (Identity, (2, 3, 4, 4), 1.0),
}


def _build(name):
    factory, shape, spread = STRUCTURES[name]
    torch.manual_seed(sum(map(ord, name)))
    return factory().eval(), torch.randn(shape) * spread


@pytest.mark.parametrize("name", sorted(STRUCTURES))
def test_structure_matches_torch_in_simulation(name):
    model, x = _build(name)
    compiled = henn.compile(model, x)
    assert_simulation_matches(compiled, model, x)


@pytest.mark.parametrize(
    "name",
    [
        "cubic-of-input",
        "input-used-twice",
        pytest.param("residual", marks=pytest.mark.slow),
        pytest.param("square-spellings", marks=pytest.mark.slow),
    ],
)
def test_structure_encrypted_matches_torch(name):
    model, x = _build(name)
    compiled = henn.compile(model, x)
    assert_encrypted_matches(Session(compiled), model, x)


def test_squares_cost_one_level_each():
    """x·x, x**2 and square(x) each lower to a pure square side by side: depth 3 = one affine
    level (linear + batch norm), one squaring level, one level for the final ·1/3 and sums."""
    model, x = _build("square-spellings")
    compiled = henn.compile(model, x)
    polys = [s for s in compiled.plan.program.steps if not hasattr(s, "matrices")]
    assert [p.coefficients for p in polys] == [[0.0, 0.0, 1.0]] * 3
    assert compiled.depth == 3


def test_a_value_read_by_two_activations_is_computed_once():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 4)
            self.square = henn.nn.Square()
            self.cubic = henn.nn.Polynomial([0.0, 1.0, 0.5])

        def forward(self, x):
            y = self.linear(x)
            return self.square(y) + self.cubic(y)

    torch.manual_seed(0)
    model, x = Shared().eval(), torch.randn(2, 4)
    compiled = henn.compile(model, x)
    assert_simulation_matches(compiled, model, x)
    outputs = [s.output for s in compiled.plan.program.steps]
    assert len(outputs) == len(set(outputs)), f"values computed more than once: {outputs}"
