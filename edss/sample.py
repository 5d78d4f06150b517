"""The built-in default data: a small sample derived from the Lesjak et al. 2018 MS dataset.

For each of the 30 patients: eight axial lesion-mask slices (the most lesion-bearing ones, each
area-averaged to 32×32 and stored as 8-bit lesion fractions), the clinical features (age, sex,
MS course), the EDSS (missing for three patients) and the total lesion volume in mL. About
70 KB, so that ``edss demo`` runs on a fresh machine with no data at all. Licence and citation:
``edss/resources/LICENSE-DATA.txt``.

Rebuild with ``python -m edss.sample /path/to/lesjak2017`` (the data is never committed).
"""

from __future__ import annotations

import io
import sys
from importlib import resources
from pathlib import Path

import numpy as np

from edss.data.cohort import Cohort, Patient
from edss.errors import DataError

SAMPLE_NAME = "lesjak_sample.npz"
DATA_NOTE = (
    "built-in sample derived from the Lesjak et al. 2018 MS dataset (30 patients, lesion-mask "
    "slices 32×32, CC-BY; Neuroinformatics 16:51–63, doi:10.1007/s12021-017-9348-7)"
)


def lesion_volumes(root, patient_ids) -> dict[str, float]:
    """Total lesion volume in mL per patient, from the 1 mm MNI masks."""
    from edss.data.volumes import load_nifti

    volumes = {}
    for patient in patient_ids:
        mask = load_nifti(Path(root) / "mni" / patient / "lesions.nii.gz")
        volumes[patient] = float(np.count_nonzero(mask > 0.5)) / 1000.0
    return volumes


def build_sample(root, out_path) -> int:
    """Write the sample file from the dataset at ``root``; returns its size in bytes."""
    from edss.data.lesjak import load_lesjak

    cohort = load_lesjak(root, image_size=32, slices_per_patient=8, selection="lesion")
    ids = [p.patient_id for p in cohort.patients]
    volumes = lesion_volumes(root, ids)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        patient_ids=np.array(ids),
        edss=np.array([np.nan if p.edss is None else p.edss for p in cohort.patients]),
        clinical=cohort.clinical_matrix(),
        feature_names=np.array(cohort.feature_names),
        slices=np.round(np.stack([p.slices for p in cohort.patients]) * 255).astype(np.uint8),
        slice_names=np.array([p.slice_names for p in cohort.patients]),
        lesion_volume_ml=np.array([volumes[i] for i in ids]),
        notes=np.array(cohort.notes),
    )
    data = buffer.getvalue()
    Path(out_path).write_bytes(data)
    return len(data)


def load_sample() -> tuple[Cohort, dict[str, float]]:
    """The built-in cohort and its lesion volumes (mL) per patient."""
    try:
        raw = resources.files("edss.resources").joinpath(SAMPLE_NAME).read_bytes()
    except (FileNotFoundError, ModuleNotFoundError) as error:
        raise DataError.about(
            SAMPLE_NAME, "the built-in sample inside the installed package", f"nothing ({error})"
        ) from None
    with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
        names = [str(n) for n in archive["feature_names"]]
        patients = []
        for index, patient_id in enumerate(archive["patient_ids"]):
            edss = float(archive["edss"][index])
            patients.append(
                Patient(
                    patient_id=str(patient_id),
                    edss=None if np.isnan(edss) else edss,
                    clinical=dict(zip(names, map(float, archive["clinical"][index]), strict=True)),
                    slices=archive["slices"][index].astype(np.float32) / 255.0,
                    source="lesjak2017-sample",
                    slice_names=[str(s) for s in archive["slice_names"][index]],
                )
            )
        volumes = dict(
            zip(
                map(str, archive["patient_ids"]),
                map(float, archive["lesion_volume_ml"]),
                strict=True,
            )
        )
        notes = [str(n) for n in archive["notes"]]
    cohort = Cohort(patients, names, "lesion mask", [f"data: {DATA_NOTE}", *notes])
    return cohort, volumes


if __name__ == "__main__":
    target = Path(__file__).parent / "resources" / SAMPLE_NAME
    size = build_sample(sys.argv[1], target)
    print(f"wrote {target} ({size} bytes)")
