"""Loaders of the 60-patient MS dataset of Muslim et al. (2022): clinical table and images.

The clinical table keeps its original column names, typos included (``" Dose the patient has
Co-moroidity"``, ``"Cerebella"``); columns are matched by a normalised name that accepts
both the original and the corrected spelling, and every quirk met goes to the notes.

Published image layout::

    root/Patient-N/N-Flair.nii, N-T1.nii, N-T2.nii
    root/Patient-N/N-LesionSeg-Flair.nii, N-LesionSeg-T1.nii, N-LesionSeg-T2.nii
    root/<clinical table>.csv   (the published .xlsx, exported to CSV)
"""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path

from edss.data._tables import Row, is_missing, natural_key, parse_number, read_csv, valid_edss
from edss.data.cohort import Cohort, Patient
from edss.data.volumes import SLICE_METHODS, volume_slices
from edss.errors import DataError, ParameterError

SOURCE = "ms60"

# The 20 binary neurological findings: (canonical name, clean column name, accepted spellings).
FINDINGS = [
    ("pyramidal", "Pyramidal", ()),
    ("cerebellar", "Cerebellar", ("cerebella",)),
    ("brain_stem", "Brain stem", ()),
    ("sensory", "Sensory", ()),
    ("sphincters", "Sphincters", ()),
    ("visual", "Visual", ()),
    ("mental", "Mental", ()),
    ("speech", "Speech", ()),
    ("motor_system", "Motor System", ()),
    ("sensory_system", "Sensory System", ()),
    ("coordination", "Coordination", ()),
    ("gait", "Gait", ()),
    ("bowel_bladder", "Bowel and bladder function", ("bowelandbladder",)),
    ("mobility", "Mobility", ()),
    ("mental_state", "Mental State", ()),
    ("optic_discs", "Optic discs", ()),
    ("fields", "Fields", ()),
    ("nystagmus", "Nystagmus", ()),
    ("ocular_movement", "Ocular Movement", ()),
    ("swallowing", "Swallowing", ()),
]
_TIMING = "Does the time difference between MRI acquisition and EDSS < two months"
# Other columns: canonical name → (clean column name, accepted spellings, required).
_COLUMNS = {
    "id": ("ID", ("patientid", "patient"), True),
    "gender": ("Gender", ("sex",), True),
    "age": ("Age", (), True),
    "age_of_onset": ("Age of onset", ("onsetage",), True),
    "edss": ("EDSS", (), True),
    "mri_within_two_months": (_TIMING, (), False),
    "medication": ("Types of Medicines", ("typesofmedicine", "medication", "medicines"), True),
    "presenting_symptom": ("Presenting Symptom", ("presentingsymptoms",), True),
    "comorbidity": (
        "Does the patient have comorbidity",
        ("dosethepatienthascomoroidity", "doesthepatienthascomorbidity", "comorbidity"),
        True,
    ),
    "edss_cat": ("EDSS_cat", (), False),
}
for _name, _clean, _aliases in FINDINGS:
    _COLUMNS[_name] = (_clean, _aliases, True)

SYMPTOMS = ("motor", "sensory", "visual", "balance")
_SYMPTOM_SPELLINGS = {"motore": "motor", "vision": "visual", "sensation": "sensory"}
_NO_MEDICATION = frozenset({"", "no", "none", "n/a", "na", "nil", "-", "0"})

FEATURES = [
    "age_years/100",
    "onset_age_years/100",
    "duration_years/100",
    "sex_female",
    *(f"finding_{name}" for name, _, _ in FINDINGS),
    *(f"symptom_{name}" for name in SYMPTOMS),
    "symptom_other",
    "medication",
    "comorbidity",
]
MODALITIES = {
    "flair": "FLAIR",
    "t1": "T1",
    "t2": "T2",
    "lesionseg-flair": "lesion mask",
    "lesionseg-t1": "lesion mask",
    "lesionseg-t2": "lesion mask",
}
_PATIENT_FOLDER = re.compile(r"patient[-_ ]?(\d+)", re.IGNORECASE)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _match_columns(path: Path, header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Map canonical names to column positions; notes on odd spellings and unused columns."""
    lookup: dict[str, str] = {}
    for canonical, (clean, aliases, _) in _COLUMNS.items():
        for spelling in (_key(clean), *aliases):
            lookup[spelling] = canonical

    positions: dict[str, int] = {}
    notes: list[str] = []
    for index, raw in enumerate(header):
        key = _key(raw)
        canonical = lookup.get(key)
        if canonical is None and key.startswith("doesthetimedifference"):
            canonical = "mri_within_two_months"
        if canonical is None:
            notes.append(f"column {raw!r} not recognised: not used")
            continue
        if canonical in positions:
            raise DataError.about(
                path,
                f"one column for {_COLUMNS[canonical][0]!r}",
                f"{header[positions[canonical]]!r} and {raw!r}",
            )
        positions[canonical] = index
        clean = _COLUMNS[canonical][0]
        if raw != clean:
            reasons = []
            if raw != raw.strip():
                reasons.append("surrounding spaces")
            if raw.strip() != clean:
                reasons.append("spelling")
            notes.append(f"column {raw!r} read as {clean!r} ({' and '.join(reasons)})")

    missing = [
        _COLUMNS[name][0] for name, spec in _COLUMNS.items() if spec[2] and name not in positions
    ]
    if missing:
        raise DataError.about(
            path,
            "the MS60 clinical columns (ID, Gender, Age, Age of onset, EDSS, medication, "
            "presenting symptom, comorbidity and the 20 neurological findings)",
            f"no column for {missing} among {header}",
        )
    return positions, notes


def _yes_no(text: str) -> int | None:
    value = text.strip().lower()
    if value in ("yes", "y", "1", "1.0", "true"):
        return 1
    if value in ("no", "n", "0", "0.0", "false"):
        return 0
    return None


def _symptoms(text: str) -> tuple[list[str], list[str], list[str]]:
    """Split a presenting-symptom cell: (canonical parts, respelled parts, other parts)."""
    if is_missing(text):
        return [], [], []
    parts = [part.strip().lower() for part in re.split(r"[&,/;+]|\band\b", text)]
    found, respelled, other = [], [], []
    for part in filter(None, parts):
        if part in _SYMPTOM_SPELLINGS:
            respelled.append(part)
            part = _SYMPTOM_SPELLINGS[part]
        if part in SYMPTOMS:
            found.append(part)
        else:
            other.append(part)
    return found, respelled, other


def _edss_category(edss: float) -> int:
    return 0 if edss < 3.0 else (1 if edss <= 5.5 else 2)


def _unusable(row: Row, reason: str, label: str = "") -> tuple[None, list[str], list[str]]:
    who = f"{label} (line {row.line})" if label else f"row at line {row.line}"
    return None, [], [f"{who} kept out: {reason}"]


def _parse_row(
    row: Row, header: list[str], positions: dict[str, int]
) -> tuple[dict | None, list[str], list[str]]:
    """One table row as (record, notes on its quirks, []) or (None, [], reasons it is unusable)."""
    if len(row.cells) != len(header):
        return _unusable(row, f"{len(row.cells)} cells where the header has {len(header)}")
    cell = {name: row.cells[index].strip() for name, index in positions.items()}
    problems: list[str] = []
    notes: list[str] = []

    number = parse_number(cell["id"])
    if number is None or number != int(number) or number < 0:
        return _unusable(row, f"ID {cell['id']!r} is not a whole number")
    record: dict = {"id": int(number), "patient_id": f"Patient-{int(number)}"}
    label = record["patient_id"]

    for name in ("age", "age_of_onset"):
        value = parse_number(cell[name])
        if value is None or not 0.0 <= value < 120.0:
            problems.append(f"{_COLUMNS[name][0]} {cell[name]!r} is not an age in years")
        record[name] = value

    record["edss"] = None
    if is_missing(cell["edss"]):
        notes.append(f"{label}: EDSS missing ({cell['edss']!r}): kept with edss None")
    else:
        edss = parse_number(cell["edss"])
        if edss is None or not valid_edss(edss):
            problems.append(f"EDSS {cell['edss']!r} is not on the 0–10 scale")
        else:
            record["edss"] = edss
            if edss * 2 != int(edss * 2):
                notes.append(f"{label}: EDSS {edss} is not a multiple of 0.5: kept as given")

    for name, _, _ in FINDINGS:
        value = _yes_no(cell[name])
        if value is None:
            problems.append(f"{_COLUMNS[name][0]} {cell[name]!r} is not 0 or 1")
        record[name] = value
    comorbidity = _yes_no(cell["comorbidity"])
    if comorbidity is None:
        problems.append(f"comorbidity {cell['comorbidity']!r} is not Yes or No")
    record["comorbidity"] = comorbidity
    if problems:
        return _unusable(row, "; ".join(problems), label)

    gender = cell["gender"]
    record["gender"] = gender
    if gender.upper() in ("F", "FEMALE"):
        record["sex_female"] = 1.0
    elif gender.upper() in ("M", "MALE"):
        record["sex_female"] = 0.0
    else:
        record["sex_female"] = 0.5
        notes.append(f"{label}: gender {gender!r} is neither F nor M: sex_female will be 0.5")

    if record["age"] < record["age_of_onset"]:
        notes.append(
            f"{label}: age {record['age']:g} is below the age of onset "
            f"{record['age_of_onset']:g}: kept, disease duration set to 0"
        )
    record["duration"] = max(0.0, record["age"] - record["age_of_onset"])

    record["medication"] = cell["medication"]
    record["presenting_symptom"] = cell["presenting_symptom"]
    found, respelled, other = _symptoms(cell["presenting_symptom"])
    record["symptoms"] = found
    record["other_symptoms"] = other
    if respelled:
        notes.append(
            f"{label}: presenting symptom {cell['presenting_symptom']!r} has "
            + ", ".join(f"{part!r} read as {_SYMPTOM_SPELLINGS[part]!r}" for part in respelled)
        )
    if not found and not other:
        notes.append(f"{label}: presenting symptom empty: symptom features all 0")

    record["mri_within_two_months"] = None
    if "mri_within_two_months" in cell:
        record["mri_within_two_months"] = _yes_no(cell["mri_within_two_months"])
    record["edss_cat"] = None
    if "edss_cat" in cell and not is_missing(cell["edss_cat"]):
        category = parse_number(cell["edss_cat"])
        record["edss_cat"] = category
        if record["edss"] is not None and category != _edss_category(record["edss"]):
            notes.append(
                f"{label}: EDSS_cat {cell['edss_cat']!r} disagrees with EDSS {record['edss']}"
                f" (expected {_edss_category(record['edss'])}): EDSS kept"
            )
    return record, notes, []


def _read_rows(path: Path) -> tuple[list[str], list[Row]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix == ".xls":
        raise DataError.about(
            path,
            "the clinical table as CSV",
            "an old-format .xls spreadsheet",
            "Export the sheet to CSV (UTF-8) and pass that file.",
        )
    return read_csv(path, "the MS60 clinical table")


def _read_xlsx(path: Path) -> tuple[list[str], list[Row]]:
    if not path.is_file():
        raise DataError.about(path, "the MS60 clinical spreadsheet", "no such file")
    try:
        import openpyxl
    except ImportError:
        raise DataError.about(
            path,
            "the clinical table as CSV (openpyxl, which reads .xlsx, is not installed)",
            "an .xlsx spreadsheet",
            "Export the sheet to CSV (UTF-8) and pass that file, or install openpyxl.",
        ) from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        values = list(book.worksheets[0].iter_rows(values_only=True))
        book.close()
    except Exception as exc:  # openpyxl raises many types for a damaged archive
        raise DataError.about(
            path, "a readable .xlsx spreadsheet", f"{type(exc).__name__}: {exc}"
        ) from exc

    def text(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    rows = [
        Row(line, [text(value) for value in cells])
        for line, cells in enumerate(values, start=1)
        if any(text(value).strip() for value in cells)
    ]
    if not rows:
        raise DataError.about(path, "the MS60 clinical table with a header row", "an empty sheet")
    return rows[0].cells, rows[1:]


def load_ms60_table(path: str | PathLike[str]) -> tuple[list[dict], list[str]]:
    """Parse and check the MS60 clinical table, reporting each quirk.

    Every row is read. A row that cannot be used (an ID that is not a number, an age or
    finding that does not parse, an EDSS off the scale, a wrong cell count) is kept out and a
    note names it and says why. Usable rows with quirks are kept and noted: a gender other
    than F/M, an age below the age of onset, a respelled presenting symptom, an EDSS_cat that
    disagrees with the EDSS, a missing EDSS (kept as None).

    Args:
        path: the table as CSV (``.xlsx`` is read when openpyxl is installed).

    Returns:
        The usable rows and the notes. Each row is a dict with ``id`` (int), ``patient_id``
        (``"Patient-N"``, as the published folders), ``gender``, ``sex_female``, ``age``,
        ``age_of_onset``, ``duration`` (years, at least 0), ``edss`` (float or None),
        ``edss_cat``, ``mri_within_two_months`` (0/1/None), ``medication``,
        ``presenting_symptom``, ``symptoms`` (among motor, sensory, visual, balance),
        ``other_symptoms``, ``comorbidity`` (0/1) and the 20 findings (0/1) by the canonical
        names of :data:`FINDINGS`.

    Raises:
        DataError: the file is missing, unreadable, an .xlsx without openpyxl, lacks a
            needed column, repeats a column or an ID, or has no usable row.
    """
    path = Path(path)
    header, rows = _read_rows(path)
    positions, notes = _match_columns(path, header)
    if not rows:
        raise DataError.about(path, "the MS60 clinical table with patient rows", "a header only")

    records: list[dict] = []
    seen: dict[int, int] = {}
    for row in rows:
        record, row_notes, problems = _parse_row(row, header, positions)
        notes.extend(row_notes)
        if record is None:
            notes.extend(problems)
            continue
        if record["id"] in seen:
            raise DataError.about(
                path,
                "each ID once",
                f"ID {record['id']} at lines {seen[record['id']]} and {row.line}",
            )
        seen[record["id"]] = row.line
        records.append(record)
    if not records:
        raise DataError.about(path, "at least one usable patient row", "none (see the notes)")

    others = sorted({part for record in records for part in record["other_symptoms"]})
    if others:
        notes.append(
            "presenting symptoms outside motor/sensory/visual/balance counted as "
            "symptom_other: " + ", ".join(others)
        )
    late = [str(record["id"]) for record in records if record["mri_within_two_months"] == 0]
    if late:
        notes.append(
            f"EDSS and MRI more than two months apart for {len(late)} patient(s) "
            f"(IDs {', '.join(late)}): EDSS kept as given"
        )
    if "edss_cat" in positions:
        notes.append("column 'EDSS_cat' is derived from EDSS: checked, never used as a feature")
    return records, notes


def _encode(record: dict) -> dict[str, float]:
    clinical = {
        "age_years/100": record["age"] / 100.0,
        "onset_age_years/100": record["age_of_onset"] / 100.0,
        "duration_years/100": record["duration"] / 100.0,
        "sex_female": record["sex_female"],
    }
    for name, _, _ in FINDINGS:
        clinical[f"finding_{name}"] = float(record[name])
    for name in SYMPTOMS:
        clinical[f"symptom_{name}"] = float(name in record["symptoms"])
    clinical["symptom_other"] = float(bool(record["other_symptoms"]))
    clinical["medication"] = float(record["medication"].strip().lower() not in _NO_MEDICATION)
    clinical["comorbidity"] = float(record["comorbidity"])
    return clinical


def _constant_notes(cohort_patients: list[Patient]) -> list[str]:
    if len(cohort_patients) < 2:
        return []
    constant = [
        name
        for name in FEATURES
        if len({patient.clinical[name] for patient in cohort_patients}) == 1
    ]
    if not constant:
        return []
    return [
        "features with one value for every patient (carry no information): " + ", ".join(constant)
    ]


def _encoding_note() -> str:
    return (
        "features: ages and disease duration in years/100, sex_female (F 1, M 0, other 0.5), "
        "20 neurological findings 0/1, presenting symptom as motor/sensory/visual/balance/other "
        "indicators (a patient may have several), medication present, comorbidity"
    )


def ms60_cohort(path: str | PathLike[str]) -> Cohort:
    """The MS60 clinical table as a cohort without images.

    Args:
        path: the clinical table; see :func:`load_ms60_table`.

    Returns:
        One patient per usable row, the 31 features of :data:`FEATURES`, EDSS as given,
        ``image_kind="none"``.

    Raises:
        DataError: as :func:`load_ms60_table`.
    """
    records, notes = load_ms60_table(path)
    patients = [
        Patient(record["patient_id"], record["edss"], _encode(record), None, SOURCE)
        for record in records
    ]
    notes = [*notes, _encoding_note(), *_constant_notes(patients)]
    return Cohort(patients, list(FEATURES), "none", notes)


def _find_table(root: Path) -> Path:
    tables = sorted(root.glob("*.csv"))
    if len(tables) == 1:
        return tables[0]
    if len(tables) > 1:
        raise DataError.about(
            root,
            "one clinical table (.csv) beside the Patient-N folders",
            f"{len(tables)}: {[table.name for table in tables]}",
            "Pass the right one as table=.",
        )
    sheets = sorted([*root.glob("*.xlsx"), *root.glob("*.xls")])
    if len(sheets) == 1:
        return sheets[0]
    raise DataError.about(
        root,
        "the clinical table (.csv, or .xlsx with openpyxl) beside the Patient-N folders",
        f"{len(sheets)} spreadsheets and no CSV" if sheets else "none",
        "Export the spreadsheet to CSV and pass it as table=." if sheets else "",
    )


def _find_volume(folder: Path, number: int, modality: str) -> Path:
    wanted = {f"{number}-{modality}.nii".lower(), f"{number}-{modality}.nii.gz".lower()}
    for entry in sorted(folder.iterdir()):
        if entry.name.lower() in wanted and entry.is_file():
            return entry
    raise DataError.about(
        folder / f"{number}-{modality}.nii",
        f"the {modality} volume of patient {number}",
        "no such file; the folder holds " + str(sorted(entry.name for entry in folder.iterdir())),
    )


def load_ms60_folder(
    root: str | PathLike[str],
    image_size: int = 32,
    slices_per_patient: int = 4,
    modality: str = "Flair",
    selection: str = "even",
    table: str | PathLike[str] | None = None,
) -> Cohort:
    """Load the published MS60 folder: clinical features and axial slices per patient.

    Each ``Patient-N`` folder must hold ``N-<modality>.nii`` (or ``.nii.gz``); with
    ``selection="lesion"`` also the matching ``N-LesionSeg-<modality>.nii``. A folder without
    a usable table row, or a row without a folder, is left out with a note.

    Args:
        root: the folder holding the ``Patient-N`` folders and the clinical table.
        image_size: the side of each resampled slice.
        slices_per_patient: how many slices per patient.
        modality: ``"Flair"``, ``"T1"``, ``"T2"`` or a lesion mask ``"LesionSeg-Flair"``,
            ``"LesionSeg-T1"``, ``"LesionSeg-T2"`` (case does not matter).
        selection: ``"even"`` or ``"lesion"``; see :func:`edss.data.volumes.select_slices`.
        table: the clinical table; by default the single ``.csv`` (or ``.xlsx``) in ``root``.

    Returns:
        The cohort with the features of :func:`ms60_cohort`.

    Raises:
        ParameterError: an argument is out of range.
        DataError: the folder, the table, a volume or a needed mask is missing or
            unreadable; several candidate tables; an .xlsx without openpyxl; a volume has
            fewer slices than asked or its mask does not match it.
    """
    key = modality.lower()
    if key not in MODALITIES:
        raise ParameterError(
            "load_ms60_folder: modality must be one of Flair, T1, T2, LesionSeg-Flair, "
            f"LesionSeg-T1, LesionSeg-T2; found {modality!r}"
        )
    if selection not in SLICE_METHODS:
        raise ParameterError(
            f"load_ms60_folder: selection must be one of {SLICE_METHODS}; found {selection!r}"
        )
    for name, value in (("image_size", image_size), ("slices_per_patient", slices_per_patient)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ParameterError(
                f"load_ms60_folder: {name} must be a positive integer; found {value!r}"
            )
    root = Path(root)
    if not root.is_dir():
        raise DataError.about(root, "the MS60 dataset folder", "no such folder")

    records, notes = load_ms60_table(Path(table) if table is not None else _find_table(root))
    by_number = {record["id"]: record for record in records}
    folders = {
        int(match.group(1)): entry
        for entry in root.iterdir()
        if entry.is_dir() and (match := _PATIENT_FOLDER.fullmatch(entry.name))
    }
    if not folders:
        raise DataError.about(
            root,
            "Patient-N folders",
            "none; the folder holds " + str(sorted(entry.name for entry in root.iterdir())[:10]),
        )

    is_mask = key.startswith("lesionseg-")
    mask_name = modality if is_mask else f"LesionSeg-{modality}"
    patients: list[Patient] = []
    nonfinite: list[str] = []
    for number in sorted(folders):
        folder = folders[number]
        if number not in by_number:
            notes.append(f"{folder.name}: no usable row in the clinical table: left out")
            continue
        record = by_number[number]
        image_path = _find_volume(folder, number, modality)
        mask_path = None
        if selection == "lesion" and not is_mask:
            mask_path = _find_volume(folder, number, mask_name)
        slices, names, finite = volume_slices(
            image_path, slices_per_patient, image_size, selection, mask_path
        )
        if not finite:
            nonfinite.append(folder.name)
        patients.append(
            Patient(
                record["patient_id"],
                record["edss"],
                _encode(record),
                slices,
                SOURCE,
                names,
            )
        )

    without_folder = sorted(set(by_number) - set(folders))
    if without_folder:
        notes.append(
            "table rows without a Patient-N folder, left out: "
            + ", ".join(f"Patient-{number}" for number in without_folder)
        )
    if nonfinite:
        notes.append("non-finite voxels read as background for " + ", ".join(nonfinite))
    notes.append(_encoding_note())
    notes.extend(_constant_notes(patients))
    notes.append(
        f"images: {modality} volumes, {slices_per_patient} axial slices per patient chosen by "
        f"{selection!r}, normalised per volume to [0, 1] and area-averaged to "
        f"{image_size}×{image_size}"
    )
    patients.sort(key=lambda patient: natural_key(patient.patient_id))
    return Cohort(patients, list(FEATURES), MODALITIES[key], notes)
