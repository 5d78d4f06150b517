"""The whole evaluation: patient folds, training, plaintext and encrypted inference, metrics,
baselines and the report.

Splits are by patient, never by slice. Every held-out patient's slices and clinical record go
through ``henn`` as client and server (or the first ``encrypted_limit`` of them); plaintext and
encrypted outputs are compared per slice and per patient.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch

from edss.encrypted import compile_model, run_encrypted
from edss.errors import DataError
from edss.metrics import CLASS_NAMES, agreement, metrics_with_intervals
from edss.report import write_report
from edss.training import (
    edss_label,
    patient_folds,
    patient_scores,
    slice_data,
    slice_scores,
    train_model,
)

log = logging.getLogger("edss.pipeline")


def _baseline_predictions(cohort, volumes, labels, folds, task, seed):
    """Out-of-fold predictions of the majority class and of logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    features = cohort.clinical_matrix().astype(np.float64)
    if volumes:
        extra = np.array([np.log1p(volumes.get(p.patient_id, 0.0)) for p in cohort.patients])
        features = np.column_stack([features, extra])
    n = len(labels)
    classes = len(CLASS_NAMES[task])
    majority = np.zeros((n, classes))
    logistic = np.zeros((n, classes))
    for test in folds:
        train = np.setdiff1d(np.arange(n), test)
        counts = np.bincount(labels[train], minlength=classes)
        majority[test, int(np.argmax(counts))] = 1.0
        scaler = StandardScaler().fit(features[train])
        if len(np.unique(labels[train])) < 2:
            logistic[test] = majority[test]
            continue
        model = LogisticRegression(class_weight="balanced", max_iter=2000, random_state=seed)
        model.fit(scaler.transform(features[train]), labels[train])
        probabilities = model.predict_proba(scaler.transform(features[test]))
        logistic[np.ix_(test, model.classes_)] = probabilities
    return majority, logistic


def evaluate_cohort(
    cohort,
    volumes: dict | None,
    out_dir,
    task: str = "binary",
    folds: int = 3,
    epochs: int = 60,
    seed: int = 0,
    encrypted_limit: int | None = None,
    progress: bool = False,
    title: str = "Encrypted EDSS grading",
    data_note: str = "",
    n_boot: int = 1000,
):
    """Cross-validate, run the held-out patients encrypted, and write the report.

    Returns:
        (results dict, path of report.html, path of metrics.json).
    """
    if task == "regression":
        raise NotImplementedError(
            "evaluate_cohort reports classification tasks; for EDSS regression train with "
            "`edss train --task regression` (see docs/limitations.md L4)"
        )
    started = time.perf_counter()
    cohort = cohort.with_edss()
    patients = cohort.patients
    if folds < 2:
        raise DataError.about("--folds", "at least 2 patient folds", str(folds))
    if len(patients) < folds or any(p.slices is None or len(p.slices) == 0 for p in patients):
        raise DataError.about(
            data_note or "the data",
            f"at least {folds} patients with EDSS and image slices (one per fold)",
            f"{len(patients)} patient(s) with EDSS"
            + (
                ""
                if all(p.slices is not None and len(p.slices) for p in patients)
                else ", some without slices"
            ),
            "a slice folder needs an EDSS per patient: a table or clinical CSV with an edss column",
        )
    labels = np.array([edss_label(p.edss, task) for p in patients])
    fold_indices = patient_folds(labels, folds, seed) if folds > 1 else None
    if fold_indices is None:
        raise ValueError(f"folds must be at least 2, got {folds}")
    classes = len(CLASS_NAMES[task])
    plain_patient = np.zeros((len(patients), classes))
    encrypted_patient = np.full((len(patients), classes), np.nan)
    slice_rows, layers, timings = (
        [],
        [],
        {"train_seconds": 0.0, "compile_seconds": 0.0, "keygen_seconds": 0.0},
    )
    encrypted_done = 0
    compiled = None
    seconds_per_slice = []
    for fold, test in enumerate(fold_indices):
        train = np.setdiff1d(np.arange(len(patients)), test)
        train_data = slice_data(patients, cohort.feature_names, task, train)
        test_data = slice_data(patients, cohort.feature_names, task, test)
        tick = time.perf_counter()
        model = train_model(
            train_data,
            len(cohort.feature_names),
            task,
            epochs=epochs,
            seed=seed + fold,
            image_size=train_data.images.shape[-1],
            progress=progress,
        )
        timings["train_seconds"] += time.perf_counter() - tick
        with torch.no_grad():
            plain = model(test_data.images, test_data.clinical)
        for index, scores in patient_scores(slice_scores(plain, task), test_data.owner).items():
            plain_patient[index] = scores
        budget = None if encrypted_limit is None else encrypted_limit - encrypted_done
        chosen = test if budget is None else test[: max(0, budget)]
        if len(chosen) == 0:
            continue
        tick = time.perf_counter()
        compiled = compile_model(model, train_data.images, train_data.clinical)
        timings["compile_seconds"] += time.perf_counter() - tick
        selected = np.isin(test_data.owner, chosen)
        run = run_encrypted(
            compiled,
            model,
            test_data.images[selected],
            test_data.clinical[selected],
            progress=progress,
        )
        timings["keygen_seconds"] += run.timings["keygen_seconds"]
        seconds_per_slice.append(run.timings["encrypted_seconds_per_slice"])
        layers = run.layers
        owners = test_data.owner[selected]
        names = [n for n, s in zip(test_data.names, selected, strict=True) if s]
        encrypted_scores = slice_scores(torch.tensor(run.outputs), task)
        for index, scores in patient_scores(encrypted_scores, owners).items():
            encrypted_patient[index] = scores
        for k in range(len(owners)):
            slice_rows.append(
                {
                    "patient": patients[owners[k]].patient_id,
                    "slice": names[k],
                    "plain_logits": run.plain_outputs[k].tolist(),
                    "encrypted_logits": run.outputs[k].tolist(),
                }
            )
        encrypted_done += len(chosen)
        log.info("fold %d: %d test patients, %d encrypted", fold, len(test), len(chosen))

    done = ~np.isnan(encrypted_patient[:, 0])
    results = _results(
        cohort,
        volumes,
        task,
        labels,
        fold_indices,
        plain_patient,
        encrypted_patient,
        done,
        slice_rows,
        layers,
        compiled,
        timings,
        seconds_per_slice,
        seed,
        n_boot,
    )
    results["title"] = title
    results["data_note"] = data_note
    results["timings"]["total_seconds"] = time.perf_counter() - started
    html, metrics = write_report(out_dir, results)
    return results, html, metrics


def _results(
    cohort,
    volumes,
    task,
    labels,
    folds,
    plain,
    encrypted,
    done,
    slice_rows,
    layers,
    compiled,
    timings,
    seconds_per_slice,
    seed,
    n_boot,
) -> dict:
    classes = len(CLASS_NAMES[task])
    patients = cohort.patients
    plain_labels = plain.argmax(axis=1)
    metrics = {
        "plaintext": metrics_with_intervals(
            labels, plain_labels, plain, classes, n_boot=n_boot, seed=seed
        )
    }
    if done.any():
        encrypted_labels = encrypted[done].argmax(axis=1)
        metrics["encrypted"] = metrics_with_intervals(
            labels[done], encrypted_labels, encrypted[done], classes, n_boot=n_boot, seed=seed
        )
        if not done.all():  # the same patients in plaintext, for a like-for-like comparison
            metrics["plaintext, encrypted patients only"] = metrics_with_intervals(
                labels[done], plain_labels[done], plain[done], classes, n_boot=n_boot, seed=seed
            )
    majority, logistic = _baseline_predictions(cohort, volumes, labels, folds, task, seed)
    baselines = {
        name: metrics_with_intervals(
            labels, scores.argmax(axis=1), scores, classes, n_boot=n_boot, seed=seed
        )
        for name, scores in (("majority", majority), ("logistic", logistic))
    }
    slice_plain = np.array([r["plain_logits"] for r in slice_rows])
    slice_encrypted = np.array([r["encrypted_logits"] for r in slice_rows])
    agree = (
        agreement(slice_plain.argmax(1), slice_encrypted.argmax(1), slice_plain, slice_encrypted)
        if slice_rows
        else {}
    )
    rows = []
    for index, patient in enumerate(patients):
        rows.append(
            {
                "patient": patient.patient_id,
                "edss": patient.edss,
                "true_label": int(labels[index]),
                "plain_scores": plain[index].tolist(),
                "encrypted_scores": encrypted[index].tolist() if done[index] else None,
                "plain_label": int(plain_labels[index]),
                "encrypted_label": int(encrypted[index].argmax()) if done[index] else None,
            }
        )
    parameters = {}
    if compiled is not None:
        p = compiled.params
        parameters = {
            "ring_degree": p.ring_degree,
            "moduli_bits": list(p.moduli_bits),
            "special_moduli_bits": list(p.special_moduli_bits),
            "depth": compiled.depth,
            "rotation_keys": len(compiled.rotation_steps),
            "key_bytes": int(compiled.key_bytes),
            "precision_bits": compiled.precision_bits,
        }
    timings = dict(timings)
    if seconds_per_slice:
        timings["encrypted_seconds_per_slice"] = float(np.mean(seconds_per_slice))
    notes = [
        *cohort.notes,
        f"{len(patients)} patients with EDSS, {len(folds)}-fold cross-validation by patient "
        f"(no patient on both sides), seed {seed}; {int(done.sum())} patients evaluated "
        f"encrypted",
        "honest caveat: with this few patients the intervals are wide; the numbers describe "
        "this cohort, not clinical performance",
    ]
    plain_accuracy = metrics["plaintext"]["accuracy"]["value"]
    majority_accuracy = baselines["majority"]["accuracy"]["value"]
    if plain_accuracy is not None and plain_accuracy <= majority_accuracy:
        notes.append(
            f"the model does not beat the majority-class baseline on this cohort (accuracy "
            f"{plain_accuracy:.2f} vs {majority_accuracy:.2f}): the encrypted pipeline is exact, "
            f"the signal in {len(patients)} patients is weak"
        )
    return {
        "task": task,
        "classes": CLASS_NAMES[task],
        "metrics": metrics,
        "baselines": baselines,
        "agreement": agree,
        "patients": rows,
        "slices": slice_rows,
        "layers": layers,
        "parameters": parameters,
        "timings": timings,
        "notes": notes,
    }
