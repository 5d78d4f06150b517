"""A self-contained HTML report and a JSON record of one encrypted EDSS grading run.

:func:`write_report` writes ``report.html`` (every figure embedded as a base64 PNG, nothing
fetched from elsewhere) and ``metrics.json`` (the whole ``results`` dict, so the data behind
every figure stays available); :func:`load_results` reads ``metrics.json`` back.

Schema of ``results`` (every key optional; a section whose data is missing is left out)::

    title         str, the heading of the report.
    data_note     str, which data the run used (real, built-in sample or synthetic) and its
                  citation.
    task          "binary", "three_class" or "regression".
    classes       [str], class names indexed by label (e.g. metrics.CLASS_NAMES[task]).
    metrics       {"plaintext": m, "encrypted": m}, each m as metrics.metrics_with_intervals
                  returns: scalars as {"value", "low", "high"}, plus "confusion",
                  "per_class_recall", "n_patients", "interval_level".
    baselines     {"majority": m, "logistic": m}, as metrics.baselines returns.
    agreement     as metrics.agreement returns (identical_label_fraction, n_labels,
                  n_identical_labels, max_abs_score_difference, mean_abs_score_difference).
    patients      [{"patient": id, "edss": float or None, "true_label": int,
                    "plain_scores": [float], "encrypted_scores": [float],
                    "plain_label": int, "encrypted_label": int}]; for regression the scores
                  hold the predicted EDSS as their first entry.
    slices        [{"patient": id, "slice": name, "plain_logits": [float],
                    "encrypted_logits": [float]}]; the logit scatter and difference histogram
                  use these, or the patients' scores when no slices are given.
    layers        [{"name": str, "kind": str, "level": int, "seconds": float}].
    parameters    {"ring_degree": int, "moduli_bits": [int], "special_moduli_bits": [int],
                   "depth": int, "rotation_keys": int, "key_bytes": int}.
    timings       {"train_seconds", "compile_seconds", "keygen_seconds",
                   "encrypted_seconds_per_slice", "total_seconds"}: float.
    notes         [str].

Values must be JSON-serializable; numpy scalars and arrays are converted, tuples become
lists, and NaN or infinity is refused (write ``None`` for an undefined value) so that
``metrics.json`` is strict JSON. Figures are drawn on matplotlib ``Figure`` objects with the
Agg canvas, never through pyplot, and cleared once encoded, so no global figure state is left.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import json
import math
import os
from collections.abc import Iterator, Sequence
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from ckks.serialization import write_atomically
from edss.errors import EdssError

HTML_NAME = "report.html"
JSON_NAME = "metrics.json"
TASKS = ("binary", "three_class", "regression")

_METRIC_LABELS = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "macro_f1": "macro F1",
    "auc": "ROC AUC",
    "mae": "MAE (EDSS points)",
    "rmse": "RMSE (EDSS points)",
    "within_one_point": "within one EDSS point",
}
_MODEL_COLUMNS = (
    ("metrics", "plaintext", "plaintext model"),
    ("metrics", "encrypted", "encrypted model"),
    ("metrics", "plaintext, encrypted patients only", "plaintext, same patients as encrypted"),
    ("baselines", "majority", "majority baseline"),
    ("baselines", "logistic", "logistic baseline"),
)
_STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; }
th { background: #eee; }
img { max-width: 100%; }
.note { color: #555; }
"""


class ReportError(EdssError, ValueError):
    """``results`` do not follow the schema, cannot be written, or metrics.json is malformed."""


# --------------------------------------------------------------------------------------------
# Checks and JSON conversion


def _json_ready(value: object, where: str) -> object:
    """A copy of ``value`` made only of dict, list, str, int, float, bool and None."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist(), where)
    if isinstance(value, np.generic):
        return _json_ready(value.item(), where)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        number = float(value)
        if not math.isfinite(number):
            raise ReportError(
                f"write_report: {where} is {number}, which strict JSON cannot hold; "
                f"use None for an undefined value"
            )
        return number
    if isinstance(value, dict):
        converted = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ReportError(
                    f"write_report: {where} has the key {key!r} of type {type(key).__name__}; "
                    f"keys must be strings to survive a JSON round trip"
                )
            converted[key] = _json_ready(item, f"{where}[{key!r}]")
        return converted
    if isinstance(value, (list, tuple)):
        return [_json_ready(item, f"{where}[{index}]") for index, item in enumerate(value)]
    raise ReportError(
        f"write_report: {where} has type {type(value).__name__}, which is not JSON-serializable"
    )


def _expect(value: object, kind: type | tuple[type, ...], where: str, what: str) -> None:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ReportError(f"write_report: {where} must be {what}, got {value!r:.80}")


def _expect_numbers(value: object, where: str) -> None:
    _expect(value, list, where, "a list of numbers")
    for index, item in enumerate(value):
        _expect(item, (int, float), f"{where}[{index}]", "a number")


def _check_schema(results: dict) -> None:
    """Check the parts of ``results`` that the report reads; the rest is only stored."""
    task = results.get("task")
    if task is not None and task not in TASKS:
        raise ReportError(f"write_report: results['task'] must be one of {TASKS}, got {task!r}")
    for key in ("title", "data_note"):
        if results.get(key) is not None:
            _expect(results[key], str, f"results[{key!r}]", "a string")
    for key in ("classes", "notes", "patients", "slices", "layers"):
        if results.get(key) is not None:
            _expect(results[key], list, f"results[{key!r}]", "a list")
    for key in ("metrics", "baselines", "agreement", "parameters", "timings"):
        if results.get(key) is not None:
            _expect(results[key], dict, f"results[{key!r}]", "a dict")
    for key in ("metrics", "baselines"):
        for name, block in (results.get(key) or {}).items():
            _expect(block, dict, f"results[{key!r}][{name!r}]", "a dict of metrics")

    for index, patient in enumerate(results.get("patients") or []):
        where = f"results['patients'][{index}]"
        _expect(patient, dict, where, "a dict")
        for key in ("plain_scores", "encrypted_scores"):
            if patient.get(key) is not None:
                _expect_numbers(patient[key], f"{where}[{key!r}]")
        for key in ("true_label", "plain_label", "encrypted_label"):
            if patient.get(key) is not None:
                _expect(patient[key], int, f"{where}[{key!r}]", "an integer label")
        if patient.get("edss") is not None:
            _expect(patient["edss"], (int, float), f"{where}['edss']", "a number or None")
    for index, item in enumerate(results.get("slices") or []):
        where = f"results['slices'][{index}]"
        _expect(item, dict, where, "a dict")
        for key in ("plain_logits", "encrypted_logits"):
            _expect_numbers(item.get(key), f"{where}[{key!r}]")
        if len(item["plain_logits"]) != len(item["encrypted_logits"]):
            raise ReportError(
                f"write_report: {where} has {len(item['plain_logits'])} plaintext logits but "
                f"{len(item['encrypted_logits'])} encrypted ones; pass the same outputs"
            )
    for index, layer in enumerate(results.get("layers") or []):
        where = f"results['layers'][{index}]"
        _expect(layer, dict, where, "a dict")
        _expect(layer.get("seconds"), (int, float), f"{where}['seconds']", "a number")
        _expect(layer.get("level"), int, f"{where}['level']", "an integer")


# --------------------------------------------------------------------------------------------
# Figures


@contextlib.contextmanager
def _figure(width: float, height: float, columns: int = 1, rows: int = 1, **share) -> Iterator:
    """A matplotlib figure on the Agg canvas (no pyplot) and its flat axes; cleared on exit."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False, **share).ravel()
    try:
        yield figure, axes
    finally:
        figure.clear()


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{encoded}">'


def _legend(axis) -> None:
    if axis.get_legend_handles_labels()[0]:
        axis.legend(loc="best", fontsize="small")


def _class_name(label: object, classes: Sequence[str]) -> str:
    if isinstance(label, int) and 0 <= label < len(classes):
        return str(classes[label])
    return "—" if label is None else str(label)


def _predictions_png(patients: list[dict], classes: list[str], regression: bool) -> str:
    positions = np.arange(len(patients))
    names = [str(p.get("patient", index)) for index, p in enumerate(patients)]
    edss = [(i, p["edss"]) for i, p in enumerate(patients) if p.get("edss") is not None]
    width = min(14.0, 4.0 + 0.25 * len(patients))
    rows = 1 if regression else 2
    with _figure(width, 2.5 + 2.5 * rows, rows=rows, sharex=True) as (fig, axes):
        top = axes[0]
        if edss:
            top.plot(*np.transpose(edss), "ks", label="true EDSS")
        if regression:
            for key, marker, label in (
                ("plain_scores", "o", "plaintext"),
                ("encrypted_scores", "x", "encrypted"),
            ):
                points = [(i, p[key][0]) for i, p in enumerate(patients) if p.get(key)]
                if points:
                    top.plot(*np.transpose(points), marker, linestyle="none", label=label)
        top.set_ylabel("EDSS")
        _legend(top)
        if not regression:
            bottom = axes[1]
            for key, marker, label, size in (
                ("true_label", "s", "true class", 10),
                ("plain_label", "o", "plaintext", 7),
                ("encrypted_label", "x", "encrypted", 7),
            ):
                points = [(i, p[key]) for i, p in enumerate(patients) if p.get(key) is not None]
                if points:
                    bottom.plot(
                        *np.transpose(points),
                        marker,
                        markersize=size,
                        fillstyle="none",
                        label=label,
                    )
            labels = [p.get(k) for p in patients for k in ("true_label", "plain_label")]
            count = max([len(classes)] + [label + 1 for label in labels if label is not None])
            bottom.set_yticks(range(count), [_class_name(c, classes) for c in range(count)])
            bottom.set_ylim(-0.5, max(count, 1) - 0.5)
            bottom.set_ylabel("predicted class")
            _legend(bottom)
        # The x axis is shared: ticks set on the bottom panel hold for both.
        axes[-1].set_xticks(positions, names if len(names) <= 60 else [""] * len(names))
        axes[-1].tick_params(axis="x", labelrotation=90, labelsize="small")
        axes[-1].set_xlabel("patient")
        return _png(fig)


def _confusion_png(matrices: list[tuple[str, list[list[int]]]], classes: list[str]) -> str:
    with _figure(4.2 * len(matrices), 3.8, columns=len(matrices)) as (fig, axes):
        fig.subplots_adjust(wspace=0.6)
        for axis, (title, matrix) in zip(axes, matrices, strict=True):
            counts = np.asarray(matrix)
            labels = classes if len(classes) == counts.shape[0] else range(counts.shape[0])
            axis.imshow(counts, cmap="Blues")
            for (row, column), count in np.ndenumerate(counts):
                colour = "white" if count > counts.max() / 2 else "black"
                axis.text(column, row, str(count), ha="center", va="center", color=colour)
            axis.set_xticks(range(counts.shape[1]), labels, fontsize="small")
            axis.set_yticks(range(counts.shape[0]), labels, fontsize="small")
            axis.set_xlabel("predicted")
            axis.set_ylabel("true")
            axis.set_title(title)
        return _png(fig)


def _logit_pairs(results: dict) -> tuple[np.ndarray, np.ndarray, str]:
    """Plaintext and encrypted outputs flattened, and the name of their source."""
    slices = results.get("slices") or []
    if slices:
        plain = [v for s in slices for v in s["plain_logits"]]
        encrypted = [v for s in slices for v in s["encrypted_logits"]]
        return np.asarray(plain, float), np.asarray(encrypted, float), "slice logits"
    plain, encrypted = [], []
    for patient in results.get("patients") or []:
        left, right = patient.get("plain_scores"), patient.get("encrypted_scores")
        if left and right and len(left) == len(right):
            plain += left
            encrypted += right
    return np.asarray(plain, float), np.asarray(encrypted, float), "patient scores"


def _scatter_png(plain: np.ndarray, encrypted: np.ndarray, source: str) -> str:
    with _figure(4.5, 4.2) as (fig, axes):
        axis = axes[0]
        low, high = min(plain.min(), encrypted.min()), max(plain.max(), encrypted.max())
        margin = 0.05 * (high - low) or 1.0
        line = [low - margin, high + margin]
        axis.plot(line, line, color="grey", linewidth=1, label="y = x")
        axis.plot(plain, encrypted, ".", alpha=0.6, label=source)
        axis.set_xlabel("plaintext")
        axis.set_ylabel("encrypted (decrypted)")
        _legend(axis)
        return _png(fig)


def _histogram_png(difference: np.ndarray) -> str:
    with _figure(5.0, 3.5) as (fig, axes):
        axis = axes[0]
        axis.hist(difference, bins=min(50, max(5, difference.size // 4)), color="tab:orange")
        axis.set_xlabel("encrypted − plaintext")
        axis.set_ylabel("count")
        axis.ticklabel_format(axis="x", style="sci", scilimits=(-3, 3))
        return _png(fig)


def _layers_png(layers: list[dict]) -> str:
    names = [
        f"{layer.get('name', index)} ({layer.get('kind', '?')})"
        for index, layer in enumerate(layers)
    ]
    positions = np.arange(len(layers))
    with _figure(11.0, 1.5 + 0.3 * len(layers), columns=2, sharey=True) as (fig, axes):
        axes[0].barh(positions, [layer["seconds"] for layer in layers], color="tab:blue")
        axes[0].set_xlabel("seconds")
        axes[1].barh(positions, [layer["level"] for layer in layers], color="tab:green")
        axes[1].set_xlabel("level")
        # The y axis is shared: label it once, and invert it once.
        axes[0].set_yticks(positions, names, fontsize="small")
        axes[0].invert_yaxis()
        return _png(fig)


# --------------------------------------------------------------------------------------------
# HTML sections


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _number(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _e(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table; ``header`` is escaped here, cells must already be HTML."""
    head = "".join(f"<th>{_e(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{_e(title)}</h2>{''.join(parts)}</section>"


def _scores(values: object) -> str:
    if not values:
        return "—"
    return ", ".join(_number(v) for v in values)


def _patients_section(results: dict, classes: list[str], regression: bool) -> str:
    patients = results.get("patients") or []
    if not patients:
        return ""
    rows = []
    for patient in patients:
        plain, encrypted = patient.get("plain_label"), patient.get("encrypted_label")
        same = (
            "—" if plain is None or encrypted is None else ("yes" if plain == encrypted else "NO")
        )
        rows.append(
            [
                _e(patient.get("patient", "—")),
                _number(patient.get("edss")),
                _e(_class_name(patient.get("true_label"), classes)),
                f"{_e(_class_name(plain, classes))} ({_scores(patient.get('plain_scores'))})",
                f"{_e(_class_name(encrypted, classes))} "
                f"({_scores(patient.get('encrypted_scores'))})",
                same,
            ]
        )
    header = ["patient", "true EDSS", "true class", "plaintext (scores)", "encrypted (scores)"]
    return _section(
        "Per-patient predictions",
        _predictions_png(patients, classes, regression),
        _table([*header, "identical label"], rows),
    )


def _agreement_section(results: dict) -> str:
    parts = []
    agreement = results.get("agreement") or {}
    if agreement:
        rows = [[_e(key.replace("_", " ")), _number(value)] for key, value in agreement.items()]
        parts.append(_table(["measure", "value"], rows))
    plain, encrypted, source = _logit_pairs(results)
    if plain.size:
        difference = encrypted - plain
        parts.append(
            f"<p>Over {plain.size} {_e(source)}: max |encrypted − plaintext| = "
            f"{_number(float(np.abs(difference).max()))}, mean = "
            f"{_number(float(np.abs(difference).mean()))}.</p>"
        )
        parts.append(_scatter_png(plain, encrypted, source))
        parts.append(_histogram_png(difference))
    return _section("Encrypted–plaintext agreement", *parts) if parts else ""


def _confusion_section(results: dict, classes: list[str]) -> str:
    metrics = results.get("metrics") or {}
    matrices = [
        (name, metrics[name]["confusion"])
        for name in ("plaintext", "encrypted")
        if isinstance(metrics.get(name), dict) and metrics[name].get("confusion")
    ]
    if not matrices:
        return ""
    return _section("Confusion matrices", _confusion_png(matrices, classes))


def _metric_cell(entry: object) -> str:
    if isinstance(entry, dict):
        value = _number(entry.get("value"))
        if entry.get("low") is None or entry.get("high") is None:
            return value
        return f"{value} [{_number(entry['low'])}, {_number(entry['high'])}]"
    if isinstance(entry, list):
        return ", ".join(_number(v) for v in entry)
    return _number(entry)


def _metrics_section(results: dict, classes: list[str]) -> str:
    columns = [
        (heading, results[group][name])
        for group, name, heading in _MODEL_COLUMNS
        if isinstance(results.get(group), dict) and isinstance(results[group].get(name), dict)
    ]
    if not columns:
        return ""
    levels = [block.get("interval_level") for _, block in columns]
    level = next((v for v in levels if isinstance(v, (int, float))), 0.95)
    names = [name for name in _METRIC_LABELS if any(name in block for _, block in columns)]
    names += sorted(
        {key for _, block in columns for key, v in block.items() if isinstance(v, dict)}
        - set(names)
    )
    rows = [
        [_e(_METRIC_LABELS.get(name, name))]
        + [_metric_cell(block.get(name)) for _, block in columns]
        for name in names
    ]
    for index, class_name in enumerate(classes):
        cells = []
        for _, block in columns:
            recall = block.get("per_class_recall")
            cells.append(
                _number(recall[index]) if isinstance(recall, list) and index < len(recall) else "—"
            )
        rows.append([_e(f"recall of {class_name}"), *cells])
    percent = f"{100 * level:g} %"
    return _section(
        f"Metrics with {percent} intervals",
        f"<p class='note'>Value [{_e(percent)} patient-bootstrap interval].</p>",
        _table(["metric", *[heading for heading, _ in columns]], rows),
    )


def _layers_section(results: dict) -> str:
    layers = results.get("layers") or []
    if not layers:
        return ""
    rows = [
        [
            _e(layer.get("name", "—")),
            _e(layer.get("kind", "—")),
            _number(layer.get("level")),
            _number(layer.get("seconds")),
        ]
        for layer in layers
    ]
    return _section(
        "Per-layer time and level",
        _layers_png(layers),
        _table(["layer", "kind", "level", "seconds"], rows),
    )


def _parameters_section(results: dict) -> str:
    parameters = results.get("parameters") or {}
    if not parameters:
        return ""
    rows = []
    for key, value in parameters.items():
        if isinstance(value, list):
            total = sum(v for v in value if isinstance(v, (int, float)))
            cell = f"{_scores(value)} (sum {_number(total)})" if value else "—"
        elif key == "key_bytes" and isinstance(value, int):
            cell = f"{value} ({value / 2**20:.1f} MiB)"
        else:
            cell = _number(value)
        rows.append([_e(key.replace("_", " ")), cell])
    return _section("Parameters and key sizes", _table(["parameter", "value"], rows))


def _timings_section(results: dict) -> str:
    timings = results.get("timings") or {}
    if not timings:
        return ""
    rows = [[_e(key.replace("_", " ")), _number(value)] for key, value in timings.items()]
    return _section("Timings", _table(["step", "seconds"], rows))


def _notes_section(results: dict) -> str:
    notes = results.get("notes") or []
    if not notes:
        return ""
    return _section("Notes", "<ul>" + "".join(f"<li>{_e(note)}</li>" for note in notes) + "</ul>")


def _render_html(results: dict) -> str:
    task = results.get("task")
    regression = task == "regression"
    classes = [str(name) for name in results.get("classes") or []]
    title = results.get("title") or "Encrypted EDSS grading"
    header = [f"<h1>{_e(title)}</h1>"]
    if results.get("data_note"):
        header.append(f"<p><strong>Data:</strong> {_e(results['data_note'])}</p>")
    if task:
        described = f"{task} ({', '.join(classes)})" if classes else task
        header.append(f"<p><strong>Task:</strong> {_e(described)}</p>")
    sections = [
        _patients_section(results, classes, regression),
        _agreement_section(results),
        "" if regression else _confusion_section(results, classes),
        _metrics_section(results, classes),
        _layers_section(results),
        _parameters_section(results),
        _timings_section(results),
        _notes_section(results),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(header + [s for s in sections if s])
        + "\n</body></html>\n"
    )


# --------------------------------------------------------------------------------------------
# Files


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` through a temporary file and a rename, owner-readable (patient data)."""
    write_atomically(path, text.encode("utf-8"), private=True)


def write_report(out_dir: str | os.PathLike, results: dict) -> tuple[Path, Path]:
    """Write ``report.html`` and ``metrics.json`` for one run into ``out_dir``.

    Both files are rendered in memory first, then each is written to a temporary file in
    ``out_dir`` and renamed over its target, so a reader never sees a partial file and a
    failure leaves no half-written output. Like any ``mkstemp`` file they are readable by
    their owner only, since they may hold patient data.

    Args:
        out_dir: folder to write into; created when missing.
        results: the run, as described in the module docstring.

    Returns:
        The paths of ``report.html`` and ``metrics.json``.

    Raises:
        ReportError: ``results`` is not a dict, breaks the schema, holds a value JSON cannot
            represent (NaN, infinity, a non-string key, an arbitrary object), or ``out_dir``
            is not a folder.
    """
    if not isinstance(results, dict):
        raise ReportError(f"write_report: results must be a dict, got {type(results).__name__}")
    ready = _json_ready(results, "results")
    _check_schema(ready)
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise ReportError(f"write_report: out_dir {str(folder)!r} exists and is not a folder")

    json_text = json.dumps(ready, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    html_text = _render_html(ready)
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = folder / JSON_NAME, folder / HTML_NAME
    _atomic_write(json_path, json_text)
    _atomic_write(html_path, html_text)
    return html_path, json_path


def load_results(path: str | os.PathLike) -> dict:
    """Read a ``metrics.json`` written by :func:`write_report`.

    Args:
        path: the file, or the folder that holds it.

    Returns:
        The ``results`` dict.

    Raises:
        FileNotFoundError: the file does not exist.
        ReportError: the file is not valid UTF-8 JSON, or holds something other than an object.
    """
    file = Path(path)
    if file.is_dir():
        file = file / JSON_NAME
    try:
        results = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ReportError(
            f"load_results: {str(file)!r} is malformed JSON at line {error.lineno}, "
            f"column {error.colno}: {error.msg}"
        ) from None
    except UnicodeDecodeError as error:
        raise ReportError(f"load_results: {str(file)!r} is not UTF-8 text ({error})") from None
    if not isinstance(results, dict):
        raise ReportError(
            f"load_results: {str(file)!r} holds a JSON {type(results).__name__}, "
            f"not the results object"
        )
    return results
