"""edss.metrics against sklearn.metrics as the independent reference, plus edge cases and misuse."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as reference

from edss.errors import EdssError
from edss.metrics import (
    CLASS_NAMES,
    MetricsError,
    agreement,
    baselines,
    bootstrap_intervals,
    classification_metrics,
    edss_to_class,
    metrics_with_intervals,
    regression_metrics,
)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def sklearn_classification(y_true, y_pred, probabilities, n_classes):
    """The same quantities from sklearn; warnings about absent classes are expected here."""
    labels = list(range(n_classes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = {
            "accuracy": reference.accuracy_score(y_true, y_pred),
            "balanced_accuracy": reference.balanced_accuracy_score(y_true, y_pred),
            "macro_f1": reference.f1_score(y_true, y_pred, average="macro"),
            "recall": reference.recall_score(
                y_true, y_pred, labels=labels, average=None, zero_division=0
            ),
            "confusion": reference.confusion_matrix(y_true, y_pred, labels=labels),
            "auc": None,
        }
    if len(set(y_true.tolist())) == n_classes:
        if n_classes == 2:
            expected["auc"] = reference.roc_auc_score(y_true, probabilities[:, 1])
        else:
            expected["auc"] = reference.roc_auc_score(
                y_true, probabilities, multi_class="ovr", average="macro"
            )
    return expected


def assert_matches_sklearn(y_true, y_pred, probabilities, n_classes):
    ours = classification_metrics(y_true, y_pred, probabilities, n_classes)
    expected = sklearn_classification(y_true, y_pred, probabilities, n_classes)
    for name in ("accuracy", "balanced_accuracy", "macro_f1"):
        assert ours[name] == pytest.approx(expected[name], abs=1e-12), name
    assert ours["confusion"] == expected["confusion"].tolist()
    present = np.bincount(y_true, minlength=n_classes) > 0
    for recall, reference_recall, has_patients in zip(
        ours["per_class_recall"], expected["recall"], present
    ):
        assert (recall is None) == (not has_patients)
        if has_patients:
            assert recall == pytest.approx(reference_recall, abs=1e-12)
    if expected["auc"] is None:
        assert ours["auc"] is None
    else:
        assert ours["auc"] == pytest.approx(expected["auc"], abs=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3, 4])
def test_classification_matches_sklearn_on_seeded_random_labels(n_classes):
    rng = np.random.default_rng(1000 + n_classes)
    for _ in range(60):
        n = int(rng.integers(2, 60))
        y_true = rng.integers(0, n_classes, n)
        y_pred = rng.integers(0, n_classes, n)
        # Rounding makes ties in the scores, which the rank-based AUC must average.
        probabilities = softmax(np.round(rng.normal(size=(n, n_classes)), 1))
        assert_matches_sklearn(y_true, y_pred, probabilities, n_classes)


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(
    st.integers(2, 4).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(
                st.tuples(st.integers(0, k - 1), st.integers(0, k - 1), st.integers(-3, 3)),
                min_size=1,
                max_size=40,
            ),
        )
    )
)
def test_classification_matches_sklearn_property(case):
    n_classes, rows = case
    y_true = np.array([row[0] for row in rows])
    y_pred = np.array([row[1] for row in rows])
    # Heavily tied integer logits; the predicted class's logit is raised so scores vary.
    logits = np.zeros((len(rows), n_classes))
    logits[np.arange(len(rows)), y_pred] = [row[2] for row in rows]
    assert_matches_sklearn(y_true, y_pred, softmax(logits), n_classes)


def test_binary_accepts_positive_class_scores_alone():
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 2, 50)
    probabilities = softmax(rng.normal(size=(50, 2)))
    y_pred = probabilities.argmax(axis=1)
    both = classification_metrics(y_true, y_pred, probabilities, 2)
    positive = classification_metrics(y_true, y_pred, probabilities[:, 1], 2)
    assert both == positive


def test_absent_class_leaves_auc_and_its_recall_undefined():
    y_true = np.array([0, 0, 1, 1, 0])
    y_pred = np.array([0, 2, 1, 0, 0])
    probabilities = softmax(np.random.default_rng(3).normal(size=(5, 3)))
    result = classification_metrics(y_true, y_pred, probabilities, 3)
    assert result["auc"] is None
    assert result["per_class_recall"][2] is None
    assert_matches_sklearn(y_true, y_pred, probabilities, 3)

    binary = classification_metrics([1, 1, 1], [1, 0, 1], [0.9, 0.2, 0.8], 2)
    assert binary["auc"] is None
    assert binary["balanced_accuracy"] == pytest.approx(2 / 3)


def test_no_probabilities_gives_no_auc():
    result = classification_metrics([0, 1, 1], [0, 1, 0], None, 2)
    assert result["auc"] is None
    assert result["accuracy"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_perfect_predictions(n_classes):
    y_true = np.tile(np.arange(n_classes), 4)
    probabilities = np.eye(n_classes)[y_true] * 0.9 + 0.1 / n_classes
    result = classification_metrics(y_true, y_true, probabilities, n_classes)
    assert result["accuracy"] == result["balanced_accuracy"] == result["macro_f1"] == 1.0
    assert result["auc"] == 1.0
    assert result["per_class_recall"] == [1.0] * n_classes
    assert result["confusion"] == (np.eye(n_classes, dtype=int) * 4).tolist()


def test_regression_matches_sklearn():
    rng = np.random.default_rng(11)
    for _ in range(50):
        n = int(rng.integers(1, 40))
        truth = rng.choice(np.arange(0, 10.5, 0.5), n)
        predicted = truth + rng.normal(0, 1.2, n)
        result = regression_metrics(truth, predicted)
        assert result["mae"] == pytest.approx(reference.mean_absolute_error(truth, predicted))
        assert result["rmse"] == pytest.approx(reference.root_mean_squared_error(truth, predicted))
        expected_within = np.mean(np.abs(predicted - truth) <= 1)
        assert result["within_one_point"] == pytest.approx(expected_within)


def test_within_one_point_includes_the_boundary():
    result = regression_metrics([2.0, 3.5, 6.0, 0.0], [3.0, 2.5, 7.5, 0.0])
    assert result["within_one_point"] == pytest.approx(0.75)
    assert result["mae"] == pytest.approx((1 + 1 + 1.5 + 0) / 4)


# --- bootstrap -------------------------------------------------------------------------------


def accuracy_of(sample):
    return float(np.mean(sample["y_true"] == sample["y_pred"]))


def test_bootstrap_is_deterministic_and_brackets_the_estimate():
    rng = np.random.default_rng(5)
    y_true = rng.integers(0, 2, 80)
    y_pred = np.where(rng.random(80) < 0.8, y_true, 1 - y_true)
    data = {"y_true": y_true, "y_pred": y_pred}
    first = bootstrap_intervals(data, accuracy_of, n_boot=400, seed=3)
    assert first == bootstrap_intervals(data, accuracy_of, n_boot=400, seed=3)
    assert first != bootstrap_intervals(data, accuracy_of, n_boot=400, seed=4)
    low, high = first
    point = accuracy_of(data)
    assert low <= point <= high
    assert 0.0 < high - low < 0.4
    narrow = bootstrap_intervals(data, accuracy_of, n_boot=400, seed=3, level=0.5)
    assert low <= narrow[0] <= narrow[1] <= high


def test_bootstrap_resamples_whole_patients_not_slices():
    # Patient i has i + 1 slices; a slice-level resample would break these invariants.
    n = 12
    slices = [[f"p{i}-s{j}" for j in range(i + 1)] for i in range(n)]
    data = {"patient": np.arange(n), "double": 2 * np.arange(n), "slices": slices}
    sizes = []

    def check(sample):
        sizes.append(len(sample["patient"]))
        assert np.array_equal(sample["double"], 2 * sample["patient"])
        for patient, own in zip(sample["patient"], sample["slices"]):
            assert own == slices[patient]
        return float(np.mean(sample["patient"]))

    low, high = bootstrap_intervals(data, check, n_boot=200, seed=0)
    assert sizes == [n] * 200
    assert low <= (n - 1) / 2 <= high


def test_bootstrap_skips_undefined_resamples():
    data = {"y_true": np.array([0] * 9 + [1]), "score": np.linspace(0, 1, 10)}

    def auc(sample):
        return classification_metrics(sample["y_true"], sample["y_true"], sample["score"], 2)["auc"]

    calls = []

    def counted(sample):
        value = auc(sample)
        calls.append(value)
        return value

    low, high = bootstrap_intervals(data, counted, n_boot=300, seed=1)
    assert any(value is None for value in calls)
    assert low == high == 1.0
    nan_metric = bootstrap_intervals(data, lambda sample: math.nan, n_boot=20, seed=0)
    assert nan_metric == (None, None)


@pytest.mark.parametrize(
    ("per_patient", "metric", "settings_", "match"),
    [
        ({}, accuracy_of, {}, "non-empty dict"),
        ({"y_true": [0, 1], "y_pred": [0]}, accuracy_of, {}, "y_pred has 1 entries"),
        ({"y_true": 3}, accuracy_of, {}, "one row per patient"),
        ({"y_true": [0, 1], "y_pred": [0, 1]}, "accuracy", {}, "callable"),
        ({"y_true": [0, 1], "y_pred": [0, 1]}, accuracy_of, {"n_boot": 0}, "n_boot"),
        ({"y_true": [0, 1], "y_pred": [0, 1]}, accuracy_of, {"level": 1.0}, "level"),
        ({"y_true": [0, 1], "y_pred": [0, 1]}, accuracy_of, {"seed": -1}, "seed"),
        ({"y_true": [0, 1], "y_pred": [0, 1]}, lambda s: "high", {}, "real number or None"),
    ],
)
def test_bootstrap_misuse(per_patient, metric, settings_, match):
    with pytest.raises(MetricsError, match=match):
        bootstrap_intervals(per_patient, metric, **{"n_boot": 10, **settings_})


def test_metrics_with_intervals_structure_and_values():
    rng = np.random.default_rng(9)
    n = 60
    y_true = rng.integers(0, 3, n)
    probabilities = softmax(rng.normal(size=(n, 3)) + 2 * np.eye(3)[y_true])
    y_pred = probabilities.argmax(axis=1)
    edss_true = rng.choice(np.arange(0, 10.5, 0.5), n)
    edss_pred = edss_true + rng.normal(0, 1, n)
    result = metrics_with_intervals(
        y_true, y_pred, probabilities, 3, edss_true, edss_pred, n_boot=200, seed=2
    )
    point = classification_metrics(y_true, y_pred, probabilities, 3)
    point.update(regression_metrics(edss_true, edss_pred))
    scalars = ["accuracy", "balanced_accuracy", "macro_f1", "auc", "mae", "rmse"]
    for name in [*scalars, "within_one_point"]:
        entry = result[name]
        assert set(entry) == {"value", "low", "high"}
        assert entry["value"] == pytest.approx(point[name])
        assert entry["low"] <= entry["value"] <= entry["high"]
    assert result["confusion"] == point["confusion"]
    assert result["per_class_recall"] == point["per_class_recall"]
    assert result["n_patients"] == n
    assert result["interval_level"] == 0.95
    again = metrics_with_intervals(
        y_true, y_pred, probabilities, 3, edss_true, edss_pred, n_boot=200, seed=2
    )
    assert again == result


def test_metrics_with_intervals_regression_only_and_misuse():
    result = metrics_with_intervals(None, None, None, None, [1.0, 2.0, 6.0], [1.5, 4.0, 6.0])
    assert set(result) == {"mae", "rmse", "within_one_point", "n_patients", "interval_level"}
    assert result["mae"]["value"] == pytest.approx(2.5 / 3)
    with pytest.raises(MetricsError, match="pass y_true and y_pred"):
        metrics_with_intervals(None, None, None, None)
    with pytest.raises(MetricsError, match="edss_true and edss_pred must be given together"):
        metrics_with_intervals([0, 1], [0, 1], None, 2, edss_true=[1.0, 4.0])
    with pytest.raises(MetricsError, match="edss_true has 3 entries but y_true has 2"):
        metrics_with_intervals([0, 1], [0, 1], None, 2, [1.0, 4.0, 2.0], [1.0, 4.0, 2.0])


# --- input checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([0, 1, 1], [0, 1], None, 2), "y_pred has 2 entries but y_true has 3"),
        (([0, 1, 2], [0, 1, 1], None, 2), r"labels in 0\.\.1, found 2"),
        (([0, -1], [0, 1], None, 2), "found -1"),
        (([0, 1.5], [0, 1], None, 2), "integer labels, found 1.5"),
        ((["a", "b"], [0, 1], None, 2), "integer labels, got dtype"),
        (([], [], None, 2), "non-empty 1-D"),
        (([0, 1], [0, 1], [[0.5, 0.5], [np.nan, 0.5]], 2), "finite, found nan"),
        (([0, 1], [0, 1], [[0.2, 0.3, 0.5]] * 2, 2), "one column per class"),
        (([0, 1], [0, 1], [0.2, 0.8, 0.5], 2), "probabilities has 3 entries"),
        (([0, 1], [0, 1], [0.2, 0.8], 3), "2-D array"),
        (([0, 0], [0, 0], None, 1), "n_classes must be an integer of at least 2"),
        (([0, 0], [0, 0], None, True), "n_classes"),
    ],
)
def test_classification_misuse(args, match):
    with pytest.raises(MetricsError, match=match):
        classification_metrics(*args)


def test_errors_are_value_errors_of_the_application():
    with pytest.raises(ValueError) as caught:
        regression_metrics([1.0, np.inf], [1.0, 2.0])
    assert isinstance(caught.value, EdssError)
    assert "edss_true must be finite, found inf" in str(caught.value)
    with pytest.raises(MetricsError, match="edss_pred has 1 entries but edss_true has 2"):
        regression_metrics([1.0, 2.0], [1.0])


def test_integral_float_labels_are_accepted():
    assert classification_metrics([0.0, 1.0], [0, 1], None, 2)["accuracy"] == 1.0


# --- baselines -------------------------------------------------------------------------------


def synthetic_cohort(rng, n, n_classes):
    """Patients whose first clinical feature tracks the class; the second is noise."""
    labels = rng.choice(n_classes, n, p=[0.6, 0.4] if n_classes == 2 else None)
    clinical = np.column_stack([labels + rng.normal(0, 0.5, n), rng.normal(0, 1, n)])
    extra = labels * 0.5 + rng.normal(0, 1, n)
    return clinical, labels, extra


@pytest.mark.parametrize("n_classes", [2, 3])
def test_baselines_on_a_small_synthetic_set(n_classes):
    rng = np.random.default_rng(20 + n_classes)
    train_x, train_y, train_extra = synthetic_cohort(rng, 120, n_classes)
    test_x, test_y, test_extra = synthetic_cohort(rng, 60, n_classes)
    result = baselines(
        train_x, train_y, test_x, test_y, n_classes, train_extra, test_extra, n_boot=100
    )
    assert set(result) == {"majority", "logistic"}
    majority = result["majority"]
    most_frequent = int(np.argmax(np.bincount(train_y, minlength=n_classes)))
    expected = np.mean(test_y == most_frequent)
    assert majority["accuracy"]["value"] == pytest.approx(expected)
    assert majority["balanced_accuracy"]["value"] == pytest.approx(1 / n_classes)
    assert majority["auc"]["value"] == pytest.approx(0.5)
    logistic = result["logistic"]
    assert logistic["balanced_accuracy"]["value"] > 0.6
    assert logistic["auc"]["value"] > 0.75
    assert logistic["accuracy"]["low"] <= logistic["accuracy"]["value"]
    assert logistic["accuracy"]["value"] <= logistic["accuracy"]["high"]

    without_extra = baselines(train_x, train_y, test_x, test_y, n_classes, n_boot=20)
    assert without_extra["majority"]["accuracy"] == pytest.approx(
        baselines(train_x, train_y, test_x, test_y, n_classes, n_boot=20)["majority"]["accuracy"]
    )


def test_baselines_accept_one_feature_and_constant_columns():
    train_x = np.array([0.0, 0.2, 0.1, 1.0, 1.2, 0.9])
    train_y = np.array([0, 0, 0, 1, 1, 1])
    extra = np.ones(6)
    result = baselines(train_x, train_y, train_x, train_y, 2, extra, extra, n_boot=20)
    assert result["logistic"]["accuracy"]["value"] == 1.0


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"train_labels": np.zeros(10, int)}, "single class"),
        ({"train_extra": np.ones(10)}, "train_extra and test_extra must be given together"),
        ({"test_clinical": np.ones((6, 3))}, "training features have 2 columns"),
        ({"test_labels": np.zeros(5, int)}, "test_labels has 5 entries"),
        ({"train_clinical": np.full((10, 2), np.nan)}, "impute"),
        ({"test_labels": np.full(6, 4)}, "found 4"),
    ],
)
def test_baselines_misuse(change, match):
    rng = np.random.default_rng(0)
    args = {
        "train_clinical": rng.normal(size=(10, 2)),
        "train_labels": np.array([0, 1] * 5),
        "test_clinical": rng.normal(size=(6, 2)),
        "test_labels": np.array([0, 1] * 3),
        "n_classes": 2,
        "n_boot": 10,
    }
    args.update(change)
    with pytest.raises(MetricsError, match=match):
        baselines(**args)


# --- classes and agreement -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edss", "binary", "three_class"),
    [(0, 0, 0), (2.5, 0, 0), (3.0, 1, 1), (4.5, 1, 1), (5.5, 1, 1), (6.0, 1, 2), (10, 1, 2)],
)
def test_edss_to_class(edss, binary, three_class):
    assert edss_to_class(edss, "binary") == binary
    assert edss_to_class(edss, "three_class") == three_class
    assert edss_to_class(np.float32(edss), "three_class") == three_class
    assert len(CLASS_NAMES["binary"]) == 2
    assert len(CLASS_NAMES["three_class"]) == 3


@pytest.mark.parametrize(
    ("edss", "task", "match"),
    [
        (3.0, "regression", "task must be one of"),
        (-0.5, "binary", r"in \[0, 10\], got -0.5"),
        (10.5, "binary", "got 10.5"),
        (math.nan, "binary", "got nan"),
        (True, "binary", "got True"),
        ("3", "binary", "got '3'"),
    ],
)
def test_edss_to_class_misuse(edss, task, match):
    with pytest.raises(MetricsError, match=match):
        edss_to_class(edss, task)


def test_agreement():
    plain_scores = np.array([[0.1, 2.0], [1.5, -0.5], [0.0, 0.0]])
    encrypted_scores = plain_scores + np.array([[1e-4, -2e-4], [0.0, 3e-4], [-1e-4, 0.0]])
    result = agreement([1, 0, 0], [1, 0, 1], plain_scores, encrypted_scores)
    assert result["identical_label_fraction"] == pytest.approx(2 / 3)
    assert result["n_labels"] == 3
    assert result["n_identical_labels"] == 2
    assert result["max_abs_score_difference"] == pytest.approx(3e-4)
    assert result["mean_abs_score_difference"] == pytest.approx(7e-4 / 6)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([0, 1], [0], [1.0, 2.0], [1.0, 2.0]), "encrypted_labels has 1 entries"),
        (([0, 1], [0, 1], [1.0, 2.0], [1.0, 2.0, 3.0]), r"shape \(2,\) but encrypted_scores"),
        (([0, 1], [0, 1], [1.0, np.nan], [1.0, 2.0]), "plain_scores must be finite"),
        (([0, -2], [0, 1], [1.0, 2.0], [1.0, 2.0]), "found -2"),
    ],
)
def test_agreement_misuse(args, match):
    with pytest.raises(MetricsError, match=match):
        agreement(*args)
