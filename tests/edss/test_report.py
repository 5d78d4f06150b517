"""edss.report: both files written atomically, figures embedded, text escaped, JSON round trip."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from edss.errors import EdssError
from edss.metrics import CLASS_NAMES, agreement, baselines, metrics_with_intervals
from edss.report import HTML_NAME, JSON_NAME, ReportError, load_results, write_report

IMAGE = "data:image/png;base64,"


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def binary_results(n: int = 16) -> dict:
    """A complete binary run with plain Python values, so equality survives a JSON round trip."""
    rng = np.random.default_rng(0)
    edss = rng.choice(np.arange(0, 10.5, 0.5), n)
    labels = (edss >= 3).astype(int)
    plain_logits = np.column_stack([3 - edss, edss - 3]) + rng.normal(0, 1, (n, 2))
    encrypted_logits = plain_logits + rng.normal(0, 1e-4, (n, 2))
    plain, encrypted = softmax(plain_logits), softmax(encrypted_logits)
    plain_labels, encrypted_labels = plain.argmax(axis=1), encrypted.argmax(axis=1)
    clinical = edss[:, None] + rng.normal(0, 2, (n, 1))
    patients = [
        {
            "patient": "<script>" if i == 0 else f"P{i:02d}",
            "edss": float(edss[i]),
            "true_label": int(labels[i]),
            "plain_scores": plain[i].tolist(),
            "encrypted_scores": encrypted[i].tolist(),
            "plain_label": int(plain_labels[i]),
            "encrypted_label": int(encrypted_labels[i]),
        }
        for i in range(n)
    ]
    slices = [
        {
            "patient": patients[i]["patient"],
            "slice": f"axial-{j}",
            "plain_logits": (plain_logits[i] + j).tolist(),
            "encrypted_logits": (encrypted_logits[i] + j).tolist(),
        }
        for i in range(n)
        for j in range(2)
    ]
    return {
        "title": "Encrypted EDSS grading <test & run>",
        "data_note": "synthetic cohort made by the test (no citation)",
        "task": "binary",
        "classes": CLASS_NAMES["binary"],
        "metrics": {
            "plaintext": metrics_with_intervals(labels, plain_labels, plain, 2, n_boot=50),
            "encrypted": metrics_with_intervals(labels, encrypted_labels, encrypted, 2, n_boot=50),
        },
        "baselines": baselines(clinical, labels, clinical, labels, 2, n_boot=50),
        "agreement": agreement(plain_labels, encrypted_labels, plain_logits, encrypted_logits),
        "patients": patients,
        "slices": slices,
        "layers": [
            {"name": "conv1", "kind": "conv", "level": 9, "seconds": 1.25},
            {"name": "square", "kind": "activation", "level": 8, "seconds": 0.5},
            {"name": "fc", "kind": "linear", "level": 7, "seconds": 0.75},
        ],
        "parameters": {
            "ring_degree": 16384,
            "moduli_bits": [60, 40, 40, 40],
            "special_moduli_bits": [60],
            "depth": 3,
            "rotation_keys": 14,
            "key_bytes": 123_456_789,
        },
        "timings": {
            "train_seconds": 2.5,
            "compile_seconds": 1.0,
            "keygen_seconds": 3.0,
            "encrypted_seconds_per_slice": 4.5,
            "total_seconds": 80.0,
        },
        "notes": ["Scores <b>are</b> probabilities & logits are pre-softmax."],
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The full binary report, written once for the tests that only read it."""
    results = binary_results()
    folder = tmp_path_factory.mktemp("report")
    html_path, json_path = write_report(folder, results)
    return results, folder, html_path, json_path, html_path.read_text(encoding="utf-8")


def test_writes_both_files_and_nothing_else(written):
    _, folder, html_path, json_path, _ = written
    assert (html_path, json_path) == (folder / HTML_NAME, folder / JSON_NAME)
    assert sorted(os.listdir(folder)) == sorted([HTML_NAME, JSON_NAME])


def test_html_has_every_section_and_five_embedded_figures(written):
    *_, page = written
    for heading in (
        "Per-patient predictions",
        "Encrypted–plaintext agreement",
        "Confusion matrices",
        "Metrics with 95 % intervals",
        "Per-layer time and level",
        "Parameters and key sizes",
        "Timings",
        "Notes",
    ):
        assert f"<h2>{heading}</h2>" in page
    # Predictions, logit scatter, difference histogram, confusion matrices, layers.
    assert page.count(IMAGE) == 5
    assert "http://" not in page and "https://" not in page
    for column in ("plaintext model", "encrypted model", "majority baseline", "logistic baseline"):
        assert f"<th>{column}</th>" in page
    assert "123456789 (117.7 MiB)" in page
    assert "60, 40, 40, 40 (sum 180)" in page


def test_text_is_escaped(written):
    *_, page = written
    assert "<script>" not in page
    assert "<td>&lt;script&gt;</td>" in page
    assert "Encrypted EDSS grading &lt;test &amp; run&gt;" in page
    assert "Scores &lt;b&gt;are&lt;/b&gt; probabilities &amp; logits" in page
    assert "EDSS &lt; 3" in page


def test_json_round_trips(written):
    results, folder, _, json_path, _ = written
    assert load_results(json_path) == results
    assert load_results(folder) == results
    assert json.loads(json_path.read_text(encoding="utf-8")) == results


def test_numpy_values_are_converted(tmp_path):
    results = {
        "task": "binary",
        "agreement": {"identical_label_fraction": np.float64(1.0), "n_labels": np.int64(4)},
        "layers": [{"name": "fc", "kind": "linear", "level": np.int32(3), "seconds": 0.1}],
        "notes": ("a tuple",),
        "extra": np.arange(3),
    }
    _, json_path = write_report(tmp_path, results)
    loaded = load_results(json_path)
    assert loaded["agreement"] == {"identical_label_fraction": 1.0, "n_labels": 4}
    assert loaded["layers"][0]["level"] == 3
    assert loaded["notes"] == ["a tuple"]
    assert loaded["extra"] == [0, 1, 2]


def test_minimal_results_skip_missing_sections(tmp_path):
    html_path, json_path = write_report(tmp_path / "new" / "folder", {"title": "Only a title"})
    page = html_path.read_text(encoding="utf-8")
    assert "<h1>Only a title</h1>" in page
    assert IMAGE not in page
    assert "<h2>" not in page
    assert load_results(json_path) == {"title": "Only a title"}


def test_regression_report_has_no_confusion_matrix(tmp_path):
    truth = [1.0, 3.5, 6.0, 2.0]
    predicted = [1.5, 3.0, 5.0, 2.5]
    results = {
        "task": "regression",
        "metrics": {
            "plaintext": metrics_with_intervals(None, None, None, None, truth, predicted, n_boot=20)
        },
        "patients": [
            {"patient": f"R{i}", "edss": t, "plain_scores": [p], "encrypted_scores": [p + 1e-5]}
            for i, (t, p) in enumerate(zip(truth, predicted))
        ],
    }
    html_path, _ = write_report(tmp_path, results)
    page = html_path.read_text(encoding="utf-8")
    assert "Confusion matrices" not in page
    assert "<h2>Per-patient predictions</h2>" in page
    assert "MAE (EDSS points)" in page
    # Predictions, then the scatter and histogram of the patients' scores.
    assert page.count(IMAGE) == 3


def test_overwrites_and_leaves_no_temporary_files(tmp_path):
    write_report(tmp_path, {"title": "first"})
    html_path, json_path = write_report(tmp_path, {"title": "second", "notes": ["n"]})
    assert sorted(os.listdir(tmp_path)) == sorted([HTML_NAME, JSON_NAME])
    assert load_results(json_path)["title"] == "second"
    assert "<h1>second</h1>" in html_path.read_text(encoding="utf-8")


def test_failed_rename_leaves_the_old_files_and_no_temporary_file(tmp_path, monkeypatch):
    write_report(tmp_path, {"title": "kept"})

    def refuse(source, target):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="simulated"):
        write_report(tmp_path, {"title": "lost"})
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == sorted([HTML_NAME, JSON_NAME])
    assert load_results(tmp_path)["title"] == "kept"


def test_figures_do_not_stay_open(tmp_path):
    pyplot = pytest.importorskip("matplotlib.pyplot")
    before = pyplot.get_fignums()
    write_report(tmp_path, {"layers": [{"name": "a", "kind": "b", "level": 1, "seconds": 1.0}]})
    assert pyplot.get_fignums() == before


@pytest.mark.parametrize(
    ("results", "match"),
    [
        ({"task": "ranking"}, "results\\['task'\\] must be one of"),
        ({"patients": "P1"}, "results\\['patients'\\] must be a list"),
        ({"metrics": {"plaintext": 0.9}}, "results\\['metrics'\\]\\['plaintext'\\] must be a dict"),
        ({"agreement": {"max": float("nan")}}, "results\\['agreement'\\]\\['max'\\] is nan"),
        ({"timings": {"total_seconds": float("inf")}}, "is inf"),
        ({"notes": [object()]}, "results\\['notes'\\]\\[0\\] has type object"),
        ({"parameters": {1: 2}}, "key 1 of type int"),
        ({"patients": [{"plain_scores": ["high"]}]}, r"\['plain_scores'\]\[0\] must be a number"),
        ({"patients": [{"true_label": 1.5}]}, "'true_label'\\] must be an integer label"),
        ({"layers": [{"name": "fc", "level": 2}]}, "\\['seconds'\\] must be a number"),
        (
            {"slices": [{"plain_logits": [1.0, 2.0], "encrypted_logits": [1.0]}]},
            "2 plaintext logits but 1 encrypted",
        ),
    ],
)
def test_schema_violations_are_reported_and_nothing_is_written(tmp_path, results, match):
    with pytest.raises(ReportError, match=match):
        write_report(tmp_path / "out", results)
    assert not (tmp_path / "out").exists()


def test_results_must_be_a_dict_and_out_dir_a_folder(tmp_path):
    with pytest.raises(ReportError, match="results must be a dict, got list"):
        write_report(tmp_path, [])
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReportError, match="is not a folder"):
        write_report(blocker, {})


def test_load_results_reports_malformed_json(tmp_path):
    broken = tmp_path / "metrics.json"
    broken.write_text('{"title": "cut off', encoding="utf-8")
    with pytest.raises(ReportError, match="malformed JSON at line 1") as caught:
        load_results(broken)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, EdssError)
    broken.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ReportError, match="holds a JSON list"):
        load_results(broken)
    broken.write_bytes(b'{"title": "\xff"}')
    with pytest.raises(ReportError, match="not UTF-8"):
        load_results(broken)
    with pytest.raises(FileNotFoundError):
        load_results(tmp_path / "absent.json")
