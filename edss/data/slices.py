"""Loader of a folder of 2-D slice images (PNG or JPEG) grouped into patients.

Images are mapped to patients either by a CSV table (``file,patient[,edss]``) or by a regular
expression on the file name with a ``patient`` group. An optional clinical CSV keyed by
``patient`` adds numeric features and, through an ``edss`` column, the score.
"""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path

import numpy as np
from PIL import Image

from edss.data._tables import (
    check_width,
    column_positions,
    is_missing,
    natural_key,
    parse_number,
    read_csv,
    valid_edss,
)
from edss.data.cohort import Cohort, Patient
from edss.data.volumes import normalize_volume, resample_slice
from edss.errors import DataError, ParameterError

SOURCE = "slices"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
DEFAULT_RULE = r"(?P<patient>[^_]+)_"
_NUMERIC_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def read_grey_image(path: Path) -> np.ndarray:
    """Read an image file as a 2-D float32 array of grey levels (RGB by luminance).

    Args:
        path: a PNG or JPEG file.

    Returns:
        ``(H, W)`` float32 in the file's own range (0–255 for 8-bit, 0–65535 for 16-bit).

    Raises:
        DataError: the file cannot be opened or decoded as an image.
    """
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in _NUMERIC_MODES:
                array = np.asarray(image, dtype=np.float32)
            else:
                array = np.asarray(image.convert("L"), dtype=np.float32)
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError.about(
            path, "a readable PNG or JPEG image", f"{type(exc).__name__}: {exc}"
        ) from exc
    if array.ndim != 2 or 0 in array.shape:
        raise DataError.about(path, "a single 2-D image", f"an array of shape {array.shape}")
    return array


def _list_images(folder: Path, notes: list[str]) -> list[str]:
    if not folder.is_dir():
        found = "a file" if folder.exists() else "no such folder"
        raise DataError.about(folder, "a folder of slice images", found)
    entries = sorted((entry for entry in folder.iterdir()), key=lambda e: natural_key(e.name))
    files = [entry.name for entry in entries if entry.is_file()]
    images = [name for name in files if Path(name).suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise DataError.about(folder, "PNG or JPEG slice images", "an empty folder")
    if not images:
        raise DataError.about(
            folder,
            f"slice images with a suffix among {IMAGE_SUFFIXES}",
            f"only other files: {files[:10]}" + (" …" if len(files) > 10 else ""),
        )
    others = [name for name in files if name not in images]
    if others:
        notes.append(f"files that are not PNG/JPEG images, not read: {', '.join(others)}")
    return images


def _map_by_table(
    folder: Path, table: Path, images: list[str], notes: list[str]
) -> tuple[dict[str, list[str]], dict[str, float]]:
    what = "the slice table"
    header, rows = read_csv(table, what)
    columns = column_positions(table, header, ["file", "patient"], ["edss"], what)
    if not rows:
        raise DataError.about(table, f"{what} with at least one row", "a header only")
    available = set(images)
    groups: dict[str, list[str]] = {}
    edss: dict[str, float] = {}
    seen: dict[str, int] = {}
    absent: list[str] = []
    for row in rows:
        check_width(table, header, row, what)
        name = row.cells[columns["file"]].strip()
        patient = row.cells[columns["patient"]].strip()
        if not name or not patient:
            raise DataError.about(
                table, "a file name and a patient in every row", f"a blank at line {row.line}"
            )
        if name in seen:
            raise DataError.about(
                table, "each file once", f"{name!r} at lines {seen[name]} and {row.line}"
            )
        seen[name] = row.line
        if name not in available:
            absent.append(name)
            continue
        groups.setdefault(patient, []).append(name)
        if "edss" in columns:
            _merge_edss(table, edss, patient, row.cells[columns["edss"]], row.line)
    if absent:
        raise DataError.about(
            table,
            f"only file names of PNG/JPEG images in {folder}",
            f"{len(absent)} not there: {absent[:10]}" + (" …" if len(absent) > 10 else ""),
        )
    unlisted = [name for name in images if name not in seen]
    if unlisted:
        notes.append(f"images not in the slice table, not used: {', '.join(unlisted)}")
    return groups, edss


def _merge_edss(path: Path, edss: dict[str, float], patient: str, text: str, line: int) -> None:
    if is_missing(text):
        return
    value = parse_number(text)
    if value is None or not valid_edss(value):
        raise DataError.about(path, "an EDSS from 0 to 10 or blank", f"{text!r} at line {line}")
    if patient in edss and edss[patient] != value:
        raise DataError.about(
            path,
            f"one EDSS per patient for {patient!r}",
            f"{edss[patient]:g} and {value:g} (line {line})",
        )
    edss[patient] = value


def _map_by_rule(
    folder: Path, rule: str, images: list[str], notes: list[str]
) -> dict[str, list[str]]:
    try:
        pattern = re.compile(rule)
    except re.error as exc:
        raise ParameterError(
            f"load_slice_folder: rule {rule!r} is not a regular expression: {exc}"
        ) from exc
    if "patient" not in pattern.groupindex:
        raise ParameterError(
            f"load_slice_folder: rule must have a named group (?P<patient>...); found {rule!r}"
        )
    groups: dict[str, list[str]] = {}
    unmatched: list[str] = []
    for name in images:
        match = pattern.match(name)
        patient = match.group("patient") if match else None
        if not patient:
            unmatched.append(name)
            continue
        groups.setdefault(patient, []).append(name)
    if not groups:
        raise DataError.about(
            folder,
            f"image names that the rule {rule!r} maps to a patient",
            f"no match among {images[:10]}" + (" …" if len(images) > 10 else ""),
        )
    if unmatched:
        notes.append(f"images the rule {rule!r} does not match, not used: {', '.join(unmatched)}")
    return groups


def _read_clinical(
    path: Path, notes: list[str]
) -> tuple[list[str], dict[str, dict[str, float | None]], dict[str, float]]:
    what = "the clinical table"
    header, rows = read_csv(path, what)
    columns = column_positions(path, header, ["patient"], ["edss"], what)
    features = [
        name.strip()
        for index, name in enumerate(header)
        if index not in (columns["patient"], columns.get("edss"))
    ]
    if len(set(features)) != len(features) or "" in features:
        raise DataError.about(path, f"{what} with distinct, non-blank column names", f"{header}")

    values: dict[str, dict[str, float | None]] = {}
    edss: dict[str, float] = {}
    for row in rows:
        check_width(path, header, row, what)
        patient = row.cells[columns["patient"]].strip()
        if not patient:
            raise DataError.about(path, "a patient in every row", f"a blank at line {row.line}")
        if patient in values:
            raise DataError.about(
                path, "each patient once", f"{patient!r} again at line {row.line}"
            )
        entry: dict[str, float | None] = {}
        for index, name in enumerate(header):
            if index in (columns["patient"], columns.get("edss")):
                continue
            text = row.cells[index]
            if is_missing(text):
                entry[name.strip()] = None
                continue
            number = parse_number(text)
            if number is None:
                raise DataError.about(
                    path,
                    f"numbers in clinical column {name.strip()!r}",
                    f"{text!r} for patient {patient!r} at line {row.line}",
                    "Encode categories as numbers (e.g. sex_female 0/1) before loading.",
                )
            entry[name.strip()] = number
        values[patient] = entry
        if "edss" in columns:
            _merge_edss(path, edss, patient, row.cells[columns["edss"]], row.line)
    return features, values, edss


def load_slice_folder(
    folder: str | PathLike[str],
    table: str | PathLike[str] | None = None,
    rule: str = DEFAULT_RULE,
    image_size: int = 32,
    clinical: str | PathLike[str] | None = None,
) -> Cohort:
    """Load a folder of 2-D slices as a cohort, one patient per group of images.

    Each image is read as grey (RGB by luminance), the images of a patient are normalised
    together to [0, 1] (robust min–max over their non-zero pixels, as one volume) and each is
    area-averaged to ``image_size``; slices are ordered by file name, numbers by value.

    Args:
        folder: the folder of ``.png``/``.jpg``/``.jpeg`` files (other files are noted and
            skipped).
        table: a CSV with columns ``file``, ``patient`` and optionally ``edss``; images it
            does not list are noted and skipped. When None, ``rule`` is used.
        rule: a regular expression matched at the start of each file name whose group
            ``patient`` names the patient (default: the text before the first underscore).
        image_size: the side of each resampled slice.
        clinical: a CSV with a ``patient`` column, numeric feature columns and optionally
            ``edss``; a blank or N/A value becomes 0 with a note, a patient without a row
            gets all features 0 with a note.

    Returns:
        The cohort, ``image_kind="slice images"``, patients in natural order of their ids.
        EDSS comes from the table or the clinical CSV (None when neither gives it).

    Raises:
        ParameterError: ``rule`` is not a regular expression with a ``patient`` group, or
            ``image_size`` is not a positive integer.
        DataError: the folder is missing or empty or holds no PNG/JPEG; an image is
            unreadable; a table is missing, lacks a column, repeats a file or patient, lists
            a file not in the folder, has a non-numeric feature or an EDSS off the scale or
            two EDSS for one patient; the rule matches no file.
    """
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise ParameterError(
            f"load_slice_folder: image_size must be a positive integer; found {image_size!r}"
        )
    folder = Path(folder)
    notes: list[str] = []
    images = _list_images(folder, notes)

    edss: dict[str, float] = {}
    if table is not None:
        groups, edss = _map_by_table(folder, Path(table), images, notes)
    else:
        groups = _map_by_rule(folder, rule, images, notes)

    features: list[str] = []
    values: dict[str, dict[str, float | None]] = {}
    if clinical is not None:
        clinical = Path(clinical)
        features, values, clinical_edss = _read_clinical(clinical, notes)
        for patient, score in clinical_edss.items():
            if patient in edss and edss[patient] != score:
                raise DataError.about(
                    clinical,
                    f"the EDSS of patient {patient!r} given in the slice table ({edss[patient]:g})",
                    f"{score:g}",
                )
            edss[patient] = score
        without_images = sorted(set(values) - set(groups), key=natural_key)
        if without_images:
            notes.append("clinical rows without images, not loaded: " + ", ".join(without_images))

    patients: list[Patient] = []
    for patient_id in sorted(groups, key=natural_key):
        names = sorted(groups[patient_id], key=natural_key)
        arrays = [read_grey_image(folder / name) for name in names]
        flat = normalize_volume(np.concatenate([array.ravel() for array in arrays]))
        slices, start = [], 0
        for array in arrays:
            part = flat[start : start + array.size].reshape(array.shape)
            start += array.size
            slices.append(resample_slice(part, image_size))

        row = values.get(patient_id)
        if clinical is not None and row is None:
            notes.append(f"patient {patient_id!r} has no clinical row: all features set to 0")
        encoded: dict[str, float] = {}
        for name in features:
            value = None if row is None else row[name]
            if value is None and row is not None:
                notes.append(f"patient {patient_id!r}: {name} missing: set to 0")
            encoded[name] = 0.0 if value is None else float(value)
        patients.append(
            Patient(
                patient_id,
                edss.get(patient_id),
                encoded,
                np.stack(slices).astype(np.float32),
                SOURCE,
                names,
            )
        )

    counts = sorted({len(patient.slice_names) for patient in patients})
    if len(counts) > 1:
        notes.append(
            f"patients have different slice counts ({counts}): stack them per patient, or "
            "choose a common count before batching"
        )
    notes.append(
        f"images: grey slices normalised per patient to [0, 1] and area-averaged to "
        f"{image_size}×{image_size}"
    )
    return Cohort(patients, features, "slice images", notes)
