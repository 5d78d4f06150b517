"""Saving and loading trained models (atomic writes, checked on reading)."""

from __future__ import annotations

import io
from pathlib import Path

import torch

from ckks.serialization import write_atomically
from edss.errors import DataError
from edss.model import HybridEDSSNet


def save_model(model: HybridEDSSNet, path, feature_names: list[str]) -> None:
    """Write the model's configuration, weights and clinical feature order to ``path``."""
    buffer = io.BytesIO()
    torch.save(
        {
            "format": "edss-model-v1",
            "config": model.config,
            "features": list(feature_names),
            "state": model.state_dict(),
        },
        buffer,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, buffer.getvalue(), private=True)


def load_model(path) -> tuple[HybridEDSSNet, list[str]]:
    """The model and its clinical feature names from a file written by :func:`save_model`."""
    path = Path(path)
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError.about(
            path, "a model file written by `edss train`", "no such file"
        ) from None
    except Exception as error:  # torch raises several kinds for foreign bytes
        raise DataError.about(
            path,
            "a model file written by `edss train`",
            f"unreadable content ({type(error).__name__})",
        ) from None
    if not isinstance(content, dict) or content.get("format") != "edss-model-v1":
        raise DataError.about(path, "an edss-model-v1 file", "another format")
    model = HybridEDSSNet(**content["config"])
    model.load_state_dict(content["state"])
    model.eval()
    return model, list(content["features"])
