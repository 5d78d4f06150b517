"""Backends that execute lowered programs: real CKKS, and a NumPy simulation of it.

Both expose the same operations and the same bookkeeping of levels and exact scales, so the
planner can run a program on the :class:`SimulationBackend` (levels, scales, rotation steps,
values of a plaintext run; no ciphertexts) and the server the very same code on
:class:`CkksBackend`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ckks.evaluator import scales_close
from henn.errors import CompileError


def naf_steps(step: int, slot_count: int) -> list[int]:
    """A rotation as a sum of signed powers of two (non-adjacent form): fewest key switches."""
    step %= slot_count
    if step > slot_count // 2:
        step -= slot_count
    parts = []
    bit = 0
    while step:
        if step & 1:
            digit = 2 - (step & 3)  # +1 or −1
            parts.append(digit << bit)
            step -= digit
        step >>= 1
        bit += 1
    return parts


@dataclass
class SimCiphertext:
    values: np.ndarray  # real slot values (the message, not scaled)
    level: int
    scale: float


class SimulationBackend:
    """Plaintext execution with CKKS level and scale bookkeeping (the planner's evaluator).

    Args:
        moduli: the data primes q_0 … q_L (only their values matter here).
        scale: the default scale Δ.
        slot_count: slots per ciphertext.
        power_of_two_rotations: compose rotations from ±2^k steps (fewer keys).
    """

    def __init__(self, moduli, scale, slot_count, power_of_two_rotations=False, noise=0.0):
        self.moduli = list(moduli)
        # Standard deviation of the error each encryption, rescale and key switch adds (0: none).
        self.noise = float(noise)
        self._generator = np.random.default_rng(20261204)  # a simulation, not cryptography
        self.scale = float(scale)
        self.slot_count = slot_count
        self.power_of_two_rotations = power_of_two_rotations
        self.rotation_steps: set[int] = set()
        self.counts: Counter = Counter()
        self.lowest_level = len(self.moduli) - 1
        self.peak: float = 0.0

    @property
    def top_level(self) -> int:
        return len(self.moduli) - 1

    def modulus(self, level: int) -> int:
        return self.moduli[level]

    def level(self, ct) -> int:
        return ct.level

    def ciphertext_scale(self, ct) -> float:
        return ct.scale

    def _noisy(self, values: np.ndarray) -> np.ndarray:
        if not self.noise:
            return values
        return values + self._generator.normal(0.0, self.noise, values.shape)

    def encrypt_values(self, values: np.ndarray) -> SimCiphertext:
        values = self._noisy(np.asarray(values, dtype=np.float64))
        return SimCiphertext(values, self.top_level, self.scale)

    def decrypt_values(self, ct) -> np.ndarray:
        return ct.values

    def _note(self, ct: SimCiphertext) -> SimCiphertext:
        self.lowest_level = min(self.lowest_level, ct.level)
        if ct.values.size:
            self.peak = max(self.peak, float(np.max(np.abs(ct.values))))
        return ct

    def _steps(self, step: int) -> list[int]:
        step %= self.slot_count
        if step == 0:
            return []
        if self.power_of_two_rotations:
            return naf_steps(step, self.slot_count)
        return [step]

    def rotate(self, ct, step: int):
        for part in self._steps(step):
            self.rotation_steps.add(part % self.slot_count)
            self.counts["rotations"] += 1
        rotated = np.roll(ct.values, -step)
        return SimCiphertext(
            self._noisy(rotated) if step % self.slot_count else rotated, ct.level, ct.scale
        )

    def rotate_hoisted(self, ct, steps):
        return [self.rotate(ct, s) for s in steps]

    def multiply_plain(self, ct, vector, plain_scale):
        self.counts["plain_products"] += 1
        return self._note(SimCiphertext(ct.values * vector, ct.level, ct.scale * plain_scale))

    def multiply_constant(self, ct, value, plain_scale):
        self.counts["plain_products"] += 1
        return self._note(SimCiphertext(ct.values * value, ct.level, ct.scale * plain_scale))

    def add(self, a, b):
        _check_alignment(a.level, b.level, a.scale, b.scale)
        self.counts["additions"] += 1
        return self._note(SimCiphertext(a.values + b.values, a.level, a.scale))

    def add_vector(self, ct, vector):
        return self._note(SimCiphertext(ct.values + vector, ct.level, ct.scale))

    def add_constant(self, ct, value):
        return self._note(SimCiphertext(ct.values + value, ct.level, ct.scale))

    def multiply(self, a, b):
        _check_alignment(a.level, b.level, 1.0, 1.0)
        self.counts["ciphertext_products"] += 1
        self.counts["relinearizations"] += 1
        product = self._noisy(a.values * b.values)  # relinearization is a key switch
        return self._note(SimCiphertext(product, a.level, a.scale * b.scale))

    def rescale(self, ct):
        if ct.level == 0:
            raise CompileError("rescale below level 0 in simulation: the plan needs more levels")
        self.counts["rescales"] += 1
        values = self._noisy(ct.values)
        return self._note(SimCiphertext(values, ct.level - 1, ct.scale / self.moduli[ct.level]))

    def mod_switch_to(self, ct, level: int):
        if level == ct.level:
            return ct
        return self._note(SimCiphertext(ct.values, level, ct.scale))

    def zero_like(self, ct, plain_scale):
        return self.multiply_plain(ct, np.zeros(self.slot_count), plain_scale)


def _check_alignment(level_a, level_b, scale_a, scale_b) -> None:
    if level_a != level_b:
        raise CompileError(f"internal: adding ciphertexts at levels {level_a} and {level_b}")
    if not scales_close(scale_a, scale_b):  # the engine's own rule, so both backends agree
        raise CompileError(f"internal: adding ciphertexts at scales {scale_a} and {scale_b}")


class CkksBackend:
    """Execution on ciphertexts with a ``ckks.Evaluator`` (evaluation keys only)."""

    def __init__(
        self,
        params,
        evaluator,
        power_of_two_rotations=False,
        plain_cache=None,
        cache_budget_bytes: int = 1 << 30,
    ):
        from ckks import Encoder

        self.params = params
        self.evaluator = evaluator
        self.encoder = Encoder(params)
        self.scale = params.scale
        self.slot_count = params.slot_count
        self.moduli = list(params.moduli)
        self.power_of_two_rotations = power_of_two_rotations
        self.counts: Counter = Counter()
        # Encoded weights, shared across runs of one server: keyed by the weight array's identity
        # (the lowered plan keeps those arrays alive), the level and the scale.
        self._plain_cache: dict = {} if plain_cache is None else plain_cache
        self._cache_budget = cache_budget_bytes

    def modulus(self, level: int) -> int:
        return self.moduli[level]

    def level(self, ct) -> int:
        return ct.level

    def ciphertext_scale(self, ct) -> float:
        return ct.scale

    def _encode(self, vector, level, scale):
        key = (id(vector), level, scale)
        entry = self._plain_cache.get(key)
        if entry is not None and entry[0] is vector:
            return entry[1]
        plain = self.encoder.encode(vector, level=level, scale=scale)
        used = self._plain_cache.get("bytes", 0)
        if used + plain.data.nbytes <= self._cache_budget:
            self._plain_cache[key] = (vector, plain)  # holding the vector keeps its id unique
            self._plain_cache["bytes"] = used + plain.data.nbytes
        return plain

    def rotate(self, ct, step: int):
        step %= self.slot_count
        if step == 0:
            return ct
        parts = naf_steps(step, self.slot_count) if self.power_of_two_rotations else [step]
        for part in parts:
            ct = self.evaluator.rotate(ct, part)
            self.counts["rotations"] += 1
        return ct

    def rotate_hoisted(self, ct, steps):
        if self.power_of_two_rotations:
            return [self.rotate(ct, s) for s in steps]
        self.counts["rotations"] += sum(1 for s in steps if s % self.slot_count)
        return self.evaluator.rotate_hoisted(ct, [s % self.slot_count for s in steps])

    def multiply_plain(self, ct, vector, plain_scale):
        self.counts["plain_products"] += 1
        return self.evaluator.multiply_plain(ct, self._encode(vector, ct.level, plain_scale))

    def multiply_constant(self, ct, value, plain_scale):
        plain = self.encoder.encode_constant(value, level=ct.level, scale=plain_scale)
        return self.evaluator.multiply_plain(ct, plain)

    def add(self, a, b):
        return self.evaluator.add(a, b)

    def add_vector(self, ct, vector):
        return self.evaluator.add_plain(ct, self._encode(vector, ct.level, ct.scale))

    def add_constant(self, ct, value):
        plain = self.encoder.encode_constant(value, level=ct.level, scale=ct.scale)
        return self.evaluator.add_plain(ct, plain)

    def multiply(self, a, b):
        self.counts["relinearizations"] += 1
        return self.evaluator.relinearize(self.evaluator.multiply(a, b))

    def rescale(self, ct):
        return self.evaluator.rescale(ct)

    def mod_switch_to(self, ct, level: int):
        return ct if level == ct.level else self.evaluator.mod_switch_to(ct, level)

    def zero_like(self, ct, plain_scale):
        return self.multiply_plain(ct, np.zeros(self.slot_count), plain_scale)


def log2(value: float) -> float:
    return math.log2(value) if value > 0 else float("-inf")
