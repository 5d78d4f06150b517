"""Homomorphic operations against numpy, with error bounds derived from the parameters.

Every property encrypts seeded random vectors with the standard set (N = 2^13, {60, 40, 40} +
{60}, Δ = 2^40), applies one operation and compares the decryption with the same operation in
numpy. The allowed error comes from :class:`tests.ckks.conftest.NoiseModel`, which derives it
from N, σ = 3.2, Δ, the primes and the key-switching digits; ``test_bounds_are_meaningful``
checks that those bounds are small in absolute terms and within a modest factor of the errors
actually seen, so that they could catch a real loss of precision.

Also here: inputs are never modified, ``*_inplace`` variants return None and overwrite their first
argument with exactly the out-of-place result, and the Python operators align levels and scales.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ckks
from tests.ckks.conftest import PROPERTY_SETTINGS, assert_slots_close, random_slots

SEEDS = st.integers(0, 2**32 - 1)
LEVELS = st.integers(0, 2)
SLOTS = 4096


def slots(seed: int, magnitude: float = 1.0) -> np.ndarray:
    return random_slots(seed, SLOTS, magnitude)


# ------------------------------------------------------------------------------------------------
# Linear operations
# ------------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(seed_a=SEEDS, seed_b=SEEDS, level=LEVELS)
def test_add_sub_negate(standard, seed_a, seed_b, level):
    kit, noise = standard, standard.noise
    x, y = slots(seed_a), slots(seed_b)
    a, b = kit.encrypt(x, level=level), kit.encrypt(y, level=level)
    fresh = noise.fresh()

    total = kit.evaluator.add(a, b)
    difference = kit.evaluator.sub(a, b)
    negated = kit.evaluator.negate(a)

    for result in (total, difference, negated):
        assert (result.level, result.scale) == (level, kit.params.scale)
    assert_slots_close(kit.decrypt(total), x + y, 2 * fresh, kit.params, x, y)
    assert_slots_close(kit.decrypt(difference), x - y, 2 * fresh, kit.params, x, y)
    assert_slots_close(kit.decrypt(negated), -x, fresh, kit.params, x)


@PROPERTY_SETTINGS
@given(seed_a=SEEDS, seed_b=SEEDS, level=LEVELS)
def test_add_plain_and_sub_plain(standard, seed_a, seed_b, level):
    kit, noise = standard, standard.noise
    x, y = slots(seed_a), slots(seed_b)
    a = kit.encrypt(x, level=level)
    plain = kit.encoder.encode(y, level=level)
    bound = noise.fresh() + noise.encoding()

    total = kit.evaluator.add_plain(a, plain)
    difference = kit.evaluator.sub_plain(a, plain)

    assert_slots_close(kit.decrypt(total), x + y, bound, kit.params, x, y)
    assert_slots_close(kit.decrypt(difference), x - y, bound, kit.params, x, y)


@PROPERTY_SETTINGS
@given(
    seed=SEEDS,
    value=st.complex_numbers(max_magnitude=1e6, allow_nan=False, allow_infinity=False),
)
def test_add_scalar(standard, seed, value):
    """ct + c encodes c exactly at the ciphertext's scale: rounding adds at most 1/Δ."""
    kit = standard
    x = slots(seed)

    result = kit.encrypt(x) + value

    bound = kit.noise.fresh() + 1.0 / kit.params.scale
    assert_slots_close(kit.decrypt(result), x + value, bound, kit.params, x, np.full(SLOTS, value))


# ------------------------------------------------------------------------------------------------
# Multiplications
# ------------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(seed_a=SEEDS, seed_b=SEEDS, level=st.integers(1, 2))
def test_multiply_relinearize_rescale(standard, seed_a, seed_b, level):
    kit, noise = standard, standard.noise
    x, y = slots(seed_a), slots(seed_b)
    a, b = kit.encrypt(x, level=level), kit.encrypt(y, level=level)
    q = kit.params.moduli[level]

    product = kit.evaluator.multiply(a, b)
    relinearized = kit.evaluator.relinearize(product)
    rescaled = kit.evaluator.rescale(relinearized)

    assert product.size == 3 and relinearized.size == 2
    assert product.scale == relinearized.scale == kit.params.scale**2
    assert rescaled.level == level - 1
    assert rescaled.scale == kit.params.scale**2 / q
    fresh = noise.fresh()
    bound = noise.product(abs(x), fresh, abs(y), fresh, level, kit.params.scale**2)
    assert_slots_close(kit.decrypt(rescaled), x * y, bound, kit.params, x, y)
    unrelinearized = noise.product(abs(x), fresh, abs(y), fresh, level, 1.0, False, False)
    assert_slots_close(kit.decrypt(product), x * y, unrelinearized, kit.params, x, y)


@PROPERTY_SETTINGS
@given(seed=SEEDS, level=st.integers(1, 2))
def test_square(standard, seed, level):
    kit, noise = standard, standard.noise
    x = slots(seed)
    a = kit.encrypt(x, level=level)

    squared = kit.evaluator.square(a)
    result = kit.evaluator.rescale(kit.evaluator.relinearize(squared))

    assert squared.size == 3
    fresh = noise.fresh()
    bound = noise.product(abs(x), fresh, abs(x), fresh, level, kit.params.scale**2)
    assert_slots_close(kit.decrypt(result), x * x, bound, kit.params, x)


@PROPERTY_SETTINGS
@given(seed_a=SEEDS, seed_b=SEEDS, level=st.integers(1, 2))
def test_multiply_plain_and_vector(standard, seed_a, seed_b, level):
    kit, noise = standard, standard.noise
    x, y = slots(seed_a), slots(seed_b)
    a = kit.encrypt(x, level=level)

    with_plain = kit.evaluator.multiply_plain(a, kit.encoder.encode(y, level=level))
    with_vector = kit.evaluator.multiply_vector(a, y)

    for result in (with_plain, with_vector):
        assert result.size == 2 and result.scale == kit.params.scale**2
        rescaled = kit.evaluator.rescale(result)
        bound = noise.product(
            abs(x), noise.fresh(), abs(y), noise.encoding(), level, kit.params.scale**2, False
        )
        assert_slots_close(kit.decrypt(rescaled), x * y, bound, kit.params, x, y)


CONSTANTS = st.one_of(
    st.sampled_from([1e6, 2.0**20 + 0.5, -3, 0, 0.5, 1 + 2j, -0.25j, 123456.789, 7.0]),
    st.floats(-1e3, 1e3, allow_nan=False),
    st.complex_numbers(max_magnitude=1e3, allow_nan=False, allow_infinity=False),
    st.integers(-(10**6), 10**6),
)


@PROPERTY_SETTINGS
@given(seed=SEEDS, value=CONSTANTS)
def test_multiply_constant(standard, seed, value):
    """C06c: constants such as 1e6 and 2^20 + 0.5 multiply exactly, within CKKS noise.

    Integers (and integral floats) multiply without changing the scale; other constants become
    round(c·Δ) (in exact integers), so they err by at most √2/2 / Δ and the scale gains Δ.
    """
    kit, noise = standard, standard.noise
    x = slots(seed)
    a = kit.encrypt(x)

    result = kit.evaluator.multiply_constant(a, value)

    integral = complex(value).imag == 0 and float(complex(value).real).is_integer()
    if integral:
        assert result.scale == a.scale
        # x·0 has a zero mask and is re-randomized with a fresh encryption of zero.
        bound = abs(value) * noise.fresh() + (noise.fresh() if value == 0 else 0.0)
    else:
        assert result.scale == a.scale * kit.params.scale
        result = kit.evaluator.rescale(result)
        rounding = 0.5**0.5 / kit.params.scale  # round(c·Δ) errs by ≤ 1/2 in each part
        bound = noise.product(abs(x), noise.fresh(), abs(value), rounding, 2, a.scale**2, False)
    assert_slots_close(kit.decrypt(result), x * value, bound, kit.params, x, abs(value) * x)


@PROPERTY_SETTINGS
@given(seed=SEEDS, level=LEVELS)
def test_multiply_by_i(standard, seed, level):
    """Multiplying by X^(N/2) multiplies every slot by i: exact, no level and no scale change."""
    kit = standard
    x = slots(seed)
    a = kit.encrypt(x, level=level)

    result = kit.evaluator.multiply_by_i(a)
    fourth = result
    for _ in range(3):
        fourth = kit.evaluator.multiply_by_i(fourth)

    assert (result.level, result.scale) == (level, a.scale)
    assert_slots_close(kit.decrypt(result), 1j * x, kit.noise.fresh(), kit.params, x)
    # i^4 = 1 and X^(2N) = 1: four products give the input back exactly.
    assert np.array_equal(fourth.data, a.data)


# ------------------------------------------------------------------------------------------------
# Rotations and conjugation
# ------------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(data=st.data(), seed=SEEDS, level=LEVELS)
def test_rotate_any_normalized_step_with_a_key(standard, data, seed, level):
    """rotate(ct, k) moves slot i + k into slot i (left for k > 0); k counts modulo N/2."""
    kit, noise = standard, standard.noise
    step = data.draw(st.sampled_from((*kit.rotation_steps, 0)), label="step")
    wraps = data.draw(st.integers(-2, 2), label="wraps")
    requested = step + wraps * SLOTS
    x = slots(seed)
    a = kit.encrypt(x, level=level)

    result = kit.evaluator.rotate(a, requested)

    assert (result.level, result.scale) == (level, a.scale)
    switch = noise.key_switch(level, a.scale, noise.rotation_element(step))
    bound = noise.fresh() + (switch if step % SLOTS else 0.0)
    assert_slots_close(kit.decrypt(result), np.roll(x, -step), bound, kit.params, x)


@PROPERTY_SETTINGS
@given(seed=SEEDS, level=LEVELS, steps=st.lists(st.sampled_from([0, 1, -1, 4, 63, 4095, 3])))
def test_rotate_hoisted(standard, seed, level, steps):
    """One decomposition, several rotations: each equals numpy's roll and the single rotate."""
    kit, noise = standard, standard.noise
    x = slots(seed)
    a = kit.encrypt(x, level=level)

    results = kit.evaluator.rotate_hoisted(a, steps)

    assert len(results) == len(steps)
    for step, result in zip(steps, results):
        bound = noise.fresh() + noise.key_switch(level, a.scale, noise.rotation_element(step))
        assert_slots_close(kit.decrypt(result), np.roll(x, -step), bound, kit.params, x)
        assert np.array_equal(result.data, kit.evaluator.rotate(a, step).data)


@PROPERTY_SETTINGS
@given(seed=SEEDS, level=LEVELS)
def test_conjugate(standard, seed, level):
    kit, noise = standard, standard.noise
    x = slots(seed)
    a = kit.encrypt(x, level=level)

    result = kit.evaluator.conjugate(a)

    bound = noise.fresh() + noise.key_switch(level, a.scale, noise.conjugation_element())
    assert_slots_close(kit.decrypt(result), np.conj(x), bound, kit.params, x)


@PROPERTY_SETTINGS
@given(seed=SEEDS, level=LEVELS)
def test_sum_slots(standard, seed, level):
    kit, noise = standard, standard.noise
    x = slots(seed)
    a = kit.encrypt(x, level=level)

    result = kit.evaluator.sum_slots(a)

    bound = noise.sum_slots(noise.fresh(), level, a.scale)
    assert bound < 1e-3
    assert_slots_close(kit.decrypt(result), np.full(SLOTS, x.sum()), bound, kit.params, x)


@PROPERTY_SETTINGS
@given(seed=SEEDS, start=LEVELS, data=st.data())
def test_mod_switch_to(standard, seed, start, data):
    kit = standard
    target = data.draw(st.integers(0, start), label="target")
    x = slots(seed)
    a = kit.encrypt(x, level=start)

    result = kit.evaluator.mod_switch_to(a, target)

    assert (result.level, result.scale) == (target, a.scale)
    assert result.data.shape == (2, target + 1, kit.params.ring_degree)
    assert_slots_close(kit.decrypt(result), x, kit.noise.fresh(), kit.params, x)


def test_rotate_by_zero_needs_no_key(standard_params, standard):
    """Step 0 (and every multiple of N/2) returns an equal copy, even without Galois keys."""
    evaluator = ckks.Evaluator(standard_params)
    a = standard.encrypt(slots(3))

    for step in (0, SLOTS, -2 * SLOTS):
        result = evaluator.rotate(a, step)
        assert result is not a
        assert np.array_equal(result.data, a.data)


# ------------------------------------------------------------------------------------------------
# The bounds themselves
# ------------------------------------------------------------------------------------------------


def test_bounds_are_meaningful(standard):
    """The derived bounds are small, and some slot comes within a factor 20 of its bound.

    A bound loose by orders of magnitude would hide real precision bugs. The largest of 4096
    slot errors is about 3 standard deviations for a Gaussian term and about 5 for a product
    term, against tails of 6 and 20 in the bounds, so every operation should reach a quarter to
    a half of its bound in its worst slot; a factor 20 leaves room for the terms bounded apart.
    """
    kit, noise, evaluator = standard, standard.noise, standard.evaluator
    x, y = slots(11), slots(12)
    a, b = kit.encrypt(x), kit.encrypt(y)
    fresh = noise.fresh()
    product = evaluator.rescale(evaluator.relinearize(evaluator.multiply(a, b)))
    cases = {
        "fresh": (a, x, fresh),
        "rotate": (
            evaluator.rotate(a, 1),
            np.roll(x, -1),
            fresh + noise.key_switch(2, a.scale, noise.rotation_element(1)),
        ),
        "conjugate": (
            evaluator.conjugate(a),
            np.conj(x),
            fresh + noise.key_switch(2, a.scale, noise.conjugation_element()),
        ),
        "multiply": (
            product,
            x * y,
            noise.product(abs(x), fresh, abs(y), fresh, 2, kit.params.scale**2),
        ),
    }

    for name, (ciphertext, expected, bound) in cases.items():
        ratio = assert_slots_close(kit.decrypt(ciphertext), expected, bound, kit.params, x)
        assert np.max(bound) < 1e-5, name
        assert ratio > 1 / 20, f"{name}: the error reaches only {ratio:.3f} of the bound"


def test_bounds_follow_the_parameters(standard_params, small_params):
    """Fresh noise is dominated by products, sqrt(N)·sqrt(N)/Δ: it moves with N and Δ as derived."""
    from tests.ckks.conftest import NoiseModel

    large, small = NoiseModel(standard_params), NoiseModel(small_params)

    # N = 8192, Δ = 2^40 versus N = 1024, Δ = 2^30: about (8192/1024)·2^-10 in ratio of bounds.
    ratio = large.fresh() / small.fresh()
    assert ratio == pytest.approx(8 * 2.0**-10, rel=0.05)


# ------------------------------------------------------------------------------------------------
# Non-mutation and in-place variants
# ------------------------------------------------------------------------------------------------


def snapshot(*objects):
    return [(o.data.copy(), o.level, o.scale) for o in objects]


def unchanged(objects, before) -> bool:
    return all(
        np.array_equal(o.data, data) and o.level == level and o.scale == scale
        for o, (data, level, scale) in zip(objects, before)
    )


OPERATIONS = {
    "add": lambda ev, a, b, p: ev.add(a, b),
    "sub": lambda ev, a, b, p: ev.sub(a, b),
    "sub_self": lambda ev, a, b, p: ev.sub(a, a),
    "negate": lambda ev, a, b, p: ev.negate(a),
    "add_plain": lambda ev, a, b, p: ev.add_plain(a, p),
    "sub_plain": lambda ev, a, b, p: ev.sub_plain(a, p),
    "multiply": lambda ev, a, b, p: ev.multiply(a, b),
    "multiply_aligned": lambda ev, a, b, p: ev.multiply(a, ev.mod_switch_to(b, 1), align=True),
    "square": lambda ev, a, b, p: ev.square(a),
    "multiply_plain": lambda ev, a, b, p: ev.multiply_plain(a, p),
    "multiply_plain_aligned": lambda ev, a, b, p: ev.multiply_plain(
        ev.mod_switch_to(a, 1), p, align=True
    ),
    "multiply_vector": lambda ev, a, b, p: ev.multiply_vector(a, [1.0, 2.0]),
    "multiply_constant": lambda ev, a, b, p: ev.multiply_constant(a, 2.5),
    "multiply_constant_integer": lambda ev, a, b, p: ev.multiply_constant(a, -3),
    "multiply_by_i": lambda ev, a, b, p: ev.multiply_by_i(a),
    "relinearize": lambda ev, a, b, p: ev.relinearize(a),
    "rescale": lambda ev, a, b, p: ev.rescale(a),
    "mod_switch_to_same": lambda ev, a, b, p: ev.mod_switch_to(a, a.level),
    "mod_switch_to_lower": lambda ev, a, b, p: ev.mod_switch_to(a, 0),
    "rotate": lambda ev, a, b, p: ev.rotate(a, 1),
    "rotate_zero": lambda ev, a, b, p: ev.rotate(a, 0),
    "rotate_hoisted": lambda ev, a, b, p: ev.rotate_hoisted(a, [0, 1, -1]),
    "conjugate": lambda ev, a, b, p: ev.conjugate(a),
    "sum_slots": lambda ev, a, b, p: ev.sum_slots(a),
    "operator_add": lambda ev, a, b, p: a + b,
    "operator_add_scalar": lambda ev, a, b, p: a + 1.5,
    "operator_sub_vector": lambda ev, a, b, p: a - np.ones(3),
    "operator_rsub": lambda ev, a, b, p: 2 - a,
    "operator_mul": lambda ev, a, b, p: a * b,
    "operator_mul_plain": lambda ev, a, b, p: a * p,
    "operator_neg": lambda ev, a, b, p: -a,
    "operator_align": lambda ev, a, b, p: ev.rescale(a * 0.5) + b,
}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_operations_leave_inputs_unchanged(standard, name):
    kit = standard
    a, b = kit.encrypt(slots(1)), kit.encrypt(slots(2))
    plain = kit.encoder.encode(slots(4))
    before = snapshot(a, b, plain)

    result = OPERATIONS[name](kit.evaluator, a, b, plain)

    assert unchanged((a, b, plain), before)
    for output in result if isinstance(result, list) else [result]:
        assert isinstance(output, ckks.Ciphertext)
        assert output is not a and output is not b
        assert not np.shares_memory(output.data, a.data)
        assert not np.shares_memory(output.data, b.data)


def _product(kit):
    return kit.evaluator.multiply(kit.encrypt(slots(5)), kit.encrypt(slots(6)))


IN_PLACE = {
    "add": (lambda kit: (kit.encrypt(slots(1)), kit.encrypt(slots(2))), ()),
    "sub": (lambda kit: (kit.encrypt(slots(1)), kit.encrypt(slots(2))), ()),
    "negate": (lambda kit: (kit.encrypt(slots(1)),), ()),
    "multiply": (lambda kit: (kit.encrypt(slots(1)), kit.encrypt(slots(2))), ()),
    "multiply_plain": (lambda kit: (kit.encrypt(slots(1)), kit.encoder.encode(slots(2))), ()),
    "square": (lambda kit: (kit.encrypt(slots(1)),), ()),
    "relinearize": (lambda kit: (_product(kit),), ()),
    "rescale": (lambda kit: (kit.encrypt(slots(1)),), ()),
    "mod_switch_to": (lambda kit: (kit.encrypt(slots(1)),), (0,)),
    "rotate": (lambda kit: (kit.encrypt(slots(1)),), (4,)),
    "conjugate": (lambda kit: (kit.encrypt(slots(1)),), ()),
}


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_inplace_variants_return_none_and_overwrite(standard, name):
    """``op_inplace(a, …)`` returns None; ``a`` then holds exactly what ``op(a, …)`` returns."""
    kit = standard
    make, extra = IN_PLACE[name]
    operands = make(kit)
    first, others = operands[0], operands[1:]
    expected = getattr(kit.evaluator, name)(first, *others, *extra)
    before = snapshot(*others)

    returned = getattr(kit.evaluator, f"{name}_inplace")(first, *others, *extra)

    assert returned is None
    assert np.array_equal(first.data, expected.data)
    assert (first.level, first.scale, first.size) == (expected.level, expected.scale, expected.size)
    assert unchanged(others, before)


def test_inplace_with_the_same_operand_twice(standard):
    kit = standard
    x = slots(8)
    a = kit.encrypt(x)

    assert kit.evaluator.add_inplace(a, a) is None

    assert_slots_close(kit.decrypt(a), 2 * x, 2 * kit.noise.fresh(), kit.params, x)


# ------------------------------------------------------------------------------------------------
# Operators align levels and scales
# ------------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(seed_a=SEEDS, seed_b=SEEDS, scalar=st.floats(-10, 10, allow_nan=False))
def test_operators_align_levels_and_scales(standard, seed_a, seed_b, scalar):
    """A rescaled operand (level 1, scale Δ²/q) meets a fresh one (level 2, Δ): + - * all align.

    Alignment mod-switches the fresh operand, multiplies it by an integer k ≈ q·s/Δ and rescales
    (one more rescale rounding), and sets the scale within the relative tolerance 2^-30, which
    adds at most 2^-30·|value|.
    """
    kit, noise = standard, standard.noise
    x, y = slots(seed_a), slots(seed_b)
    low = kit.evaluator.rescale(kit.encrypt(x) * 0.5)
    high = kit.encrypt(y)
    fresh = noise.fresh()
    low_error = noise.product(abs(x), fresh, 0.5, 0.0, 2, kit.params.scale**2, False)
    aligned_error = fresh + noise.rescale(kit.params.scale) + 2.0**-30 * abs(y)

    total = low + high
    difference = high - low
    product = kit.evaluator.relinearize(low * high)
    shifted = scalar - low

    assert total.level == difference.level == product.level == 1
    bound = low_error + aligned_error
    assert_slots_close(kit.decrypt(total), 0.5 * x + y, bound, kit.params, x, y)
    assert_slots_close(kit.decrypt(difference), y - 0.5 * x, bound, kit.params, x, y)
    product_bound = noise.product(
        0.5 * abs(x), low_error, abs(y), fresh, 1, product.scale, True, False
    )
    assert_slots_close(kit.decrypt(product), 0.5 * x * y, product_bound, kit.params, x, y)
    assert_slots_close(
        kit.decrypt(shifted), scalar - 0.5 * x, low_error + 1 / low.scale, kit.params, x
    )


@pytest.mark.parametrize(
    ("make_other", "expected"),
    [
        (lambda kit: 3, lambda x: x + 3),
        (lambda kit: 2.5 - 1j, lambda x: x + 2.5 - 1j),
        (lambda kit: np.arange(SLOTS) / SLOTS, lambda x: x + np.arange(SLOTS) / SLOTS),
        (lambda kit: [1.0, 2.0, 3.0], lambda x: x + np.r_[1.0, 2.0, 3.0, np.zeros(SLOTS - 3)]),
        (lambda kit: kit.encoder.encode(np.ones(SLOTS)), lambda x: x + 1),
    ],
)
def test_operator_add_accepts_scalars_vectors_and_plaintexts(standard, make_other, expected):
    kit = standard
    x = slots(21)
    a = kit.encrypt(x)
    other = make_other(kit)

    # A numpy array on the left is covered by test_numpy_array_on_the_left_of_an_operator.
    results = [a + other] if isinstance(other, np.ndarray) else [a + other, other + a]

    bound = kit.noise.fresh() + kit.noise.encoding()
    for result in results:
        assert_slots_close(kit.decrypt(result), expected(x), bound, kit.params, x, expected(x))


def test_operator_subtraction_both_ways(standard):
    kit = standard
    x = slots(22)
    a = kit.encrypt(x)

    bound = kit.noise.fresh() + 1 / kit.params.scale
    assert_slots_close(kit.decrypt(a - 4), x - 4, bound, kit.params, x)
    assert_slots_close(kit.decrypt(4 - a), 4 - x, bound, kit.params, x)
    assert_slots_close(kit.decrypt(-a), -x, kit.noise.fresh(), kit.params, x)


def test_operator_multiplication_by_vector_and_scalar(standard):
    kit, noise = standard, standard.noise
    x, y = slots(23), slots(24)
    a = kit.encrypt(x)

    by_vector = kit.evaluator.rescale(a * y)
    by_scalar = kit.evaluator.rescale(a * 0.25)

    for result, expected, magnitude in ((by_vector, x * y, abs(y)), (by_scalar, 0.25 * x, 0.25)):
        bound = noise.product(
            abs(x), noise.fresh(), magnitude, noise.encoding(), 2, kit.params.scale**2, False
        )
        assert_slots_close(kit.decrypt(result), expected, bound, kit.params, x, y)


def test_operator_add_plaintext_after_rescale_aligns_scales(standard):
    """ct ± Plaintext aligns too: the ciphertext moves to the plaintext's scale (one rescale).

    Found by these tests (ScaleMismatchError before the fix in e9ae375).
    """
    kit = standard
    x = slots(25)
    rescaled = kit.evaluator.rescale(kit.encrypt(x) * 0.5)  # level 1, scale Δ²/q2
    plain = kit.encoder.encode(np.ones(SLOTS))  # level 2, scale Δ

    total = rescaled + plain
    difference = rescaled - plain

    bound = 2 * kit.noise.fresh() + kit.noise.rescale(kit.params.scale) + 2.0**-30
    assert_slots_close(kit.decrypt(total), 0.5 * x + 1, bound, kit.params, x)
    assert_slots_close(kit.decrypt(difference), 0.5 * x - 1, bound, kit.params, x)


def test_numpy_array_on_the_left_of_an_operator(small):
    """array + ct, array - ct and array * ct give one Ciphertext, not an array of them.

    Found by these tests (numpy broadcast over the Ciphertext before the fix in e9ae375).
    """
    kit, noise = small, small.noise
    x = random_slots(26, kit.params.slot_count)
    a = kit.encrypt(x)
    vector = np.zeros(kit.params.slot_count)
    vector[:4] = np.arange(1.0, 5.0)

    total = vector + a
    difference = vector - a
    product = vector * a

    for result in (total, difference, product):
        assert isinstance(result, ckks.Ciphertext)
    bound = noise.fresh() + noise.encoding()
    assert_slots_close(kit.decrypt(total), vector + x, bound, kit.params, x, vector)
    assert_slots_close(kit.decrypt(difference), vector - x, bound, kit.params, x, vector)
    product_bound = noise.product(
        abs(x), noise.fresh(), vector, noise.encoding(), 2, 1.0, False, False
    )
    assert_slots_close(kit.decrypt(product), vector * x, product_bound, kit.params, x, vector)


def test_tail_constants_match_their_probabilities():
    """exp(−GAUSSIAN_TAIL²) and 2t·K_1(2t) at PRODUCT_TAIL are both below exp(−36)."""
    import mpmath

    from tests.ckks.conftest import GAUSSIAN_TAIL, PRODUCT_TAIL

    limit = mpmath.exp(-36)
    assert mpmath.exp(-(GAUSSIAN_TAIL**2)) <= limit * (1 + 1e-12)
    assert 2 * PRODUCT_TAIL * mpmath.besselk(1, 2 * PRODUCT_TAIL) <= limit
