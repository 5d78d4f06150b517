"""The in-memory form every loader returns: patients with clinical features, slices and notes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edss.errors import ParameterError


@dataclass
class Patient:
    """One patient, ready for a model.

    Attributes:
        patient_id: the identifier used by the source (a folder or file-name stem).
        edss: the Expanded Disability Status Scale score, or None when unknown; such patients
            are kept out of supervised tasks by :meth:`Cohort.with_edss`.
        clinical: numeric clinical features, already encoded (ages in years/100, 0/1
            indicators), keyed by the cohort's ``feature_names``.
        slices: ``(S, H, W)`` float32 in [0, 1], resampled to the model's input size and
            normalised per volume; None when the source has no images.
        source: ``"lesjak2017"``, ``"ms60"`` or ``"slices"``.
        slice_names: one label per slice, e.g. ``"z=87"`` or the image's file name.
    """

    patient_id: str
    edss: float | None
    clinical: dict[str, float]
    slices: np.ndarray | None
    source: str
    slice_names: list[str] = field(default_factory=list)


@dataclass
class Cohort:
    """Patients of one source with the same clinical features, plus what the loader noticed.

    Attributes:
        patients: the patients, in the source's order.
        feature_names: the order of clinical features; every patient has exactly these keys.
        image_kind: ``"lesion mask"``, ``"FLAIR"``, ``"T1"``, ``"T2"``, ``"slice images"`` or
            ``"none"``.
        notes: every quirk, exclusion and imputation, in plain words.
    """

    patients: list[Patient]
    feature_names: list[str]
    image_kind: str
    notes: list[str]

    def __post_init__(self) -> None:
        expected = set(self.feature_names)
        if len(expected) != len(self.feature_names):
            raise ParameterError(f"Cohort: feature_names repeat a name: {self.feature_names}")
        for patient in self.patients:
            if set(patient.clinical) != expected:
                raise ParameterError(
                    f"Cohort: patient {patient.patient_id} must have the features "
                    f"{self.feature_names}; found {sorted(patient.clinical)}"
                )

    def __len__(self) -> int:
        return len(self.patients)

    def with_edss(self) -> Cohort:
        """The patients whose EDSS is known, for supervised tasks.

        Returns:
            A new cohort sharing the patient objects; when any patient is left out, a note
            naming them is added.
        """
        kept = [patient for patient in self.patients if patient.edss is not None]
        left_out = [patient.patient_id for patient in self.patients if patient.edss is None]
        notes = list(self.notes)
        if left_out:
            notes.append(
                f"{len(left_out)} patient(s) without EDSS kept out of the supervised set: "
                + ", ".join(left_out)
            )
        return Cohort(kept, list(self.feature_names), self.image_kind, notes)

    def clinical_matrix(self) -> np.ndarray:
        """The clinical features as one matrix.

        Returns:
            ``(patients, features)`` float32, columns in ``feature_names`` order.
        """
        matrix = np.zeros((len(self.patients), len(self.feature_names)), dtype=np.float32)
        for row, patient in enumerate(self.patients):
            matrix[row] = [patient.clinical[name] for name in self.feature_names]
        return matrix

    def edss_values(self) -> np.ndarray:
        """The EDSS of every patient, NaN where unknown.

        Returns:
            ``(patients,)`` float32.
        """
        return np.array(
            [np.nan if patient.edss is None else patient.edss for patient in self.patients],
            dtype=np.float32,
        )

    def image_array(self) -> np.ndarray:
        """The slices of every patient stacked into one array.

        Returns:
            ``(patients, S, H, W)`` float32.

        Raises:
            ParameterError: a patient has no slices, or the patients' slice stacks differ in
                shape.
        """
        missing = [patient.patient_id for patient in self.patients if patient.slices is None]
        if missing:
            raise ParameterError(f"Cohort.image_array: patients without slices: {missing}")
        shapes = {patient.slices.shape for patient in self.patients}
        if len(shapes) > 1:
            raise ParameterError(
                f"Cohort.image_array: slice stacks must share one shape; found {sorted(shapes)}"
            )
        if not self.patients:
            return np.zeros((0, 0, 0, 0), dtype=np.float32)
        return np.stack([patient.slices for patient in self.patients]).astype(np.float32)
