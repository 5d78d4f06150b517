"""NIfTI reading, normalisation, slice selection and resampling."""

from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np
import pytest

from edss.data.volumes import (
    axial_axis_of,
    load_nifti,
    normalize_volume,
    resample_slice,
    select_slices,
    slice_stack,
)
from edss.errors import DataError, EdssError, ParameterError

from .helpers import SHAPE, brain, lesion_mask, write_nifti


def test_data_error_is_value_error_and_names_path_expected_found():
    error = DataError.about("/x/y.csv", "a table", "nothing", "Try again.")
    assert isinstance(error, EdssError) and isinstance(error, ValueError)
    assert str(error) == "/x/y.csv: expected a table; found nothing. Try again."
    assert (error.path, error.expected, error.found) == ("/x/y.csv", "a table", "nothing")


# --- load_nifti ----------------------------------------------------------------------------


def test_load_nifti_reads_float32_with_scaling(tmp_path):
    data = np.arange(np.prod(SHAPE), dtype=np.int16).reshape(SHAPE)
    image = nib.Nifti1Image(data, np.eye(4))
    image.header.set_slope_inter(2.0, 1.0)
    path = tmp_path / "v.nii.gz"
    image.to_filename(str(path))

    volume = load_nifti(path)

    assert volume.dtype == np.float32 and volume.shape == SHAPE
    np.testing.assert_array_equal(volume, data * 2.0 + 1.0)


def test_load_nifti_drops_trailing_singleton_axis(tmp_path):
    path = write_nifti(tmp_path / "v.nii", np.ones((*SHAPE, 1), dtype=np.float32))
    assert load_nifti(path).shape == SHAPE


def test_load_nifti_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.nii\.gz: expected a NIfTI volume; found no such"):
        load_nifti(tmp_path / "nope.nii.gz")


def test_load_nifti_folder_instead_of_file(tmp_path):
    with pytest.raises(DataError, match="found a folder"):
        load_nifti(tmp_path)


def test_load_nifti_truncated_gzip(tmp_path):
    path = write_nifti(tmp_path / "v.nii.gz", np.random.default_rng(1).random(SHAPE, np.float32))
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match=r"v\.nii\.gz: expected a readable NIfTI volume; found"):
        load_nifti(path)


def test_load_nifti_not_a_nifti(tmp_path):
    path = tmp_path / "v.nii.gz"
    path.write_bytes(gzip.compress(b"not an image at all" * 30))
    with pytest.raises(DataError, match="readable NIfTI volume"):
        load_nifti(path)


@pytest.mark.parametrize("shape", [(8, 8), (4, 4, 4, 2)])
def test_load_nifti_rejects_other_than_3d(tmp_path, shape):
    path = write_nifti(tmp_path / "v.nii.gz", np.ones(shape, dtype=np.float32))
    with pytest.raises(DataError, match=r"expected one non-empty 3-D volume; found .*shape"):
        load_nifti(path)


def test_axial_axis_from_affine(tmp_path):
    ras = write_nifti(tmp_path / "ras.nii.gz", np.zeros(SHAPE, np.float32))
    # Axis 0 runs superior, axis 1 anterior, axis 2 left→right: axial axis is 0.
    affine = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], float)
    sag = write_nifti(tmp_path / "sag.nii.gz", np.zeros(SHAPE, np.float32), affine)
    assert axial_axis_of(ras) == 2
    assert axial_axis_of(sag) == 0


# --- normalize_volume ----------------------------------------------------------------------


def test_normalize_volume_robust_range_and_background():
    volume = brain()
    volume[5, 5, 5] = 1e6  # one hot voxel must not squash the rest
    out = normalize_volume(volume)
    assert out.dtype == np.float32 and out.shape == volume.shape
    assert out.min() == 0.0 and out.max() == 1.0
    assert np.all(out[volume == 0] == 0)
    inside = out[volume != 0]
    assert np.median(inside) > 0.3  # not crushed towards 0 by the outlier


def test_normalize_volume_keeps_masks_and_handles_flat_and_empty():
    mask = lesion_mask({3: 7}).astype(np.float32)
    np.testing.assert_array_equal(normalize_volume(mask), mask)
    flat = np.where(mask > 0, 5.0, 0.0)
    np.testing.assert_array_equal(normalize_volume(flat), mask)
    assert not normalize_volume(np.zeros(SHAPE)).any()


def test_normalize_volume_nonfinite_is_background():
    volume = brain()
    volume[4, 4, 4] = np.nan
    volume[4, 5, 4] = np.inf
    out = normalize_volume(volume)
    assert np.isfinite(out).all() and out[4, 4, 4] == 0 and out[4, 5, 4] == 0


def test_normalize_volume_bad_percentiles():
    with pytest.raises(ParameterError, match="lower=99"):
        normalize_volume(brain(), 99, 1)


# --- select_slices -------------------------------------------------------------------------


def test_even_spreads_over_content_only():
    volume = brain(first=2, last=9)  # content in z = 2..9 of 12
    picks = select_slices(volume, 4, "even")
    assert picks == [3, 5, 7, 9]
    assert all(2 <= z <= 9 for z in picks)
    assert select_slices(volume, 8, "even") == list(range(2, 10))


def test_even_on_empty_volume_spreads_over_all_slices():
    assert select_slices(np.zeros(SHAPE), 3, "even") == [2, 6, 10]


def test_even_with_fewer_content_slices_fills_nearest():
    volume = brain(first=5, last=6)
    assert select_slices(volume, 4, "even") == [4, 5, 6, 7]


def test_lesion_picks_the_most_lesioned_slices():
    volume = brain()
    mask = lesion_mask({2: 3, 4: 40, 7: 25, 8: 1, 9: 25})
    assert select_slices(volume, 3, "lesion", mask=mask) == [4, 7, 9]


def test_lesion_without_mask_uses_the_volume():
    mask = lesion_mask({1: 9, 10: 4, 6: 30})
    assert select_slices(mask, 2, "lesion") == [1, 6]


def test_lesion_falls_back_to_even_when_mask_empty():
    volume = brain()
    empty = np.zeros(SHAPE, np.uint8)
    assert select_slices(volume, 4, "lesion", mask=empty) == select_slices(volume, 4, "even")


def test_lesion_fills_with_even_when_few_slices_have_lesions():
    volume = brain()
    picks = select_slices(volume, 4, "lesion", mask=lesion_mask({6: 10}))
    assert 6 in picks and len(set(picks)) == 4 and picks == sorted(picks)


def test_select_slices_along_another_axis():
    volume = np.zeros(SHAPE, np.float32)
    volume[3:7] = 1.0
    assert all(3 <= x <= 6 for x in select_slices(volume, 2, axis=0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"count": 0}, "count must be a positive integer"),
        ({"count": 13}, "must not exceed the 12 slices"),
        ({"count": 2, "method": "random"}, "method must be one of"),
        ({"count": 2, "axis": 3}, "axis must be in"),
        ({"count": 2, "method": "lesion", "mask": np.zeros((2, 2, 2))}, "mask shape"),
    ],
)
def test_select_slices_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        select_slices(brain(), **kwargs)


def test_select_slices_rejects_2d():
    with pytest.raises(ParameterError, match="3-D"):
        select_slices(np.zeros((4, 4)), 1)


# --- resample_slice ------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(182, 218), (218, 182), (20, 20), (7, 3)])
def test_resample_shape_dtype_and_range(shape):
    rng = np.random.default_rng(2)
    out = resample_slice(rng.random(shape), 32)
    assert out.shape == (32, 32) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_resample_is_area_average_and_pads_centred():
    block = np.kron(np.array([[1.0, 0.0], [0.0, 1.0]]), np.ones((4, 4)))  # 8×8
    np.testing.assert_allclose(resample_slice(block, 2), [[1, 0], [0, 1]])
    wide = np.ones((2, 4), np.float32)  # padded to 4×4 with a zero row above and below
    np.testing.assert_allclose(resample_slice(wide, 2), [[0.5, 0.5], [0.5, 0.5]])
    mask = np.zeros((10, 10))
    mask[:5, :5] = 1
    assert resample_slice(mask, 1)[0, 0] == pytest.approx(0.25)  # lesion fraction


def test_resample_rejects_bad_input():
    with pytest.raises(ParameterError, match="non-empty 2-D"):
        resample_slice(np.zeros((3, 3, 3)), 4)
    with pytest.raises(ParameterError, match="size must be a positive integer"):
        resample_slice(np.zeros((3, 3)), 0)


def test_slice_stack_combines_the_steps():
    stack, picks = slice_stack(brain(), 4, 8)
    assert picks == [3, 5, 7, 9]
    assert stack.shape == (4, 8, 8) and stack.dtype == np.float32
    assert stack.min() >= 0.0 and stack.max() <= 1.0 and stack.max() > 0.5
