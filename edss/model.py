"""The hybrid EDSS model: an image branch and a clinical branch, fused before the head.

Every operation is one the ``henn`` compiler lowers to CKKS: convolutions, batch norm (folded),
average pooling, linear layers and polynomial activations (x², a CryptoNets-style choice that
costs one level each). The two branches meet by concatenation before the classifier.
"""

from __future__ import annotations

import torch
from torch import nn

from henn.nn import Square

TASK_OUTPUTS = {"binary": 2, "three_class": 3, "regression": 1}


class HybridEDSSNet(nn.Module):
    """Image (1 × size × size) and clinical features → class logits or an EDSS value.

    Args:
        image_size: side of the square input slice (a multiple of 4).
        clinical_features: number of clinical inputs.
        task: "binary", "three_class" or "regression".
        channels: feature maps of the convolution.
        hidden: width of the image branch's dense layer.
    """

    def __init__(
        self,
        image_size: int = 32,
        clinical_features: int = 6,
        task: str = "binary",
        channels: int = 4,
        hidden: int = 8,
        clinical_hidden: int = 8,
    ):
        super().__init__()
        if task not in TASK_OUTPUTS:
            raise ValueError(f"task must be one of {sorted(TASK_OUTPUTS)}, got {task!r}")
        if image_size % 8:
            raise ValueError(f"image_size must be a multiple of 8, got {image_size}")
        self.config = {
            "image_size": image_size,
            "clinical_features": clinical_features,
            "task": task,
            "channels": channels,
            "hidden": hidden,
            "clinical_hidden": clinical_hidden,
        }
        side = image_size // 8
        # A strong pooling keeps the dense layer small: its cost grows with its input count.
        self.image_branch = nn.Sequential(
            nn.Conv2d(1, channels, 3, stride=2, padding=1),
            nn.BatchNorm2d(channels),
            Square(),
            nn.AvgPool2d(4),
            nn.Flatten(),
            nn.Linear(channels * side * side, hidden),
            nn.BatchNorm1d(hidden),
            Square(),
        )
        self.clinical_branch = nn.Sequential(
            nn.Linear(clinical_features, clinical_hidden),
            nn.BatchNorm1d(clinical_hidden),
            Square(),
        )
        self.head = nn.Linear(hidden + clinical_hidden, TASK_OUTPUTS[task])

    def forward(self, image: torch.Tensor, clinical: torch.Tensor) -> torch.Tensor:
        features = torch.cat([self.image_branch(image), self.clinical_branch(clinical)], dim=1)
        return self.head(features)
