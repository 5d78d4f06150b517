"""Patient-level splits, labels and the hybrid model's shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edss.model import HybridEDSSNet
from edss.training import edss_label, patient_folds, patient_scores


@pytest.mark.parametrize(
    ("edss", "binary", "three"),
    [(0.0, 0, 0), (2.5, 0, 0), (3.0, 1, 1), (5.5, 1, 1), (6.0, 1, 2), (9.5, 1, 2)],
)
def test_edss_labels_follow_the_documented_cut_points(edss, binary, three):
    assert edss_label(edss, "binary") == binary
    assert edss_label(edss, "three_class") == three
    assert edss_label(edss, "regression") == edss


@pytest.mark.parametrize("folds", [2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_folds_partition_patients_and_never_share_one(folds, seed):
    labels = np.array([0] * 16 + [1] * 11)
    parts = patient_folds(labels, folds, seed)
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(len(labels)))  # each patient exactly once
    for k, test in enumerate(parts):
        train = np.setdiff1d(np.arange(len(labels)), test)
        assert not set(train) & set(test)
        # stratified: every fold holds both classes when there are enough patients
        assert set(labels[test]) == {0, 1}, k


def test_patient_scores_average_the_slices_of_each_patient():
    scores = np.array([[0.2, 0.8], [0.4, 0.6], [1.0, 0.0]])
    owner = np.array([3, 3, 5])
    result = patient_scores(scores, owner)
    np.testing.assert_allclose(result[3], [0.3, 0.7])
    np.testing.assert_allclose(result[5], [1.0, 0.0])


@pytest.mark.parametrize(
    ("task", "outputs"), [("binary", 2), ("three_class", 3), ("regression", 1)]
)
def test_model_outputs_per_task(task, outputs):
    model = HybridEDSSNet(32, 6, task).eval()
    out = model(torch.rand(3, 1, 32, 32), torch.rand(3, 6))
    assert out.shape == (3, outputs)


def test_model_refuses_bad_arguments():
    with pytest.raises(ValueError, match="task"):
        HybridEDSSNet(32, 6, "ranking")
    with pytest.raises(ValueError, match="multiple of 8"):
        HybridEDSSNet(30, 6, "binary")
