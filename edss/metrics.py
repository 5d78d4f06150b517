"""Metrics of EDSS grading: classification, regression, patient bootstrap, baselines, agreement.

Every metric is computed here with numpy (the tests check them against ``sklearn.metrics``).
The statistical unit is the patient: each array passed in holds one row per patient, and the
bootstrap resamples patients with replacement, never slices, so that slices of one patient never
inflate the apparent sample size.

Undefined values (the AUC when a class is absent, a recall of a class without patients) are
``None`` so that every result is JSON-serializable as is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from numbers import Integral, Real

import numpy as np

from edss.errors import EdssError

CLASS_NAMES: dict[str, list[str]] = {
    "binary": ["EDSS < 3", "EDSS ≥ 3"],
    "three_class": ["EDSS < 3", "EDSS 3–5.5", "EDSS ≥ 6"],
}

CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "auc")
REGRESSION_METRICS = ("mae", "rmse", "within_one_point")

# Absolute slack on the one-point EDSS window, so that 1.0 computed as 3.1 − 2.1 still counts.
_WITHIN_ONE_POINT_SLACK = 1e-9


class MetricsError(EdssError, ValueError):
    """Inputs of a metric are inconsistent: lengths, label range, non-finite values, settings."""


# --------------------------------------------------------------------------------------------
# Input checks


def _check_n_classes(operation: str, n_classes: object) -> int:
    if isinstance(n_classes, bool) or not isinstance(n_classes, Integral) or n_classes < 2:
        raise MetricsError(
            f"{operation}: n_classes must be an integer of at least 2, got {n_classes!r}"
        )
    return int(n_classes)


def _check_labels(operation: str, name: str, labels: object, n_classes: int | None) -> np.ndarray:
    """Return ``labels`` as a 1-D int64 array; floats are accepted when they are integral."""
    array = np.asarray(labels)
    if array.ndim != 1 or array.size == 0:
        raise MetricsError(
            f"{operation}: {name} must be a non-empty 1-D sequence of class labels, "
            f"got shape {array.shape}"
        )
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            bad = array[~np.isfinite(array) | (array != np.round(array))][0].item()
            raise MetricsError(f"{operation}: {name} must hold integer labels, found {bad!r}")
    elif array.dtype.kind not in "iu":
        raise MetricsError(f"{operation}: {name} must hold integer labels, got dtype {array.dtype}")
    array = array.astype(np.int64)
    outside = (array < 0) if n_classes is None else (array < 0) | (array >= n_classes)
    if np.any(outside):
        allowed = "≥ 0" if n_classes is None else f"in 0..{n_classes - 1}"
        raise MetricsError(
            f"{operation}: {name} must hold labels {allowed}, found {int(array[outside][0])}"
        )
    return array


def _check_real(operation: str, name: str, values: object, ndim: tuple[int, ...]) -> np.ndarray:
    """Return ``values`` as a finite float64 array of one of the dimensions ``ndim``."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise MetricsError(
            f"{operation}: {name} must be a rectangular array of real numbers ({error})"
        ) from None
    if array.ndim not in ndim or array.size == 0:
        dims = " or ".join(f"{d}-D" for d in ndim)
        raise MetricsError(
            f"{operation}: {name} must be a non-empty {dims} array, got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        bad = array[~np.isfinite(array)][0].item()
        raise MetricsError(
            f"{operation}: {name} must be finite, found {bad!r}; drop or impute such entries"
        )
    return array


def _check_same_length(operation: str, reference: tuple[str, int], *others: tuple[str, int]):
    ref_name, ref_length = reference
    for name, length in others:
        if length != ref_length:
            raise MetricsError(
                f"{operation}: {name} has {length} entries but {ref_name} has {ref_length}; "
                f"pass one entry per patient"
            )


def _check_probabilities(
    operation: str, probabilities: object, n_classes: int, n_rows: int
) -> np.ndarray | None:
    """Return the scores as (n, n_classes), or as 1-D positive-class scores when binary."""
    if probabilities is None:
        return None
    allowed = (1, 2) if n_classes == 2 else (2,)
    scores = _check_real(operation, "probabilities", probabilities, allowed)
    _check_same_length(operation, ("y_true", n_rows), ("probabilities", scores.shape[0]))
    if scores.ndim == 2 and scores.shape[1] != n_classes:
        raise MetricsError(
            f"{operation}: probabilities must have one column per class ({n_classes}), "
            f"got shape {scores.shape}"
        )
    return scores


def _check_bootstrap_settings(operation: str, n_boot: object, seed: object, level: object):
    if isinstance(n_boot, bool) or not isinstance(n_boot, Integral) or n_boot < 1:
        raise MetricsError(f"{operation}: n_boot must be a positive integer, got {n_boot!r}")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise MetricsError(f"{operation}: seed must be a non-negative integer, got {seed!r}")
    if (
        isinstance(level, bool)
        or not isinstance(level, Real)
        or not math.isfinite(level)
        or not 0 < level < 1
    ):
        raise MetricsError(
            f"{operation}: level must lie strictly between 0 and 1 (e.g. 0.95), got {level!r}"
        )


# --------------------------------------------------------------------------------------------
# Unchecked kernels (inputs already validated)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``; tied values share the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.concatenate(([0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1))
    ends = np.concatenate((starts[1:], [values.size]))
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def _roc_auc(is_positive: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC as the Mann–Whitney statistic; ``None`` when one of the two groups is empty."""
    n_positive = int(is_positive.sum())
    n_negative = is_positive.size - n_positive
    if n_positive == 0 or n_negative == 0:
        return None
    rank_sum = float(_average_ranks(scores)[is_positive].sum())
    return (rank_sum - n_positive * (n_positive + 1) / 2.0) / (n_positive * n_negative)


def _classification_values(
    y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None, n_classes: int
) -> dict:
    confusion = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    confusion = confusion.reshape(n_classes, n_classes)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    hits = np.diag(confusion)

    present = support > 0
    recall = hits / np.maximum(support, 1)
    seen = present | (predicted > 0)
    f1 = 2.0 * hits / np.maximum(support + predicted, 1)

    auc = None
    if scores is not None and np.all(present):
        if n_classes == 2:
            positive_scores = scores if scores.ndim == 1 else scores[:, 1]
            auc = _roc_auc(y_true == 1, positive_scores)
        else:
            per_class = [_roc_auc(y_true == c, scores[:, c]) for c in range(n_classes)]
            auc = float(np.mean(per_class))

    return {
        "accuracy": float(hits.sum() / y_true.size),
        "balanced_accuracy": float(recall[present].mean()),
        "macro_f1": float(f1[seen].mean()),
        "per_class_recall": [float(r) if p else None for r, p in zip(recall, present, strict=True)],
        "auc": auc,
        "confusion": confusion.tolist(),
    }


def _regression_values(edss_true: np.ndarray, edss_pred: np.ndarray) -> dict:
    error = np.abs(edss_pred - edss_true)
    return {
        "mae": float(error.mean()),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "within_one_point": float(np.mean(error <= 1.0 + _WITHIN_ONE_POINT_SLACK)),
    }


def _bootstrap(
    columns: dict[str, np.ndarray],
    n_rows: int,
    compute: Callable[[dict[str, np.ndarray]], Mapping[str, object]],
    n_boot: int,
    seed: int,
    level: float,
) -> dict[str, tuple[float | None, float | None]]:
    """Percentile intervals of every scalar ``compute`` returns, over patient resamples."""
    rng = np.random.default_rng(seed)
    collected: dict[str, list[float]] = {}
    for _ in range(n_boot):
        rows = rng.integers(0, n_rows, size=n_rows)
        values = compute({name: column[rows] for name, column in columns.items()})
        for name, value in values.items():
            kept = collected.setdefault(name, [])
            if value is None:
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise MetricsError(
                    f"bootstrap_intervals: metric {name!r} must return a real number or None, "
                    f"got {type(value).__name__}"
                ) from None
            if math.isfinite(number):
                kept.append(number)

    tail = (1.0 - level) / 2.0
    intervals = {}
    for name, kept in collected.items():
        if kept:
            low, high = np.quantile(np.asarray(kept), [tail, 1.0 - tail])
            intervals[name] = (float(low), float(high))
        else:
            intervals[name] = (None, None)
    return intervals


def _as_patient_column(operation: str, name: str, values: object) -> np.ndarray:
    try:
        column = np.asarray(values)
    except ValueError:
        # Ragged rows (e.g. a list of slices per patient): keep each row as one object.
        column = np.empty(len(values), dtype=object)
        column[:] = list(values)
    if column.ndim == 0:
        raise MetricsError(
            f"{operation}: per_patient[{name!r}] must be a sequence with one row per patient, "
            f"got {type(values).__name__}"
        )
    return column


# --------------------------------------------------------------------------------------------
# Public API


def classification_metrics(
    y_true: object, y_pred: object, probabilities: object, n_classes: int
) -> dict:
    """Classification metrics of one prediction per patient.

    Args:
        y_true: true class labels, one per patient, in ``0..n_classes-1``.
        y_pred: predicted class labels, same length and range.
        probabilities: class scores of shape (patients, n_classes); for two classes a 1-D array
            of positive-class scores is also accepted. Only their order matters (the AUC is a
            rank statistic), so they need not sum to one. ``None`` leaves the AUC undefined.
        n_classes: number of classes, at least 2.

    Returns:
        ``accuracy``; ``balanced_accuracy`` (mean recall over the classes present in
        ``y_true``); ``macro_f1`` (mean F1 over the classes present in ``y_true`` or
        ``y_pred``); ``per_class_recall`` (a list, ``None`` for a class without patients);
        ``auc`` (binary: ROC AUC of the positive-class score; more classes: the macro mean of
        one-vs-rest AUCs; ``None`` when a class is absent from ``y_true`` or no scores were
        given); ``confusion`` (rows: true class, columns: predicted class).

    Raises:
        MetricsError: lengths differ, a label lies outside the class range, scores are not
            finite or have the wrong shape, or ``n_classes`` is not an integer ≥ 2.
    """
    operation = "classification_metrics"
    n_classes = _check_n_classes(operation, n_classes)
    truth = _check_labels(operation, "y_true", y_true, n_classes)
    predicted = _check_labels(operation, "y_pred", y_pred, n_classes)
    _check_same_length(operation, ("y_true", truth.size), ("y_pred", predicted.size))
    scores = _check_probabilities(operation, probabilities, n_classes, truth.size)

    return _classification_values(truth, predicted, scores, n_classes)


def regression_metrics(edss_true: object, edss_pred: object) -> dict:
    """Errors of predicted EDSS scores, one per patient.

    Args:
        edss_true: true EDSS scores.
        edss_pred: predicted EDSS scores, same length.

    Returns:
        ``mae`` (mean absolute error), ``rmse`` (root mean squared error) and
        ``within_one_point`` (fraction of patients with an absolute error of at most one point).

    Raises:
        MetricsError: lengths differ, an input is empty, not 1-D or not finite.
    """
    operation = "regression_metrics"
    truth = _check_real(operation, "edss_true", edss_true, (1,))
    predicted = _check_real(operation, "edss_pred", edss_pred, (1,))
    _check_same_length(operation, ("edss_true", truth.size), ("edss_pred", predicted.size))

    return _regression_values(truth, predicted)


def bootstrap_intervals(
    per_patient: Mapping[str, object],
    metric: Callable[[dict[str, np.ndarray]], float | None],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval of a metric, resampling patients with replacement.

    Args:
        per_patient: named arrays whose first axis indexes patients (all of one length), e.g.
            ``{"y_true": ..., "y_pred": ...}``. Rows may be arrays themselves (scores) or
            ragged lists (slices of one patient); a resample always keeps a patient's row whole.
        metric: called with a dict of the same names holding one resample; returns a real
            number, or ``None`` (or NaN) where the metric is undefined on that resample.
        n_boot: number of resamples.
        seed: seed of the generator; equal seeds give equal intervals.
        level: coverage of the interval, e.g. 0.95 for the 2.5th–97.5th percentiles.

    Returns:
        ``(low, high)`` over the resamples where the metric is defined, or ``(None, None)``
        when it is defined on none.

    Raises:
        MetricsError: ``per_patient`` is empty or its arrays differ in length, ``metric`` is
            not callable or returns something other than a number or None, or a setting is
            out of range.
    """
    operation = "bootstrap_intervals"
    if not isinstance(per_patient, Mapping) or not per_patient:
        raise MetricsError(
            f"{operation}: per_patient must be a non-empty dict of per-patient arrays, "
            f"got {type(per_patient).__name__}"
        )
    if not callable(metric):
        raise MetricsError(f"{operation}: metric must be callable, got {type(metric).__name__}")
    _check_bootstrap_settings(operation, n_boot, seed, level)
    columns = {
        name: _as_patient_column(operation, name, values) for name, values in per_patient.items()
    }
    lengths = {name: len(column) for name, column in columns.items()}
    first = next(iter(lengths.items()))
    _check_same_length(operation, first, *lengths.items())
    if first[1] == 0:
        raise MetricsError(f"{operation}: per_patient arrays hold no patients")

    def compute(sample: dict[str, np.ndarray]) -> dict[str, object]:
        return {"metric": metric(sample)}

    return _bootstrap(columns, first[1], compute, n_boot, seed, level)["metric"]


def metrics_with_intervals(
    y_true: object,
    y_pred: object,
    probabilities: object,
    n_classes: int | None,
    edss_true: object = None,
    edss_pred: object = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict:
    """Classification and regression metrics, each scalar with a patient-bootstrap interval.

    All resamples are shared between the metrics. Pass ``y_true = y_pred = None`` (and
    ``n_classes = None``) for a regression-only result, or leave ``edss_true`` and
    ``edss_pred`` out for a classification-only one.

    Args:
        y_true, y_pred, probabilities, n_classes: as in :func:`classification_metrics`.
        edss_true, edss_pred: as in :func:`regression_metrics`; both or neither.
        n_boot, seed, level: as in :func:`bootstrap_intervals`.

    Returns:
        Each scalar metric (``accuracy``, ``balanced_accuracy``, ``macro_f1``, ``auc``,
        ``mae``, ``rmse``, ``within_one_point``, those that apply) as
        ``{"value", "low", "high"}`` (``None`` where undefined); ``per_class_recall`` and
        ``confusion`` as plain values; ``n_patients``; ``interval_level``.

    Raises:
        MetricsError: as the functions above, or when neither labels nor EDSS scores are given
            or only one of a pair is.
    """
    operation = "metrics_with_intervals"
    has_labels = y_true is not None or y_pred is not None
    has_edss = edss_true is not None or edss_pred is not None
    if not has_labels and not has_edss:
        raise MetricsError(f"{operation}: pass y_true and y_pred, edss_true and edss_pred, or both")
    _check_bootstrap_settings(operation, n_boot, seed, level)
    columns: dict[str, np.ndarray] = {}
    lengths: list[tuple[str, int]] = []
    if has_labels:
        if y_true is None or y_pred is None:
            raise MetricsError(f"{operation}: y_true and y_pred must be given together")
        n_classes = _check_n_classes(operation, n_classes)
        columns["y_true"] = _check_labels(operation, "y_true", y_true, n_classes)
        columns["y_pred"] = _check_labels(operation, "y_pred", y_pred, n_classes)
        lengths += [("y_true", columns["y_true"].size), ("y_pred", columns["y_pred"].size)]
        scores = _check_probabilities(operation, probabilities, n_classes, columns["y_true"].size)
        if scores is not None:
            columns["scores"] = scores
    if has_edss:
        if edss_true is None or edss_pred is None:
            raise MetricsError(f"{operation}: edss_true and edss_pred must be given together")
        columns["edss_true"] = _check_real(operation, "edss_true", edss_true, (1,))
        columns["edss_pred"] = _check_real(operation, "edss_pred", edss_pred, (1,))
        lengths += [("edss_true", columns["edss_true"].size)]
        lengths += [("edss_pred", columns["edss_pred"].size)]
    _check_same_length(operation, lengths[0], *lengths[1:])

    def compute(sample: dict[str, np.ndarray]) -> dict:
        values = {}
        if has_labels:
            values.update(
                _classification_values(
                    sample["y_true"], sample["y_pred"], sample.get("scores"), n_classes
                )
            )
        if has_edss:
            values.update(_regression_values(sample["edss_true"], sample["edss_pred"]))
        return values

    point = compute(columns)
    scalar_names = list(CLASSIFICATION_METRICS if has_labels else ())
    scalar_names += list(REGRESSION_METRICS if has_edss else ())

    def compute_scalars(sample: dict[str, np.ndarray]) -> dict:
        values = compute(sample)
        return {name: values[name] for name in scalar_names}

    intervals = _bootstrap(columns, lengths[0][1], compute_scalars, n_boot, seed, level)
    result: dict = {}
    for name in scalar_names:
        low, high = intervals[name]
        result[name] = {"value": point[name], "low": low, "high": high}
    if has_labels:
        result["per_class_recall"] = point["per_class_recall"]
        result["confusion"] = point["confusion"]
    result["n_patients"] = lengths[0][1]
    result["interval_level"] = float(level)
    return result


def _feature_matrix(operation: str, prefix: str, clinical: object, extra: object) -> np.ndarray:
    features = _check_real(operation, f"{prefix}_clinical", clinical, (1, 2))
    if features.ndim == 1:
        features = features[:, None]
    if extra is not None:
        columns = _check_real(operation, f"{prefix}_extra", extra, (1, 2))
        if columns.ndim == 1:
            columns = columns[:, None]
        _check_same_length(
            operation,
            (f"{prefix}_clinical", features.shape[0]),
            (f"{prefix}_extra", columns.shape[0]),
        )
        features = np.hstack((features, columns))
    return features


def baselines(
    train_clinical: object,
    train_labels: object,
    test_clinical: object,
    test_labels: object,
    n_classes: int,
    train_extra: object = None,
    test_extra: object = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict:
    """Two reference classifiers that an encrypted model should beat, scored on the test set.

    ``majority`` predicts the most frequent training class (the smallest label on a tie) with
    the training class frequencies as scores. ``logistic`` is a class-balanced logistic
    regression on the clinical features, plus the optional extra columns (e.g. log lesion
    volume), each standardized with the training mean and standard deviation.

    Args:
        train_clinical: training features, shape (patients, features) or (patients,).
        train_labels: training class labels in ``0..n_classes-1``.
        test_clinical: test features with the same columns.
        test_labels: test class labels.
        n_classes: number of classes, at least 2.
        train_extra, test_extra: optional extra feature columns; both or neither.
        n_boot, seed: as in :func:`bootstrap_intervals`.

    Returns:
        ``{"majority": ..., "logistic": ...}``, each as :func:`metrics_with_intervals` returns.

    Raises:
        MetricsError: inputs are inconsistent (lengths, column counts, label range, non-finite
            features), only one of the extra columns is given, or the training labels hold a
            single class.
    """
    from sklearn.linear_model import LogisticRegression

    operation = "baselines"
    n_classes = _check_n_classes(operation, n_classes)
    if (train_extra is None) != (test_extra is None):
        raise MetricsError(f"{operation}: train_extra and test_extra must be given together")
    train_x = _feature_matrix(operation, "train", train_clinical, train_extra)
    test_x = _feature_matrix(operation, "test", test_clinical, test_extra)
    train_y = _check_labels(operation, "train_labels", train_labels, n_classes)
    test_y = _check_labels(operation, "test_labels", test_labels, n_classes)
    _check_same_length(
        operation, ("train_clinical", train_x.shape[0]), ("train_labels", train_y.size)
    )
    _check_same_length(operation, ("test_clinical", test_x.shape[0]), ("test_labels", test_y.size))
    if train_x.shape[1] != test_x.shape[1]:
        raise MetricsError(
            f"{operation}: training features have {train_x.shape[1]} columns but test features "
            f"have {test_x.shape[1]}; pass the same clinical and extra columns to both"
        )
    counts = np.bincount(train_y, minlength=n_classes)
    if np.count_nonzero(counts) < 2:
        raise MetricsError(
            f"{operation}: train_labels hold a single class ({int(train_y[0])}); a classifier "
            f"needs patients of at least two classes"
        )

    majority = int(np.argmax(counts))
    majority_scores = np.tile(counts / counts.sum(), (test_y.size, 1))
    majority_pred = np.full(test_y.size, majority)

    mean = train_x.mean(axis=0)
    spread = train_x.std(axis=0)
    spread[spread == 0] = 1.0
    model = LogisticRegression(class_weight="balanced", max_iter=5000)
    model.fit((train_x - mean) / spread, train_y)
    logistic_scores = np.zeros((test_y.size, n_classes))
    logistic_scores[:, model.classes_] = model.predict_proba((test_x - mean) / spread)
    logistic_pred = np.argmax(logistic_scores, axis=1)

    return {
        "majority": metrics_with_intervals(
            test_y, majority_pred, majority_scores, n_classes, n_boot=n_boot, seed=seed
        ),
        "logistic": metrics_with_intervals(
            test_y, logistic_pred, logistic_scores, n_classes, n_boot=n_boot, seed=seed
        ),
    }


def edss_to_class(edss: float, task: str) -> int:
    """The class of an EDSS score for a classification task.

    Args:
        edss: EDSS score in [0, 10].
        task: ``"binary"`` (EDSS < 3 → 0, ≥ 3 → 1) or ``"three_class"`` (< 3 → 0,
            3 to 5.5 → 1, ≥ 6 → 2). The names of the classes are in :data:`CLASS_NAMES`.

    Returns:
        The class label.

    Raises:
        MetricsError: ``task`` is unknown, or ``edss`` is not a finite number in [0, 10].
    """
    if task not in CLASS_NAMES:
        raise MetricsError(
            f"edss_to_class: task must be one of {sorted(CLASS_NAMES)}, got {task!r}"
        )
    if isinstance(edss, bool) or not isinstance(edss, Real) or not 0 <= edss <= 10:
        raise MetricsError(f"edss_to_class: edss must be a number in [0, 10], got {edss!r}")

    if edss < 3:
        return 0
    if task == "binary" or edss < 6:
        return 1
    return 2


def agreement(
    plain_labels: object, encrypted_labels: object, plain_scores: object, encrypted_scores: object
) -> dict:
    """How closely encrypted inference reproduces plaintext inference.

    Args:
        plain_labels: labels predicted in plaintext.
        encrypted_labels: labels predicted from the decrypted encrypted outputs, same length.
        plain_scores: plaintext scores or logits, any rectangular shape.
        encrypted_scores: decrypted scores of the same shape.

    Returns:
        ``identical_label_fraction``, ``n_labels``, ``n_identical_labels``,
        ``max_abs_score_difference`` and ``mean_abs_score_difference``.

    Raises:
        MetricsError: label lengths or score shapes differ, labels are negative or not
            integers, or scores are not finite.
    """
    operation = "agreement"
    plain = _check_labels(operation, "plain_labels", plain_labels, None)
    encrypted = _check_labels(operation, "encrypted_labels", encrypted_labels, None)
    _check_same_length(
        operation, ("plain_labels", plain.size), ("encrypted_labels", encrypted.size)
    )
    plain_values = _check_real(operation, "plain_scores", plain_scores, (1, 2, 3))
    encrypted_values = _check_real(operation, "encrypted_scores", encrypted_scores, (1, 2, 3))
    if plain_values.shape != encrypted_values.shape:
        raise MetricsError(
            f"{operation}: plain_scores have shape {plain_values.shape} but encrypted_scores "
            f"have {encrypted_values.shape}; compare the same outputs"
        )

    identical = int(np.count_nonzero(plain == encrypted))
    difference = np.abs(encrypted_values - plain_values)
    return {
        "identical_label_fraction": identical / plain.size,
        "n_labels": int(plain.size),
        "n_identical_labels": identical,
        "max_abs_score_difference": float(difference.max()),
        "mean_abs_score_difference": float(difference.mean()),
    }
