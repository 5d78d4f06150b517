"""The edss command line: help, the built-in sample, an end-to-end run, bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edss.cli import build_parser, main
from edss.sample import load_sample


def test_help_lists_every_command_with_examples(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for command in (
        "demo",
        "evaluate",
        "train",
        "predict",
        "keygen",
        "encrypt",
        "infer",
        "decrypt",
        "report",
    ):
        assert command in text
    assert "examples:" in text


def test_each_command_has_help():
    parser = build_parser()
    actions = next(a for a in parser._actions if a.dest == "command")
    for name, sub in actions.choices.items():
        assert sub.format_help(), name
        assert "Example" in (sub.description or ""), name


def test_built_in_sample_is_small_real_data_with_a_licence():
    from importlib import resources

    cohort, volumes = load_sample()
    assert len(cohort.patients) == 30
    assert sum(p.edss is not None for p in cohort.patients) == 27
    assert all(p.slices.shape == (8, 32, 32) for p in cohort.patients)
    assert all(
        float(p.slices.min()) >= 0.0 and float(p.slices.max()) <= 1.0 for p in cohort.patients
    )
    assert len(volumes) == 30
    files = resources.files("edss.resources")
    assert files.joinpath("lesjak_sample.npz").read_bytes().__len__() <= 200_000
    assert "Lesjak" in files.joinpath("LICENSE-DATA.txt").read_text()


def test_evaluate_end_to_end_on_the_sample(tmp_path, capsys):
    """A short run of the whole path: train, compile, keys, encrypt, server, decrypt, report."""
    code = main(
        [
            "demo",
            "--out",
            str(tmp_path),
            "--epochs",
            "3",
            "--slices",
            "8",
            "--folds",
            "2",
            "--encrypted-patients",
            "2",
            "--bootstrap",
            "50",
            "--quiet",
        ]
    )
    assert code == 0
    results = json.loads((tmp_path / "metrics.json").read_text())
    assert (tmp_path / "report.html").read_text().count("data:image/png;base64") >= 3
    assert results["agreement"]["identical_label_fraction"] == 1.0
    encrypted = [p for p in results["patients"] if p["encrypted_scores"] is not None]
    assert len(encrypted) == 2
    for patient in encrypted:
        np.testing.assert_allclose(patient["encrypted_scores"], patient["plain_scores"], atol=0.01)
    assert "built-in sample" in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments",
    [
        ["evaluate", "--data", "{tmp}/empty", "--out", "{tmp}/out"],
        ["predict", "--model", "{tmp}/missing.pt", "--images", "{tmp}", "--out", "{tmp}/o"],
        ["report", "--metrics", "{tmp}/nothing.json", "--out", "{tmp}/o"],
    ],
    ids=["empty-folder", "missing-model", "missing-metrics"],
)
def test_bad_inputs_give_a_clear_error_and_exit_2(tmp_path, capsys, arguments):
    (tmp_path / "empty").mkdir()
    code = main([a.replace("{tmp}", str(tmp_path)) for a in arguments])
    assert code == 2
    error = capsys.readouterr().err
    assert "error:" in error and "Traceback" not in error
