"""Loading MS cohorts: clinical tables, NIfTI volumes and slice images, into one shape.

Every loader returns a :class:`Cohort` of :class:`Patient` records with numeric clinical
features, slices resampled to the model's input size in [0, 1], and notes that name every
quirk, exclusion and imputation met on the way.
"""

from edss.data.cohort import Cohort, Patient
from edss.data.lesjak import load_lesjak
from edss.data.ms60 import load_ms60_folder, load_ms60_table, ms60_cohort
from edss.data.slices import load_slice_folder
from edss.data.volumes import (
    axial_axis_of,
    load_nifti,
    normalize_volume,
    resample_slice,
    select_slices,
    slice_stack,
)

__all__ = [
    "Cohort",
    "Patient",
    "axial_axis_of",
    "load_lesjak",
    "load_ms60_folder",
    "load_ms60_table",
    "load_nifti",
    "load_slice_folder",
    "ms60_cohort",
    "normalize_volume",
    "resample_slice",
    "select_slices",
    "slice_stack",
]
