"""load_slice_folder on folders of small PNG and JPEG slices made by the tests."""

from __future__ import annotations

import numpy as np
import pytest

from edss.data import load_slice_folder
from edss.errors import DataError, ParameterError

from .helpers import write_image

RNG = np.random.default_rng(3)


def grey(height, width):
    return RNG.integers(0, 256, (height, width), dtype=np.uint8)


@pytest.fixture
def folder(tmp_path):
    """Patient a: two grey PNGs of different sizes; patient b: an RGB JPEG and a 16-bit PNG."""
    root = tmp_path / "slices"
    write_image(root / "a_2.png", grey(40, 30))
    write_image(root / "a_10.png", grey(64, 64))
    write_image(root / "b_1.jpg", RNG.integers(0, 256, (50, 50, 3), dtype=np.uint8))
    write_image(root / "b_2.png", RNG.integers(0, 60000, (20, 24)).astype(np.uint16))
    return root


def test_rule_groups_by_patient_and_orders_naturally(folder):
    cohort = load_slice_folder(folder, image_size=16)
    assert cohort.image_kind == "slice images" and cohort.feature_names == []
    assert [p.patient_id for p in cohort.patients] == ["a", "b"]
    assert cohort.patients[0].slice_names == ["a_2.png", "a_10.png"]
    for patient in cohort.patients:
        assert patient.slices.shape == (2, 16, 16) and patient.slices.dtype == np.float32
        assert patient.slices.min() >= 0.0 and patient.slices.max() <= 1.0
        assert patient.edss is None and patient.source == "slices"
    assert cohort.clinical_matrix().shape == (2, 0)


def test_a_patients_images_are_normalised_together(tmp_path):
    for name, level in (("p_1.png", 50), ("p_2.png", 150), ("p_3.png", 250)):
        write_image(tmp_path / name, np.full((6, 6), level, np.uint8))
    slices = load_slice_folder(tmp_path, image_size=1).patients[0].slices
    np.testing.assert_allclose(slices.ravel(), [0.0, 0.5, 1.0], atol=1e-6)


def test_custom_rule_and_unmatched_files_are_noted(folder):
    write_image(folder / "scan-x.png", grey(8, 8))
    cohort = load_slice_folder(folder, rule=r"(?P<patient>[ab])_(?P<slice>\d+)", image_size=4)
    assert [p.patient_id for p in cohort.patients] == ["a", "b"]
    assert any("does not match" in note and "scan-x.png" in note for note in cohort.notes)


def test_other_files_are_noted_not_read(folder):
    (folder / "readme.txt").write_text("hello")
    cohort = load_slice_folder(folder, image_size=4)
    assert any("not PNG/JPEG" in note and "readme.txt" in note for note in cohort.notes)


def test_table_maps_files_and_gives_edss(folder, tmp_path):
    table = tmp_path / "map.csv"
    table.write_text("file,patient,edss\na_2.png,p1,2.5\na_10.png,p1,\nb_1.jpg,p2,N/A\n")
    cohort = load_slice_folder(folder, table=table, image_size=4)
    assert [(p.patient_id, p.edss, len(p.slice_names)) for p in cohort.patients] == [
        ("p1", 2.5, 2),
        ("p2", None, 1),
    ]
    assert any("not in the slice table" in note and "b_2.png" in note for note in cohort.notes)


def test_clinical_features_edss_and_imputation(folder, tmp_path):
    clinical = tmp_path / "clinical.csv"
    clinical.write_text("patient,age_years/100,sex_female,EDSS\na,0.31,1,3.5\nc,0.5,0,1.0\n")
    cohort = load_slice_folder(folder, image_size=4, clinical=clinical)
    assert cohort.feature_names == ["age_years/100", "sex_female"]
    np.testing.assert_allclose(cohort.clinical_matrix(), [[0.31, 1.0], [0.0, 0.0]])
    assert [p.edss for p in cohort.patients] == [3.5, None]
    notes = "\n".join(cohort.notes)
    assert "patient 'b' has no clinical row: all features set to 0" in notes
    assert "clinical rows without images, not loaded: c" in notes


def test_clinical_blank_value_becomes_zero_with_a_note(folder, tmp_path):
    clinical = tmp_path / "clinical.csv"
    clinical.write_text("patient,age_years/100\na,\nb,0.4\n")
    cohort = load_slice_folder(folder, image_size=4, clinical=clinical)
    np.testing.assert_allclose(cohort.clinical_matrix(), [[0.0], [0.4]])
    assert any("'a': age_years/100 missing: set to 0" in note for note in cohort.notes)


# --- malformed inputs ----------------------------------------------------------------------


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="expected a folder of slice images; found no such folder"):
        load_slice_folder(tmp_path / "absent")


def test_empty_folder(tmp_path):
    with pytest.raises(DataError, match="expected PNG or JPEG slice images; found an empty folder"):
        load_slice_folder(tmp_path)


def test_wrong_extension_only(tmp_path):
    (tmp_path / "a_1.bmp").write_bytes(b"BM")
    (tmp_path / "a_2.tif").write_bytes(b"II")
    with pytest.raises(DataError, match=r"suffix among .*found only other files: \['a_1.bmp'"):
        load_slice_folder(tmp_path)


def test_unreadable_image(folder):
    (folder / "a_3.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(DataError, match=r"a_3\.png: expected a readable PNG or JPEG image; found"):
        load_slice_folder(folder)


def test_truncated_image(folder):
    path = write_image(folder / "a_4.png", grey(64, 64))
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match=r"a_4\.png: expected a readable PNG"):
        load_slice_folder(folder)


def test_table_with_missing_column(folder, tmp_path):
    table = tmp_path / "map.csv"
    table.write_text("name,patient\na_2.png,p1\n")
    with pytest.raises(
        DataError, match=r"map\.csv: expected the slice table with columns .*'file'"
    ):
        load_slice_folder(folder, table=table)


def test_table_file_not_in_folder(folder, tmp_path):
    table = tmp_path / "map.csv"
    table.write_text("file,patient\na_2.png,p1\nz_9.png,p2\n")
    with pytest.raises(DataError, match=r"found 1 not there: \['z_9.png'\]"):
        load_slice_folder(folder, table=table)


def test_table_missing(folder, tmp_path):
    with pytest.raises(DataError, match=r"map\.csv: expected the slice table .*no such file"):
        load_slice_folder(folder, table=tmp_path / "map.csv")


def test_table_conflicting_edss(folder, tmp_path):
    table = tmp_path / "map.csv"
    table.write_text("file,patient,edss\na_2.png,p1,2.5\na_10.png,p1,3.0\n")
    with pytest.raises(DataError, match=r"one EDSS per patient for 'p1'; found 2\.5 and 3"):
        load_slice_folder(folder, table=table)


def test_clinical_non_numeric(folder, tmp_path):
    clinical = tmp_path / "clinical.csv"
    clinical.write_text("patient,sex\na,F\n")
    with pytest.raises(
        DataError, match=r"numbers in clinical column 'sex'; found 'F' for patient 'a'"
    ):
        load_slice_folder(folder, clinical=clinical)


def test_clinical_missing_patient_column(folder, tmp_path):
    clinical = tmp_path / "clinical.csv"
    clinical.write_text("id,age\na,0.3\n")
    with pytest.raises(DataError, match=r"columns \['patient'\]"):
        load_slice_folder(folder, clinical=clinical)


def test_rule_matching_nothing(folder):
    with pytest.raises(DataError, match=r"that the rule .* maps to a patient; found no match"):
        load_slice_folder(folder, rule=r"(?P<patient>zz)_")


@pytest.mark.parametrize(
    ("rule", "message"),
    [(r"(?P<subject>\w+)_", "named group"), (r"(?P<patient>[", "not a regular expression")],
)
def test_bad_rule(folder, rule, message):
    with pytest.raises(ParameterError, match=message):
        load_slice_folder(folder, rule=rule)
