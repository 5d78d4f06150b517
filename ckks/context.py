"""Tables precomputed once per parameter set and shared read-only by every operation.

Built eagerly when :class:`~ckks.parameters.Parameters` is constructed, so that no table is ever
created lazily while several threads use the same parameters.

Prime indexing: the NTT tables cover every prime, data primes 0 … L−1 first, then the K special
primes at L … L+K−1. At level l a ciphertext uses rows 0 … l; the key-switching ("extended")
basis at level l is rows 0 … l followed by the special rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ckks.ring.modarith import ModulusConstants, shoup_companion
from ckks.ring.ntt import NttTables
from ckks.ring.rns import BaseConverter, RnsBase


def _frozen(values, dtype=np.uint64) -> np.ndarray:
    array = np.array(values, dtype=dtype)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class RescaleTables:
    """Constants to divide a level-l polynomial by q_l and round (rows 0 … l−1)."""

    dropped_prime: int
    half: int  # floor(q_l / 2): added before flooring so that the division rounds
    half_mod: np.ndarray  # floor(q_l / 2) mod q_i
    inverse: np.ndarray  # q_l^-1 mod q_i
    inverse_shoup: np.ndarray


@dataclass(frozen=True)
class DigitTables:
    """One key-switching digit at one level: its primes and the conversion to the rest."""

    source_rows: np.ndarray  # data rows of the digit (indices into the level's rows)
    target_positions: np.ndarray  # positions, in the extended basis, of every other row
    target_prime_indices: np.ndarray  # NTT-table rows of those positions
    converter: BaseConverter


@dataclass(frozen=True)
class LevelTables:
    """Everything an operation at one level reads."""

    level: int
    constants: ModulusConstants  # data primes q_0 … q_l
    extended_constants: ModulusConstants  # q_0 … q_l, p_0 … p_(K−1)
    extended_prime_indices: np.ndarray
    rescale: RescaleTables | None  # None at level 0
    digits: tuple[DigitTables, ...]
    mod_down: BaseConverter | None  # special primes → q_0 … q_l
    special_inverse: np.ndarray  # P^-1 mod q_i
    special_inverse_shoup: np.ndarray


class Context:
    """Per-level precomputed data of a parameter set (see the module docstring)."""

    def __init__(self, params):
        self.ring_degree = params.ring_degree
        self.moduli = params.moduli
        self.special_moduli = params.special_moduli
        all_moduli = list(params.moduli) + list(params.special_moduli)
        self.all_moduli = tuple(all_moduli)
        self.ntt = NttTables(params.ring_degree, all_moduli)
        self.all_constants = ModulusConstants(all_moduli)
        self.special_product = math.prod(params.special_moduli)
        self.special_rows = np.arange(len(params.moduli), len(all_moduli), dtype=np.int64)
        self.special_moduli_array = _frozen(list(params.special_moduli))
        half = self.special_product // 2
        self.special_half_mod = _frozen([half % p for p in params.special_moduli])
        self.special_half_negated = _frozen([(-half) % q for q in params.moduli])
        # log2 Q_l per level: the room every overflow and scale check compares against.
        self.log2_modulus = tuple(
            float(np.sum(np.log2(np.array(params.moduli[: i + 1], dtype=np.float64))))
            for i in range(len(params.moduli))
        )
        self.bases = tuple(RnsBase(params.moduli[: i + 1]) for i in range(len(params.moduli)))
        self.levels = tuple(
            self._level_tables(params, level) for level in range(len(params.moduli))
        )
        self.identity_permutation = np.arange(params.ring_degree, dtype=np.int64)
        self.identity_permutation.flags.writeable = False
        self.imaginary_unit_ntt = self._monomial_ntt(params.ring_degree // 2)

    def level(self, level: int) -> LevelTables:
        return self.levels[level]

    def _level_tables(self, params, level: int) -> LevelTables:
        data = list(params.moduli[: level + 1])
        special = list(params.special_moduli)
        extended_indices = np.concatenate([np.arange(level + 1, dtype=np.int64), self.special_rows])
        extended_indices.flags.writeable = False
        mod_down = None
        special_inverse = _frozen([])
        special_inverse_shoup = _frozen([])
        if special:
            mod_down = BaseConverter(RnsBase(special), RnsBase(data))
            p = self.special_product
            inverses = [pow(p % q, -1, q) for q in data]
            special_inverse = _frozen(inverses)
            special_inverse_shoup = _frozen(
                [shoup_companion(w, q) for w, q in zip(inverses, data, strict=True)]
            )
        return LevelTables(
            level=level,
            constants=ModulusConstants(data),
            extended_constants=ModulusConstants(data + special),
            extended_prime_indices=extended_indices,
            rescale=self._rescale_tables(data) if level > 0 else None,
            digits=self._digit_tables(params, level),
            mod_down=mod_down,
            special_inverse=special_inverse,
            special_inverse_shoup=special_inverse_shoup,
        )

    @staticmethod
    def _rescale_tables(data: list[int]) -> RescaleTables:
        dropped = data[-1]
        kept = data[:-1]
        inverses = [pow(dropped % q, -1, q) for q in kept]
        return RescaleTables(
            dropped_prime=dropped,
            half=dropped // 2,
            half_mod=_frozen([(dropped // 2) % q for q in kept]),
            inverse=_frozen(inverses),
            inverse_shoup=_frozen(
                [shoup_companion(w, q) for w, q in zip(inverses, kept, strict=True)]
            ),
        )

    def _digit_tables(self, params, level: int) -> tuple[DigitTables, ...]:
        tables = []
        extended_size = level + 1 + len(params.special_moduli)
        for digit in params.digits:
            rows = [i for i in digit if i <= level]
            if not rows:
                break
            others = [p for p in range(extended_size) if p not in rows]
            prime_indices = [
                p if p <= level else len(params.moduli) + p - level - 1 for p in others
            ]
            source = RnsBase([params.moduli[i] for i in rows])
            target = RnsBase([self.all_moduli[i] for i in prime_indices])
            tables.append(
                DigitTables(
                    source_rows=_frozen(rows, np.int64),
                    target_positions=_frozen(others, np.int64),
                    target_prime_indices=_frozen(prime_indices, np.int64),
                    converter=BaseConverter(source, target, centered=True),
                )
            )
        return tuple(tables)

    def _monomial_ntt(self, exponent: int) -> np.ndarray:
        """NTT form of X^exponent over the data primes; X^(N/2) multiplies every slot by i."""
        coefficients = np.zeros((len(self.moduli), self.ring_degree), dtype=np.uint64)
        coefficients[:, exponent] = 1
        values = self.ntt.forward(coefficients)
        values.flags.writeable = False
        return values
