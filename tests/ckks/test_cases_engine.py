"""Engine cases of shared/cases/ckks_cases.md, each replayed under its id.

Conventions applied throughout (documented in ``ckks``):

* SEAL writes a chain {60, 40, 40, 60} with the special prime last; we pass it as
  ``moduli_bits=[60, 40, 40], special_moduli_bits=[60]``.
* ``rotate(ct, k)`` moves slot i + k into slot i (left for k > 0); steps count modulo N/2.
* Tolerances: where a case's fixed tolerance is below what fresh public-key noise guarantees,
  the test asserts the bound derived by ``NoiseModel`` (conftest) and says so; the case's own
  tolerance is then checked with secret-key (symmetric) encryption, whose derived bound is below
  it. Each test uses its own seeded encryptor, so its values do not depend on test order.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

import ckks
from ckks.ring.sampling import InsecureDeterministicSource, RandomSource
from tests.ckks.conftest import assert_slots_close, make_kit, random_slots


def encrypt_with(kit, encryptor, values, level=None, scale=None):
    return encryptor.encrypt(kit.encoder.encode(values, level=level, scale=scale))


# ------------------------------------------------------------------------------------------------
# C01: scale after square-and-rescale is Δ²/q, and mismatches are named
# ------------------------------------------------------------------------------------------------


def test_c01_square_rescale_then_add(standard):
    """c1 = rescale(relin(c1·c1)) has scale 2^80/q exactly; + fresh c2 is refused, then aligned.

    Convention: explicit ``Evaluator.add`` checks strictly (levels first, then scales, with a
    relative tolerance 2^-30); the ``+`` operator aligns.
    """
    kit, evaluator = standard, standard.evaluator
    encryptor = kit.encryptor_for(101)
    c1 = encrypt_with(kit, encryptor, 1.0)
    c2 = encrypt_with(kit, encryptor, 2.0)
    q = kit.params.moduli[2]

    c1 = evaluator.rescale(evaluator.relinearize(evaluator.multiply(c1, c1)))

    assert c1.scale == 2.0**80 / q
    assert c1.scale != 2.0**40  # 1.0995117752…e12 in the thread; ours differs likewise
    with pytest.raises(ckks.LevelMismatchError, match=r"\(1 and 2\)"):
        evaluator.add(c1, c2)
    c2_down = evaluator.mod_switch_to(c2, 1)
    with pytest.raises(ckks.ScaleMismatchError) as caught:
        evaluator.add(c1, c2_down)
    assert repr(2.0**80 / q) in str(caught.value)
    assert repr(2.0**40) in str(caught.value)

    fresh = kit.noise.fresh()
    squared_error = kit.noise.product(1.0, fresh, 1.0, fresh, 2, 2.0**80)
    # Alignment 1: encrypt c2 at scale 2^80/q on level 1.
    c2_matched = encrypt_with(kit, encryptor, 2.0, level=1, scale=c1.scale)
    matched = evaluator.add(c1, c2_matched)
    assert_slots_close(kit.decrypt(matched), 3.0, squared_error + fresh, kit.params)
    # Alignment 2: the operator mod-switches and rescales c2 onto c1's level and scale.
    aligned = c1 + c2
    assert (aligned.level, aligned.scale) == (1, c1.scale)
    bound = squared_error + fresh + kit.noise.rescale(c1.scale) + 2.0 * 2.0**-30
    assert_slots_close(kit.decrypt(aligned), 3.0, bound, kit.params)


def test_c01_case_tolerance_with_symmetric_encryption(standard):
    """The case's 3.0 ± 1e-6 holds whenever the derived bound is below it (secret-key noise)."""
    kit, evaluator = standard, standard.evaluator
    encryptor = kit.encryptor_for(102, symmetric=True)
    c1 = encrypt_with(kit, encryptor, 1.0)
    c2 = encrypt_with(kit, encryptor, 2.0)

    c1 = evaluator.rescale(evaluator.relinearize(evaluator.multiply(c1, c1)))
    total = c1 + c2

    fresh = kit.noise.fresh_symmetric()
    bound = kit.noise.product(1.0, fresh, 1.0, fresh, 2, 2.0**80)
    bound = bound + fresh + kit.noise.rescale(c1.scale) + 2.0 * 2.0**-30
    assert np.max(bound) < 1e-6
    assert_slots_close(kit.decrypt(total), 3.0, bound, kit.params)


# ------------------------------------------------------------------------------------------------
# C02: running out of levels is a named error, raised before computing
# ------------------------------------------------------------------------------------------------


def test_c02a_third_multiplication_has_no_level(standard):
    """x², x⁴ are right; the third product at level 0 raises OutOfLevelsError, input untouched.

    Convention: no automatic rescale; each product is relinearized and rescaled explicitly.
    """
    kit, evaluator, noise = standard, standard.evaluator, standard.noise
    x = random_slots(21, kit.params.slot_count, real=True)
    ciphertext = encrypt_with(kit, kit.encryptor_for(103), x)
    error = noise.fresh()

    for multiplication, level in ((1, 2), (2, 1)):
        product = evaluator.multiply(ciphertext, ciphertext)
        ciphertext = evaluator.rescale(evaluator.relinearize(product))
        error = noise.product(1.0, error, 1.0, error, level, product.scale)
        expected = x ** (2**multiplication)
        assert_slots_close(kit.decrypt(ciphertext), expected, error, kit.params, x)

    assert ciphertext.level == 0
    before = ciphertext.data.copy()
    with pytest.raises(ckks.OutOfLevelsError) as caught:
        evaluator.multiply(ciphertext, ciphertext)
    assert "level 0" in str(caught.value)
    assert np.array_equal(ciphertext.data, before)
    with pytest.raises(ckks.OutOfLevelsError):
        ciphertext * ciphertext
    with pytest.raises(ckks.OutOfLevelsError, match="no levels left"):
        evaluator.rescale(ciphertext)


def test_c02b_product_scale_exceeds_the_only_prime():
    """N = 2048, {30} + special {24}, Δ = 2^20: Δ·Δ = 2^40 cannot fit a 30-bit modulus."""
    params = ckks.Parameters(2048, [30], [24], 20)
    kit = make_kit(params, seed=202, relinearization=False)
    values = random_slots(22, 256, magnitude=0.99, real=True)
    ciphertext = kit.encrypt(values)

    with pytest.raises(ckks.OutOfLevelsError) as caught:
        kit.evaluator.multiply_plain(ciphertext, kit.encoder.encode(values))

    assert "product scale 2^40" in str(caught.value)
    assert "2^30" in str(caught.value)


# ------------------------------------------------------------------------------------------------
# C03: transparent ciphertexts are re-randomized at the same level and scale
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [2, 1])
def test_c03_transparent_ciphertext(standard, level):
    """c − c and c ⊙ encode(0) get a fresh encryption of 0 at the operands' level and scale.

    The case asks for 0 within about 1e-9; a re-randomized c − c carries fresh noise at scale Δ
    (derived bound below), while c ⊙ 0 sits at scale Δ², where that noise is far below 1e-9.
    """
    kit, evaluator = standard, standard.evaluator
    c = encrypt_with(kit, kit.encryptor_for(300 + level), [1.0, 2.0, 3.0], level=level)
    zero = kit.encoder.encode([0.0, 0.0, 0.0], level=level)

    d = c - c
    e = evaluator.multiply_plain(c, zero)

    for result, scale in ((d, c.scale), (e, c.scale * zero.scale)):
        assert result.data[1].any(), "the mask polynomial c1 must never be zero"
        assert (result.level, result.scale, result.size) == (level, scale, 2)
    assert_slots_close(kit.decrypt(d), 0.0, kit.noise.fresh(), kit.params)
    assert_slots_close(kit.decrypt(e), 0.0, 1e-9, kit.params)
    # Both can be used further: they sit at the operands' level and scale.
    onward = d + c
    assert_slots_close(kit.decrypt(onward)[:3], [1.0, 2.0, 3.0], 2 * kit.noise.fresh(), kit.params)
    rotated = evaluator.rotate(d, 1)
    bound = kit.noise.fresh() + kit.noise.key_switch(level, c.scale, kit.noise.rotation_element(1))
    assert_slots_close(kit.decrypt(rotated), 0.0, bound, kit.params)


# ------------------------------------------------------------------------------------------------
# C04: 7 × 8 with headroom, and overflow detection without it
# ------------------------------------------------------------------------------------------------


def _seven_times_eight(kit, encryptor, x, y):
    a = encrypt_with(kit, encryptor, x)
    b = encrypt_with(kit, encryptor, y)
    evaluator = kit.evaluator
    return evaluator.rescale(evaluator.relinearize(evaluator.multiply(a, b)))


@pytest.mark.parametrize(("x", "y"), [(7.0, 8.0), (0.7, 0.8)])
def test_c04_product_with_headroom(standard, x, y):
    """log2 q0 − log2 Δ = 20 ≥ 7 bits: 7·8 = 56 and the control 0.7·0.8 = 0.56.

    With public-key encryption the derived bound for 56 is about 1e-5 (|x| multiplies the noise
    of y); with secret-key encryption it is below the case's ± 1e-6, which is then asserted.
    """
    kit, noise = standard, standard.noise
    for seed, symmetric, fresh in (
        (401, False, noise.fresh()),
        (402, True, noise.fresh_symmetric()),
    ):
        result = _seven_times_eight(kit, kit.encryptor_for(seed, symmetric), x, y)

        bound = noise.product(abs(x), fresh, abs(y), fresh, 2, kit.params.scale**2)
        assert_slots_close(kit.decrypt(result), x * y, bound, kit.params)
        if symmetric:
            assert np.max(bound) < 1e-6


def test_c04_encoder_rejects_values_that_overflow(standard):
    """|v|·Δ ≥ q_0/2 is refused at encode time (as SEAL does): 2^20·2^40 > 2^59 at level 0."""
    with pytest.raises(ckks.EncodingError, match="overflow"):
        standard.encoder.encode(2.0**20, level=0)


@pytest.fixture(scope="module")
def low_headroom():
    """N = 2^13, data {45, 40}, special {50}, Δ = 2^40: only 5 bits of headroom in q_0."""
    return make_kit(ckks.Parameters(8192, [45, 40], [50], 40), seed=404)


def test_c04_product_overflow_is_detected(low_headroom):
    """Headroom 5 < 7 bits: 7·8 must raise an overflow error (at the product, the rescale or
    the decryption), never decrypt to a wrong number. The value bound carried by every
    ciphertext (56 after the product) catches it at the multiplication."""
    kit = low_headroom
    encryptor = kit.encryptor_for(405)

    with pytest.raises((ckks.EncodingError, ckks.OutOfLevelsError)):
        kit.decrypt(_seven_times_eight(kit, encryptor, 7.0, 8.0))


def test_c04_overflow_detected_when_the_wrap_lands_far(low_headroom):
    """4·5 = 20 with 5 bits of headroom is 20·2^40 ≈ 0.63·q_0: refused at the product by the
    value bound; and with bound checks off, decrypt still sees the wrap beyond Q/4."""
    kit = low_headroom
    with pytest.raises(ckks.EncodingError, match="overflow"):
        _seven_times_eight(kit, kit.encryptor_for(406), 4.0, 5.0)

    kit.evaluator.check_bounds = False
    try:
        result = _seven_times_eight(kit, kit.encryptor_for(406), 4.0, 5.0)
    finally:
        kit.evaluator.check_bounds = True
    with pytest.raises(ckks.EncodingError, match="overflowed the modulus at level 0"):
        kit.decrypt(result)


def test_c04_mod_switch_overflow_is_detected(scale_50):
    """The C04 symptom with C06b's numbers: 8192·2^50 = 2^63 fits Q_2 but not q_0 ≈ 2^60.
    Moving it to level 0 must raise (at the switch or the decryption), never give ~1e-10."""
    kit = scale_50
    ciphertext = encrypt_with(kit, kit.encryptor_for(407), 8192.0)

    with pytest.raises((ckks.EncodingError, ckks.OutOfLevelsError)):
        kit.decrypt(kit.evaluator.mod_switch_to(ciphertext, 0))


# ------------------------------------------------------------------------------------------------
# C06: no 64-bit overflow when adding, encrypting or multiplying by large numbers
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scale_59():
    """Δ = 2^59 (OpenFHE's scaleModSize 59): i·Δ passes 2^64 from i = 32 on."""
    return make_kit(ckks.Parameters(8192, [60, 59], [59], 59), seed=600, relinearization=False)


@pytest.mark.parametrize("kit_name", ["standard", "scale_59"])
def test_c06a_add_scalar_in_a_loop(request, kit_name):
    """ct = Enc([1]); decrypt(ct + i) has 1 + i in slot 0 (i elsewhere) for i = 0 … 40, ± 1e-6."""
    kit = request.getfixturevalue(kit_name)
    ciphertext = encrypt_with(kit, kit.encryptor_for(601), [1.0])
    bound = kit.noise.fresh() + 1.0 / kit.params.scale
    assert bound < 1e-6

    for i in range(41):
        result = ciphertext + i

        expected = np.full(kit.params.slot_count, float(i))  # a scalar goes to every slot
        expected[0] = 1 + i
        assert_slots_close(kit.decrypt(result), expected, bound, kit.params, expected)


@pytest.fixture(scope="module")
def scale_50():
    """C06b: N = 2^13, Δ = 2^50, first modulus 60 bits; data {60, 50, 50}, special {58}."""
    return make_kit(ckks.Parameters(8192, [60, 50, 50], [58], 50), seed=650, relinearization=False)


@pytest.mark.parametrize("count", [0, 8, 4096])
def test_c06b_encrypt_value_times_scale_2_63(scale_50, count):
    """8192·2^50 = 2^63 passes int64 but the top modulus (≈ 2^160) holds it: 8192 ± 1e-3.

    ``count`` 0 encodes the single number 8192 (every slot, coefficient exactly 2^63); 8 is the
    case's 8 slots; 4096 fills every slot through the vector path.
    """
    kit = scale_50
    values = 8192.0 if count == 0 else np.full(count, 8192.0)
    bound = kit.noise.fresh()
    assert bound < 1e-3

    decrypted = kit.decrypt(encrypt_with(kit, kit.encryptor_for(651), values))

    expected = np.zeros(kit.params.slot_count)
    expected[: count or kit.params.slot_count] = 8192.0
    assert_slots_close(decrypted, expected, bound, kit.params, expected)


@pytest.mark.parametrize("constant", [1e6, 2.0**20 + 0.5, -(2.0**20 + 0.5), 1e6 + 0.25, 123456789])
def test_c06c_multiply_by_large_constants(standard, constant):
    """Large constants multiply exactly (round(c·Δ) in exact integers), within CKKS noise."""
    kit, noise = standard, standard.noise
    x = random_slots(61, kit.params.slot_count)
    ciphertext = encrypt_with(kit, kit.encryptor_for(602), x)

    results = [kit.evaluator.multiply_constant(ciphertext, constant), ciphertext * constant]

    for result in results:
        if result.scale != ciphertext.scale:
            result = kit.evaluator.rescale(result)
        rounding = 0.5**0.5 / kit.params.scale
        bound = noise.product(abs(x), noise.fresh(), abs(constant), rounding, 2, 2.0**80, False)
        assert_slots_close(kit.decrypt(result), x * constant, bound, kit.params, x * constant)


# ------------------------------------------------------------------------------------------------
# C08: negative numbers
# ------------------------------------------------------------------------------------------------


def test_c08a_negative_integers_at_scale_one(standard):
    """−2^45, −(q1 + 1) and −2^63 encoded at scale 1 decode to exactly themselves.

    Convention: our integer encoding is the one-number path ``encode(v, scale=1)``, which rounds
    v into the constant coefficient exactly (no FFT) and reduces it with v mod q_j.
    """
    encoder = standard.encoder
    q1 = standard.params.moduli[1]

    for value in (-(2**45), -(q1 + 1), -(2**63)):
        plaintext = encoder.encode(value, scale=1)

        assert encoder.to_integers(plaintext.data, plaintext.level)[0] == value
        assert np.all(np.abs(encoder.decode(plaintext) - value) <= 0.5)


@pytest.mark.parametrize(
    ("value", "factor", "expected"), [(-5.0, -1, 5.0), (-5.0, "self", 25.0), (-1.0, -1, 1.0)]
)
def test_c08b_negative_products(standard, value, factor, expected):
    """Enc(−5)·(−1) = 5, Enc(−5)·Enc(−5) = 25, Enc(−1)·(−1) = 1, within CKKS noise."""
    kit, evaluator, noise = standard, standard.evaluator, standard.noise
    encryptor = kit.encryptor_for(800)
    ciphertext = encrypt_with(kit, encryptor, value)
    fresh = noise.fresh()

    if factor == "self":
        other = encrypt_with(kit, encryptor, value)
        results = [evaluator.rescale(evaluator.relinearize(evaluator.multiply(ciphertext, other)))]
        bound = noise.product(abs(value), fresh, abs(value), fresh, 2, 2.0**80)
    else:
        results = [ciphertext * factor, evaluator.multiply_constant(ciphertext, factor)]
        results.append(evaluator.negate(ciphertext))
        bound = fresh

    for result in results:
        assert_slots_close(kit.decrypt(result), expected, bound, kit.params)


# ------------------------------------------------------------------------------------------------
# C10: parameter validation with the real reason
# ------------------------------------------------------------------------------------------------


def test_c10a_only_five_twenty_bit_primes():
    """N = 8192, {40, 20×6, 40}: only 5 primes of 20 bits are ≡ 1 mod 16384; 5 are accepted."""
    with pytest.raises(ckks.ParameterError, match="only 5 exist"):
        ckks.Parameters(8192, [40] + [20] * 6, [40], 19)

    accepted = ckks.Parameters(8192, [40] + [20] * 5, [40], 19)
    assert all(q.bit_length() == 20 and q % 16384 == 1 for q in accepted.moduli[1:])


def test_c10b_total_above_the_security_table():
    """N = 16384, {60, 40×9, 60}: "total 480 bits > 438 allowed for 128-bit security"."""
    with pytest.raises(ckks.ParameterError) as caught:
        ckks.Parameters(16384, [60] + [40] * 9, [60], 40)

    assert "total 480 bits > 438 allowed for 128-bit security at N=16384" in str(caught.value)


def test_c10c_huge_moduli_need_the_insecure_flag():
    """N = 4096, q = 2^600 (ten 60-bit primes), P = 2^1200: 1800 bits > 109; insecure=True is
    the explicit opt-out, and it shows."""
    with pytest.raises(ckks.ParameterError, match="1800 bits > 109"):
        ckks.Parameters(4096, [60] * 10, [60] * 20, 30)

    insecure = ckks.Parameters(4096, [60] * 2, [60] * 2, 30, insecure=True)
    assert "INSECURE" in repr(insecure)


# ------------------------------------------------------------------------------------------------
# C11: rotation keys, normalized steps, direction
# ------------------------------------------------------------------------------------------------


def test_c11_rotation_keys_at_n_2_15(large_params):
    """A key for −1024 also serves 15360 (same Galois element); +1024 is a named MissingKeyError.

    Convention: left rotation for positive steps, so −1024 is a right rotation; GaloisKeys list
    their steps normalized to 0 … N/2 − 1 (−1024 appears as 15360).
    """
    kit = make_kit(large_params, seed=1100, rotation_steps=[-1024], relinearization=False)
    slots = large_params.slot_count
    x = random_slots(111, slots)
    ciphertext = encrypt_with(kit, kit.encryptor_for(1101), x)

    unchanged = kit.evaluator.rotate(ciphertext, 0)
    right = kit.evaluator.rotate(ciphertext, -1024)
    same = kit.evaluator.rotate(ciphertext, 15360)

    assert np.array_equal(unchanged.data, ciphertext.data)
    assert np.array_equal(right.data, same.data)
    bound = kit.noise.fresh() + kit.noise.key_switch(
        2, ciphertext.scale, kit.noise.rotation_element(-1024)
    )
    assert_slots_close(kit.decrypt(right), np.roll(x, 1024), bound, kit.params, x)
    with pytest.raises(ckks.MissingKeyError) as caught:
        kit.evaluator.rotate(ciphertext, 1024)
    assert "no Galois key for step 1024" in str(caught.value)
    assert "[15360]" in str(caught.value)


def test_c11_rotating_64_values_by_63_is_not_by_minus_one(standard):
    """The ciphertext has 4096 slots, not 64: rotate(63) ≠ rotate(−1) unless data is replicated."""
    kit, noise = standard, standard.noise
    values = np.arange(1.0, 65.0)
    padded = np.zeros(4096)
    padded[:64] = values
    ciphertext = encrypt_with(kit, kit.encryptor_for(1102), values)

    by_63 = kit.decrypt(kit.evaluator.rotate(ciphertext, 63))
    by_minus_1 = kit.decrypt(kit.evaluator.rotate(ciphertext, -1))

    bound = noise.fresh() + np.maximum(
        noise.key_switch(2, ciphertext.scale, noise.rotation_element(63)),
        noise.key_switch(2, ciphertext.scale, noise.rotation_element(-1)),
    )
    assert_slots_close(by_63, np.roll(padded, -63), bound, kit.params, padded)
    assert_slots_close(by_minus_1, np.roll(padded, 1), bound, kit.params, padded)
    assert np.max(np.abs(by_63[:64] - np.roll(values, 1))) > 1.0

    replicated = encrypt_with(kit, kit.encryptor_for(1103), np.tile(values, 64))
    by_63 = kit.decrypt(kit.evaluator.rotate(replicated, 63))
    by_minus_1 = kit.decrypt(kit.evaluator.rotate(replicated, -1))
    expected = np.tile(np.roll(values, 1), 64)
    assert_slots_close(by_63, expected, bound, kit.params, expected)
    assert_slots_close(by_minus_1, expected, bound, kit.params, expected)


# ------------------------------------------------------------------------------------------------
# C13: rotation of an unrelinearized product
# ------------------------------------------------------------------------------------------------


def test_c13_relinearize_before_rotation(standard):
    """A = I = [1,0,0,0,1,0,0,0,1]: rotate(A·I) without relinearization is refused by name;
    after relinearization it is A⊙I rotated left by 1 over 4096 slots, last slot 1."""
    kit, evaluator, noise = standard, standard.evaluator, standard.noise
    identity = [1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0]
    encryptor = kit.encryptor_for(1300)
    product = encrypt_with(kit, encryptor, identity) * encrypt_with(kit, encryptor, identity)

    assert product.size == 3
    with pytest.raises(
        ckks.ParameterError, match=r"relinearize before rotation \(ciphertext has 3"
    ):
        evaluator.rotate(product, 1)

    rotated = evaluator.rotate(evaluator.relinearize(product), 1)

    expected = np.zeros(4096)
    expected[[3, 7, 4095]] = 1.0
    fresh = noise.fresh()
    bound = noise.product(1.0, fresh, 1.0, fresh, 2, 2.0**80, True, False)
    bound = bound + noise.key_switch(2, 2.0**80, noise.rotation_element(1))
    assert_slots_close(kit.decrypt(rotated), expected, bound, kit.params, expected)


# ------------------------------------------------------------------------------------------------
# C14: plaintext at the top level times a rescaled ciphertext
# ------------------------------------------------------------------------------------------------


def test_c14_plaintext_level_after_rescale(standard):
    """ct = rescale(Enc(0.5)·encode(2.0)); ct·encode(3.0) with the plaintext at the top level:
    the explicit method names both levels; the operator encodes at ct's level: 3.0, scale
    (Δ²/q)·Δ. The case's ± 1e-6 is below the public-key bound here (about 5e-6)."""
    kit, evaluator, noise = standard, standard.evaluator, standard.noise
    ciphertext = encrypt_with(kit, kit.encryptor_for(1400), 0.5)
    delta, q = kit.params.scale, kit.params.moduli[2]

    ciphertext = evaluator.rescale(ciphertext * kit.encoder.encode(2.0))
    three = kit.encoder.encode(3.0)

    with pytest.raises(ckks.LevelMismatchError) as caught:
        evaluator.multiply_plain(ciphertext, three)
    assert "level 2" in str(caught.value) and "level 1" in str(caught.value)
    result = ciphertext * three
    assert result.level == 1
    assert result.scale == (delta * delta / q) * delta
    first = noise.product(0.5, noise.fresh(), 2.0, noise.encoding(), 2, delta**2, False)
    bound = noise.product(1.0, first, 3.0, noise.encoding(), 1, result.scale, False, False)
    assert_slots_close(kit.decrypt(result), 3.0, bound, kit.params)


# ------------------------------------------------------------------------------------------------
# C15: memory estimate before allocating Galois keys
# ------------------------------------------------------------------------------------------------


def test_c15_galois_key_memory_budget():
    """N = 32768, 16 primes of 30 bits, default power-of-two rotations and conjugation.

    SEAL's maintainers size one key at 16·n·k·(k−1) bytes for k primes: 120 MiB here, the same as
    our digits·2·(L + K)·N·8 with one special prime. 28 distinct keys (±8192 coincide) need
    3360 MiB: over a 1 GiB budget, refused before any allocation, with the estimate.
    """
    params = ckks.Parameters(32768, [30] * 15, [30], 25)
    keygen = ckks.KeyGenerator(
        params, random_source=InsecureDeterministicSource(15), memory_budget_bytes=1 << 30
    )
    steps = [s for k in range(14) for s in (1 << k, -(1 << k))]
    count = len({s % params.slot_count for s in steps}) + 1
    per_key = 16 * params.ring_degree * 16 * 15

    with pytest.raises(ckks.MemoryBudgetError) as caught:
        keygen.galois_keys(steps, conjugation=True)

    assert per_key == 120 * 2**20
    assert f"{count} key(s) need about {round(count * per_key / 2**20)} MiB" in str(caught.value)
    assert "budget of 1024 MiB" in str(caught.value)


def test_c15_sixty_bit_primes_need_4_3_times_less():
    """Eight 60-bit primes (the same 480 bits): 16·n·8·7 bytes per key, 240/56 ≈ 4.3× less."""
    params = ckks.Parameters(32768, [60] * 7, [60], 40)
    keygen = ckks.KeyGenerator(
        params, random_source=InsecureDeterministicSource(16), memory_budget_bytes=1 << 20
    )
    per_key = 16 * params.ring_degree * 8 * 7

    with pytest.raises(ckks.MemoryBudgetError) as caught:
        keygen.galois_keys([1])

    assert f"about {round(per_key / 2**20)} MiB" in str(caught.value)
    assert pytest.approx(4.29, abs=0.01) == (16 * 15) / (8 * 7)


def test_c15_only_the_needed_steps_fit_the_budget():
    """Under the same 1 GiB budget, the one step a program needs is generated."""
    params = ckks.Parameters(32768, [30] * 15, [30], 25)
    keygen = ckks.KeyGenerator(
        params, random_source=InsecureDeterministicSource(17), memory_budget_bytes=1 << 30
    )

    keys = keygen.galois_keys([1])

    assert keys.nbytes == 16 * params.ring_degree * 16 * 15


# ------------------------------------------------------------------------------------------------
# C29: more values than slots; short and odd lengths
# ------------------------------------------------------------------------------------------------


def test_c29a_48000_values_at_n_2_15(large_params):
    """48000 values > 16384 slots: an EncodingError that names both numbers (no chunking)."""
    with pytest.raises(ckks.EncodingError) as caught:
        ckks.Encoder(large_params).encode(np.ones(48000))

    assert "48000 values > 16384 slots" in str(caught.value)


@pytest.fixture(scope="module")
def n_4096():
    return make_kit(ckks.Parameters(4096, [60, 40], [], 40), seed=2900, relinearization=False)


def test_c29b_2000_values_at_n_4096(n_4096):
    """N = 4096: 2000 values (not a power of two) zero-padded; the sum of two is right to 1e-6."""
    kit = n_4096
    rng = np.random.default_rng(29)
    x, y = rng.uniform(-1, 1, 2000), rng.uniform(-1, 1, 2000)
    encryptor = kit.encryptor_for(2901)
    bound = 2 * kit.noise.fresh()
    assert bound < 1e-6

    total = encrypt_with(kit, encryptor, x) + encrypt_with(kit, encryptor, y)

    expected = np.zeros(kit.params.slot_count)
    expected[:2000] = x + y
    assert_slots_close(kit.decrypt(total), expected, bound, kit.params, expected)
    with pytest.raises(ckks.EncodingError, match="2049 values > 2048 slots"):
        kit.encoder.encode(np.ones(2049))


def test_c29c_length_five(n_4096):
    kit = n_4096
    values = [1.0, -2.0, 3.5, 0.25, 5.0]

    decrypted = kit.decrypt(encrypt_with(kit, kit.encryptor_for(2902), values))

    expected = np.zeros(kit.params.slot_count)
    expected[:5] = values
    assert_slots_close(decrypted, expected, kit.noise.fresh(), kit.params, expected)


# ------------------------------------------------------------------------------------------------
# C30: seeding Python's or numpy's generator must not fix key material
# ------------------------------------------------------------------------------------------------


def test_c30_global_seeds_do_not_fix_keys(small_params):
    """random.seed(0) / np.random.seed(0) before each KeyGenerator: the keys still differ."""
    keys, ciphertexts = [], []
    plaintext = ckks.Encoder(small_params).encode([1.0])
    for _ in range(2):
        random.seed(0)
        np.random.seed(0)
        keygen = ckks.KeyGenerator(small_params)
        keys.append(keygen)
        random.seed(0)
        np.random.seed(0)
        ciphertexts.append(ckks.Encryptor(small_params, keygen.public_key()).encrypt(plaintext))

    first, second = (k.secret_key for k in keys)
    assert first.fingerprint != second.fingerprint
    assert not np.array_equal(first.coefficients, second.coefficients)
    assert not np.array_equal(keys[0].public_key().data, keys[1].public_key().data)
    random.seed(0)
    np.random.seed(0)
    again = ckks.Encryptor(small_params, keys[0].public_key()).encrypt(plaintext)
    assert not np.array_equal(again.data, ciphertexts[0].data)


def test_c30_deterministic_mode_is_explicit_and_named_insecure(small_params):
    """Reproducible keys need InsecureDeterministicSource, which says INSECURE; the secure
    source refuses a seed."""
    source_a, source_b = InsecureDeterministicSource(30), InsecureDeterministicSource(30)

    first = ckks.KeyGenerator(small_params, random_source=source_a).secret_key
    second = ckks.KeyGenerator(small_params, random_source=source_b).secret_key

    assert first.fingerprint == second.fingerprint
    assert "INSECURE" in repr(source_a)
    with pytest.raises(ckks.InsecureRandomnessError):
        RandomSource(seed=0)


# ------------------------------------------------------------------------------------------------
# C34: operators align after an in-place rescale
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def c34_kit():
    """n = 16384, Δ = 2^30, q = [60] + [30]×7 + [60] (the last one special)."""
    return make_kit(ckks.Parameters(16384, [60] + [30] * 7, [60], 30), seed=3400)


def test_c34_operators_after_inplace_rescale(c34_kit):
    """rescale_inplace returns None; then c2 + Enc(1.0) = 43 and c2 * Enc(1.0) = 42.

    The case's 1e-4 is below what fresh public-key noise at Δ = 2^30, N = 2^14 guarantees
    (42 multiplies the noise of Enc(1.0)); the derived bounds are asserted instead.
    """
    kit, noise = c34_kit, c34_kit.noise
    encryptor = kit.encryptor_for(3401)
    c1 = encrypt_with(kit, encryptor, 42.0)
    one = kit.encoder.encode(1.0)

    c2 = c1 * one
    returned = kit.evaluator.rescale_inplace(c2)

    assert returned is None
    assert c2.level == kit.params.max_level - 1
    fresh, delta = noise.fresh(), kit.params.scale
    c2_error = noise.product(42.0, fresh, 1.0, noise.encoding(), 7, delta**2, False)
    total = c2 + encrypt_with(kit, encryptor, 1.0)
    aligned = fresh + noise.rescale(c2.scale) + 2.0**-30
    assert_slots_close(kit.decrypt(total), 43.0, c2_error + aligned, kit.params)
    product = c2 * encrypt_with(kit, encryptor, 1.0)
    assert product.level == c2.level
    product_error = noise.product(42.0, c2_error, 1.0, fresh, 6, product.scale, False, False)
    assert_slots_close(kit.decrypt(product), 42.0, product_error, kit.params)
    relinearized = kit.evaluator.relinearize(product)
    bound = product_error + noise.key_switch(6, product.scale)
    assert_slots_close(kit.decrypt(relinearized), 42.0, bound, kit.params)
