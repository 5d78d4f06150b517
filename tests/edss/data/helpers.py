"""Writers of small synthetic datasets in the layouts the loaders read."""

from __future__ import annotations

import os
from pathlib import Path

import nibabel as nib
import numpy as np
from PIL import Image

SHAPE = (16, 20, 12)  # small stand-in for the 182×218×182 MNI grid; axis 2 is axial


def real_data_root() -> Path:
    """The shared real-data folder: $HENN_DATA, else ../shared/data beside the repository."""
    if os.environ.get("HENN_DATA"):
        return Path(os.environ["HENN_DATA"])
    return (Path(__file__).parents[3] / "../shared/data").resolve()


def write_nifti(path: Path, data: np.ndarray, affine: np.ndarray | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.Nifti1Image(data, np.eye(4) if affine is None else affine).to_filename(str(path))
    return path


def lesion_mask(lesion_slices: dict[int, int], shape=SHAPE) -> np.ndarray:
    """A 0/1 mask with ``voxels`` lesion voxels in each axial slice ``z`` of ``lesion_slices``."""
    mask = np.zeros(shape, dtype=np.uint8)
    for z, voxels in lesion_slices.items():
        flat = mask[:, :, z].reshape(-1)
        flat[:voxels] = 1
        mask[:, :, z] = flat.reshape(shape[:2])
    return mask


def brain(shape=SHAPE, first=2, last=9, seed=0) -> np.ndarray:
    """A float32 image, non-zero only in axial slices first..last (a skull-stripped brain)."""
    rng = np.random.default_rng(seed)
    volume = np.zeros(shape, dtype=np.float32)
    volume[2:-2, 2:-2, first : last + 1] = rng.uniform(
        20.0, 200.0, (shape[0] - 4, shape[1] - 4, last - first + 1)
    )
    return volume


LESJAK_HEADER = "patient_id,age,sex,ms_type,edss,criteria"
LESJAK_ROWS = [
    "1,31,F,RR,1.5,McDonald 2010",
    "2,45,M,SP,6.0,McDonald 2005",
    "3,37,F,N/A,N/A,N/A",
    "4,52,F,PR,4.5,McDonald 2005",
]


def write_lesjak(
    root: Path,
    rows: list[str] | None = None,
    header: str = LESJAK_HEADER,
    flair_for: tuple[int, ...] = (2,),
) -> Path:
    """A Lesjak-like folder: table, mni/ masks for every row, FLAIR for ``flair_for``."""
    rows = LESJAK_ROWS if rows is None else rows
    root.mkdir(parents=True, exist_ok=True)
    (root / "patient_info.csv").write_text("\n".join([header, *rows]) + "\n")
    for number in range(1, len(rows) + 1):
        folder = root / "mni" / f"patient{number:02d}"
        write_nifti(folder / "lesions.nii.gz", lesion_mask({3: 5 * number, 6: 2, 8: 9}))
        if number in flair_for:
            write_nifti(folder / "flair.nii.gz", brain(seed=number))
    return root


MS60_HEADER = [
    "ID",
    "Gender",
    "Age",
    "Age of onset",
    "EDSS",
    "Does the time difference between MRI acquisition and EDSS < two months",
    "Types of Medicines",
    "Presenting Symptom",
    " Dose the patient has Co-moroidity",
    "Pyramidal",
    "Cerebella",
    "Brain stem",
    "Sensory",
    "Sphincters",
    "Visual",
    "Mental",
    "Speech",
    "Motor System",
    "Sensory System",
    "Coordination",
    "Gait",
    "Bowel and bladder function",
    "Mobility",
    "Mental State",
    "Optic discs",
    "Fields",
    "Nystagmus",
    "Ocular Movement",
    "Swallowing",
    "EDSS_cat",
]


def ms60_row(
    number: int,
    gender: str = "F",
    age: str = "40",
    onset: str = "30",
    edss: str = "2.0",
    symptom: str = "Motor",
    findings: str = "1,0,0,1,0,0,0,0,1,0,0,1,0,0,0,0,0,0,0,0",
    category: str | None = None,
    medication: str = "Rebif",
) -> str:
    if category is None:
        value = float(edss) if edss not in ("", "N/A") else 0.0
        category = "0" if value < 3 else ("1" if value <= 5.5 else "2")
    cells = [str(number), gender, age, onset, edss, "Yes", medication, f'"{symptom}"', "No"]
    return ",".join([*cells, findings, category])


def write_ms60_table(path: Path, rows: list[str], header: list[str] | None = None) -> Path:
    header = MS60_HEADER if header is None else header
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(",".join(header) + "\n" + "\n".join(rows) + "\n")
    return path


def write_image(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array) if mode is None else Image.fromarray(array).convert(mode)
    image.save(path)
    return path
