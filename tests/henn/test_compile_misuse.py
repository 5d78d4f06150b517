"""Misuse of ``henn.compile``: bad options, inputs and calibration data.

STYLE.md asks for errors of our own classes whose message names the operation, the argument,
the constraint and the value seen. Each case below states the argument its message must name;
each is a regression test of a bug found and fixed.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import henn


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), henn.nn.Square(), nn.Linear(3, 2)).eval()


X = torch.randn(2, 4, generator=torch.Generator().manual_seed(1))


def _bug(reason: str):
    """Once a strict xfail; the bug is fixed and the case is an ordinary regression test."""
    del reason
    return ()


CASES = [
    pytest.param(
        {"options": {"ring_degree": 4096}},
        r"ring_degree.*4096",
        id="ring-degree-too-small-for-depth",
    ),
    pytest.param({"options": {"scale_bits": 70}}, r"scale_bits.*70", id="scale-bits-too-large"),
    pytest.param({"inputs": (X * 1e6,)}, r"headroom", id="values-too-large"),
    pytest.param(
        {"options": {"ring_degree": 1000}},
        r"ring_degree.*1000",
        id="ring-degree-not-a-power-of-two",
        marks=_bug("ring_degree=1000 raises a bare KeyError(1000) from MAX_MODULUS_BITS_128"),
    ),
    pytest.param(
        {"options": {"ring_degree": 65536}},
        r"ring_degree.*65536",
        id="ring-degree-without-security-row",
        marks=_bug("ring_degree=65536 raises a bare KeyError(65536)"),
    ),
    pytest.param(
        {"options": {"ring_dgree": 8192}},
        r"ring_dgree",
        id="unknown-option",
        marks=_bug("unknown **options (a typo) are silently ignored"),
    ),
    pytest.param(
        {"options": {"rotation_keys": "bogus"}},
        r"rotation_keys.*bogus",
        id="unknown-rotation-keys-mode",
        marks=_bug("rotation_keys='bogus' is silently treated as exact steps"),
    ),
    pytest.param(
        {"options": {"scale_bits": 0}},
        r"scale_bits",
        id="scale-bits-zero",
        marks=_bug("scale_bits=0 surfaces as a ckks ParameterError about moduli_bits[0]"),
    ),
    pytest.param(
        {"inputs": (X, X)},
        r"example_inputs",
        id="more-example-inputs-than-model-inputs",
        marks=_bug("two example inputs for a one-input model: bare zip() ValueError"),
    ),
    pytest.param(
        {"calibration": (X, X)},
        r"calibration",
        id="calibration-tensor-count",
        marks=_bug("calibration with two tensors for one input: bare zip() ValueError"),
    ),
    pytest.param(
        {"calibration": torch.randn(3, 5)},
        r"calibration",
        id="calibration-shape",
        marks=_bug("calibration of shape (3, 5) for input (4,): IndexError from the range pass"),
    ),
    pytest.param(
        {"inputs": (torch.full((1, 4), float("nan")),)},
        r"(?i)nan",
        id="nan-example",
        marks=_bug("NaN example input: 'cannot convert float NaN to integer' from the planner"),
    ),
    pytest.param(
        {"calibration": torch.full((1, 4), float("nan"))},
        r"(?i)nan",
        id="nan-calibration",
        marks=_bug("NaN calibration: 'cannot convert float NaN to integer' from the planner"),
    ),
    pytest.param(
        {"inputs": (torch.randn(0, 4),)},
        r"(?i)empty|batch",
        id="empty-batch",
        marks=_bug("an empty example batch: numpy reshape ValueError"),
    ),
]


@pytest.mark.parametrize(("arguments", "named"), CASES)
def test_compile_misuse_raises_a_henn_error_naming_the_argument(model, arguments, named):
    inputs = arguments.get("inputs", (X,))
    with pytest.raises(henn.HennError, match=named) as caught:
        henn.compile(
            model, inputs, calibration=arguments.get("calibration"), **arguments.get("options", {})
        )
    assert isinstance(caught.value, ValueError)
