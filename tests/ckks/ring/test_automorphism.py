"""Tests of ckks.ring.automorphism: X → X^g in coefficient and in NTT form.

The coefficient-form reference substitutes X^g term by term in Python integers and folds X^N = −1.
The NTT form is checked through the transform itself (it must commute with it) and against direct
evaluation at the roots ψ^((2·brv(k)+1)·g). Primes come from sympy, not from ckks.ring.primes.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from ckks.errors import ArrayShapeError, ArrayTypeError, ParameterError
from ckks.ring.automorphism import (
    apply_coefficient_form,
    apply_ntt_form,
    check_galois_element,
    coefficient_map,
    ntt_permutation,
    permute_rows,
)
from ckks.ring.ntt import NttTables, bit_reverse_permutation

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


@functools.cache
def moduli_for(ring_degree: int) -> tuple[int, ...]:
    """A 30-bit and a 61-bit prime ≡ 1 mod 2N, the largest of their sizes."""
    step = 2 * ring_degree
    found = []
    for bits in (30, 61):
        candidate = ((1 << bits) - 1) // step * step + 1
        while not sympy.isprime(candidate):
            candidate -= step
        found.append(candidate)
    return tuple(found)


@functools.cache
def tables_for(ring_degree: int) -> NttTables:
    return NttTables(ring_degree, list(moduli_for(ring_degree)))


def random_poly(ring_degree: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = [rng.integers(0, q, ring_degree, dtype=np.uint64) for q in moduli_for(ring_degree)]
    return np.array(rows, dtype=np.uint64)


def moduli_array(ring_degree: int) -> np.ndarray:
    return np.array(moduli_for(ring_degree), dtype=np.uint64)


def substitute(coefficients: list[int], g: int, q: int) -> list[int]:
    """a(X^g) mod (X^N + 1, q) by direct substitution in Python integers."""
    N = len(coefficients)
    out = [0] * N
    for i, c in enumerate(coefficients):
        exponent = i * g % (2 * N)
        if exponent < N:
            out[exponent] = (out[exponent] + c) % q
        else:
            out[exponent - N] = (out[exponent - N] - c) % q
    return out


def odd_elements(ring_degree: int) -> list[int]:
    two_n = 2 * ring_degree
    return sorted({1, 3, 5, two_n - 1, pow(5, 3, two_n), two_n + 5, -5 % two_n, -3})


# --- coefficient form ----------------------------------------------------------------------------


@pytest.mark.parametrize("ring_degree", [2, 4, 8, 64, 1024])
def test_coefficient_form_matches_substitution(ring_degree):
    a = random_poly(ring_degree, seed=ring_degree)
    a[:, 0] = 0  # zero coefficients must stay zero when negated
    for g in odd_elements(ring_degree):
        image = apply_coefficient_form(a, moduli_array(ring_degree), g)
        assert image.dtype == np.uint64 and image.shape == a.shape
        for row, q in enumerate(moduli_for(ring_degree)):
            assert image[row].tolist() == substitute(a[row].tolist(), g, q)


def test_conjugation_known_answer():
    # X → X^(2N−1) = X^(−1): X ↦ −X^(N−1) and X^k ↦ −X^(N−k), the constant stays.
    ring_degree = 8
    q = moduli_for(ring_degree)[0]
    a = np.zeros((2, ring_degree), dtype=np.uint64)
    a[:, :4] = [3, 1, 0, 2]
    image = apply_coefficient_form(a, moduli_array(ring_degree), 2 * ring_degree - 1)
    assert image[0].tolist() == [3, 0, 0, 0, 0, q - 2, 0, q - 1]


def test_rotation_elements_form_a_cyclic_group_of_order_n_over_2():
    ring_degree = 64
    a = random_poly(ring_degree, seed=1)
    moduli = moduli_array(ring_degree)
    image = a
    for step in range(1, ring_degree // 2 + 1):
        image = apply_coefficient_form(image, moduli, 5)
        np.testing.assert_array_equal(
            image, apply_coefficient_form(a, moduli, pow(5, step, 2 * ring_degree))
        )
        assert (image == a).all() == (step == ring_degree // 2)


@SETTINGS
@given(
    log_degree=st.integers(1, 10),
    g1=st.integers(-(2**20), 2**20).map(lambda v: 2 * v + 1),
    g2=st.integers(-(2**20), 2**20).map(lambda v: 2 * v + 1),
    seed=st.integers(0, 2**32),
)
def test_composition_is_the_product_of_elements(log_degree, g1, g2, seed):
    ring_degree = 1 << log_degree
    a = random_poly(ring_degree, seed)
    moduli = moduli_array(ring_degree)

    once = apply_coefficient_form(apply_coefficient_form(a, moduli, g2), moduli, g1)
    np.testing.assert_array_equal(once, apply_coefficient_form(a, moduli, g1 * g2))
    inverse = pow(g1 * g2, -1, 2 * ring_degree)
    np.testing.assert_array_equal(apply_coefficient_form(once, moduli, inverse), a)
    ntt_once = apply_ntt_form(apply_ntt_form(a, g2), g1)
    np.testing.assert_array_equal(ntt_once, apply_ntt_form(a, g1 * g2))


# --- NTT form ------------------------------------------------------------------------------------


@SETTINGS
@given(
    log_degree=st.integers(1, 12),
    g=st.integers(0, 2**30).map(lambda v: 2 * v + 1),
    seed=st.integers(0, 2**32),
)
def test_ntt_form_commutes_with_the_transform(log_degree, g, seed):
    ring_degree = 1 << log_degree
    tables = tables_for(ring_degree)
    a = random_poly(ring_degree, seed)

    coefficient_image = apply_coefficient_form(a, moduli_array(ring_degree), g)
    np.testing.assert_array_equal(
        tables.forward(coefficient_image), apply_ntt_form(tables.forward(a), g)
    )


@pytest.mark.parametrize("ring_degree", [4, 32])
def test_ntt_form_values_are_evaluations_at_the_moved_roots(ring_degree):
    tables = tables_for(ring_degree)
    a = random_poly(ring_degree, seed=3)
    brv = bit_reverse_permutation(ring_degree)
    for g in odd_elements(ring_degree):
        image = apply_ntt_form(tables.forward(a), g)
        for row, q in enumerate(moduli_for(ring_degree)):
            psi = int(tables.psi[row])
            coefficients = a[row].tolist()
            for k in range(ring_degree):
                point = pow(psi, (2 * int(brv[k]) + 1) * g, q)
                value = sum(c * pow(point, i, q) for i, c in enumerate(coefficients)) % q
                assert int(image[row, k]) == value


def test_maps_are_permutations_and_cached_read_only():
    ring_degree = 256
    for g in odd_elements(ring_degree):
        g %= 2 * ring_degree
        destination, negate = coefficient_map(ring_degree, g)
        permutation = ntt_permutation(ring_degree, g)
        assert sorted(destination.tolist()) == list(range(ring_degree))
        assert sorted(permutation.tolist()) == list(range(ring_degree))
        assert set(negate.tolist()) <= {0, 1}
        assert not destination.flags.writeable and not permutation.flags.writeable
        assert ntt_permutation(ring_degree, g) is permutation
    assert ntt_permutation(ring_degree, 1).tolist() == list(range(ring_degree))
    a = random_poly(ring_degree, seed=4)
    np.testing.assert_array_equal(permute_rows(a, ntt_permutation(ring_degree, 1)), a)


# --- misuse --------------------------------------------------------------------------------------


@pytest.mark.parametrize("g", [0, 2, 16, -2, 2**40])
def test_even_galois_elements_are_refused(g):
    with pytest.raises(ParameterError, match=f"must be odd .* got {g}"):
        check_galois_element(g, 8)
    a = random_poly(8, seed=0)
    with pytest.raises(ParameterError, match="odd"):
        apply_coefficient_form(a, moduli_array(8), g)
    with pytest.raises(ParameterError, match="odd"):
        apply_ntt_form(a, g)


@pytest.mark.parametrize("g", [5.0, "5", True, None])
def test_non_integer_galois_elements_are_refused(g):
    with pytest.raises(ParameterError, match=f"got {g!r}"):
        check_galois_element(g, 8)


def test_galois_element_is_reduced_mod_2n():
    assert check_galois_element(-1, 8) == 15
    assert check_galois_element(21, 8) == 5
    assert check_galois_element(np.int64(3), 8) == 3


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (lambda a: a.astype(np.int64), ArrayTypeError, "dtype uint64"),
        (lambda a: np.repeat(a, 2, axis=1)[:, ::2], ArrayShapeError, "C-contiguous"),
        (lambda a: a[:, :12].copy(), ParameterError, "power of two .* got 12"),
    ],
    ids=["int64", "strided", "degree-12"],
)
def test_bad_arrays_are_refused(bad, error, message):
    a = bad(random_poly(16, seed=5))
    with pytest.raises(error, match=message):
        apply_coefficient_form(a, moduli_array(16), 5)
    with pytest.raises(error, match=message):
        apply_ntt_form(a, 5)


def test_coefficient_form_needs_one_modulus_per_row():
    a = random_poly(16, seed=6)
    with pytest.raises(ArrayShapeError, match=r"got \(2, 16\)"):
        apply_coefficient_form(a, moduli_array(16)[:1], 5)


def test_lists_and_scalars_are_refused_as_arrays():
    a = random_poly(16, seed=7)
    for bad, error in ((a.tolist(), ArrayTypeError), (a[0], ArrayShapeError)):
        with pytest.raises(error, match="residues"):
            apply_coefficient_form(bad, moduli_array(16), 5)
        with pytest.raises(error, match="residues"):
            apply_ntt_form(bad, 5)
