"""The loaders on the real shared data; skipped with the reason when the folder is absent.

The data lives outside the repository ($HENN_DATA, else ../shared/data beside it) and is
only read here, never copied.
"""

from __future__ import annotations

import numpy as np
import pytest

from edss.data import load_lesjak, load_ms60_table, ms60_cohort

from .helpers import real_data_root

ROOT = real_data_root()
LESJAK = ROOT / "lesjak2017"
MS60 = ROOT / "ms60" / "patient_info.csv"

needs_lesjak = pytest.mark.skipif(
    not (LESJAK / "patient_info.csv").is_file(),
    reason=f"real Lesjak 2017 data not found at {LESJAK} (set HENN_DATA to the shared data folder)",
)
needs_ms60 = pytest.mark.skipif(
    not MS60.is_file(),
    reason=f"real MS60 clinical table not found at {MS60} (set HENN_DATA to the data folder)",
)


@pytest.fixture(scope="module")
def lesjak():
    return load_lesjak(LESJAK)


@needs_lesjak
def test_lesjak_thirty_patients_four_slices_of_32(lesjak):
    assert len(lesjak) == 30
    assert lesjak.image_kind == "lesion mask"
    for patient in lesjak.patients:
        assert patient.slices.shape == (4, 32, 32) and patient.slices.dtype == np.float32
        assert patient.slices.min() >= 0.0 and patient.slices.max() <= 1.0
        assert patient.slices.max() > 0.0, f"{patient.patient_id}: no lesion in any chosen slice"
        assert len(patient.slice_names) == 4
    assert lesjak.image_array().shape == (30, 4, 32, 32)
    assert lesjak.clinical_matrix().shape == (30, 6)


@needs_lesjak
def test_lesjak_edss_known_for_27(lesjak):
    unknown = [patient.patient_id for patient in lesjak.patients if patient.edss is None]
    assert unknown == ["patient03", "patient12", "patient20"]
    supervised = lesjak.with_edss()
    assert len(supervised) == 27
    scores = supervised.edss_values()
    assert np.all((scores >= 0) & (scores <= 10))
    assert any("patient03, patient12, patient20" in note for note in supervised.notes)


@needs_lesjak
def test_lesjak_flair_only_for_three_patients():
    cohort = load_lesjak(LESJAK, modality="flair")
    assert [patient.patient_id for patient in cohort.patients] == [
        "patient07",
        "patient19",
        "patient26",
    ]
    assert [patient.edss for patient in cohort.patients] == [0.5, 1.0, 2.0]
    for patient in cohort.patients:
        assert patient.slices.shape == (4, 32, 32) and patient.slices.max() <= 1.0


@needs_ms60
def test_ms60_table_sixty_rows_with_its_quirks():
    rows, notes = load_ms60_table(MS60)
    assert len(rows) == 60
    assert sorted(row["id"] for row in rows) == list(range(1, 61))
    text = "\n".join(notes)
    assert "gender 'N'" in text
    assert "below the age of onset" in text
    assert "Co-moroidity" in text and "'Cerebella'" in text
    assert "kept out" not in text


@needs_ms60
def test_ms60_cohort_features():
    cohort = ms60_cohort(MS60)
    matrix = cohort.clinical_matrix()
    assert matrix.shape == (60, len(cohort.feature_names))
    assert 24 <= matrix.shape[1] <= 31
    assert np.isfinite(matrix).all() and matrix.min() >= 0.0
    assert all(patient.edss is not None for patient in cohort.patients)
