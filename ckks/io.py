"""Bytes and files for every engine object, in the format of ``ckks.serialization``.

``to_bytes``/``from_bytes`` on each class call these functions; ``save`` and ``load`` write and
read files atomically. A secret key is written only by :func:`save_secret_key` or
``SecretKey.export_secret_bytes()``, calls that name it; ``save`` and ``to_bytes`` refuse it.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ckks.ciphertext import Ciphertext
from ckks.errors import CkksError, KeyMismatchError, SerializationError
from ckks.keys import GaloisKeys, KeySwitchKey, PublicKey, RelinearizationKey, SecretKey
from ckks.parameters import Parameters
from ckks.plaintext import Plaintext
from ckks.ring.sampling import SEED_BYTES, expand_uniform
from ckks.serialization import pack, peek_type, unpack, write_atomically

#: What forged but checksummed meta can raise while being interpreted.
_MALFORMED = (KeyError, TypeError, ValueError, OverflowError, RecursionError, AttributeError)


# -- writing ---------------------------------------------------------------------------------------


def serialize(obj, compression: str | None = None) -> bytes:
    """Bytes of a Parameters, key, Plaintext or Ciphertext (not of a secret key)."""
    if isinstance(obj, SecretKey):
        raise SerializationError(
            "refusing to serialize a SecretKey implicitly; call "
            "secret_key.export_secret_bytes() or ckks.save_secret_key(secret_key, path)"
        )
    writer = _WRITERS.get(type(obj))
    if writer is None:
        raise SerializationError(f"cannot serialize a {type(obj).__name__}")
    return writer(obj, compression)


def export_secret_key(secret_key: SecretKey) -> bytes:
    """Bytes of a secret key. Whoever holds them can decrypt everything under this key."""
    return pack(
        "SecretKey",
        secret_key.params.hash,
        secret_key.fingerprint,
        {},
        {"coefficients": secret_key.coefficients.astype(np.int8)},
    )


def save(obj, path, compression: str | None = None) -> None:
    """Write ``obj`` to ``path`` atomically (temporary file, then rename)."""
    write_atomically(path, serialize(obj, compression))


def save_secret_key(secret_key: SecretKey, path) -> None:
    """Write a secret key to ``path`` atomically, readable by its owner only."""
    if not isinstance(secret_key, SecretKey):
        raise SerializationError(
            f"save_secret_key: expected a SecretKey, found {type(secret_key).__name__}"
        )
    write_atomically(path, export_secret_key(secret_key), private=True)


def _write_parameters(params: Parameters, compression) -> bytes:
    meta = {
        "ring_degree": params.ring_degree,
        "moduli_bits": params.moduli_bits,
        "special_moduli_bits": params.special_moduli_bits,
        "scale_bits": params.scale_bits,
        "insecure": params.insecure,
        "key_switch_digits": params.requested_digits,
        "moduli": [str(q) for q in params.moduli],
        "special_moduli": [str(q) for q in params.special_moduli],
    }
    return pack("Parameters", params.hash, None, meta, {}, compression)


def _write_public_key(key: PublicKey, compression) -> bytes:
    return pack(
        "PublicKey",
        key.params.hash,
        key.fingerprint,
        {"seed": key.seed.hex()},
        {"b": key.data[0]},
        compression,
    )


def _public_parts(key: PublicKey | None) -> tuple[dict, dict]:
    if key is None:
        return {"public_seed": None}, {}
    return {"public_seed": key.seed.hex()}, {"public_b": key.data[0]}


def _write_relinearization_key(key: RelinearizationKey, compression) -> bytes:
    meta, arrays = _public_parts(key.public_key)
    meta["seeds"] = [seed.hex() for seed in key.seeds]
    arrays["b"] = key.data[:, 0]
    return pack("RelinearizationKey", key.params.hash, key.fingerprint, meta, arrays, compression)


def _write_galois_keys(keys: GaloisKeys, compression) -> bytes:
    meta, arrays = _public_parts(keys.public_key)
    elements = sorted(keys.keys)
    meta.update(
        {
            "steps": list(keys.steps),
            "conjugation": keys.conjugation,
            "elements": elements,
            "seeds": [[seed.hex() for seed in keys.keys[e].seeds] for e in elements],
        }
    )
    if elements:
        arrays["b"] = np.stack([keys.keys[e].data[:, 0] for e in elements])
    return pack("GaloisKeys", keys.params.hash, keys.fingerprint, meta, arrays, compression)


def _write_plaintext(plain: Plaintext, compression) -> bytes:
    meta = {"level": plain.level, "scale": plain.scale.hex()}
    return pack("Plaintext", plain.params.hash, None, meta, {"data": plain.data}, compression)


def _write_ciphertext(ct: Ciphertext, compression) -> bytes:
    meta = {
        "level": ct.level,
        "scale": ct.scale.hex(),
        "size": ct.size,
        "seed": None,
        "bound": None if ct.bound is None else float(ct.bound).hex(),
    }
    if ct.seed is not None and ct.size == 2:
        meta["seed"] = ct.seed.hex()
        arrays = {"c0": ct.data[0]}
    else:
        arrays = {"data": ct.data}
    return pack("Ciphertext", ct.params.hash, ct.fingerprint, meta, arrays, compression)


_WRITERS = {
    Parameters: _write_parameters,
    PublicKey: _write_public_key,
    RelinearizationKey: _write_relinearization_key,
    GaloisKeys: _write_galois_keys,
    Plaintext: _write_plaintext,
    Ciphertext: _write_ciphertext,
}


# -- reading ---------------------------------------------------------------------------------------


def deserialize(data: bytes, params: Parameters | None = None, expected=None):
    """The object in ``data``; ``params`` is required for everything but Parameters.

    Args:
        expected: a type name or tuple of names the caller accepts (default: any).

    Raises:
        SerializationError: bad bytes, the wrong type, or a parameter-hash mismatch.
    """
    type_name = peek_type(data, expected or ())
    if type_name == "Parameters":
        return _read_parameters(data)
    if params is None:
        raise SerializationError(
            f"loading a {type_name} needs the parameters it was made under: pass params="
        )
    if not isinstance(params, Parameters):
        raise SerializationError(f"params must be Parameters, found {type(params).__name__}")
    blob = unpack(data, type_name, params.hash)
    try:
        return _READERS[type_name](blob, params)
    except SerializationError:
        raise
    except (CkksError, *_MALFORMED) as error:
        raise SerializationError(f"invalid {type_name}: {error}") from None


def load(path, params: Parameters | None = None, expected=None):
    """Read an object written by :func:`save` or :func:`save_secret_key`."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        raise SerializationError(f"cannot read {path}: {error.strerror}") from None
    return deserialize(data, params, expected)


def _read_parameters(data: bytes) -> Parameters:
    blob = unpack(data, "Parameters", None)
    meta = blob.meta
    try:
        params = Parameters(
            int(meta["ring_degree"]),
            [int(b) for b in meta["moduli_bits"]],
            [int(b) for b in meta["special_moduli_bits"]],
            meta["scale_bits"],
            insecure=bool(meta["insecure"]),
            key_switch_digits=meta["key_switch_digits"],
        )
    except SerializationError:
        raise
    except (CkksError, *_MALFORMED) as error:
        raise SerializationError(f"malformed Parameters: {error}") from None
    if params.hash != blob.params_hash or [str(q) for q in params.moduli] != meta.get("moduli"):
        raise SerializationError(
            "parameter hash mismatch: the stored Parameters rebuild to different primes "
            f"({params.hash.hex()} vs {blob.params_hash.hex()})"
        )
    return params


def _seed(text) -> bytes:
    if not isinstance(text, str):
        raise SerializationError(f"malformed seed: {text!r}")
    try:
        seed = bytes.fromhex(text)
    except ValueError:
        raise SerializationError(f"malformed seed: {text!r}") from None
    if len(seed) != SEED_BYTES:
        raise SerializationError(f"seed must be {SEED_BYTES} bytes, found {len(seed)}")
    return seed


def _array(blob, name: str, shape: tuple, moduli) -> np.ndarray:
    array = blob.arrays.get(name)
    if array is None:
        raise SerializationError(f"{blob.type_name} is missing its array {name!r}")
    if array.dtype != np.uint64 or array.shape != shape:
        raise SerializationError(
            f"{blob.type_name} array {name!r}: expected uint64 {shape}, found {array.dtype} "
            f"{array.shape}"
        )
    limits = np.array(moduli, dtype=np.uint64).reshape((-1, 1))
    if (array.reshape((-1, *shape[-2:])) >= limits).any():
        raise SerializationError(f"{blob.type_name} array {name!r} holds unreduced residues")
    return array


def _fingerprint(blob) -> bytes:
    if blob.fingerprint is None:
        raise SerializationError(f"{blob.type_name} carries no key fingerprint")
    return blob.fingerprint


def _read_public_key(blob, params, fingerprint=None, prefix="") -> PublicKey:
    N = params.ring_degree
    seed = _seed(blob.meta.get(f"{prefix}seed"))
    b = _array(blob, f"{prefix}b", (len(params.moduli), N), params.moduli)
    a = expand_uniform(seed, params.moduli, N)
    return PublicKey(np.stack([b, a]), seed, fingerprint or _fingerprint(blob), params)


def _read_optional_public(blob, params):
    if blob.meta.get("public_seed") is None:
        return None
    return _read_public_key(blob, params, _fingerprint(blob), prefix="public_")


def _switch_key_data(blob, params, b: np.ndarray, seeds) -> tuple[np.ndarray, list[bytes]]:
    moduli = list(params.moduli) + list(params.special_moduli)
    digits = len(params.digits)
    if not isinstance(seeds, list) or len(seeds) != digits:
        raise SerializationError(f"{blob.type_name}: expected {digits} digit seeds")
    seeds = [_seed(s) for s in seeds]
    data = np.empty((digits, 2, len(moduli), params.ring_degree), dtype=np.uint64)
    data[:, 0] = b
    for index, seed in enumerate(seeds):
        data[index, 1] = expand_uniform(seed, moduli, params.ring_degree)
    return data, seeds


def _read_relinearization_key(blob, params) -> RelinearizationKey:
    moduli = list(params.moduli) + list(params.special_moduli)
    shape = (len(params.digits), len(moduli), params.ring_degree)
    b = _array(blob, "b", shape, moduli)
    data, seeds = _switch_key_data(blob, params, b, blob.meta.get("seeds"))
    public = _read_optional_public(blob, params)
    return RelinearizationKey(data, seeds, _fingerprint(blob), params, public)


def _read_galois_keys(blob, params) -> GaloisKeys:
    from ckks.keygen import conjugation_element, galois_element_for_step

    meta = blob.meta
    elements = meta.get("elements")
    steps = meta.get("steps")
    if not isinstance(elements, list) or not isinstance(steps, list):
        raise SerializationError("GaloisKeys: malformed element or step list")
    expected = {galois_element_for_step(int(s), params) for s in steps}
    if meta.get("conjugation"):
        expected.add(conjugation_element(params))
    if sorted(expected) != sorted(int(e) for e in elements):
        raise SerializationError("GaloisKeys: the elements do not match the declared steps")
    moduli = list(params.moduli) + list(params.special_moduli)
    fingerprint = _fingerprint(blob)
    keys = {}
    if elements:
        shape = (len(elements), len(params.digits), len(moduli), params.ring_degree)
        b = _array(blob, "b", shape, moduli)
        seed_lists = meta.get("seeds")
        if not isinstance(seed_lists, list) or len(seed_lists) != len(elements):
            raise SerializationError("GaloisKeys: expected one seed list per key")
        for index, element in enumerate(elements):
            data, seeds = _switch_key_data(blob, params, b[index], seed_lists[index])
            keys[int(element)] = KeySwitchKey(data, seeds, fingerprint, params)
    public = _read_optional_public(blob, params)
    return GaloisKeys(keys, steps, bool(meta.get("conjugation")), fingerprint, params, public)


def _read_secret_key(blob, params) -> SecretKey:
    from ckks.keygen import small_to_residues

    coefficients = blob.arrays.get("coefficients")
    if coefficients is None or coefficients.dtype != np.int8:
        raise SerializationError("SecretKey: missing int8 coefficients")
    if (
        coefficients.shape != (params.ring_degree,)
        or np.abs(coefficients.astype(np.int16)).max(initial=0) > 1
    ):
        raise SerializationError("SecretKey: coefficients must be N ternary values")
    ntt = small_to_residues(coefficients, params.context.all_moduli)
    params.context.ntt.forward_inplace(ntt)
    ntt.flags.writeable = False
    key = SecretKey(coefficients.copy(), ntt, params)
    if key.fingerprint != _fingerprint(blob):
        raise SerializationError("SecretKey: fingerprint does not match the coefficients")
    return key


def _level_and_scale(blob, params) -> tuple[int, float]:
    level = blob.meta.get("level")
    if not isinstance(level, int) or not 0 <= level <= params.max_level:
        raise SerializationError(f"{blob.type_name}: level must be in 0…{params.max_level}")
    try:
        scale = float.fromhex(blob.meta.get("scale"))
    except (TypeError, ValueError):
        raise SerializationError(f"{blob.type_name}: malformed scale") from None
    if not math.isfinite(scale) or scale <= 0:
        raise SerializationError(f"{blob.type_name}: scale must be positive, found {scale}")
    return level, scale


def _read_plaintext(blob, params) -> Plaintext:
    level, scale = _level_and_scale(blob, params)
    moduli = params.moduli[: level + 1]
    data = _array(blob, "data", (level + 1, params.ring_degree), moduli)
    return Plaintext(data, level, scale, params)


def _read_ciphertext(blob, params) -> Ciphertext:
    level, scale = _level_and_scale(blob, params)
    moduli = params.moduli[: level + 1]
    N = params.ring_degree
    size = blob.meta.get("size")
    if size not in (2, 3):
        raise SerializationError(f"Ciphertext: size must be 2 or 3, found {size!r}")
    bound = blob.meta.get("bound")
    bound = None if bound is None else float.fromhex(bound)
    if bound is not None and not (math.isfinite(bound) and bound >= 0):
        raise SerializationError(
            f"Ciphertext: bound must be finite and non-negative, found {bound}"
        )
    if blob.meta.get("seed") is not None:
        seed = _seed(blob.meta["seed"])
        c0 = _array(blob, "c0", (level + 1, N), moduli)
        data = np.stack([c0, expand_uniform(seed, moduli, N)])
        ciphertext = Ciphertext(data, level, scale, params, _fingerprint(blob), seed=seed)
    else:
        data = _array(blob, "data", (size, level + 1, N), moduli)
        ciphertext = Ciphertext(data, level, scale, params, _fingerprint(blob))
    ciphertext.bound = bound
    return ciphertext


_READERS = {
    "PublicKey": _read_public_key,
    "RelinearizationKey": _read_relinearization_key,
    "GaloisKeys": _read_galois_keys,
    "SecretKey": _read_secret_key,
    "Plaintext": _read_plaintext,
    "Ciphertext": _read_ciphertext,
}


__all__ = [
    "KeyMismatchError",
    "deserialize",
    "export_secret_key",
    "load",
    "save",
    "save_secret_key",
    "serialize",
]
