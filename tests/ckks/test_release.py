"""Release-mode decryption (``Decryptor.decrypt_for_release``): misuse, rounding, flooding.

The released values must be multiples of 2^-p; without flooding they are the exact decryption
rounded to that grid (deterministic), with flooding they carry fresh CSPRNG noise of standard
deviation 2^-(p+2) before the rounding. Bounds are derived in each docstring.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import ckks
from ckks.ring.sampling import InsecureDeterministicSource

#: Standard deviation of the encryption error (ckks.ring.sampling.DEFAULT_SIGMA).
SIGMA = 3.2
#: Tail factor of the slot-error bound: P(|complex Gaussian| > 6σ) = e^-36 per slot.
TAIL = 6.0


class ReleaseKit:
    """N = 2^13, data primes {60, 40, 40}, special {60}, Δ = 2^40; symmetric encryption."""

    def __init__(self, seed: int):
        self.params = ckks.Parameters(8192, [60, 40, 40], [60], 40)
        keygen = ckks.KeyGenerator(self.params, random_source=InsecureDeterministicSource(seed))
        self.secret_key = keygen.secret_key
        self.relinearization_key = keygen.relinearization_key()
        self.encoder = ckks.Encoder(self.params)
        self.encryptor = ckks.Encryptor(
            self.params, keygen.secret_key, random_source=InsecureDeterministicSource(seed + 1)
        )
        self.decryptor = ckks.Decryptor(self.params, keygen.secret_key)
        rng = np.random.default_rng(seed)
        slots = self.params.slot_count
        self.values = np.sqrt(rng.uniform(0, 1, slots)) * np.exp(
            2j * np.pi * rng.uniform(0, 1, slots)
        )
        self.ciphertext = self.encryptor.encrypt(self.encoder.encode(self.values))
        # Fresh symmetric error e (variance σ²) plus encoding rounding (1/12), 6σ tail, per slot.
        self.fresh_bound = (
            TAIL * math.sqrt(self.params.ring_degree * (SIGMA**2 + 1 / 12)) / self.params.scale
        )

    def exact(self, ciphertext) -> np.ndarray:
        return self.encoder.decode(self.decryptor.decrypt(ciphertext))


@pytest.fixture(scope="module")
def kit() -> ReleaseKit:
    return ReleaseKit(seed=3600)


def parts(values: np.ndarray) -> np.ndarray:
    """Real and imaginary parts side by side."""
    return np.concatenate([values.real, values.imag])


def assert_on_grid(values: np.ndarray, precision_bits: int) -> None:
    scaled = parts(values) * 2.0**precision_bits
    assert np.array_equal(scaled, np.round(scaled))


# ------------------------------------------------------------------------------------------------
# Misuse
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "precision_bits, message",
    [
        (-1, r"precision_bits must be in 0 … 52, got -1"),
        (53, r"precision_bits must be in 0 … 52, got 53"),
        (2.5, r"precision_bits must be an int, got 2.5"),
        (True, r"precision_bits must be an int, got True"),
        (16.0, r"precision_bits must be an int, got 16.0"),
        ("16", r"precision_bits must be an int, got '16'"),
        (None, r"precision_bits must be an int, got None"),
    ],
)
def test_bad_precision_is_a_parameter_error(kit, precision_bits, message):
    with pytest.raises(ckks.ParameterError, match=message) as caught:
        kit.decryptor.decrypt_for_release(kit.ciphertext, precision_bits)

    assert isinstance(caught.value, ValueError)


def test_release_checks_its_ciphertext(kit):
    other = ckks.KeyGenerator(kit.params, random_source=InsecureDeterministicSource(3700))
    foreign = ckks.Encryptor(kit.params, other.secret_key).encrypt(kit.encoder.encode([1.0]))

    with pytest.raises(ckks.ParameterError, match="expected a Ciphertext, got Plaintext"):
        kit.decryptor.decrypt_for_release(kit.encoder.encode([1.0]), 16)
    with pytest.raises(ckks.KeyMismatchError, match="different secret key"):
        kit.decryptor.decrypt_for_release(foreign, 16)


# ------------------------------------------------------------------------------------------------
# Without flooding: deterministic rounding of the exact decryption
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("precision_bits", [0, 1, 8, 16, 24, 30])
def test_without_flooding_release_is_the_exact_value_rounded(kit, precision_bits):
    step = 2.0**-precision_bits
    exact = kit.exact(kit.ciphertext)

    first = kit.decryptor.decrypt_for_release(kit.ciphertext, precision_bits, flood=False)
    second = kit.decryptor.decrypt_for_release(kit.ciphertext, precision_bits, flood=False)

    assert first.tobytes() == second.tobytes()
    assert_on_grid(first, precision_bits)
    rounded = (np.round(exact.real / step) + 1j * np.round(exact.imag / step)) * step
    np.testing.assert_array_equal(first, rounded)
    assert np.abs(parts(first - kit.values)).max() <= step / 2 + kit.fresh_bound


def test_without_flooding_release_ignores_global_generators(kit):
    random.seed(0)
    np.random.seed(0)
    first = kit.decryptor.decrypt_for_release(kit.ciphertext, 20, flood=False)
    random.seed(1)
    np.random.seed(1)
    second = kit.decryptor.decrypt_for_release(kit.ciphertext, 20, flood=False)

    assert first.tobytes() == second.tobytes()


# ------------------------------------------------------------------------------------------------
# With flooding: values on the grid, noise of the documented size, drawn afresh
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("precision_bits", [0, 4, 10, 16, 22, 40, 52])
def test_released_values_are_multiples_of_the_step(kit, precision_bits):
    released = kit.decryptor.decrypt_for_release(kit.ciphertext, precision_bits)

    assert released.dtype == np.complex128
    assert released.shape == (kit.params.slot_count,)
    assert_on_grid(released, precision_bits)


@pytest.mark.parametrize("precision_bits", [8, 14, 20])
def test_flooding_noise_has_the_documented_size(kit, precision_bits):
    """released − exact = round(x + n) − x per part, n ~ N(0, (step/4)²), x spread over the grid.

    Its variance is σ_n² + step²/12 = step²·(1/16 + 1/12), so its standard deviation is
    0.382·step; over 8,192 parts the sample standard deviation errs by about 0.8 %, so [0.34, 0.42]
    is over five standard errors wide on each side. Its mean is 0 within 6·0.382·step/sqrt(8192).
    """
    step = 2.0**-precision_bits
    exact = kit.exact(kit.ciphertext)

    difference = parts(kit.decryptor.decrypt_for_release(kit.ciphertext, precision_bits) - exact)

    assert 0.34 * step < difference.std() < 0.42 * step
    assert abs(difference.mean()) < 6 * 0.382 * step / math.sqrt(difference.size)
    assert np.abs(difference).max() < 2 * step


def test_flooding_is_fresh_even_after_reseeding_global_generators(kit):
    releases = []
    for _ in range(2):
        random.seed(0)
        np.random.seed(0)
        releases.append(kit.decryptor.decrypt_for_release(kit.ciphertext, 16))

    assert releases[0].tobytes() != releases[1].tobytes()


def test_flooding_is_the_default(kit):
    default = kit.decryptor.decrypt_for_release(kit.ciphertext, 16)
    rounded = kit.decryptor.decrypt_for_release(kit.ciphertext, 16, flood=False)

    # A part moves when noise of deviation step/4 crosses a rounding boundary: ≈ 0.2 of parts.
    assert np.mean(parts(default) != parts(rounded)) > 0.1


def test_release_after_multiplication_and_rescale(kit):
    """A product at a lower level, relinearized and rescaled, releases on the grid too."""
    evaluator = ckks.Evaluator(kit.params, kit.relinearization_key)
    product = evaluator.rescale(
        evaluator.relinearize(evaluator.multiply(kit.ciphertext, kit.ciphertext))
    )
    step = 2.0**-12

    released = kit.decryptor.decrypt_for_release(product, 12)

    assert_on_grid(released, 12)
    assert np.abs(parts(released - kit.values**2)).max() < 2 * step
