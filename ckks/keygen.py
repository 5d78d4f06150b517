"""Key generation: the ternary secret, the public key and hybrid key-switching keys."""

from __future__ import annotations

import numpy as np

from ckks.errors import MemoryBudgetError, ParameterError
from ckks.keys import GaloisKeys, KeySwitchKey, PublicKey, RelinearizationKey, SecretKey
from ckks.ring import arithmetic
from ckks.ring.automorphism import ntt_permutation, permute_rows
from ckks.ring.sampling import BaseRandomSource, check_random_source, expand_uniform

#: Default ceiling on the memory of one key set request: 8 GiB.
DEFAULT_KEY_MEMORY_BUDGET = 8 << 30


def small_to_residues(values: np.ndarray, moduli) -> np.ndarray:
    """Residues (primes, N) of small signed integers (secrets, errors)."""
    return np.mod(values[None, :].astype(np.int64), np.array(moduli, np.int64)[:, None]).astype(
        np.uint64
    )


def encrypt_zero_secret(params, secret_key, level: int, seed: bytes, random_source) -> np.ndarray:
    """(−a·s + e, a) at ``level``, a expanded from ``seed``: an encryption of zero under the
    secret key (a public key at the top level, a symmetric ciphertext's mask below)."""
    context = params.context
    constants = context.level(level).constants
    moduli = params.moduli[: level + 1]
    a = expand_uniform(seed, moduli, params.ring_degree)
    error = small_to_residues(random_source.gaussian(params.ring_degree), moduli)
    context.ntt.forward_inplace(error)
    s = np.ascontiguousarray(secret_key.ntt[: level + 1])
    b = arithmetic.subtract(error, arithmetic.multiply(a, s, constants), constants.moduli)
    return np.stack([b, a])


def galois_element_for_step(step: int, params) -> int:
    """5^step mod 2N: the automorphism that rotates slots left by ``step``."""
    return pow(5, step % params.slot_count, 2 * params.ring_degree)


def conjugation_element(params) -> int:
    """2N − 1: the automorphism X → X^-1, which conjugates every slot."""
    return 2 * params.ring_degree - 1


def estimate_key_switch_key_bytes(params, count: int = 1) -> int:
    """Bytes of ``count`` key-switching keys: count · digits · 2 · (L + K) · N · 8."""
    primes = len(params.moduli) + len(params.special_moduli)
    return count * len(params.digits) * 2 * primes * params.ring_degree * 8


class KeyGenerator:
    """Makes a fresh secret key and, on request, the keys derived from it.

    Args:
        params: the :class:`~ckks.parameters.Parameters`.
        random_source: randomness; default the OS CSPRNG. Seeded sources are for tests only.
        memory_budget_bytes: refuse any key request whose estimated size exceeds this.
        secret_key: derive keys from this existing secret key instead of a fresh one.
    """

    def __init__(
        self,
        params,
        random_source: BaseRandomSource | None = None,
        memory_budget_bytes: int = DEFAULT_KEY_MEMORY_BUDGET,
        secret_key: SecretKey | None = None,
    ):
        self.params = params
        self._context = params.context
        self._random = check_random_source(random_source)
        self.memory_budget_bytes = memory_budget_bytes
        if secret_key is not None:  # more keys from a secret key loaded from disk
            if not isinstance(secret_key, SecretKey) or secret_key.params != params:
                raise ParameterError(
                    "KeyGenerator: secret_key must be a SecretKey of these parameters"
                )
            self.secret_key = secret_key
        else:
            coefficients = self._random.ternary(params.ring_degree).astype(np.int8)
            ntt = small_to_residues(coefficients, self._context.all_moduli)
            self._context.ntt.forward_inplace(ntt)
            ntt.flags.writeable = False
            self.secret_key = SecretKey(coefficients, ntt, params)
        self._public_key = self._make_public_key()

    def public_key(self) -> PublicKey:
        """The public key (an encryption of zero under the secret key)."""
        return self._public_key

    def relinearization_key(self) -> RelinearizationKey:
        """The key that turns a three-part product back into two parts (switches s² to s)."""
        self._check_budget(1, "relinearization_key")
        s = self.secret_key.ntt
        s_squared = arithmetic.multiply(s, s, self._context.all_constants)
        data, seeds = self._key_switch_data(s_squared)
        return RelinearizationKey(
            data, seeds, self.secret_key.fingerprint, self.params, self._public_key
        )

    def galois_keys(self, steps=(), conjugation: bool = False) -> GaloisKeys:
        """Keys for rotating slots by each of ``steps`` (left for positive steps) and conjugation.

        Steps are normalized modulo the slot count: −1 and N/2 − 1 share one key. Step 0 needs no
        key. Duplicate steps are generated once.

        Raises:
            MemoryBudgetError: the keys would exceed ``memory_budget_bytes``; the message gives
                the estimate.
        """
        steps = list(steps)
        for step in steps:
            if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
                raise ParameterError(f"galois_keys: steps must be ints, got {step!r}")
        slot_count = self.params.slot_count
        normalized = sorted({int(step) % slot_count for step in steps} - {0})
        elements = {galois_element_for_step(step, self.params): step for step in normalized}
        if conjugation:
            elements[conjugation_element(self.params)] = "conjugation"
        self._check_budget(len(elements), "galois_keys")
        keys = {}
        for element in elements:
            permutation = ntt_permutation(self.params.ring_degree, element)
            rotated_secret = permute_rows(self.secret_key.ntt, permutation)
            data, seeds = self._key_switch_data(rotated_secret)
            keys[element] = KeySwitchKey(data, seeds, self.secret_key.fingerprint, self.params)
        return GaloisKeys(
            keys,
            normalized,
            conjugation,
            self.secret_key.fingerprint,
            self.params,
            self._public_key,
        )

    # -- internals --------------------------------------------------------------------------------

    def _make_public_key(self) -> PublicKey:
        seed = self._random.seed()
        data = encrypt_zero_secret(
            self.params, self.secret_key, self.params.max_level, seed, self._random
        )
        return PublicKey(data, seed, self.secret_key.fingerprint, self.params)

    def _error(self, moduli) -> np.ndarray:
        residues = small_to_residues(self._random.gaussian(self.params.ring_degree), moduli)
        self._context.ntt.forward_inplace(residues)
        return residues

    def _key_switch_data(self, source_key: np.ndarray) -> tuple[np.ndarray, list[bytes]]:
        """Digits (b_d, a_d) switching from ``source_key`` (NTT, all primes) to the secret."""
        context = self._context
        if not self.params.digits:
            raise ParameterError(
                "key switching needs special primes: special_moduli_bits is empty in "
                f"{self.params!r}"
            )
        constants = context.all_constants
        moduli = context.all_moduli
        N = self.params.ring_degree
        special = context.special_product
        digits = self.params.digits
        data = np.empty((len(digits), 2, len(moduli), N), dtype=np.uint64)
        seeds = []
        for index, digit in enumerate(digits):
            seed = self._random.seed()
            a = expand_uniform(seed, moduli, N)
            b = arithmetic.subtract(
                self._error(moduli),
                arithmetic.multiply(a, self.secret_key.ntt, constants),
                constants.moduli,
            )
            rows = list(digit)
            gadget = arithmetic.multiply_by_row_constants(
                np.ascontiguousarray(source_key[rows]),
                [special % moduli[i] for i in rows],
                constants.moduli[rows],
            )
            b[rows] = arithmetic.add(np.ascontiguousarray(b[rows]), gadget, constants.moduli[rows])
            data[index, 0] = b
            data[index, 1] = a
            seeds.append(seed)
        return data, seeds

    def _check_budget(self, count: int, operation: str) -> None:
        needed = estimate_key_switch_key_bytes(self.params, count)
        if needed > self.memory_budget_bytes:
            raise MemoryBudgetError(
                f"{operation}: {count} key(s) need about {needed / 2**20:.0f} MiB "
                f"({len(self.params.digits)} digits × 2 × {len(self._context.all_moduli)} primes × "
                f"N={self.params.ring_degree} × 8 B each), over the budget of "
                f"{self.memory_budget_bytes / 2**20:.0f} MiB; request only the rotation steps "
                f"you need or raise memory_budget_bytes"
            )
