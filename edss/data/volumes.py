"""Volume helpers: reading NIfTI files, intensity normalisation, slice choice and resampling.

Slices are always taken across one axis of a 3-D array (the axial axis for brain MRI); the
loaders find that axis from the file's affine with :func:`axial_axis_of`.
"""

from __future__ import annotations

import zlib
from os import PathLike
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
from nibabel.filebasedimages import ImageFileError
from nibabel.spatialimages import HeaderDataError

from edss.errors import DataError, ParameterError

SLICE_METHODS = ("even", "lesion")

# What nibabel and gzip raise on a missing header, a truncated stream or a foreign file.
_READ_ERRORS = (OSError, EOFError, ValueError, zlib.error, ImageFileError, HeaderDataError)


def _check_file(path: Path, what: str) -> None:
    if path.is_dir():
        raise DataError.about(path, what, "a folder")
    if not path.exists():
        raise DataError.about(path, what, "no such file")


def load_nifti(path: str | PathLike[str]) -> np.ndarray:
    """Read a NIfTI volume as a 3-D float32 array, with the file's intensity scaling applied.

    Trailing axes of length 1 (a 4-D file holding one volume) are dropped.

    Args:
        path: a ``.nii`` or ``.nii.gz`` file.

    Returns:
        The voxel values, shape ``(X, Y, Z)``, float32.

    Raises:
        DataError: the file is missing, truncated or corrupt, not an image nibabel can read,
            or does not hold one 3-D volume.
    """
    path = Path(path)
    _check_file(path, "a NIfTI volume")

    try:
        image = nib.load(str(path))
        data = np.asarray(image.dataobj, dtype=np.float32)
    except _READ_ERRORS as exc:
        raise DataError.about(
            path, "a readable NIfTI volume", f"{type(exc).__name__}: {exc}"
        ) from exc

    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim != 3 or 0 in data.shape:
        raise DataError.about(path, "one non-empty 3-D volume", f"an array of shape {data.shape}")
    return data


def axial_axis_of(path: str | PathLike[str]) -> int:
    """The array axis that runs inferior–superior in a NIfTI file, read from its affine.

    Args:
        path: a ``.nii`` or ``.nii.gz`` file; only its header is read.

    Returns:
        0, 1 or 2; 2 when the affine does not say (no orientation, or an oblique one whose
        superior axis is ambiguous).

    Raises:
        DataError: the file is missing or its header cannot be read.
    """
    path = Path(path)
    _check_file(path, "a NIfTI volume")

    try:
        image = nib.load(str(path))
        codes = nib.aff2axcodes(image.affine)
    except _READ_ERRORS as exc:
        raise DataError.about(
            path, "a readable NIfTI header", f"{type(exc).__name__}: {exc}"
        ) from exc

    axes = [index for index, code in enumerate(codes[:3]) if code in ("S", "I")]
    return axes[0] if len(axes) == 1 else 2


def normalize_volume(
    volume: np.ndarray, lower_percentile: float = 1.0, upper_percentile: float = 99.0
) -> np.ndarray:
    """Map one volume's intensities to [0, 1] by a robust min–max over its non-zero voxels.

    The ``lower_percentile`` and ``upper_percentile`` of the non-zero voxels map to 0 and 1 and
    values beyond are clipped, so a few hot voxels do not squash the rest. Zero voxels (the
    background of skull-stripped images) stay 0. A volume whose values are all 0 or 1 (a
    mask) is returned unchanged, as float32. Non-finite voxels count as background.

    Args:
        volume: an array of any shape (a 3-D volume, or the pixels of a set of slices).
        lower_percentile: the percentile mapped to 0, in [0, 100).
        upper_percentile: the percentile mapped to 1, above ``lower_percentile``.

    Returns:
        A float32 array of the same shape with values in [0, 1].

    Raises:
        ParameterError: the percentiles are out of order or outside [0, 100].
    """
    if not 0.0 <= lower_percentile < upper_percentile <= 100.0:
        raise ParameterError(
            "normalize_volume: percentiles must satisfy 0 <= lower < upper <= 100; "
            f"found lower={lower_percentile}, upper={upper_percentile}"
        )
    array = np.array(volume, dtype=np.float32)
    finite = np.isfinite(array)
    if not finite.all():
        array[~finite] = 0.0

    if np.all((array == 0.0) | (array == 1.0)):
        return array
    nonzero = array[array != 0.0]
    if nonzero.size == 0:
        return np.zeros_like(array)
    low, high = np.percentile(nonzero, [lower_percentile, upper_percentile])
    if high <= low:
        return (array != 0.0).astype(np.float32)

    scaled = np.clip((array - low) / (high - low), 0.0, 1.0).astype(np.float32)
    scaled[array == 0.0] = 0.0
    return scaled


def _per_slice_counts(volume: np.ndarray, axis: int) -> np.ndarray:
    moved = np.moveaxis(np.asarray(volume), axis, 0)
    return np.count_nonzero(moved.reshape(moved.shape[0], -1), axis=1)


def _even_choice(content: np.ndarray, count: int, exclude: set[int]) -> list[int]:
    """``count`` indices spread evenly over the slices with content, none from ``exclude``.

    The picks are the centres of ``count`` equal runs of the candidate list, so the thin
    first and last slices of the brain are avoided. With fewer candidates than ``count``,
    all of them are taken and the rest are the free slices nearest to their middle.
    """
    free = np.array([index for index in range(content.size) if index not in exclude])
    candidates = free[content[free] > 0]
    if candidates.size == 0:
        candidates = free

    if candidates.size >= count:
        positions = ((np.arange(count) + 0.5) * candidates.size / count).astype(int)
        return sorted(int(index) for index in candidates[positions])
    centre = float(candidates.mean())
    taken = {int(index) for index in candidates}
    others = sorted(
        (int(i) for i in free if int(i) not in taken), key=lambda i: (abs(i - centre), i)
    )
    return sorted(taken | set(others[: count - len(taken)]))


def select_slices(
    volume: np.ndarray,
    count: int,
    method: str = "even",
    mask: np.ndarray | None = None,
    axis: int = 2,
) -> list[int]:
    """Choose ``count`` slice indices along ``axis`` (axial by default).

    ``"even"`` spreads the picks evenly over the slices that hold any non-zero voxel (the
    brain of a skull-stripped image, the lesions of a mask); an empty volume is spread over
    all slices. ``"lesion"`` takes the slices with the most lesion voxels in ``mask`` (ties go
    to the lower index); when the mask is empty it falls back to ``"even"``, and when fewer
    slices than ``count`` hold lesions the rest are filled by ``"even"`` among the others.

    Args:
        volume: the 3-D image.
        count: how many slices, from 1 to the length of ``axis``.
        method: ``"even"`` or ``"lesion"``.
        mask: the lesion mask for ``"lesion"`` (non-zero = lesion), same shape as
            ``volume``; when None the volume itself is taken as the mask.
        axis: the axis slices are taken across; negative values count from the end.

    Returns:
        ``count`` distinct indices in increasing order.

    Raises:
        ParameterError: ``volume`` is not 3-D, ``axis``, ``count`` or ``method`` are out of
            range, or ``mask`` has another shape.
    """
    volume = np.asarray(volume)
    if volume.ndim != 3:
        raise ParameterError(f"select_slices: volume must be 3-D; found shape {volume.shape}")
    if not -3 <= axis <= 2:
        raise ParameterError(f"select_slices: axis must be in [-3, 2]; found {axis}")
    axis %= 3
    length = volume.shape[axis]
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ParameterError(f"select_slices: count must be a positive integer; found {count!r}")
    if count > length:
        raise ParameterError(
            f"select_slices: count must not exceed the {length} slices along axis {axis}; "
            f"found {count}"
        )
    if method not in SLICE_METHODS:
        raise ParameterError(
            f"select_slices: method must be one of {SLICE_METHODS}; found {method!r}"
        )
    if mask is not None and np.shape(mask) != volume.shape:
        raise ParameterError(
            f"select_slices: mask shape must equal the volume shape {volume.shape}; "
            f"found {np.shape(mask)}"
        )

    content = _per_slice_counts(volume, axis)
    if method == "even":
        return _even_choice(content, int(count), set())

    lesions = _per_slice_counts(volume if mask is None else mask, axis)
    lesioned = int(np.count_nonzero(lesions))
    if lesioned == 0:
        return _even_choice(content, int(count), set())
    order = np.argsort(-lesions, kind="stable")
    chosen = {int(index) for index in order[: min(int(count), lesioned)]}
    if len(chosen) < count:
        chosen |= set(_even_choice(content, int(count) - len(chosen), chosen))
    return sorted(chosen)


def resample_slice(slice2d: np.ndarray, size: int) -> np.ndarray:
    """Resample one 2-D slice to ``size × size`` by area averaging.

    The slice is first padded with zeros, centred, to a square, so no content is cut and the
    aspect ratio is kept; then each output pixel is the mean of the input pixels it covers
    (``torch.nn.functional.adaptive_avg_pool2d``). A square smaller than ``size`` is enlarged
    by repeating pixels. Values stay within the input's range, so [0, 1] stays [0, 1].

    Args:
        slice2d: a non-empty 2-D array.
        size: the output side length, at least 1.

    Returns:
        A float32 array of shape ``(size, size)``.

    Raises:
        ParameterError: the slice is not a non-empty 2-D array, or ``size`` is not a positive
            integer.
    """
    array = np.asarray(slice2d, dtype=np.float32)
    if array.ndim != 2 or 0 in array.shape:
        raise ParameterError(
            f"resample_slice: slice must be a non-empty 2-D array; found shape {array.shape}"
        )
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ParameterError(f"resample_slice: size must be a positive integer; found {size!r}")

    rows, cols = array.shape
    side = max(rows, cols)
    square = np.zeros((side, side), dtype=np.float32)
    top, left = (side - rows) // 2, (side - cols) // 2
    square[top : top + rows, left : left + cols] = array

    pooled = torch.nn.functional.adaptive_avg_pool2d(
        torch.from_numpy(square)[None, None], (int(size), int(size))
    )
    # Averaging may round a hair past the input's extremes; keep the range exact.
    return np.clip(pooled[0, 0].numpy(), square.min(), square.max()).astype(np.float32)


def slice_stack(
    volume: np.ndarray,
    count: int,
    size: int,
    method: str = "even",
    mask: np.ndarray | None = None,
    axis: int = 2,
) -> tuple[np.ndarray, list[int]]:
    """Normalise a volume, choose ``count`` slices and resample each to ``size × size``.

    Args:
        volume: the 3-D image (or mask).
        count: how many slices; see :func:`select_slices`.
        size: the output side length; see :func:`resample_slice`.
        method: ``"even"`` or ``"lesion"``; see :func:`select_slices`.
        mask: the lesion mask for ``"lesion"``; None takes the volume itself.
        axis: the axis slices are taken across.

    Returns:
        The ``(count, size, size)`` float32 stack in [0, 1] and the chosen indices.

    Raises:
        ParameterError: as :func:`select_slices` and :func:`resample_slice`.
    """
    indices = select_slices(volume, count, method=method, mask=mask, axis=axis)
    normalized = np.moveaxis(normalize_volume(volume), axis, 0)  # a view: slice i is [i]
    stack = np.stack([resample_slice(normalized[index], size) for index in indices])
    return stack.astype(np.float32), indices


def volume_slices(image_path, count: int, size: int, method: str = "even", mask_path=None):
    """Load one volume and take its slices, checking what every loader checks.

    Returns:
        (slices, names, finite): the stack of :func:`slice_stack`, a name per slice such as
        "z=87", and whether every voxel was finite (non-finite voxels read as background).

    Raises:
        DataError: unreadable files, a mask of another shape, or too few axial slices.
    """
    volume = load_nifti(image_path)
    finite = bool(np.isfinite(volume).all())
    mask = None
    if mask_path is not None:
        mask = load_nifti(mask_path)
        if mask.shape != volume.shape:
            raise DataError.about(
                mask_path,
                f"a lesion mask of the image's shape {volume.shape}",
                f"shape {mask.shape}",
            )
    axis = axial_axis_of(image_path)
    if volume.shape[axis] < count:
        raise DataError.about(
            image_path,
            f"at least {count} slices along the axial axis {axis}",
            f"shape {volume.shape}",
        )
    slices, indices = slice_stack(volume, count, size, method=method, mask=mask, axis=axis)
    return slices, [f"{'xyz'[axis]}={index}" for index in indices], finite
