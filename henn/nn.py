"""HE-friendly training modules: polynomial activations and a range penalty.

CKKS evaluates additions and multiplications only, so activations must be polynomials. These
modules train like any torch activation and tell the compiler their coefficients and the
interval on which they are meant to be used.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


class PolynomialActivation(nn.Module):
    """Base class: y = Σ_k c_k x^k, valid on [-bound, bound].

    Attributes:
        bound: half-width of the input interval the polynomial is meant for; the compiler checks
            calibrated inputs against it and the client reports inputs outside it.
    """

    bound: float = math.inf

    def coefficients(self) -> list[float]:
        """Power-basis coefficients c_0, c_1, …, c_d as floats."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = torch.zeros_like(x)
        for c in reversed(self.coefficient_tensor()):
            result = result * x + c
        return result

    def coefficient_tensor(self) -> list[torch.Tensor]:
        return [torch.as_tensor(c, dtype=torch.float32) for c in self.coefficients()]


class Square(PolynomialActivation):
    """y = x² (one multiplicative level)."""

    def coefficients(self) -> list[float]:
        return [0.0, 0.0, 1.0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * x


class Polynomial(PolynomialActivation):
    """y = Σ_k c_k x^k with fixed or trainable coefficients.

    Args:
        coefficients: c_0 … c_d, lowest degree first.
        trainable: learn the coefficients with the rest of the model.
        bound: the input interval's half-width the polynomial is meant for.
    """

    def __init__(self, coefficients, trainable: bool = False, bound: float = math.inf):
        super().__init__()
        values = torch.tensor([float(c) for c in coefficients], dtype=torch.float32)
        if values.numel() < 1 or not torch.isfinite(values).all():
            raise ValueError(f"coefficients must be finite and non-empty, got {coefficients!r}")
        if trainable:
            self.weight = nn.Parameter(values)
        else:
            self.register_buffer("weight", values)
        self.bound = float(bound)

    def coefficients(self) -> list[float]:
        return [float(c) for c in self.weight.detach().cpu()]

    def coefficient_tensor(self) -> list[torch.Tensor]:
        return list(self.weight)

    def extra_repr(self) -> str:
        return f"degree={self.weight.numel() - 1}, bound={self.bound}"


def least_squares_fit(function, degree: int, bound: float, points: int = 2001) -> list[float]:
    """Power-basis coefficients of the least-squares fit of ``function`` on [-bound, bound].

    Fitted in the Chebyshev basis on Chebyshev nodes (well conditioned), then converted.
    """
    nodes = np.cos(np.pi * (np.arange(points) + 0.5) / points) * bound
    fit = np.polynomial.chebyshev.Chebyshev.fit(
        nodes, function(nodes), degree, domain=[-bound, bound]
    )
    return [float(c) for c in fit.convert(kind=np.polynomial.Polynomial).coef]


class ApproxReLU(Polynomial):
    """A least-squares polynomial approximation of ReLU on [-bound, bound] (degree 2 or 4)."""

    def __init__(self, degree: int = 2, bound: float = 4.0, trainable: bool = False):
        super().__init__(
            least_squares_fit(lambda x: np.maximum(x, 0.0), degree, bound), trainable, bound
        )


class ApproxSiLU(Polynomial):
    """A least-squares polynomial approximation of SiLU (x·sigmoid(x)) on [-bound, bound]."""

    def __init__(self, degree: int = 4, bound: float = 6.0, trainable: bool = False):
        super().__init__(
            least_squares_fit(lambda x: x / (1.0 + np.exp(-x)), degree, bound), trainable, bound
        )


class RangePenalty:
    """A training penalty that keeps activation inputs inside their polynomial's interval.

    Registers forward hooks on every :class:`PolynomialActivation` with a finite bound and
    accumulates mean(relu(|x| − bound)²) over the batch; add ``penalty.value()`` to the loss and
    call ``penalty.reset()`` after each step.
    """

    def __init__(self, model: nn.Module, margin: float = 0.9):
        self._terms: list[torch.Tensor] = []
        self._handles = []
        for module in model.modules():
            if isinstance(module, PolynomialActivation) and math.isfinite(module.bound):
                self._handles.append(module.register_forward_hook(self._hook(module, margin)))

    def _hook(self, module, margin):
        def hook(_module, inputs, _output):
            excess = torch.relu(inputs[0].abs() - margin * module.bound)
            self._terms.append((excess * excess).mean())

        return hook

    def value(self) -> torch.Tensor:
        if not self._terms:
            return torch.zeros(())
        return torch.stack(self._terms).sum()

    def reset(self) -> None:
        self._terms.clear()

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
