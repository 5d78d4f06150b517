"""The MS60 clinical table with its quirks, the cohort encoding and the published folder layout."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from edss.data import load_ms60_folder, load_ms60_table, ms60_cohort
from edss.data.ms60 import FEATURES
from edss.errors import DataError, ParameterError

from .helpers import MS60_HEADER, brain, lesion_mask, ms60_row, write_ms60_table, write_nifti

QUIRKY_ROWS = [
    ms60_row(1),
    ms60_row(2, gender="N", edss="4.5", symptom="Sensory  & Visual"),
    ms60_row(3, age="15", onset="17", symptom="Motore", edss="1.0"),
    ms60_row(4, edss="6.0", category="1", symptom="Sensory & Visual ,Balance , Motor, Fatigue"),
    ms60_row(5, age="abc"),
    ms60_row(6, edss=""),
    ms60_row(7, findings="1,0,0,1,0,0,0,0,1,0,0,1,0,0,0,0,0,0,0,2"),
    "8,F,40,30",
]


@pytest.fixture
def table(tmp_path):
    return write_ms60_table(tmp_path / "clinical.csv", QUIRKY_ROWS)


def test_table_reads_usable_rows_and_reports_every_quirk(table):
    rows, notes = load_ms60_table(table)
    text = "\n".join(notes)

    assert [row["id"] for row in rows] == [1, 2, 3, 4, 6]
    assert "column ' Dose the patient has Co-moroidity' read as" in text
    assert "surrounding spaces and spelling" in text
    assert "column 'Cerebella' read as 'Cerebellar' (spelling)" in text
    assert "Patient-2: gender 'N' is neither F nor M" in text
    assert "Patient-3: age 15 is below the age of onset 17" in text
    assert "'motore' read as 'motor'" in text
    assert "Patient-4: EDSS_cat '1' disagrees with EDSS 6.0 (expected 2)" in text
    assert "Patient-5 (line 6) kept out: Age 'abc' is not an age in years" in text
    assert "Patient-6: EDSS missing" in text
    assert "Patient-7 (line 8) kept out: Swallowing '2' is not 0 or 1" in text
    assert "row at line 9 kept out: 4 cells where the header has 30" in text
    assert "symptom_other: fatigue" in text
    assert "'EDSS_cat' is derived from EDSS" in text


def test_table_row_values(table):
    rows, _ = load_ms60_table(table)
    by_id = {row["id"]: row for row in rows}
    assert by_id[1]["patient_id"] == "Patient-1" and by_id[1]["cerebellar"] == 0
    assert by_id[1]["pyramidal"] == 1 and by_id[1]["duration"] == 10
    assert by_id[2]["sex_female"] == 0.5
    assert by_id[3]["duration"] == 0 and by_id[3]["symptoms"] == ["motor"]
    assert sorted(by_id[4]["symptoms"]) == ["balance", "motor", "sensory", "visual"]
    assert by_id[4]["other_symptoms"] == ["fatigue"]
    assert by_id[6]["edss"] is None


def test_cohort_features(table):
    cohort = ms60_cohort(table)
    assert cohort.image_kind == "none" and cohort.feature_names == FEATURES
    assert 24 <= len(FEATURES) <= 31
    matrix = cohort.clinical_matrix()
    assert matrix.shape == (5, len(FEATURES)) and matrix.dtype == np.float32
    first = dict(zip(FEATURES, matrix[0]))
    assert first["age_years/100"] == pytest.approx(0.40)
    assert first["onset_age_years/100"] == pytest.approx(0.30)
    assert first["duration_years/100"] == pytest.approx(0.10)
    assert first["sex_female"] == 1.0 and first["symptom_motor"] == 1.0
    assert first["finding_pyramidal"] == 1.0 and first["medication"] == 1.0
    assert dict(zip(FEATURES, matrix[1]))["sex_female"] == 0.5
    assert dict(zip(FEATURES, matrix[2]))["duration_years/100"] == 0.0
    assert dict(zip(FEATURES, matrix[3]))["symptom_other"] == 1.0
    assert [p.edss for p in cohort.patients] == [2.0, 4.5, 1.0, 6.0, None]
    assert len(cohort.with_edss()) == 4
    assert any(
        "one value for every patient" in note and "medication" in note for note in cohort.notes
    )


def test_corrected_column_names_are_accepted(tmp_path):
    header = [name.strip() for name in MS60_HEADER]
    header[header.index("Dose the patient has Co-moroidity")] = "Does the patient have comorbidity"
    header[header.index("Cerebella")] = "Cerebellar"
    rows, notes = load_ms60_table(write_ms60_table(tmp_path / "t.csv", [ms60_row(1)], header))
    assert len(rows) == 1 and not any("read as" in note for note in notes)


def test_table_missing_columns(tmp_path):
    header = [name for name in MS60_HEADER if name not in ("Gait", "Age of onset")]
    path = write_ms60_table(tmp_path / "t.csv", [], header)
    with pytest.raises(DataError, match=r"found no column for \['Age of onset', 'Gait'\]"):
        load_ms60_table(path)


def test_table_duplicate_id(tmp_path):
    path = write_ms60_table(tmp_path / "t.csv", [ms60_row(1), ms60_row(1)])
    with pytest.raises(DataError, match="each ID once; found ID 1 at lines 2 and 3"):
        load_ms60_table(path)


def test_table_without_usable_rows(tmp_path):
    path = write_ms60_table(tmp_path / "t.csv", [ms60_row(1, age="?")])
    with pytest.raises(DataError, match="at least one usable patient row"):
        load_ms60_table(path)


def test_table_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"absent\.csv: expected the MS60 clinical table"):
        load_ms60_table(tmp_path / "absent.csv")


def test_xlsx_without_openpyxl_asks_for_csv(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import fails as when not installed
    path = tmp_path / "table.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match=r"table\.xlsx: expected the clinical table as CSV.*Export"):
        load_ms60_table(path)


# --- the published folder layout -----------------------------------------------------------


def write_ms60_folder(root, numbers=(1, 2, 3), table_rows=None):
    write_ms60_table(root / "clinical.csv", table_rows or [ms60_row(n) for n in numbers])
    for number in numbers:
        folder = root / f"Patient-{number}"
        write_nifti(folder / f"{number}-Flair.nii", brain(seed=number))
        write_nifti(folder / f"{number}-T1.nii", brain(seed=10 + number))
        write_nifti(folder / f"{number}-T2.nii", brain(seed=20 + number))
        write_nifti(folder / f"{number}-LesionSeg-Flair.nii", lesion_mask({4: 3 * number, 7: 5}))
    return root


def test_folder_loads_images_and_clinical(tmp_path):
    cohort = load_ms60_folder(write_ms60_folder(tmp_path), image_size=8, slices_per_patient=3)
    assert cohort.image_kind == "FLAIR" and cohort.feature_names == FEATURES
    assert [p.patient_id for p in cohort.patients] == ["Patient-1", "Patient-2", "Patient-3"]
    for patient in cohort.patients:
        assert patient.slices.shape == (3, 8, 8) and patient.slices.min() >= 0
        assert patient.slices.max() <= 1 and patient.source == "ms60"
        assert len(patient.slice_names) == 3 and patient.edss == 2.0


def test_folder_lesion_masks_and_lesion_selection(tmp_path):
    root = write_ms60_folder(tmp_path)
    masks = load_ms60_folder(root, modality="LesionSeg-Flair", slices_per_patient=2, image_size=4)
    assert masks.image_kind == "lesion mask"
    assert masks.patients[0].slice_names == ["z=4", "z=7"]
    flair = load_ms60_folder(root, selection="lesion", slices_per_patient=1, image_size=4)
    assert [p.slice_names for p in flair.patients] == [["z=7"], ["z=4"], ["z=4"]]


def test_folder_notes_patients_missing_on_either_side(tmp_path):
    root = write_ms60_folder(tmp_path, numbers=(1, 2))
    write_ms60_table(root / "clinical.csv", [ms60_row(1), ms60_row(5)])
    cohort = load_ms60_folder(root, image_size=4)
    assert [p.patient_id for p in cohort.patients] == ["Patient-1"]
    assert any("Patient-2: no usable row" in note for note in cohort.notes)
    assert any(
        "without a Patient-N folder" in note and "Patient-5" in note for note in cohort.notes
    )


def test_folder_missing_volume(tmp_path):
    root = write_ms60_folder(tmp_path)
    (root / "Patient-2" / "2-T2.nii").unlink()
    with pytest.raises(
        DataError, match=r"2-T2\.nii: expected the T2 volume of patient 2; found no such"
    ):
        load_ms60_folder(root, modality="T2")


def test_folder_missing_mask_for_lesion_selection(tmp_path):
    root = write_ms60_folder(tmp_path)
    with pytest.raises(DataError, match=r"1-LesionSeg-T1\.nii: expected the LesionSeg-T1 volume"):
        load_ms60_folder(root, modality="T1", selection="lesion")


def test_folder_without_table(tmp_path):
    root = write_ms60_folder(tmp_path)
    (root / "clinical.csv").unlink()
    with pytest.raises(DataError, match=r"expected the clinical table .* found none"):
        load_ms60_folder(root)


def test_folder_with_only_a_spreadsheet(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    root = write_ms60_folder(tmp_path)
    (root / "clinical.csv").unlink()
    (root / "patient info.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match="as CSV"):
        load_ms60_folder(root)


def test_folder_with_two_tables(tmp_path):
    root = write_ms60_folder(tmp_path)
    (root / "other.csv").write_text("a,b\n")
    with pytest.raises(DataError, match=r"one clinical table .* found 2"):
        load_ms60_folder(root)
    assert len(load_ms60_folder(root, table=root / "clinical.csv", image_size=4)) == 3


def test_folder_without_patient_folders(tmp_path):
    write_ms60_table(tmp_path / "clinical.csv", [ms60_row(1)])
    with pytest.raises(DataError, match="expected Patient-N folders"):
        load_ms60_folder(tmp_path)


def test_folder_missing_root(tmp_path):
    with pytest.raises(DataError, match="expected the MS60 dataset folder; found no such folder"):
        load_ms60_folder(tmp_path / "absent")


def test_folder_bad_modality(tmp_path):
    with pytest.raises(ParameterError, match="modality must be one of"):
        load_ms60_folder(tmp_path, modality="PD")
