"""Loader of the Lesjak et al. (2018) dataset: 30 MS patients, consensus lesion masks, EDSS.

Layout read (as prepared in the shared data folder)::

    root/patient_info.csv                 patient_id, age, sex, ms_type, edss[, criteria]
    root/mni/patientXX/lesions.nii.gz     all patients, 182×218×182 MNI grid
    root/mni/patientXX/flair.nii.gz       (also t1, t1post, t2) three patients only
    root/native/patientXX/lesions.nii.gz  optional: masks in each patient's own grid
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from edss.data._tables import (
    check_width,
    column_positions,
    is_missing,
    parse_number,
    read_csv,
    valid_edss,
)
from edss.data.cohort import Cohort, Patient
from edss.data.volumes import SLICE_METHODS, volume_slices
from edss.errors import DataError, ParameterError

SOURCE = "lesjak2017"
COURSES = ("RR", "SP", "PP", "CIS")
FEATURES = ["age_years/100", "sex_female", *(f"course_{course}" for course in COURSES)]
# modality → (file name, Cohort.image_kind)
MODALITIES = {
    "lesions": ("lesions.nii.gz", "lesion mask"),
    "flair": ("flair.nii.gz", "FLAIR"),
    "t1": ("t1.nii.gz", "T1"),
    "t1post": ("t1post.nii.gz", "T1 post-contrast"),
    "t2": ("t2.nii.gz", "T2"),
}
SPACES = ("mni", "native")
_FOLDER = re.compile(r"patient(\d+)")


@dataclass
class _Record:
    number: int
    age: float
    sex_female: float
    courses: dict[str, float]
    edss: float | None

    @property
    def patient_id(self) -> str:
        return f"patient{self.number:02d}"


def _read_patient_info(path: Path) -> tuple[list[_Record], list[str]]:
    """Parse and check ``patient_info.csv``; quirks go to the returned notes."""
    what = "the Lesjak patient table"
    header, rows = read_csv(path, what)
    columns = column_positions(
        path, header, ["patient_id", "age", "sex", "ms_type", "edss"], ["criteria"], what
    )
    if not rows:
        raise DataError.about(path, f"{what} with at least one patient row", "a header only")

    records: list[_Record] = []
    seen: dict[int, int] = {}
    no_edss, no_sex, no_course, odd_course = [], [], [], []
    for row in rows:
        check_width(path, header, row, what)
        cell = {name: row.cells[index].strip() for name, index in columns.items()}

        number = parse_number(cell["patient_id"])
        if number is None or number != int(number) or number < 0:
            raise DataError.about(
                path, "a whole-number patient_id", f"{cell['patient_id']!r} at line {row.line}"
            )
        number = int(number)
        if number in seen:
            raise DataError.about(
                path,
                "each patient_id once",
                f"patient_id {number} at lines {seen[number]} and {row.line}",
            )
        seen[number] = row.line

        age = parse_number(cell["age"])
        if age is None or not 0.0 < age < 120.0:
            raise DataError.about(
                path, "a numeric age in years (0–120)", f"{cell['age']!r} at line {row.line}"
            )

        sex = cell["sex"].upper()
        if sex in ("F", "FEMALE"):
            sex_female = 1.0
        elif sex in ("M", "MALE"):
            sex_female = 0.0
        else:
            sex_female = 0.5
            no_sex.append(f"patient{number:02d} ({cell['sex']!r})")

        course = cell["ms_type"].upper()
        courses = dict.fromkeys(COURSES, 0.0)
        if course in COURSES:
            courses[course] = 1.0
        elif course == "PR":
            courses["PP"] = 1.0
            odd_course.append(f"patient{number:02d}")
        else:
            no_course.append(f"patient{number:02d} ({cell['ms_type']!r})")

        edss: float | None
        if is_missing(cell["edss"]):
            edss = None
            no_edss.append(f"patient{number:02d}")
        else:
            edss = parse_number(cell["edss"])
            if edss is None or not valid_edss(edss):
                raise DataError.about(
                    path, "an EDSS from 0 to 10 or N/A", f"{cell['edss']!r} at line {row.line}"
                )
        records.append(_Record(number, age, sex_female, courses, edss))

    notes = []
    if no_edss:
        notes.append(
            "EDSS unknown (N/A) for " + ", ".join(no_edss) + ": kept with edss None, "
            "left out of supervised tasks by with_edss()"
        )
    if no_course:
        notes.append("MS course unknown for " + ", ".join(no_course) + ": course features all 0")
    if odd_course:
        notes.append(
            "MS course 'PR' (progressive-relapsing) for " + ", ".join(odd_course) + ": encoded "
            "as course_PP, as the 2013 revision of the course definitions files it (primary "
            "progressive with activity)"
        )
    if no_sex:
        notes.append("sex neither F nor M for " + ", ".join(no_sex) + ": sex_female set to 0.5")
    if "criteria" in columns:
        notes.append("column 'criteria' (diagnostic criteria edition) is not used as a feature")
    return records, notes


def _check_arguments(
    image_size: int, slices_per_patient: int, modality: str, selection: str, space: str
) -> None:
    for name, value in (("image_size", image_size), ("slices_per_patient", slices_per_patient)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ParameterError(f"load_lesjak: {name} must be a positive integer; found {value!r}")
    if modality not in MODALITIES:
        raise ParameterError(
            f"load_lesjak: modality must be one of {sorted(MODALITIES)}; found {modality!r}"
        )
    if selection not in SLICE_METHODS:
        raise ParameterError(
            f"load_lesjak: selection must be one of {SLICE_METHODS}; found {selection!r}"
        )
    if space not in SPACES:
        raise ParameterError(f"load_lesjak: space must be one of {SPACES}; found {space!r}")
    if space == "native" and modality != "lesions":
        raise ParameterError(
            f"load_lesjak: the native space holds lesion masks only; found modality {modality!r}"
            " (use space='mni' for images)"
        )


def load_lesjak(
    root: str | PathLike[str],
    image_size: int = 32,
    slices_per_patient: int = 4,
    modality: str = "lesions",
    selection: str = "even",
    space: str = "mni",
) -> Cohort:
    """Load the Lesjak 2017 cohort: clinical features, EDSS and axial slices per patient.

    Clinical features, in order: age in years/100, sex_female (1 F, 0 M, 0.5 otherwise) and a
    one-hot MS course among RR, SP, PP, CIS (unknown → all 0; PR → PP). Patients whose EDSS
    is N/A are kept with ``edss=None``. Slices are taken across the axial axis read from each
    file's affine, chosen by ``selection`` (``"lesion"`` ranks slices by the patient's lesion
    mask), normalised per volume and area-averaged to ``image_size``; a resampled mask holds
    the lesion fraction of each pixel.

    Args:
        root: the dataset folder holding ``patient_info.csv`` and ``mni/`` (or ``native/``).
        image_size: the side of each resampled slice.
        slices_per_patient: how many slices per patient.
        modality: ``"lesions"`` (all patients) or ``"flair"``, ``"t1"``, ``"t1post"``,
            ``"t2"`` (only the patients whose image is present; the others are left out with a
            note).
        selection: ``"even"`` or ``"lesion"``; see :func:`edss.data.volumes.select_slices`.
        space: ``"mni"`` (common grid) or ``"native"`` (each patient's FLAIR grid, masks only).

    Returns:
        The cohort, ``image_kind`` from the modality, one patient per usable table row.

    Raises:
        ParameterError: an argument is out of range.
        DataError: the folder, the table or a lesion mask is missing; the table is malformed
            (missing columns, wrong cell count, non-numeric age, duplicate patient_id, EDSS
            off the scale); a volume is unreadable, not 3-D, has fewer slices than asked, or
            its mask does not match it.
    """
    _check_arguments(image_size, slices_per_patient, modality, selection, space)
    root = Path(root)
    if not root.is_dir():
        raise DataError.about(root, "the Lesjak dataset folder", "no such folder")
    records, notes = _read_patient_info(root / "patient_info.csv")
    image_root = root / space
    if not image_root.is_dir():
        raise DataError.about(
            image_root, f"the {space}/ folder of patient sub-folders", "no such folder"
        )

    known = {record.patient_id for record in records}
    strays = sorted(
        entry.name
        for entry in image_root.iterdir()
        if entry.is_dir() and _FOLDER.fullmatch(entry.name) and entry.name not in known
    )
    if strays:
        notes.append(f"folders in {space}/ without a table row, not loaded: " + ", ".join(strays))

    file_name, image_kind = MODALITIES[modality]
    patients: list[Patient] = []
    skipped: list[str] = []
    nonfinite: list[str] = []
    for record in records:
        folder = image_root / record.patient_id
        image_path = folder / file_name
        if modality != "lesions" and not image_path.exists():
            skipped.append(record.patient_id)
            continue
        use_mask = selection == "lesion" and modality != "lesions"
        slices, names, finite = volume_slices(
            image_path,
            slices_per_patient,
            image_size,
            selection,
            folder / "lesions.nii.gz" if use_mask else None,
        )
        if not finite:
            nonfinite.append(record.patient_id)
        clinical = {"age_years/100": record.age / 100.0, "sex_female": record.sex_female}
        clinical.update({f"course_{course}": v for course, v in record.courses.items()})
        patients.append(
            Patient(
                patient_id=record.patient_id,
                edss=record.edss,
                clinical=clinical,
                slices=slices,
                source=SOURCE,
                slice_names=names,
            )
        )

    if skipped:
        notes.append(
            f"no {file_name} in {space}/ for {len(skipped)} patient(s), left out: "
            + ", ".join(skipped)
        )
    if nonfinite:
        notes.append("non-finite voxels read as background for " + ", ".join(nonfinite))
    if space == "native":
        notes.append(
            "native grids have anisotropic voxels (about 0.8 × 0.47 mm in-plane across the "
            "axial slices): slices are squared and resampled in voxels, not millimetres, so "
            "shapes are stretched along one in-plane axis"
        )
    notes.append(
        f"images: {image_kind} from {space}/, {slices_per_patient} axial slices per patient "
        f"chosen by {selection!r}, normalised per volume to [0, 1] and area-averaged to "
        f"{image_size}×{image_size}"
        + (
            "; a mask slice holds the lesion fraction of each pixel"
            if modality == "lesions"
            else ""
        )
    )
    return Cohort(patients, list(FEATURES), image_kind, notes)
