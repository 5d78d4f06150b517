"""load_lesjak on small synthetic copies of the Lesjak 2017 layout."""

from __future__ import annotations

import numpy as np
import pytest

from edss.data import Cohort, Patient, load_lesjak
from edss.errors import DataError, ParameterError

from .helpers import LESJAK_HEADER, brain, lesion_mask, write_lesjak, write_nifti


def test_loads_every_patient_with_features_and_slices(tmp_path):
    cohort = load_lesjak(write_lesjak(tmp_path / "lesjak"), image_size=8, slices_per_patient=3)

    assert isinstance(cohort, Cohort) and cohort.image_kind == "lesion mask"
    assert [p.patient_id for p in cohort.patients] == [f"patient0{i}" for i in range(1, 5)]
    assert [p.edss for p in cohort.patients] == [1.5, 6.0, None, 4.5]
    assert cohort.feature_names == [
        "age_years/100",
        "sex_female",
        "course_RR",
        "course_SP",
        "course_PP",
        "course_CIS",
    ]
    np.testing.assert_allclose(
        cohort.clinical_matrix(),
        [
            [0.31, 1, 1, 0, 0, 0],
            [0.45, 0, 0, 1, 0, 0],
            [0.37, 1, 0, 0, 0, 0],
            [0.52, 1, 0, 0, 1, 0],
        ],
        rtol=1e-6,
    )
    for patient in cohort.patients:
        assert patient.source == "lesjak2017"
        assert patient.slices.shape == (3, 8, 8) and patient.slices.dtype == np.float32
        assert patient.slices.min() >= 0.0 and patient.slices.max() <= 1.0
        assert patient.slice_names == ["z=3", "z=6", "z=8"]  # the three lesion slices


def test_notes_report_na_edss_unknown_course_and_pr(tmp_path):
    notes = " | ".join(load_lesjak(write_lesjak(tmp_path), image_size=4).notes)
    assert "EDSS unknown (N/A) for patient03" in notes
    assert "MS course unknown for patient03" in notes
    assert "'PR'" in notes and "patient04" in notes and "course_PP" in notes


def test_with_edss_keeps_known_scores_and_names_the_others(tmp_path):
    cohort = load_lesjak(write_lesjak(tmp_path), image_size=4)
    supervised = cohort.with_edss()
    assert len(supervised) == 3 and len(cohort) == 4
    assert "patient03" in supervised.notes[-1] and "without EDSS" in supervised.notes[-1]
    np.testing.assert_array_equal(supervised.edss_values(), [1.5, 6.0, 4.5])


def test_lesion_selection_picks_the_heaviest_slices(tmp_path):
    cohort = load_lesjak(
        write_lesjak(tmp_path), image_size=4, slices_per_patient=1, selection="lesion"
    )
    # patient01 has 5 voxels at z=3, 9 at z=8: z=8 wins; patient04 has 20 at z=3.
    assert cohort.patients[0].slice_names == ["z=8"]
    assert cohort.patients[3].slice_names == ["z=3"]


def test_flair_only_for_patients_that_have_it(tmp_path):
    cohort = load_lesjak(write_lesjak(tmp_path, flair_for=(2,)), image_size=6, modality="flair")
    assert cohort.image_kind == "FLAIR"
    assert [p.patient_id for p in cohort.patients] == ["patient02"]
    assert any("left out: patient01, patient03, patient04" in note for note in cohort.notes)
    slices = cohort.patients[0].slices
    assert slices.shape == (4, 6, 6) and slices.max() <= 1.0 and slices.max() > 0.5
    # "even" stays within the brain (axial slices 2..9 of the synthetic image).
    assert all(2 <= int(name[2:]) <= 9 for name in cohort.patients[0].slice_names)


def test_flair_with_lesion_selection_uses_the_mask(tmp_path):
    cohort = load_lesjak(
        write_lesjak(tmp_path, flair_for=(2,)),
        modality="flair",
        selection="lesion",
        slices_per_patient=1,
    )
    assert cohort.patients[0].slice_names == ["z=3"]  # 10 lesion voxels at z=3 for patient02


def test_native_space(tmp_path):
    root = write_lesjak(tmp_path)
    for number in range(1, 5):
        write_nifti(
            tmp_path / "native" / f"patient0{number}" / "lesions.nii.gz", lesion_mask({5: 4})
        )
    cohort = load_lesjak(root, space="native", image_size=4, slices_per_patient=2)
    assert len(cohort) == 4 and cohort.patients[0].slices.shape == (2, 4, 4)


def test_stray_folders_are_noted(tmp_path):
    root = write_lesjak(tmp_path)
    write_nifti(tmp_path / "mni" / "patient09" / "lesions.nii.gz", lesion_mask({5: 4}))
    notes = load_lesjak(root, image_size=4).notes
    assert any("without a table row" in note and "patient09" in note for note in notes)


# --- malformed inputs ----------------------------------------------------------------------


def test_missing_root(tmp_path):
    with pytest.raises(DataError, match="expected the Lesjak dataset folder; found no such folder"):
        load_lesjak(tmp_path / "absent")


def test_missing_table(tmp_path):
    tmp_path.joinpath("mni").mkdir()
    with pytest.raises(
        DataError, match=r"patient_info\.csv: expected .*CSV file\); found no such file"
    ):
        load_lesjak(tmp_path)


def test_missing_space_folder(tmp_path):
    write_lesjak(tmp_path)
    with pytest.raises(DataError, match=r"native: expected the native/ folder"):
        load_lesjak(tmp_path, space="native")


def test_missing_mask(tmp_path):
    write_lesjak(tmp_path)
    (tmp_path / "mni" / "patient02" / "lesions.nii.gz").unlink()
    with pytest.raises(
        DataError, match=r"patient02.lesions\.nii\.gz: expected a NIfTI volume; found no such"
    ):
        load_lesjak(tmp_path)


def test_corrupt_mask(tmp_path):
    write_lesjak(tmp_path)
    path = tmp_path / "mni" / "patient01" / "lesions.nii.gz"
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(DataError, match=r"patient01.lesions\.nii\.gz: expected a readable NIfTI"):
        load_lesjak(tmp_path)


def test_table_missing_column(tmp_path):
    header = "patient_id,age,sex,edss,criteria"
    rows = ["1,31,F,1.5,x"]
    write_lesjak(tmp_path, rows=rows, header=header)
    with pytest.raises(DataError, match=r"found no column \['ms_type'\]"):
        load_lesjak(tmp_path)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["1,thirty,F,RR,1.5,x"], r"numeric age .*'thirty' at line 2"),
        (
            ["1,31,F,RR,1.5,x", "1,40,M,RR,2.0,x"],
            r"each patient_id once; found patient_id 1 at lines 2",
        ),
        (["1,31,F,RR,11,x"], r"EDSS from 0 to 10 .*'11'"),
        (["x1,31,F,RR,1.5,x"], r"whole-number patient_id; found 'x1'"),
        (["1,31,F,RR,1.5"], r"rows of 6 cells like the header; found 5 cells at line 2"),
        ([], "at least one patient row"),
    ],
)
def test_malformed_table(tmp_path, rows, message):
    (tmp_path / "mni").mkdir()
    (tmp_path / "patient_info.csv").write_text("\n".join([LESJAK_HEADER, *rows]) + "\n")
    with pytest.raises(DataError, match=message):
        load_lesjak(tmp_path)


def test_too_few_slices(tmp_path):
    write_lesjak(tmp_path)
    with pytest.raises(DataError, match="at least 20 slices along the axial axis 2"):
        load_lesjak(tmp_path, slices_per_patient=20)


def test_mask_shape_mismatch(tmp_path):
    write_lesjak(tmp_path, flair_for=(2,))
    write_nifti(tmp_path / "mni" / "patient02" / "flair.nii.gz", brain(shape=(10, 10, 12)))
    with pytest.raises(DataError, match=r"lesion mask of the image's shape \(10, 10, 12\)"):
        load_lesjak(tmp_path, modality="flair", selection="lesion")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"modality": "pd"}, "modality must be one of"),
        ({"selection": "best"}, "selection must be one of"),
        ({"space": "talairach"}, "space must be one of"),
        ({"space": "native", "modality": "flair"}, "native space holds lesion masks only"),
        ({"image_size": 0}, "image_size must be a positive integer"),
        ({"slices_per_patient": 2.5}, "slices_per_patient must be a positive integer"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        load_lesjak(tmp_path, **kwargs)


def test_cohort_rejects_inconsistent_features():
    patient = Patient("p", 1.0, {"a": 1.0}, None, "slices")
    with pytest.raises(ParameterError, match="must have the features"):
        Cohort([patient], ["a", "b"], "none", [])
    cohort = Cohort([patient], ["a"], "none", [])
    with pytest.raises(ParameterError, match="without slices"):
        cohort.image_array()


def test_image_array_stacks_patients(tmp_path):
    cohort = load_lesjak(write_lesjak(tmp_path), image_size=4, slices_per_patient=2)
    assert cohort.image_array().shape == (4, 2, 4, 4)
