"""Encoder tests: known answers from a direct evaluation, exact large integers, misuse.

Reference: the slot j of a real polynomial m is m(ζ^(5^j mod 2N)) with ζ = exp(iπ/N) (the
documented slot order). :func:`direct_evaluation` builds that matrix with plain numpy powers,
reducing every exponent exactly modulo 2N first; it shares no code with ``ckks.embedding``.
The integer coefficients of a plaintext are read with ``Encoder.to_integers``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ckks
from ckks.ring.sampling import InsecureDeterministicSource
from tests.ckks.conftest import PROPERTY_SETTINGS, NoiseModel

DOUBLE_EPSILON = 2.0**-52
SMALL_RING_DEGREES = [2, 4, 16, 64, 256]


def direct_evaluation(coefficients: np.ndarray, ring_degree: int) -> np.ndarray:
    """Slots m(ζ^(5^j)) of the polynomial with ``coefficients``, by an explicit matrix product."""
    N = ring_degree
    roots = np.array([pow(5, j, 2 * N) for j in range(N // 2)], dtype=np.int64)
    exponents = (roots[:, None] * np.arange(N, dtype=np.int64)[None, :]) % (2 * N)
    matrix = np.exp(1j * np.pi * exponents / N)
    return matrix @ coefficients.astype(np.complex128)


def fft_error_bound(values_norm: float, ring_degree: int) -> float:
    """Floating-point error, per slot, of an FFT round trip on data of 2-norm ``values_norm``.

    A radix-2 FFT errs by about log2(N)·ε relative to the 2-norm of its input, and the slot
    vector and the coefficient vector have proportional 2-norms (Parseval), so every slot errs by
    at most a small multiple of log2(N)·ε·‖values‖₂; the factor 16 covers the twist, both
    directions and the constants of that estimate. Any 1-norm may stand in for the 2-norm.
    """
    return 16.0 * max(math.log2(ring_degree), 1.0) * DOUBLE_EPSILON * values_norm


def small_parameters(ring_degree: int) -> ckks.Parameters:
    return ckks.Parameters(ring_degree, [45, 30], [], 30, insecure=True)


# ------------------------------------------------------------------------------------------------
# Known answers from the direct evaluation
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ring_degree", SMALL_RING_DEGREES)
def test_encode_matches_direct_evaluation(ring_degree):
    """Direct evaluation of the encoded integers gives back the values, up to rounding.

    Each of the N coefficients is rounded by at most 1/2, and every root has modulus 1, so each
    slot errs by at most N/2 (before division by the scale): a worst-case, not a statistical
    bound.
    """
    params = small_parameters(ring_degree)
    encoder = ckks.Encoder(params)
    rng = np.random.default_rng(ring_degree)
    values = rng.uniform(-4, 4, params.slot_count) + 1j * rng.uniform(-4, 4, params.slot_count)

    plaintext = encoder.encode(values)
    integers = encoder.to_integers(plaintext.data, plaintext.level)

    assert np.array_equal(integers, np.round(integers))
    slots = direct_evaluation(integers, ring_degree) / plaintext.scale
    bound = (ring_degree / 2) / plaintext.scale + fft_error_bound(np.abs(values).sum(), ring_degree)
    assert np.max(np.abs(slots - values)) <= bound


@pytest.mark.parametrize("ring_degree", SMALL_RING_DEGREES)
def test_decode_matches_direct_evaluation(ring_degree):
    """decode equals the direct evaluation of the plaintext's integers, to floating-point error."""
    params = small_parameters(ring_degree)
    encoder = ckks.Encoder(params)
    rng = np.random.default_rng(1000 + ring_degree)
    values = rng.normal(size=params.slot_count) + 1j * rng.normal(size=params.slot_count)
    plaintext = encoder.encode(values, scale=2.0**25)

    decoded = encoder.decode(plaintext)

    assert decoded.dtype == np.complex128
    assert decoded.shape == (params.slot_count,)
    integers = encoder.to_integers(plaintext.data, plaintext.level)
    reference = direct_evaluation(integers, ring_degree) / plaintext.scale
    tolerance = fft_error_bound(np.abs(integers).sum() / plaintext.scale, ring_degree)
    assert np.max(np.abs(decoded - reference)) <= tolerance


@pytest.mark.parametrize("value", [0.75, -3.25, 1.5 - 2.25j, 1j])
def test_constant_is_one_coefficient(value):
    """A number encodes as round(Re·Δ) + round(Im·Δ)·X^(N/2): X^(N/2) is i at every slot root."""
    params = small_parameters(16)
    encoder = ckks.Encoder(params)

    plaintext = encoder.encode(value)

    integers = encoder.to_integers(plaintext.data, plaintext.level)
    value = complex(value)
    expected = np.zeros(16)
    expected[0] = round(value.real * params.scale)
    expected[8] = round(value.imag * params.scale)
    assert np.array_equal(integers, expected)
    assert np.allclose(direct_evaluation(integers, 16) / params.scale, value, rtol=0, atol=1e-15)
    assert np.allclose(encoder.decode(plaintext), value, rtol=0, atol=1e-15)


def test_slot_order_follows_powers_of_five():
    """Known answer: the linear polynomial X has slot j equal to ζ^(5^j mod 2N)."""
    params = small_parameters(64)
    encoder = ckks.Encoder(params)
    N = params.ring_degree
    expected = np.exp(1j * np.pi * np.array([pow(5, j, 2 * N) for j in range(N // 2)]) / N)

    plaintext = encoder.encode(expected, scale=2.0**28)

    integers = encoder.to_integers(plaintext.data, plaintext.level)
    one_x = np.zeros(N)
    one_x[1] = 2.0**28
    assert np.array_equal(integers, one_x)


# ------------------------------------------------------------------------------------------------
# Round trip with a derived bound
# ------------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    length=st.integers(1, 4096),
    magnitude=st.sampled_from([1e-3, 1.0, 1e3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_round_trip_within_rounding_bound(standard_params, length, magnitude, seed):
    """decode(encode(v)) = v up to the rounding bound of NoiseModel.encoding plus FFT error."""
    encoder = ckks.Encoder(standard_params)
    rng = np.random.default_rng(seed)
    values = magnitude * (rng.uniform(-1, 1, length) + 1j * rng.uniform(-1, 1, length))

    decoded = encoder.decode(encoder.encode(values))

    expected = np.zeros(standard_params.slot_count, dtype=complex)
    expected[:length] = values
    rounding = NoiseModel(standard_params).encoding()
    assert rounding < 1e-9
    bound = rounding + fft_error_bound(np.linalg.norm(values), standard_params.ring_degree)
    assert np.max(np.abs(decoded - expected)) <= bound


@pytest.mark.parametrize("length", [1, 5, 1000, 4096])
def test_short_vectors_are_zero_padded(standard_params, length):
    """Any length up to N/2 works; the slots after the values decode to zero (C29 b/c)."""
    encoder = ckks.Encoder(standard_params)
    values = np.arange(1, length + 1, dtype=float) / length

    decoded = encoder.decode(encoder.encode(values))

    bound = NoiseModel(standard_params).encoding() + fft_error_bound(np.linalg.norm(values), 8192)
    assert np.max(np.abs(decoded[:length] - values)) <= bound
    assert np.max(np.abs(decoded[length:]), initial=0.0) <= bound


# ------------------------------------------------------------------------------------------------
# Exact integers near and above 2^63
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scale_50_params():
    """C06b: N = 2^13, Δ = 2^50, first modulus 60 bits; data {60, 50, 50}, special {58}."""
    return ckks.Parameters(8192, [60, 50, 50], [58], 50)


@pytest.mark.parametrize(
    "value",
    [
        2.0**12 - 2.0**-40,  # value·Δ = 2^62 − 2^10: the int64 rounding path
        2.0**12 + 2.0**-40,  # 2^62 + 2^10: the exact Python-integer path
        8192.0,  # 2^63: one past the int64 range
        -8192.0,  # −2^63
        8192.0 + 2.0**-39,  # 2^63 + 2^11
        2.0**14 + 2.0**-38,  # 2^64 + 2^12: past the uint64 range
        -(2.0**20 + 0.5),  # −(2^70 + 2^49)
    ],
)
def test_large_coefficients_are_exact(scale_50_params, value):
    """round(value·Δ) reaches the plaintext exactly, whether or not it fits in 64 bits."""
    encoder = ckks.Encoder(scale_50_params)

    plaintext = encoder.encode(value)

    integers = encoder.to_integers(plaintext.data, plaintext.level)
    exact = value * scale_50_params.scale  # a power-of-two product: exact in float64
    assert integers[0] == exact
    assert not integers[1:].any()
    decoded = encoder.decode(plaintext)
    assert np.all(decoded == value)


@PROPERTY_SETTINGS
@given(value=st.integers(-(2**52), 2**52), level=st.integers(0, 2))
def test_integers_round_trip_at_every_level(standard_params, value, level):
    """Any integer below 2^52 in magnitude encodes at scale 1 and decodes exactly."""
    encoder = ckks.Encoder(standard_params)

    plaintext = encoder.encode(value, level=level, scale=1)

    assert encoder.to_integers(plaintext.data, level)[0] == value
    assert np.all(encoder.decode(plaintext) == value)


# ------------------------------------------------------------------------------------------------
# Level and scale arguments
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0, 1, 2])
@pytest.mark.parametrize("scale", [2.0**20, 2.0**40, 3.0 * 2.0**33 + 7.0])
def test_level_and_scale_arguments(standard, level, scale):
    """encode(level=, scale=) sets both exactly; encryption keeps them; values survive."""
    values = np.linspace(-1, 1, 50)

    plaintext = standard.encoder.encode(values, level=level, scale=scale)
    ciphertext = standard.encryptor.encrypt(plaintext)

    assert plaintext.level == level
    assert plaintext.scale == scale
    assert plaintext.data.shape == (level + 1, standard.params.ring_degree)
    assert ciphertext.level == level
    assert ciphertext.scale == scale
    decrypted = standard.decrypt(ciphertext)
    assert np.max(np.abs(decrypted[:50] - values)) <= standard.noise.fresh(scale)


def test_default_level_and_scale(standard):
    plaintext = standard.encoder.encode([1.0, 2.0])

    assert plaintext.level == standard.params.max_level == 2
    assert plaintext.scale == 2.0**40


# ------------------------------------------------------------------------------------------------
# Misuse: every documented error of Encoder.encode and Encoder.decode
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        (float("nan"), "finite"),
        (complex(1.0, float("nan")), "finite"),
        (float("inf"), "finite"),
        ([1.0, float("nan"), 2.0], "NaN at index 1"),
        ([0.0, 0.0, -float("inf")], "infinity at index 2"),
        ([complex(0.0, float("inf"))], "infinity at index 0"),
    ],
)
def test_nan_and_infinity_are_refused(standard_params, values, needle):
    with pytest.raises(ckks.EncodingError, match=needle) as caught:
        ckks.Encoder(standard_params).encode(values)

    assert isinstance(caught.value, ckks.CkksError)
    assert isinstance(caught.value, ValueError)


def test_one_value_too_many(standard_params):
    with pytest.raises(ckks.EncodingError, match="4097 values > 4096 slots"):
        ckks.Encoder(standard_params).encode(np.zeros(4097))


@pytest.mark.parametrize("level", [0, 1, 2])
def test_overflow_of_the_level_modulus(standard_params, level):
    """|value|·Δ must stay below Q_level/2: just below is accepted, just above is refused."""
    encoder = ckks.Encoder(standard_params)
    log2_half = sum(math.log2(q) for q in standard_params.moduli[: level + 1]) - 1
    largest = 2.0 ** (log2_half - standard_params.scale_bits)

    encoder.encode(largest * 0.999, level=level)
    for too_large in (largest * 1.001, -largest * 1.001):
        with pytest.raises(ckks.EncodingError, match=f"at level {level}") as caught:
            encoder.encode(too_large, level=level)
        assert "overflow" in str(caught.value)


def test_overflow_of_a_vector(standard_params):
    """A vector overflows when one of its coefficients does (all slots equal: coefficient 0)."""
    encoder = ckks.Encoder(standard_params)

    with pytest.raises(ckks.EncodingError, match="overflow"):
        encoder.encode(np.full(4096, 2.0**20), level=0)


def test_value_too_large_for_a_float_is_refused(standard_params):
    with pytest.raises(ckks.EncodingError):
        ckks.Encoder(standard_params).encode(1e300)


@pytest.mark.parametrize("level", [-1, 3, 1.0, True, "1"])
def test_bad_level_is_a_parameter_error(standard_params, level):
    with pytest.raises(ckks.ParameterError) as caught:
        ckks.Encoder(standard_params).encode([1.0], level=level)

    assert repr(level) in str(caught.value) or str(level) in str(caught.value)


@pytest.mark.parametrize("scale", [0.0, -(2.0**40), float("nan"), float("inf"), "2^40", True])
def test_bad_scale_is_a_parameter_error(standard_params, scale):
    with pytest.raises(ckks.ParameterError) as caught:
        ckks.Encoder(standard_params).encode([1.0], scale=scale)

    assert isinstance(caught.value, ValueError)


def test_decode_refuses_other_parameters(standard_params, small_params):
    plaintext = ckks.Encoder(small_params).encode([1.0])

    with pytest.raises(ckks.ParameterError, match="other parameters"):
        ckks.Encoder(standard_params).decode(plaintext)


@pytest.mark.parametrize(
    ("values", "error"),
    [
        (["a", "b"], ckks.ArrayTypeError),
        (np.ones((2, 2)), ckks.ArrayShapeError),
    ],
)
def test_non_numeric_or_non_vector_values(standard_params, values, error):
    with pytest.raises(error) as caught:
        ckks.Encoder(standard_params).encode(values)

    assert isinstance(caught.value, ckks.CkksError)


def test_encoding_is_deterministic(standard_params):
    """Encoding uses no randomness: the same values give the same residues."""
    encoder = ckks.Encoder(standard_params)
    values = np.random.default_rng(5).normal(size=100)

    assert np.array_equal(encoder.encode(values).data, encoder.encode(values).data)


def test_encrypt_is_reproducible_with_an_insecure_source(standard_params):
    """The seeded (insecure) source makes a whole encryption reproducible, as these tests need."""
    keygen = ckks.KeyGenerator(standard_params, random_source=InsecureDeterministicSource(9))
    plaintext = ckks.Encoder(standard_params).encode([1.0])
    first, second = (
        ckks.Encryptor(
            standard_params, keygen.public_key(), random_source=InsecureDeterministicSource(10)
        ).encrypt(plaintext)
        for _ in range(2)
    )

    assert np.array_equal(first.data, second.data)
