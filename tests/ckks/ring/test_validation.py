"""Tests of ckks.ring.validation: the shared argument checks and the messages they give."""

from __future__ import annotations

import numpy as np
import pytest

from ckks.errors import ArrayShapeError, ArrayTypeError, CkksError, ParameterError
from ckks.ring.validation import (
    MAX_RING_DEGREE,
    MIN_RING_DEGREE,
    check_reduced,
    check_residues,
    check_ring_degree,
)

# --- ring degree ---------------------------------------------------------------------------------


def test_every_supported_ring_degree_is_accepted_as_a_plain_int():
    supported = [1 << k for k in range(1, 18)]
    assert supported[0] == MIN_RING_DEGREE and supported[-1] == MAX_RING_DEGREE
    for ring_degree in supported:
        for given in (ring_degree, np.int64(ring_degree), np.uint32(ring_degree)):
            result = check_ring_degree(given)
            assert result == ring_degree and type(result) is int


@pytest.mark.parametrize(
    ("ring_degree", "shown"),
    [
        (0, "got 0"),
        (1, "got 1"),
        (3, "got 3"),
        (12, "got 12"),
        (1000, "got 1000"),
        (1023, "got 1023"),
        (-8, "got -8"),
        (1 << 18, f"got {1 << 18}"),
        (1 << 64, f"got {1 << 64}"),
        (np.int64(6), "got 6"),
        (True, "got True of type bool"),
        (False, "got False of type bool"),
        (8.0, "got 8.0 of type float"),
        (np.float64(8.0), r"got (np\.float64\()?8\.0\)? of type float64"),
        ("8", "got '8' of type str"),
        (None, "got None of type NoneType"),
        ([8], r"got \[8\] of type list"),
    ],
)
def test_bad_ring_degrees_name_the_value(ring_degree, shown):
    with pytest.raises(ParameterError, match=shown) as caught:
        check_ring_degree(ring_degree)
    assert "ring_degree" in str(caught.value)
    # Callers may catch the builtin as well as the package's base class.
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, CkksError)


def test_argument_name_appears_in_the_message():
    with pytest.raises(ParameterError, match=r"^degree of the key must be"):
        check_ring_degree(12, argument="degree of the key")


# --- residue arrays ------------------------------------------------------------------------------


def test_well_formed_residues_pass():
    check_residues(np.zeros((3, 8), dtype=np.uint64), 3, 8, "x")
    check_residues(np.zeros((0, 8), dtype=np.uint64), 0, 8, "x")


@pytest.mark.parametrize(
    ("array", "error", "message"),
    [
        ([[0] * 8] * 3, ArrayTypeError, "x must be a numpy.ndarray of uint64, got list"),
        (np.zeros((3, 8), dtype=np.int64), ArrayTypeError, "x must have dtype uint64, got int64"),
        (np.zeros((3, 8)), ArrayTypeError, "got float64"),
        (np.zeros((3, 8), dtype=object), ArrayTypeError, "got object"),
        (np.zeros((2, 8), dtype=np.uint64), ArrayShapeError, r"\(3, 8\), got \(2, 8\)"),
        (np.zeros((3, 16), dtype=np.uint64), ArrayShapeError, r"got \(3, 16\)"),
        (np.zeros(24, dtype=np.uint64), ArrayShapeError, r"got \(24,\)"),
        (np.zeros((3, 16), dtype=np.uint64)[:, ::2], ArrayShapeError, "C-contiguous"),
        (np.zeros((8, 3), dtype=np.uint64).T, ArrayShapeError, "C-contiguous"),
    ],
    ids=["list", "int64", "float64", "object", "rows", "columns", "1-D", "strided", "transposed"],
)
def test_bad_residue_arrays_raise_named_errors(array, error, message):
    with pytest.raises(error, match=message):
        check_residues(array, 3, 8, "x")


def test_reduced_check_names_row_column_and_value():
    moduli = np.array([17, 97, 193], dtype=np.uint64)
    array = np.array([[16, 0], [96, 5], [0, 192]], dtype=np.uint64)
    check_reduced(array, moduli, "x")

    array[1, 1] = 97
    with pytest.raises(ArrayShapeError, match="row 1 column 1 holds 97 >= 97"):
        check_reduced(array, moduli, "x")
    array[0, 1] = 2**64 - 1
    with pytest.raises(ArrayShapeError, match=f"row 0 column 1 holds {2**64 - 1} >= 17"):
        check_reduced(array, moduli, "x")
