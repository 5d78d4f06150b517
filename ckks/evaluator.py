"""Evaluator: homomorphic operations on ciphertexts, with evaluation keys only.

Explicit methods check their operands strictly: the same parameters and secret key, the same
level, scales equal within a relative tolerance. Mismatches raise a named error unless
``align=True`` is passed (the Python operators always align). Every method returns a new object
and leaves its inputs untouched; each ``*_inplace`` variant overwrites its first argument and
returns None on purpose.

Rotation convention: ``rotate(ct, k)`` moves slot i + k into slot i (a left rotation for k > 0),
as in SEAL and OpenFHE; negative k rotates right. Steps are taken modulo the slot count.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ckks.ciphertext import Ciphertext
from ckks.errors import (
    EncodingError,
    KeyMismatchError,
    LevelMismatchError,
    MissingKeyError,
    OutOfLevelsError,
    ParameterError,
    ScaleMismatchError,
    TransparentCiphertextError,
)
from ckks.key_switching import decompose_and_raise, inner_product, mod_down, switch_key
from ckks.keygen import conjugation_element, galois_element_for_step
from ckks.keys import GaloisKeys, RelinearizationKey
from ckks.plaintext import Plaintext
from ckks.ring import arithmetic
from ckks.ring.automorphism import ntt_permutation, permute_rows
from ckks.ring.sampling import RandomSource

_SAME = object()  # sentinel: the result keeps its operand's value bound


def _sum_bound(a, b):
    return None if a is None or b is None else a + b


def _product_bound(a, b):
    return None if a is None or b is None else a * b


#: Two scales are "equal" when they differ by less than this, relatively (SEAL compares alike).
SCALE_RELATIVE_TOLERANCE = 2.0**-30


def scales_close(a: float, b: float) -> bool:
    return abs(a - b) <= SCALE_RELATIVE_TOLERANCE * max(abs(a), abs(b))


def _log2(value: float) -> str:
    return f"2^{math.log2(value):.4f}"


class Evaluator:
    """Homomorphic operations; holds evaluation keys, never a secret key.

    Args:
        params: the :class:`~ckks.parameters.Parameters`.
        relinearization_key: needed by :meth:`relinearize`.
        galois_keys: needed by :meth:`rotate`, :meth:`conjugate`, :meth:`sum_slots`.
        public_key: used to re-randomize a result whose mask would be zero (x − x, x·0);
            taken from the keys or the ciphertext when not given.
    """

    def __init__(
        self,
        params,
        relinearization_key=None,
        galois_keys=None,
        public_key=None,
        check_bounds: bool = True,
    ):
        self.params = params
        self._context = params.context
        for name, key, kind in (
            ("relinearization_key", relinearization_key, RelinearizationKey),
            ("galois_keys", galois_keys, GaloisKeys),
        ):
            if key is None:
                continue
            if not isinstance(key, kind):
                raise ParameterError(
                    f"Evaluator: {name} must be a {kind.__name__}, got {type(key).__name__}"
                )
            if key.params != params:
                raise KeyMismatchError(f"Evaluator: {name} belongs to other parameters")
        if (
            relinearization_key is not None
            and galois_keys is not None
            and relinearization_key.fingerprint != galois_keys.fingerprint
        ):
            raise KeyMismatchError(
                "Evaluator: relinearization_key and galois_keys come from different secret keys"
            )
        self.relinearization_key = relinearization_key
        self.galois_keys = galois_keys
        self.public_key = (
            public_key
            or getattr(relinearization_key, "public_key", None)
            or getattr(galois_keys, "public_key", None)
        )
        self._random = RandomSource()
        self.check_bounds = check_bounds
        # Built here, never lazily, so that threads sharing this evaluator only read tables.
        self._permutations = {
            element: ntt_permutation(params.ring_degree, element)
            for element in (galois_keys.keys if galois_keys is not None else ())
        }

    # -- checks -----------------------------------------------------------------------------------

    def _check_ciphertext(self, operation: str, name: str, value) -> Ciphertext:
        if not isinstance(value, Ciphertext):
            raise ParameterError(
                f"{operation}: {name} must be a Ciphertext, got {type(value).__name__}"
            )
        if value.params != self.params:
            raise KeyMismatchError(
                f"{operation}: {name} belongs to other parameters (hash "
                f"{value.params.hash.hex()}, evaluator {self.params.hash.hex()})"
            )
        return value

    def _check_pair(self, operation: str, a: Ciphertext, b: Ciphertext, scales=True) -> None:
        if a.fingerprint != b.fingerprint:
            raise KeyMismatchError(
                f"{operation}: operands are encrypted under different secret keys "
                f"({a.fingerprint.hex()} vs {b.fingerprint.hex()})"
            )
        if a.level != b.level:
            raise LevelMismatchError(
                f"{operation}: operands are at different levels ({a.level} and {b.level}); "
                f"mod_switch_to the lower level first, or pass align=True"
            )
        if scales and not scales_close(a.scale, b.scale):
            raise ScaleMismatchError(
                f"{operation}: operand scales differ: {a.scale!r} ({_log2(a.scale)}) and "
                f"{b.scale!r} ({_log2(b.scale)}), relative tolerance "
                f"{SCALE_RELATIVE_TOLERANCE:.1e}; align them (pass align=True) or encode at the "
                f"same scale"
            )

    def _check_key(self, operation: str, ciphertext: Ciphertext, key, kind: str) -> None:
        if key is None:
            raise MissingKeyError(
                f"{operation}: this evaluator has no {kind}; pass it to Evaluator(...)"
            )
        if key.fingerprint != ciphertext.fingerprint:
            raise KeyMismatchError(
                f"{operation}: the {kind} were made from a different secret key than the "
                f"ciphertext "
                f"(key {key.fingerprint.hex()}, ciphertext {ciphertext.fingerprint.hex()})"
            )

    def _check_plaintext(self, operation: str, ciphertext: Ciphertext, plain, align: bool):
        if not isinstance(plain, Plaintext):
            raise ParameterError(
                f"{operation}: plaintext must be a Plaintext, got {type(plain).__name__}"
            )
        if plain.params != self.params:
            raise KeyMismatchError(f"{operation}: the plaintext belongs to other parameters")
        if plain.level != ciphertext.level:
            if align and plain.level > ciphertext.level:
                return Plaintext(
                    plain.data[: ciphertext.level + 1], ciphertext.level, plain.scale, self.params
                )
            raise LevelMismatchError(
                f"{operation}: the plaintext is at level {plain.level} but the ciphertext at "
                f"level {ciphertext.level}; encode at the ciphertext's level "
                f"(Encoder.encode(values, level={ciphertext.level})) or pass align=True"
            )
        return plain

    def _moduli(self, level: int) -> np.ndarray:
        return self._context.level(level).constants.moduli

    def _result(
        self, data, like: Ciphertext, scale=None, level=None, bound=_SAME, operation=""
    ) -> Ciphertext:
        result = Ciphertext(
            data,
            like.level if level is None else level,
            like.scale if scale is None else scale,
            self.params,
            like.fingerprint,
            like.zero_source or self.public_key,
        )
        result.bound = like.bound if bound is _SAME else bound
        self._check_bound(operation, result)
        return self._rerandomize_if_transparent(result)

    def _check_bound(self, operation: str, result: Ciphertext) -> None:
        """Refuse a result whose values could wrap around the modulus (|value|·scale ≥ Q/2).

        ``bound`` is a public upper bound on |slot value|, declared by the encoder and carried
        through every operation; a wrapped value would decrypt to garbage without any sign.
        """
        if not self.check_bounds or result.bound is None or result.bound <= 0:
            return
        room = self._context.log2_modulus[result.level] - 1
        needed = math.log2(result.bound) + math.log2(result.scale)
        if needed >= room:
            raise EncodingError(
                f"{operation or 'operation'}: overflow: values may reach {result.bound:.6g}, "
                f"times scale 2^{math.log2(result.scale):.1f} = 2^{needed:.1f}, at least "
                f"Q_{result.level}/2 = 2^{room:.1f} at level {result.level}; the result would "
                f"wrap around and decrypt to garbage. Keep more headroom (a larger first prime "
                f"or a smaller scale) or smaller values; Evaluator(check_bounds=False) disables "
                f"this check"
            )

    def _rerandomize_if_transparent(self, result: Ciphertext) -> Ciphertext:
        """Never emit a ciphertext whose mask is zero: anyone could read it without the key."""
        if result.data[1:].any():
            return result
        source = result.zero_source or self.public_key
        if source is None:
            raise TransparentCiphertextError(
                "the result's mask polynomial is zero (as for x − x or x·0), so it would be "
                "readable without the key, and no public key is available to re-randomize it; "
                "pass public_key= to Evaluator"
            )
        from ckks.encryptor import Encryptor  # an encryptor only needs public material here

        zero = Encryptor(self.params, source, self._random).encrypt_zero_public(
            source, result.level
        )
        moduli = self._moduli(result.level)
        data = result.data[:2].copy()
        arithmetic.add(data[0], zero[0], moduli, out=data[0])
        data[1] = zero[1]  # a three-part result with zero masks becomes two parts
        fresh = Ciphertext(
            data, result.level, result.scale, self.params, result.fingerprint, source
        )
        fresh.bound = result.bound
        return fresh

    # -- addition ---------------------------------------------------------------------------------

    def add(self, a: Ciphertext, b: Ciphertext, align: bool = False) -> Ciphertext:
        """a + b. Scales must agree (relative tolerance) and levels match, unless ``align``."""
        a = self._check_ciphertext("add", "a", a)
        b = self._check_ciphertext("add", "b", b)
        if align:
            from ckks.alignment import align_pair

            a, b = align_pair(self, a, b)
        self._check_pair("add", a, b)
        return self._result(
            self._combine(a, b, arithmetic.add),
            a,
            bound=_sum_bound(a.bound, b.bound),
            operation="add",
        )

    def sub(self, a: Ciphertext, b: Ciphertext, align: bool = False) -> Ciphertext:
        """a − b (see :meth:`add`). x − x is re-randomized, never left with a zero mask."""
        a = self._check_ciphertext("sub", "a", a)
        b = self._check_ciphertext("sub", "b", b)
        if align:
            from ckks.alignment import align_pair

            a, b = align_pair(self, a, b)
        self._check_pair("sub", a, b)
        return self._result(
            self._combine(a, b, arithmetic.subtract),
            a,
            bound=_sum_bound(a.bound, b.bound),
            operation="sub",
        )

    def _combine(self, a: Ciphertext, b: Ciphertext, operation) -> np.ndarray:
        moduli = self._moduli(a.level)
        size = max(a.size, b.size)
        out = np.zeros((size, a.level + 1, self.params.ring_degree), dtype=np.uint64)
        for component in range(size):
            if component < a.size and component < b.size:
                operation(a.data[component], b.data[component], moduli, out=out[component])
            elif component < a.size:
                out[component] = a.data[component]
            elif operation is arithmetic.add:
                out[component] = b.data[component]
            else:
                arithmetic.negate(b.data[component], moduli, out=out[component])
        return out

    def negate(self, a: Ciphertext) -> Ciphertext:
        """−a."""
        a = self._check_ciphertext("negate", "a", a)
        moduli = self._moduli(a.level)
        out = np.empty_like(a.data)
        for component in range(a.size):
            arithmetic.negate(a.data[component], moduli, out=out[component])
        return self._result(out, a)

    def add_plain(self, a: Ciphertext, plain: Plaintext, align: bool = False) -> Ciphertext:
        """a + plaintext (same level and scale)."""
        a = self._check_ciphertext("add_plain", "a", a)
        plain = self._check_plaintext("add_plain", a, plain, align)
        self._check_plain_scale("add_plain", a, plain)
        out = a.data.copy()
        arithmetic.add(out[0], plain.data, self._moduli(a.level), out=out[0])
        return self._result(out, a, bound=_sum_bound(a.bound, plain.bound), operation="add_plain")

    def sub_plain(self, a: Ciphertext, plain: Plaintext, align: bool = False) -> Ciphertext:
        """a − plaintext (same level and scale)."""
        a = self._check_ciphertext("sub_plain", "a", a)
        plain = self._check_plaintext("sub_plain", a, plain, align)
        self._check_plain_scale("sub_plain", a, plain)
        out = a.data.copy()
        arithmetic.subtract(out[0], plain.data, self._moduli(a.level), out=out[0])
        return self._result(out, a, bound=_sum_bound(a.bound, plain.bound), operation="sub_plain")

    def _check_plain_scale(self, operation, a, plain) -> None:
        if not scales_close(a.scale, plain.scale):
            raise ScaleMismatchError(
                f"{operation}: ciphertext scale {a.scale!r} ({_log2(a.scale)}) and plaintext "
                f"scale {plain.scale!r} ({_log2(plain.scale)}) differ; encode the plaintext with "
                f"scale=ciphertext.scale"
            )

    # -- multiplication ---------------------------------------------------------------------------

    def multiply(self, a: Ciphertext, b: Ciphertext, align: bool = False) -> Ciphertext:
        """The three-part product a·b at scale a.scale·b.scale; relinearize, then rescale.

        Raises:
            LevelMismatchError: different levels (unless ``align``).
            OutOfLevelsError: the product scale would not fit the modulus left at this level.
            ParameterError: an operand has three parts already (relinearize it first).
        """
        a = self._check_ciphertext("multiply", "a", a)
        b = self._check_ciphertext("multiply", "b", b)
        if align and a.level != b.level:
            level = min(a.level, b.level)
            a, b = self.mod_switch_to(a, level), self.mod_switch_to(b, level)
        self._check_pair("multiply", a, b, scales=False)
        for name, operand in (("a", a), ("b", b)):
            if operand.size != 2:
                raise ParameterError(
                    f"multiply: {name} has {operand.size} parts; relinearize it before another "
                    f"multiplication"
                )
        scale = a.scale * b.scale
        self._check_scale_fits("multiply", scale, a.level)
        constants = self._context.level(a.level).constants
        a0, a1 = a.data
        b0, b1 = b.data
        out = np.empty((3, a.level + 1, self.params.ring_degree), dtype=np.uint64)
        arithmetic.multiply(a0, b0, constants, out=out[0])
        arithmetic.multiply(a0, b1, constants, out=out[1])
        arithmetic.multiply_add(a1, b0, out[1], constants)
        arithmetic.multiply(a1, b1, constants, out=out[2])
        return self._result(
            out, a, scale=scale, bound=_product_bound(a.bound, b.bound), operation="multiply"
        )

    def square(self, a: Ciphertext) -> Ciphertext:
        """a·a as a three-part ciphertext (cheaper than :meth:`multiply`)."""
        a = self._check_ciphertext("square", "a", a)
        if a.size != 2:
            raise ParameterError(f"square: a has {a.size} parts; relinearize it first")
        scale = a.scale * a.scale
        self._check_scale_fits("square", scale, a.level)
        constants = self._context.level(a.level).constants
        a0, a1 = a.data
        out = np.empty((3, a.level + 1, self.params.ring_degree), dtype=np.uint64)
        arithmetic.multiply(a0, a0, constants, out=out[0])
        arithmetic.multiply(a0, a1, constants, out=out[1])
        arithmetic.add(out[1], out[1], constants.moduli, out=out[1])
        arithmetic.multiply(a1, a1, constants, out=out[2])
        return self._result(
            out, a, scale=scale, bound=_product_bound(a.bound, a.bound), operation="square"
        )

    def multiply_plain(self, a: Ciphertext, plain: Plaintext, align: bool = False) -> Ciphertext:
        """a·plaintext at scale a.scale·plain.scale. Levels must match unless ``align``."""
        a = self._check_ciphertext("multiply_plain", "a", a)
        plain = self._check_plaintext("multiply_plain", a, plain, align)
        scale = a.scale * plain.scale
        self._check_scale_fits("multiply_plain", scale, a.level)
        constants = self._context.level(a.level).constants
        out = np.empty_like(a.data)
        for component in range(a.size):
            arithmetic.multiply(a.data[component], plain.data, constants, out=out[component])
        return self._result(
            out,
            a,
            scale=scale,
            bound=_product_bound(a.bound, plain.bound),
            operation="multiply_plain",
        )

    def multiply_vector(self, a: Ciphertext, values, scale: float | None = None) -> Ciphertext:
        """a·values slot-wise; the vector is encoded at a's level with ``scale`` (default Δ)."""
        from ckks.encoder import Encoder

        a = self._check_ciphertext("multiply_vector", "a", a)
        plain = Encoder(self.params).encode(values, level=a.level, scale=scale)
        return self.multiply_plain(a, plain)

    def multiply_constant(self, a: Ciphertext, value, scale: float | None = None) -> Ciphertext:
        """a·value for a real or complex constant.

        An integer is applied exactly, without changing the scale. Any other value is rounded
        to round(value·scale) (exactly, in Python integers) and the scale is multiplied by
        ``scale`` (default Δ).
        """
        a = self._check_ciphertext("multiply_constant", "a", a)
        if not isinstance(value, numbers.Number) or isinstance(value, bool):
            raise ParameterError(
                f"multiply_constant: value must be a number, got {type(value).__name__}"
            )
        if isinstance(value, numbers.Integral) or (
            isinstance(value, float) and value.is_integer() and abs(value) < 2**62
        ):
            return self._result(
                self._times_integer(a, int(value)),
                a,
                bound=_product_bound(a.bound, abs(int(value))),
                operation="multiply_constant",
            )
        from ckks.encoder import Encoder

        plain = Encoder(self.params).encode_constant(value, level=a.level, scale=scale)
        return self.multiply_plain(a, plain)

    def _times_integer(self, a: Ciphertext, value: int) -> np.ndarray:
        moduli = self._moduli(a.level)
        factors = [value % int(q) for q in moduli]
        out = np.empty_like(a.data)
        for component in range(a.size):
            arithmetic.multiply_by_row_constants(
                a.data[component], factors, moduli, out=out[component]
            )
        return out

    def multiply_by_i(self, a: Ciphertext) -> Ciphertext:
        """a·i in every slot, without a plaintext or a level: a product by the monomial X^(N/2)."""
        a = self._check_ciphertext("multiply_by_i", "a", a)
        constants = self._context.level(a.level).constants
        monomial = np.ascontiguousarray(self._context.imaginary_unit_ntt[: a.level + 1])
        out = np.empty_like(a.data)
        for component in range(a.size):
            arithmetic.multiply(a.data[component], monomial, constants, out=out[component])
        return self._result(out, a)

    def _check_scale_fits(self, operation: str, scale: float, level: int) -> None:
        log2_modulus = self._context.log2_modulus[level]
        if math.log2(scale) >= log2_modulus - 1:
            raise OutOfLevelsError(
                f"{operation}: product scale {_log2(scale)} exceeds remaining modulus "
                f"2^{log2_modulus:.1f} at level {level}: no room left for the value. Rescale "
                f"before multiplying, or choose parameters with more levels"
            )

    # -- relinearization, rescaling, level changes ------------------------------------------------

    def relinearize(self, a: Ciphertext) -> Ciphertext:
        """Three parts back to two, with the relinearization key. Two-part input is copied."""
        a = self._check_ciphertext("relinearize", "a", a)
        if a.size == 2:
            return a.copy()
        self._check_key("relinearize", a, self.relinearization_key, "relinearization key")
        k0, k1 = switch_key(self._context, a.data[2], self.relinearization_key.data, a.level)
        moduli = self._moduli(a.level)
        out = np.empty((2, a.level + 1, self.params.ring_degree), dtype=np.uint64)
        arithmetic.add(a.data[0], k0, moduli, out=out[0])
        arithmetic.add(a.data[1], k1, moduli, out=out[1])
        return self._result(out, a)

    def rescale(self, a: Ciphertext) -> Ciphertext:
        """Divide by the last prime q_l with rounding: level − 1, scale / q_l.

        Raises:
            OutOfLevelsError: the ciphertext is at level 0.
        """
        a = self._check_ciphertext("rescale", "a", a)
        if a.level == 0:
            raise OutOfLevelsError(
                "rescale: no levels left: the ciphertext is at level 0 (all "
                f"{self.params.max_level} rescales of the chain are used); choose parameters "
                f"with more primes for a deeper circuit"
            )
        context = self._context
        level = a.level
        tables = context.level(level).rescale
        kept = context.level(level - 1).constants
        out = np.empty((a.size, level, self.params.ring_degree), dtype=np.uint64)
        for component in range(a.size):
            last = context.ntt.inverse(a.data[component, level : level + 1], [level])[0]
            # Round, not floor: t = [c + h]_(q_l) with h = floor(q_l/2), and c + h − t is a
            # multiple of q_l; subtracting h again (per coefficient) gives c − (t − h).
            last += np.uint64(tables.half)
            last[last >= np.uint64(tables.dropped_prime)] -= np.uint64(tables.dropped_prime)
            spread = arithmetic.replicate_reduced(last, kept)
            spread += (kept.moduli - tables.half_mod)[:, None]
            spread -= np.where(spread >= kept.moduli[:, None], kept.moduli[:, None], np.uint64(0))
            context.ntt.forward_inplace(spread)
            arithmetic.subtract_and_scale(
                a.data[component, :level],
                spread,
                tables.inverse,
                tables.inverse_shoup,
                kept.moduli,
                out[component],
            )
        return self._result(
            out, a, scale=a.scale / tables.dropped_prime, level=level - 1, operation="rescale"
        )

    def mod_switch_to(self, a: Ciphertext, level: int) -> Ciphertext:
        """Drop primes down to ``level`` without changing the scale (no rounding needed).

        Raises:
            ParameterError: ``level`` is above the ciphertext's level or negative.
        """
        a = self._check_ciphertext("mod_switch_to", "a", a)
        if isinstance(level, bool) or not isinstance(level, numbers.Integral):
            raise ParameterError(f"mod_switch_to: level must be an int, got {level!r}")
        if not 0 <= level <= a.level:
            raise ParameterError(
                f"mod_switch_to: level must be between 0 and the ciphertext's level {a.level}, "
                f"got {level}; a ciphertext cannot move up the chain"
            )
        data = np.ascontiguousarray(a.data[:, : level + 1])
        return self._result(
            data.copy() if level == a.level else data, a, level=level, operation="mod_switch_to"
        )

    def mod_switch_to_next(self, a: Ciphertext) -> Ciphertext:
        """Drop the last prime without changing the scale."""
        a = self._check_ciphertext("mod_switch_to_next", "a", a)
        if a.level == 0:
            raise OutOfLevelsError("mod_switch_to_next: the ciphertext is at level 0 already")
        return self.mod_switch_to(a, a.level - 1)

    # -- rotations --------------------------------------------------------------------------------

    def rotate(self, a: Ciphertext, steps: int) -> Ciphertext:
        """Rotate slots left by ``steps`` (slot i + steps moves to slot i); negative is right.

        Raises:
            MissingKeyError: no Galois key for the normalized step; lists the available steps.
            ParameterError: a three-part ciphertext (relinearize first) or a non-integer step.
        """
        return self.rotate_hoisted(a, [steps])[0]

    def rotate_hoisted(self, a: Ciphertext, steps) -> list[Ciphertext]:
        """Several rotations of one ciphertext sharing one decomposition (hoisting)."""
        a = self._check_ciphertext("rotate", "a", a)
        steps = list(steps)
        elements = []
        for step in steps:
            if isinstance(step, bool) or not isinstance(step, numbers.Integral):
                raise ParameterError(f"rotate: steps must be ints, got {step!r}")
            normalized = int(step) % self.params.slot_count
            elements.append(
                None
                if normalized == 0
                else (galois_element_for_step(normalized, self.params), step)
            )
        return self._automorphisms(a, elements, "rotate")

    def conjugate(self, a: Ciphertext) -> Ciphertext:
        """Complex conjugate of every slot (automorphism X → X^(2N−1))."""
        a = self._check_ciphertext("conjugate", "a", a)
        element = conjugation_element(self.params)
        return self._automorphisms(a, [(element, "conjugation")], "conjugate")[0]

    def _automorphisms(self, a: Ciphertext, elements, operation: str) -> list[Ciphertext]:
        if a.size != 2:
            raise ParameterError(
                f"{operation}: relinearize before rotation (ciphertext has {a.size} components)"
            )
        needed = [e for e in elements if e is not None]
        results = []
        raised = None
        if needed:
            self._check_key(operation, a, self.galois_keys, "Galois keys")
            keys = [
                self.galois_keys.key_for(
                    element, operation, f"step {label}" if label != "conjugation" else label
                )
                for element, label in needed
            ]
            raised = decompose_and_raise(self._context, a.data[1], a.level)
        key_iter = iter(keys if needed else [])
        moduli = self._moduli(a.level)
        for entry in elements:
            if entry is None:
                results.append(a.copy())
                continue
            element, _ = entry
            key = next(key_iter)
            permutation = self._permutations[element]
            product = inner_product(self._context, raised, key.data, a.level, permutation)
            out = np.empty_like(a.data)
            out[0] = permute_rows(a.data[0], permutation)
            arithmetic.add(out[0], mod_down(self._context, product[0], a.level), moduli, out=out[0])
            out[1] = mod_down(self._context, product[1], a.level)
            results.append(self._result(out, a))
        return results

    def sum_slots(self, a: Ciphertext) -> Ciphertext:
        """Every slot set to the sum of all slots (log2(N/2) rotate-and-add rounds).

        Needs Galois keys for the steps 1, 2, 4, …, N/4.
        """
        result = self._check_ciphertext("sum_slots", "a", a)
        step = 1
        while step < self.params.slot_count:
            result = self.add(result, self.rotate(result, step))
            step *= 2
        return result

    # -- in-place variants: overwrite the first argument, return None ------------------------------

    def add_inplace(self, a, b, align=False) -> None:
        _assign(a, self.add(a, b, align))

    def sub_inplace(self, a, b, align=False) -> None:
        _assign(a, self.sub(a, b, align))

    def negate_inplace(self, a) -> None:
        _assign(a, self.negate(a))

    def multiply_inplace(self, a, b, align=False) -> None:
        _assign(a, self.multiply(a, b, align))

    def multiply_plain_inplace(self, a, plain, align=False) -> None:
        _assign(a, self.multiply_plain(a, plain, align))

    def square_inplace(self, a) -> None:
        _assign(a, self.square(a))

    def relinearize_inplace(self, a) -> None:
        _assign(a, self.relinearize(a))

    def rescale_inplace(self, a) -> None:
        _assign(a, self.rescale(a))

    def mod_switch_to_inplace(self, a, level) -> None:
        _assign(a, self.mod_switch_to(a, level))

    def rotate_inplace(self, a, steps) -> None:
        _assign(a, self.rotate(a, steps))

    def conjugate_inplace(self, a) -> None:
        _assign(a, self.conjugate(a))


def _assign(target: Ciphertext, source: Ciphertext) -> None:
    target.data = source.data
    target.level = source.level
    target.scale = source.scale
    target.zero_source = source.zero_source
    target.seed = source.seed  # a result's mask is no longer the seeded one
