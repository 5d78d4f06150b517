"""Training by patient: splits that never put one patient on both sides, k-fold, class weights.

Slices of a patient share its label; the patient's grade is the mean of its slices' outputs
(probabilities for classification, EDSS for regression).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from edss.model import HybridEDSSNet

log = logging.getLogger("edss.train")


def edss_label(edss: float, task: str) -> int | float:
    """Binary: EDSS < 3 → 0, ≥ 3 → 1. Three classes: < 3, 3–5.5, ≥ 6. Regression: EDSS."""
    if task == "binary":
        return int(edss >= 3.0)
    if task == "three_class":
        return 0 if edss < 3.0 else (1 if edss < 6.0 else 2)
    return float(edss)


def patient_folds(labels: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """Indices of patients per fold, stratified by label where possible (patients, not slices)."""
    rng = np.random.default_rng(seed)
    assignment = np.empty(len(labels), dtype=np.int64)
    keys = np.round(labels).astype(np.int64) if labels.dtype.kind == "f" else labels
    offset = 0
    for value in np.unique(keys):
        members = rng.permutation(np.flatnonzero(keys == value))
        assignment[members] = (np.arange(len(members)) + offset) % folds
        offset += len(members)
    return [np.flatnonzero(assignment == k) for k in range(folds)]


@dataclass
class SliceData:
    """Slices of a set of patients, flattened, with the owner of each slice."""

    images: torch.Tensor  # (slices, 1, H, W)
    clinical: torch.Tensor  # (slices, features)
    targets: torch.Tensor  # (slices,) long for classes, float for regression
    owner: np.ndarray  # (slices,) index of the patient in the cohort list
    names: list[str]


def slice_data(patients, feature_names, task: str, indices) -> SliceData:
    images, clinical, targets, owner, names = [], [], [], [], []
    for index in indices:
        patient = patients[index]
        features = [patient.clinical.get(name, 0.0) for name in feature_names]
        for k, image in enumerate(patient.slices):
            images.append(image[None])
            clinical.append(features)
            targets.append(edss_label(patient.edss, task) if patient.edss is not None else 0)
            owner.append(index)
            names.append(patient.slice_names[k] if k < len(patient.slice_names) else str(k))
    dtype = torch.float32 if task == "regression" else torch.long
    return SliceData(
        torch.tensor(np.array(images), dtype=torch.float32),
        torch.tensor(np.array(clinical), dtype=torch.float32),
        torch.tensor(np.array(targets), dtype=dtype),
        np.array(owner),
        names,
    )


def train_model(
    data: SliceData,
    feature_count: int,
    task: str,
    epochs: int = 60,
    seed: int = 0,
    image_size: int = 32,
    progress: bool = False,
    learning_rate: float = 3e-3,
) -> HybridEDSSNet:
    """Train the hybrid model on slices; weighted loss against class imbalance."""
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if len(data.targets) < 2:
        from edss.errors import DataError

        raise DataError.about(
            "the training data",
            "at least 2 slices of patients with EDSS",
            f"{len(data.targets)} slice(s)",
            "a slice folder needs an EDSS per patient (a table or clinical CSV with an edss "
            "column)",
        )
    torch.manual_seed(seed)
    model = HybridEDSSNet(image_size, feature_count, task)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, weight_decay=1e-3)
    if task == "regression":
        loss_function = nn.MSELoss()
    else:
        classes = model.head.out_features
        counts = torch.bincount(data.targets, minlength=classes).float()
        weights = torch.where(counts > 0, counts.sum() / (classes * counts.clamp(min=1)), 0.0)
        loss_function = nn.CrossEntropyLoss(weight=weights)
    generator = torch.Generator().manual_seed(seed)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=epochs, desc="training", unit="epoch", leave=False)
    start = time.perf_counter()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(data.targets), generator=generator)
        for first in range(0, len(order), 32):
            batch = order[first : first + 32]
            if len(batch) < 2:
                continue
            optimizer.zero_grad()
            output = model(data.images[batch], data.clinical[batch])
            target = data.targets[batch]
            loss = loss_function(output.squeeze(1) if task == "regression" else output, target)
            loss.backward()
            optimizer.step()
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    model.eval()
    log.info(
        "trained %d epochs on %d slices in %.1f s",
        epochs,
        len(data.targets),
        time.perf_counter() - start,
    )
    return model


def slice_scores(output: torch.Tensor, task: str) -> np.ndarray:
    """Probabilities per class (classification) or EDSS (regression) from model outputs."""
    output = torch.as_tensor(output, dtype=torch.float32)
    if task == "regression":
        return output.reshape(-1, 1).numpy()
    return torch.softmax(output, dim=1).numpy()


def patient_scores(scores: np.ndarray, owner: np.ndarray) -> dict[int, np.ndarray]:
    """Mean of slice scores per patient index."""
    return {int(p): scores[owner == p].mean(axis=0) for p in np.unique(owner)}
