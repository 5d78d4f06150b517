"""Shared parameter sets, keys and error bounds for the scheme-level tests of ``ckks``.

Key generation is the slow part of every scheme test (about half a second at N = 2^13), so each
parameter set and its keys are built once per session and shared read-only. Every random draw
comes from an explicitly insecure, seeded source, so a failure reproduces exactly.

The error bounds below are derived from the parameters, not tuned to observed values: see
:class:`NoiseModel`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import ckks
from ckks.ring.sampling import InsecureDeterministicSource

#: Standard deviation of the error distribution (HomomorphicEncryption.org recommendation).
SIGMA = 3.2

#: Tail factor of a Gaussian slot error. A slot of an error polynomial with independent
#: coefficients of variance V is a sum of N small terms times unit-modulus roots, close to a
#: complex Gaussian z with E|z|² = N·V; then P(|z| > t·sqrt(N·V)) = exp(−t²) = exp(−36) ≈ 2·10^-16
#: for t = 6, small enough for every slot of every ciphertext of the suite (about 10^7 of them).
GAUSSIAN_TAIL = 6.0

#: Tail factor of a slot error that is the product of two independent Gaussian slots, such as
#: e(ζ)·u(ζ) or e1(ζ)·s(ζ): the slot of a product of polynomials is the product of their slots.
#: Such a product has a heavier tail: P(|A·B| > t·σ_A·σ_B) = 2t·K_1(2t) (K_1 the modified Bessel
#: function), which first drops below exp(−36) near t = 19; we take 20 (3.4·10^-17).
PRODUCT_TAIL = 20.0

#: Hypothesis settings of the property tests: derandomized (the examples depend only on the
#: test), no example database (nothing written to disk), no deadline (the first call of a Numba
#: kernel compiles it), and a modest number of examples, since each one encrypts, computes and
#: decrypts at N = 2^13.
PROPERTY_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=12,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class NoiseModel:
    """Heuristic bounds (in value units, per slot) on the CKKS error of each operation.

    An error polynomial with independent zero-mean coefficients of variance V has slots with
    E|z|² = N·V. The ternary secret s and encryption mask u have variance 2/3, the errors e
    variance σ². Most CKKS error terms are products of two such polynomials (e·u, e1·s, r1·s),
    whose slots are products of two independent Gaussian slots: they get PRODUCT_TAIL, the others
    GAUSSIAN_TAIL, and the terms of one operation add up (a union bound). With N the ring degree,
    Δ the scale, Q_d the product of the k_d primes of a key-switching digit, P the product of the
    K special primes:

    * encoding rounds every coefficient: Gaussian, variance 1/12;
    * fresh public-key encryption adds e·u + e1·s (products σ² × 2/3) and e0 (σ² + 1/12);
    * rescaling rounds c0 and c1: r0 (1/12) and r1·s (product 1/12 × 2/3);
    * key switching adds Σ_d raised_d·e_d / P, and the division by P errs by less than K per
      coefficient: r0 (K²) and r1·s (product K² × 2/3).

    A raised digit lies in [0, k_d·Q_d): it is not centred. Its zero-mean part (variance at most
    (k_d·Q_d)²/12) gives the products (k_d·Q_d/P)²/12 × σ². Its mean M_d ≤ k_d·Q_d/2 gives the
    fixed polynomial (M_d/P)·σ_g(J)·e_d, with J = 1 + X + … + X^(N−1) and σ_g the automorphism
    being applied. Because X^N = −1, J(ζ) = 2/(1 − ζ), so |J| = 1/|sin(π·t/2N)| at the root ζ^t:
    about 2N/π at the roots next to 1 and about 1 on average. That term is bounded slot by slot
    by (M_d/P)·|J(ζ_j^g)|·GAUSSIAN_TAIL·σ·sqrt(N), and the mean of the division by P (at most
    K) adds K·|J(ζ_j)|. These structured terms put the largest rotation errors in the few slots
    whose root, after the automorphism, is nearest to ±1.

    A product of values a + ε_a and b + ε_b errs by |a|·ε_b + |b|·ε_a + ε_a·ε_b, plus the
    relinearization and rescaling terms at the scale of each step; magnitudes may be given per
    slot.
    """

    def __init__(self, params: ckks.Parameters, sigma: float = SIGMA):
        self.params = params
        self.ring_degree = params.ring_degree
        self.sigma = sigma
        N = params.ring_degree
        self._root_exponents = np.array(
            [pow(5, j, 2 * N) for j in range(params.slot_count)], dtype=np.int64
        )

    # -- the two kinds of terms ------------------------------------------------------------------

    def gaussian(self, variance: float, scale: float) -> float:
        """GAUSSIAN_TAIL·sqrt(N·V)/scale: a plain error polynomial of coefficient variance V."""
        return GAUSSIAN_TAIL * math.sqrt(self.ring_degree * variance) / scale

    def product_term(self, variance_a: float, variance_b: float, scale: float) -> float:
        """PRODUCT_TAIL·sqrt(N·A)·sqrt(N·B)/scale: the product of two independent polynomials."""
        N = self.ring_degree
        return PRODUCT_TAIL * math.sqrt(N * variance_a) * math.sqrt(N * variance_b) / scale

    # -- operations ------------------------------------------------------------------------------

    def encoding(self, scale: float | None = None) -> float:
        """Error of encode → decode: rounding every coefficient to an integer."""
        return self.gaussian(1.0 / 12.0, scale or self.params.scale)

    def fresh(self, scale: float | None = None) -> float:
        """Error of a fresh public-key encryption (with its encoding) at ``scale``."""
        scale = scale or self.params.scale
        ternary, error = 2.0 / 3.0, self.sigma**2
        return self.gaussian(error + 1.0 / 12.0, scale) + 2 * self.product_term(
            error, ternary, scale
        )

    def fresh_symmetric(self, scale: float | None = None) -> float:
        """Error of a fresh secret-key encryption (−a·s + e + m, a): e0 and the encoding only."""
        return self.gaussian(self.sigma**2 + 1.0 / 12.0, scale or self.params.scale)

    def rescale(self, scale_after: float) -> float:
        """Rounding error added by one rescale, for the scale after it."""
        return self.gaussian(1.0 / 12.0, scale_after) + self.product_term(
            1.0 / 12.0, 2.0 / 3.0, scale_after
        )

    def all_ones_magnitude(self, galois_element: int = 1) -> np.ndarray:
        """|J(ζ_j^g)| for every slot j, J = 1 + X + … + X^(N−1): 1/|sin(π·t/2N)|, t = g·5^j."""
        N = self.ring_degree
        exponents = (self._root_exponents * galois_element) % (2 * N)
        return 1.0 / np.abs(np.sin(np.pi * exponents / (2 * N)))

    def _digit_ratios(self, level: int) -> list[float]:
        """k_d·Q_d/P for each key-switching digit present at ``level``."""
        special_product = math.prod(self.params.special_moduli)
        ratios = []
        for digit in self.params.digits:
            rows = [i for i in digit if i <= level]
            if rows:
                modulus = math.prod(self.params.moduli[i] for i in rows)
                ratios.append(len(rows) * modulus / special_product)
        return ratios

    def _key_switch_random(self, level: int, scale: float) -> float:
        """The zero-mean part of one key switch (the same in every slot)."""
        special_count = len(self.params.special_moduli)
        bound = self.gaussian(special_count**2, scale)
        bound += self.product_term(special_count**2, 2.0 / 3.0, scale)
        for ratio in self._digit_ratios(level):
            bound += self.product_term(ratio**2 / 12.0, self.sigma**2, scale)
        return bound

    def _key_switch_mean_factor(self, level: int) -> float:
        """Σ_d M_d/P times the Gaussian bound on |e_d(ζ)|."""
        mean_ratio = sum(ratio / 2.0 for ratio in self._digit_ratios(level))
        return mean_ratio * GAUSSIAN_TAIL * self.sigma * math.sqrt(self.ring_degree)

    def key_switch(self, level: int, scale: float, galois_element: int = 1) -> np.ndarray:
        """Per-slot bound on the error one key switch adds (relinearization: g = 1)."""
        special_count = len(self.params.special_moduli)
        structured = (
            self._key_switch_mean_factor(level) * self.all_ones_magnitude(galois_element)
            + special_count * self.all_ones_magnitude(1)
        ) / scale
        return self._key_switch_random(level, scale) + structured

    def rotation_element(self, step: int) -> int:
        """The Galois element of a left rotation by ``step``: 5^step mod 2N."""
        return pow(5, step % self.params.slot_count, 2 * self.ring_degree)

    def conjugation_element(self) -> int:
        return 2 * self.ring_degree - 1

    def sum_slots(self, error_in, level: int, scale: float) -> float:
        """Error of ``sum_slots`` on a ciphertext whose slot error is bounded by ``error_in``.

        The slot sum of an error polynomial is Σ_k e_k·(Σ_j ζ_j^k); the n × N matrix (ζ_j^k) has
        orthogonal rows of squared norm N, so the sum has E|z|² = n·N·V: it grows by sqrt(n),
        not n. Round r (r = 0 … log2 n − 1) rotates by 2^r; its key-switching error is then
        summed over a coset of n/2^(r+1) slots: sqrt(n/2^(r+1)) times the zero-mean part. The
        same orthogonality bounds the sum of the structured part over any set of slots by
        (M_d/P)·GAUSSIAN_TAIL·σ·sqrt(N)·‖J‖₂, and the mean of the division by P by K·Σ_j |J|.
        """
        slots = self.params.slot_count
        ones = self.all_ones_magnitude(1)
        special_count = len(self.params.special_moduli)
        structured = (
            self._key_switch_mean_factor(level) * float(np.linalg.norm(ones))
            + special_count * float(ones.sum())
        ) / scale
        bound = math.sqrt(slots) * float(np.max(error_in))
        for r in range(int(math.log2(slots))):
            bound += math.sqrt(slots / 2 ** (r + 1)) * self._key_switch_random(level, scale)
            bound += structured
        return bound

    def product(
        self,
        magnitude_a,
        error_a,
        magnitude_b,
        error_b,
        level: int,
        scale_product: float,
        relinearize: bool = True,
        rescale: bool = True,
    ):
        """Error of (a·b), relinearized at ``level`` and rescaled by q_level if asked."""
        bound = magnitude_a * error_b + magnitude_b * error_a + error_a * error_b
        if relinearize:
            bound = bound + self.key_switch(level, scale_product)
        if rescale:
            bound = bound + self.rescale(scale_product / self.params.moduli[level])
        return bound


@dataclass
class SchemeKit:
    """A parameter set with its keys and the objects a user builds from them."""

    params: ckks.Parameters
    keygen: ckks.KeyGenerator
    encoder: ckks.Encoder
    encryptor: ckks.Encryptor
    decryptor: ckks.Decryptor
    evaluator: ckks.Evaluator
    noise: NoiseModel
    rotation_steps: tuple[int, ...]

    def encrypt(self, values, level=None, scale=None) -> ckks.Ciphertext:
        return self.encryptor.encrypt(self.encoder.encode(values, level=level, scale=scale))

    def decrypt(self, ciphertext: ckks.Ciphertext) -> np.ndarray:
        return self.encoder.decode(self.decryptor.decrypt(ciphertext))

    def encryptor_for(self, seed: int, symmetric: bool = False) -> ckks.Encryptor:
        """A new encryptor with its own seeded source: results independent of test order."""
        key = self.keygen.secret_key if symmetric else self.keygen.public_key()
        return ckks.Encryptor(self.params, key, random_source=InsecureDeterministicSource(seed))


def make_kit(
    params: ckks.Parameters,
    seed: int,
    rotation_steps=(),
    conjugation: bool = False,
    relinearization: bool = True,
) -> SchemeKit:
    """Keys and user objects for ``params``, every draw from a seeded (insecure) source."""
    keygen = ckks.KeyGenerator(params, random_source=InsecureDeterministicSource(seed))
    relinearization_key = keygen.relinearization_key() if relinearization else None
    galois_keys = (
        keygen.galois_keys(list(rotation_steps), conjugation=conjugation)
        if rotation_steps or conjugation
        else None
    )
    return SchemeKit(
        params=params,
        keygen=keygen,
        encoder=ckks.Encoder(params),
        encryptor=ckks.Encryptor(
            params, keygen.public_key(), random_source=InsecureDeterministicSource(seed + 1)
        ),
        decryptor=ckks.Decryptor(params, keygen.secret_key),
        evaluator=ckks.Evaluator(params, relinearization_key, galois_keys),
        noise=NoiseModel(params),
        rotation_steps=tuple(rotation_steps),
    )


def powers_of_two_below(limit: int) -> list[int]:
    """1, 2, 4, … below ``limit``: the steps ``sum_slots`` needs for ``limit`` slots."""
    return [1 << k for k in range(max(limit - 1, 1).bit_length())]


#: Rotation steps of the standard kit: the powers of two (for sum_slots), their negatives, and a
#: few others (63 for case C11, odd and large steps for the rotation property).
STANDARD_EXTRA_STEPS = (-1, -2, -4, 3, 63, -1000, 4095)


@pytest.fixture(scope="session")
def standard_params() -> ckks.Parameters:
    """N = 2^13, data primes {60, 40, 40}, special prime {60}, Δ = 2^40 (SEAL's {60,40,40,60})."""
    return ckks.Parameters(8192, [60, 40, 40], [60], 40)


@pytest.fixture(scope="session")
def standard(standard_params) -> SchemeKit:
    """The standard set with relinearization, conjugation and rotation keys."""
    steps = [*powers_of_two_below(standard_params.slot_count), *STANDARD_EXTRA_STEPS]
    return make_kit(standard_params, seed=1300, rotation_steps=steps, conjugation=True)


@pytest.fixture(scope="session")
def standard_other_key(standard_params) -> SchemeKit:
    """Same parameters as ``standard``, another secret key (for key-mismatch tests)."""
    return make_kit(standard_params, seed=4400, rotation_steps=[1], conjugation=False)


@pytest.fixture(scope="session")
def small_params() -> ckks.Parameters:
    """N = 2^10 (insecure, for speed), data primes {50, 30, 30}, special {50}, Δ = 2^30."""
    return ckks.Parameters(1024, [50, 30, 30], [50], 30, insecure=True)


@pytest.fixture(scope="session")
def small(small_params) -> SchemeKit:
    """The small set with relinearization, conjugation and every power-of-two rotation key."""
    steps = [*powers_of_two_below(small_params.slot_count), -1, 5]
    return make_kit(small_params, seed=2100, rotation_steps=steps, conjugation=True)


@pytest.fixture(scope="session")
def large_params() -> ckks.Parameters:
    """N = 2^15 (16,384 slots), data primes {60, 40, 40}, special {60}, Δ = 2^40; secure."""
    return ckks.Parameters(32768, [60, 40, 40], [60], 40)


def float_error(params: ckks.Parameters, *vectors) -> float:
    """Floating-point error of encoding and decoding vectors of these 2-norms (see below).

    A radix-2 FFT errs by about log2(N)·ε relative to the 2-norm of its data; slots and
    coefficients have proportional 2-norms, so each slot errs by a small multiple of
    log2(N)·ε·‖v‖₂. The factor 16 covers both directions and the constants of the estimate.
    """
    norm = max((float(np.linalg.norm(v)) for v in vectors), default=0.0)
    return 16.0 * math.log2(params.ring_degree) * 2.0**-52 * max(norm, 1.0)


def assert_slots_close(observed, expected, bound, params: ckks.Parameters, *inputs) -> float:
    """Every slot of ``observed`` is within its ``bound`` (plus FFT error) of ``expected``.

    ``bound`` is a number or one bound per slot. Returns the largest ratio error / bound, which
    tells how tight the bound is.
    """
    expected = np.broadcast_to(np.asarray(expected, dtype=complex), observed.shape)
    tolerance = np.asarray(bound, dtype=float) + float_error(params, expected, *inputs)
    error = np.abs(observed - expected)
    ratio = error / tolerance
    worst = int(np.argmax(ratio))
    limit = np.broadcast_to(tolerance, error.shape)[worst]
    assert ratio[worst] <= 1.0, f"slot {worst}: error {error[worst]:.3e} > bound {limit:.3e}"
    return float(ratio[worst])


def random_slots(seed: int, count: int, magnitude: float = 1.0, real: bool = False) -> np.ndarray:
    """``count`` values in the disc of radius ``magnitude`` (or the real interval), seeded."""
    rng = np.random.default_rng(seed)
    radius = magnitude * np.sqrt(rng.uniform(0, 1, count))
    if real:
        return radius * rng.choice([-1.0, 1.0], count)
    return radius * np.exp(2j * np.pi * rng.uniform(0, 1, count))
