"""Tests of ckks.ring.arithmetic: element-wise RNS arithmetic against Python integers.

Every function runs on one array whose rows use primes from 14 to 61 bits, with random and edge
residues (0, 1, q − 1), and is compared with the same arithmetic in exact Python integers. The
product of two NTT forms is checked against a schoolbook negacyclic product. These functions are
unchecked by design (the scheme layer validates), so there are no misuse tests here.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from ckks.ring import arithmetic
from ckks.ring.modarith import ModulusConstants, shoup_companion
from ckks.ring.ntt import NttTables

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)
DEGREE = 64
WORD = 1 << 64


def ntt_primes(bit_sizes, ring_degree: int) -> list[int]:
    """The largest prime ≡ 1 mod 2N of each size, from sympy."""
    step = 2 * ring_degree
    found = []
    for bits in bit_sizes:
        candidate = ((1 << bits) - 1) // step * step + 1
        while not sympy.isprime(candidate) or candidate in found:
            candidate -= step
        found.append(candidate)
    return found


MODULI = ntt_primes([14, 20, 30, 31, 32, 33, 45, 59, 60, 61, 61], DEGREE)
CONSTANTS = ModulusConstants(MODULI)


def operands(seed: int, moduli=MODULI, columns: int = DEGREE) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays of residues whose last columns meet every pair of edge values."""
    rng = np.random.default_rng(seed)
    rows_a, rows_b = [], []
    for q in moduli:
        edges = [0, 1, q - 1]
        left = [e for e in edges for _ in edges]
        right = edges * len(edges)
        random_count = columns - len(left)
        rows_a.append([*rng.integers(0, q, random_count, dtype=np.uint64).tolist(), *left])
        rows_b.append([*rng.integers(0, q, random_count, dtype=np.uint64).tolist(), *right])
    return np.array(rows_a, dtype=np.uint64), np.array(rows_b, dtype=np.uint64)


def reference(a: np.ndarray, b: np.ndarray | None, moduli, operation) -> list[list[int]]:
    """``operation(x, y) mod q`` row by row in Python integers."""
    rows = []
    for row, q in enumerate(moduli):
        right = b[row].tolist() if b is not None else [0] * a.shape[1]
        rows.append([operation(x, y) % q for x, y in zip(a[row].tolist(), right)])
    return rows


def moduli_array(moduli=MODULI) -> np.ndarray:
    return np.array(moduli, dtype=np.uint64)


# --- each function against Python integers -------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_add_subtract_negate(seed):
    a, b = operands(seed)
    moduli = moduli_array()
    assert arithmetic.add(a, b, moduli).tolist() == reference(a, b, MODULI, lambda x, y: x + y)
    difference = reference(a, b, MODULI, lambda x, y: x - y)
    assert arithmetic.subtract(a, b, moduli).tolist() == difference
    assert arithmetic.negate(a, moduli).tolist() == reference(a, None, MODULI, lambda x, _: -x)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multiply_and_multiply_add(seed):
    a, b = operands(seed)
    accumulator = operands(seed + 100)[0]
    expected_product = reference(a, b, MODULI, lambda x, y: x * y)
    expected_sum = [
        [(acc + p) % q for acc, p in zip(acc_row, product_row)]
        for acc_row, product_row, q in zip(accumulator.tolist(), expected_product, MODULI)
    ]

    assert arithmetic.multiply(a, b, CONSTANTS).tolist() == expected_product
    assert arithmetic.multiply_add(a, b, accumulator, CONSTANTS) is None
    assert accumulator.tolist() == expected_sum


@pytest.mark.parametrize("seed", [0, 1])
def test_multiply_by_row_constants(seed):
    a, _ = operands(seed)
    rng = np.random.default_rng(seed)
    factors = [0, 1, *(int(rng.integers(0, q)) for q in MODULI[2:-1]), MODULI[-1] - 1]
    expected = [[x * f % q for x in row] for row, f, q in zip(a.tolist(), factors, MODULI)]

    result = arithmetic.multiply_by_row_constants(a, factors, moduli_array())
    assert result.tolist() == expected
    as_array = np.array(factors, dtype=np.uint64)
    assert arithmetic.multiply_by_row_constants(a, as_array, moduli_array()).tolist() == expected


@pytest.mark.parametrize("seed", [0, 1])
def test_subtract_and_scale_with_lazy_subtrahend(seed):
    a, b = operands(seed)
    rng = np.random.default_rng(seed + 7)
    # b may be lazy (below 2q): add q to a random half of its entries.
    lazy = b + np.where(rng.random(b.shape) < 0.5, moduli_array()[:, None], np.uint64(0))
    lazy[:, -1] = moduli_array() * np.uint64(2) - np.uint64(1)
    factors = [int(rng.integers(0, q)) for q in MODULI]
    companions = np.array([shoup_companion(f, q) for f, q in zip(factors, MODULI)], np.uint64)
    offsets = [int(rng.integers(0, q)) for q in MODULI]

    for offset_values in (None, offsets):
        out = np.empty_like(a)
        arithmetic.subtract_and_scale(
            a,
            lazy,
            np.array(factors, dtype=np.uint64),
            companions,
            moduli_array(),
            out,
            None if offset_values is None else np.array(offset_values, dtype=np.uint64),
        )
        shifts = offset_values or [0] * len(MODULI)
        expected = [
            [(x - y + shift) * f % q for x, y in zip(row_a, row_b)]
            for row_a, row_b, f, shift, q in zip(a.tolist(), lazy.tolist(), factors, shifts, MODULI)
        ]
        assert out.tolist() == expected


def test_replicate_reduced_for_any_word():
    rng = np.random.default_rng(8)
    values = rng.integers(0, WORD, DEGREE, dtype=np.uint64)
    values[:6] = [0, 1, MODULI[0], MODULI[-1] - 1, 1 << 63, WORD - 1]
    out = arithmetic.replicate_reduced(values, CONSTANTS)
    assert out.shape == (len(MODULI), DEGREE)
    assert out.tolist() == [[v % q for v in values.tolist()] for q in MODULI]


def test_out_argument_and_aliasing():
    a, b = operands(3)
    moduli = moduli_array()
    expected = arithmetic.add(a, b, moduli)
    out = np.empty_like(a)
    assert arithmetic.add(a, b, moduli, out=out) is out
    np.testing.assert_array_equal(out, expected)

    # Writing into an operand is safe: every kernel reads an element before it writes it.
    product = arithmetic.multiply(a, b, CONSTANTS)
    work = a.copy()
    arithmetic.multiply(work, b, CONSTANTS, out=work)
    np.testing.assert_array_equal(work, product)
    work = a.copy()
    arithmetic.subtract(work, b, moduli, out=work)
    np.testing.assert_array_equal(work, arithmetic.subtract(a, b, moduli))
    work = a.copy()
    arithmetic.negate(work, moduli, out=work)
    np.testing.assert_array_equal(work, arithmetic.negate(a, moduli))


@SETTINGS
@given(
    rows=st.lists(st.sampled_from(range(len(MODULI))), min_size=1, max_size=4, unique=True),
    columns=st.integers(9, 40),
    seed=st.integers(0, 2**32),
)
def test_every_function_property(rows, columns, seed):
    moduli = [MODULI[r] for r in rows]
    constants = ModulusConstants(moduli)
    a, b = operands(seed, moduli, columns)
    array = moduli_array(moduli)

    assert arithmetic.add(a, b, array).tolist() == reference(a, b, moduli, lambda x, y: x + y)
    assert arithmetic.subtract(a, b, array).tolist() == reference(a, b, moduli, lambda x, y: x - y)
    assert arithmetic.negate(a, array).tolist() == reference(a, None, moduli, lambda x, _: -x)
    assert arithmetic.multiply(a, b, constants).tolist() == reference(
        a, b, moduli, lambda x, y: x * y
    )


# --- ring products through the NTT ---------------------------------------------------------------


def negacyclic_product(a: list[int], b: list[int], q: int) -> list[int]:
    N = len(a)
    out = [0] * N
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            if i + j < N:
                out[i + j] += x * y
            else:
                out[i + j - N] -= x * y
    return [v % q for v in out]


@pytest.mark.parametrize("ring_degree", [2, 16, 128])
def test_multiply_of_ntt_forms_is_the_negacyclic_product(ring_degree):
    moduli = ntt_primes([20, 45, 61], ring_degree)
    tables = NttTables(ring_degree, moduli)
    constants = ModulusConstants(moduli)
    a, b = operands(ring_degree, moduli, max(ring_degree, 9))
    a, b = a[:, :ring_degree].copy(), b[:, -ring_degree:].copy()

    product = tables.inverse(arithmetic.multiply(tables.forward(a), tables.forward(b), constants))
    accumulated = np.zeros_like(a)
    arithmetic.multiply_add(tables.forward(a), tables.forward(b), accumulated, constants)
    for row, q in enumerate(moduli):
        expected = negacyclic_product(a[row].tolist(), b[row].tolist(), q)
        assert product[row].tolist() == expected
        assert tables.inverse(accumulated)[row].tolist() == expected
