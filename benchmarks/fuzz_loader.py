"""Fuzz the ckks loader: every input must either load or raise ``ckks.SerializationError``.

Inputs are mutations of valid blobs of every type (raw and zstd), built from a small insecure
parameter set (N = 2^10) so that each input takes about a millisecond:

* corruptions that keep the old checksum: bit flips, truncations, extensions, overwritten spans,
  splices of two blobs, random bytes (with or without the magic). None of these may load: a load
  is reported as a finding ("loaded corrupt bytes").
* forgeries resealed with a recomputed SHA-256, so that the parsers behind the checksum are
  reached: random header fields (version, type tag, flags, reserved, hashes, length), one meta
  value replaced by random JSON, meta keys dropped or added, whole random JSON metas, deeply
  nested metas, altered array bytes, another type's payload under a header, zstd toggled. These
  may load (the SHA-256 is a checksum, not a signature); any exception other than
  SerializationError is a finding.

The loader is called as ``ckks.io.deserialize(data, params, expected)`` with, by choice of the
fuzzer, the right parameters, other parameters or none, and no, the right or a wrong expected
type. Each finding is printed with its input (recipe, size, SHA-256, first bytes, meta) as it
happens, at most three times per signature (exception type and raising line).

Engines: ``atheris`` (coverage-guided libFuzzer, ``pip install atheris``) drives the choices
through its FuzzedDataProvider; ``hypothesis`` draws them from ``st.data()``. ``auto`` takes
atheris when it imports. Both run exactly ``--runs`` inputs and print one summary.

Usage::

    python benchmarks/fuzz_loader.py --runs 100000 [--engine auto|atheris|hypothesis]
        [--seed 0] [--save-findings DIR]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import hashlib
import json
import re
import struct
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
CKKS_FOLDER = REPOSITORY_ROOT / "ckks"
if str(REPOSITORY_ROOT) not in sys.path:
    sys.path.insert(0, str(REPOSITORY_ROOT))

# -- the documented layout, written here from the docstring of ckks.serialization ------------------

MAGIC = b"HENNCKKS"
HEADER = struct.Struct("<8sHHHH16s16sQ")
CHECKSUM_BYTES = 32
TAGS = {
    "Parameters": 1,
    "PublicKey": 2,
    "RelinearizationKey": 3,
    "GaloisKeys": 4,
    "SecretKey": 5,
    "Plaintext": 6,
    "Ciphertext": 7,
    "CompiledPlan": 8,
}
TYPE_NAMES = [*TAGS, "Nothing"]


@dataclass
class Parts:
    """A blob taken apart: header fields, JSON meta text and array bytes (uncompressed)."""

    version: int
    tag: int
    flags: int
    reserved: int
    params_hash: bytes
    fingerprint: bytes
    meta: bytes
    arrays: bytes


def take_apart(blob: bytes) -> Parts:
    _, version, tag, flags, reserved, params_hash, fingerprint, length = HEADER.unpack_from(blob)
    payload = blob[HEADER.size : HEADER.size + length]
    if flags & 1:
        import zstandard

        payload = zstandard.ZstdDecompressor().decompress(payload)
    (meta_length,) = struct.unpack_from("<I", payload)
    return Parts(
        version,
        tag,
        flags,
        reserved,
        params_hash,
        fingerprint,
        payload[4 : 4 + meta_length],
        payload[4 + meta_length :],
    )


def put_together(parts: Parts, compress: bool | None = None, length_delta: int = 0) -> bytes:
    """Bytes of ``parts`` with a correct checksum; ``compress`` defaults to the flag's bit."""
    payload = struct.pack("<I", len(parts.meta)) + parts.meta + parts.arrays
    if (parts.flags & 1) if compress is None else compress:
        import zstandard

        payload = zstandard.ZstdCompressor(level=1).compress(payload)
    header = HEADER.pack(
        MAGIC,
        parts.version & 0xFFFF,
        parts.tag & 0xFFFF,
        parts.flags & 0xFFFF,
        parts.reserved & 0xFFFF,
        parts.params_hash,
        parts.fingerprint,
        (len(payload) + length_delta) % (1 << 64),
    )
    return reseal(header + payload)


def reseal(body: bytes) -> bytes:
    return body + hashlib.sha256(body).digest()


# -- choices: one interface over hypothesis and atheris --------------------------------------------


class Chooser:
    """Decisions of one input. Subclasses draw integers and bytes from their engine."""

    def integer(self, low: int, high: int) -> int:
        raise NotImplementedError

    def raw(self, max_size: int) -> bytes:
        raise NotImplementedError

    def pick(self, options):
        return options[self.integer(0, len(options) - 1)]

    def chance(self, numerator: int, denominator: int) -> bool:
        return self.integer(0, denominator - 1) < numerator


class HypothesisChooser(Chooser):
    def __init__(self, data):
        from hypothesis import strategies

        self._data = data
        self._strategies = strategies

    def integer(self, low, high):
        return self._data.draw(self._strategies.integers(low, high))

    def raw(self, max_size):
        return self._data.draw(self._strategies.binary(max_size=max_size))


class AtherisChooser(Chooser):
    def __init__(self, provider):
        self._provider = provider

    def integer(self, low, high):
        return self._provider.ConsumeIntInRange(low, high)

    def raw(self, max_size):
        return self._provider.ConsumeBytes(self._provider.ConsumeIntInRange(0, max_size))


# -- random JSON -----------------------------------------------------------------------------------

META_KEYS = [
    "arrays", "name", "dtype", "shape", "level", "scale", "size", "seed", "seeds",
    "public_seed", "steps", "elements", "conjugation", "ring_degree", "moduli_bits",
    "special_moduli_bits", "scale_bits", "insecure", "key_switch_digits", "moduli",
    "special_moduli",
]  # fmt: skip
ODD_INTEGERS = [
    0, 1, 2, 3, -1, -2, 5, 7, 8, 25, 30, 61, 62, 255, 1023, 1024, 2047, 2048, 4096, 1 << 17,
    2**31, 2**32, 2**53 + 1, 2**62, 2**63, 2**64, -(2**63), 10**30, 10**400,
]  # fmt: skip
ODD_FLOATS = [0.0, -0.0, 0.5, 1.5, 2.0, 30.0, 1e308, -1e308, 5e-324, float("inf"),
              float("-inf"), float("nan")]  # fmt: skip
ODD_STRINGS = [
    "", "<u8", ">u8", "<i8", "|i1", "|u1", "<f8", "<f2", "<c16", "|O", "<U4", "|V8", "|b1",
    "<u8,<u8", "(2,)<u8", "M8", "m8", "0x1.0000000000000p+25", "0x1p+1024", "inf", "nan",
    "-0x1p+25", "0x0p+0", "00" * 32, "ff" * 32, "zz" * 32, "00" * 31, "data", "c0", "b",
    "public_b", "coefficients", "true", "null", "1",
]  # fmt: skip


def random_json(chooser: Chooser, depth: int = 0):
    kind = chooser.integer(0, 9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return chooser.chance(1, 2)
    if kind == 2:
        return chooser.pick(ODD_INTEGERS)
    if kind == 3:
        return chooser.integer(-(2**20), 2**20)
    if kind == 4:
        return chooser.pick(ODD_FLOATS)
    if kind == 5:
        return chooser.pick(ODD_STRINGS)
    if kind == 6:
        return chooser.raw(40).decode("latin-1")
    if kind == 7:
        return [random_json(chooser, depth + 1) for _ in range(chooser.integer(0, 4))]
    if kind == 8:
        return {
            chooser.pick(META_KEYS): random_json(chooser, depth + 1)
            for _ in range(chooser.integer(0, 4))
        }
    return [chooser.pick(ODD_INTEGERS + ODD_FLOATS) for _ in range(chooser.integer(0, 4))]


def json_paths(value, prefix=()):
    """Every (path) to a value inside ``value``, containers included, the root excluded."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    paths = []
    for key, child in items:
        paths.append((*prefix, key))
        if len(prefix) < 3:
            paths.extend(json_paths(child, (*prefix, key)))
    return paths


def replace_at(value, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replace_at(value[head], rest, new)}
    copy = list(value)
    copy[head] = replace_at(value[head], rest, new)
    return copy


def nearby(chooser: Chooser, value):
    """A value close to ``value``: off by one, doubled, negated, shortened, duplicated."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return chooser.pick([value + 1, value - 1, -value, 2 * value, value // 2, float(value)])
    if isinstance(value, float):
        return chooser.pick([value * 2, -value, int(value) if value == value else 0])
    if isinstance(value, str):
        return chooser.pick([value[:-1], value + "0", value.upper(), value[::-1], ""])
    if isinstance(value, list):
        return chooser.pick([value[:-1], value + value[-1:], value[::-1], []])
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if not chooser.chance(1, 3)}
    return random_json(chooser)


def dump(meta) -> bytes:
    return json.dumps(meta, separators=(",", ":"), allow_nan=True).encode()


# -- the corpus ------------------------------------------------------------------------------------


def build_corpus():
    """Valid blobs of every type (raw and zstd) and the parameters they were made under."""
    import numpy as np

    import ckks
    from ckks.ring.sampling import InsecureDeterministicSource

    params = ckks.Parameters(1024, [30, 25], [30], 25, insecure=True)
    other = ckks.Parameters(1024, [30, 26], [30], 25, insecure=True)
    keygen = ckks.KeyGenerator(params, random_source=InsecureDeterministicSource(7))
    encoder = ckks.Encoder(params)
    plain = encoder.encode(np.linspace(-1, 1, params.slot_count))
    public = ckks.Encryptor(
        params, keygen.public_key(), random_source=InsecureDeterministicSource(8)
    ).encrypt(plain)
    symmetric = ckks.Encryptor(
        params, keygen.secret_key, random_source=InsecureDeterministicSource(9)
    ).encrypt(plain)
    evaluator = ckks.Evaluator(params, keygen.relinearization_key())
    objects = {
        "Parameters": params,
        "PublicKey": keygen.public_key(),
        "RelinearizationKey": keygen.relinearization_key(),
        "GaloisKeys": keygen.galois_keys([1, -1], conjugation=True),
        "GaloisKeys-empty": keygen.galois_keys([]),
        "Plaintext": plain,
        "Ciphertext-public": public,
        "Ciphertext-symmetric": symmetric,
        "Ciphertext-three-part": evaluator.multiply(public, public),
        "Ciphertext-level-0": evaluator.rescale(evaluator.multiply_plain(public, plain)),
    }
    blobs = {}
    for name, obj in objects.items():
        blobs[f"{name}/raw"] = obj.to_bytes()
        blobs[f"{name}/zstd"] = obj.to_bytes("zstd")
    blobs["SecretKey/raw"] = keygen.secret_key.export_secret_bytes()
    return params, other, blobs


# -- one input -------------------------------------------------------------------------------------


@dataclass
class Input:
    data: bytes
    recipe: str
    base: str
    must_fail: bool  # corrupt bytes under the old checksum: loading them is a finding


class Fuzzer:
    def __init__(self, save_findings: Path | None):
        import ckks
        from ckks import io

        self.ckks = ckks
        self.io = io
        self.params, self.other_params, self.blobs = build_corpus()
        self.names = sorted(self.blobs)
        self.valid = set(self.blobs.values())
        self.parts = {name: take_apart(blob) for name, blob in self.blobs.items()}
        self.metas = {name: json.loads(parts.meta) for name, parts in self.parts.items()}
        self.outcomes = collections.Counter()
        self.by_recipe = collections.defaultdict(collections.Counter)
        self.messages = collections.Counter()
        self.findings = collections.Counter()
        self.finding_examples = {}
        self.runs = 0
        self.started = time.perf_counter()
        self.save_findings = save_findings
        self.mutators = [
            self.flip_bits,
            self.truncate,
            self.extend,
            self.overwrite,
            self.splice,
            self.random_bytes,
            self.header_field,
            self.meta_value,
            self.meta_keys,
            self.meta_random,
            self.meta_nested,
            self.array_bytes,
            self.type_swap,
            self.compression_toggle,
        ]

    # corruptions under the old checksum ------------------------------------------------------

    def flip_bits(self, chooser, name, blob):
        data = bytearray(blob)
        count = chooser.integer(1, 8)
        for _ in range(count):
            data[chooser.integer(0, len(data) - 1)] ^= 1 << chooser.integer(0, 7)
        return bytes(data), f"flip {count} bit(s)", None

    def truncate(self, chooser, name, blob):
        cut = chooser.pick([chooser.integer(0, len(blob) - 1), len(blob) - 1, HEADER.size])
        return blob[:cut], f"truncate to {cut}", None

    def extend(self, chooser, name, blob):
        extra = chooser.raw(64) or b"\x00"
        return blob + extra, f"append {len(extra)} byte(s)", None

    def overwrite(self, chooser, name, blob):
        start = chooser.integer(0, len(blob) - 1)
        span = chooser.raw(32) or b"\xff"
        data = blob[:start] + span + blob[start + len(span) :]
        return data[: len(blob)], f"overwrite {len(span)} byte(s) at {start}", None

    def splice(self, chooser, name, blob):
        other = self.blobs[chooser.pick(self.names)]
        cut = chooser.integer(0, min(len(blob), len(other)))
        if chooser.chance(1, 2):
            return blob + other, "concatenate with another blob", None
        return blob[:cut] + other[cut:], f"splice at {cut}", None

    def random_bytes(self, chooser, name, blob):
        data = chooser.raw(512)
        if chooser.chance(1, 2):
            data = MAGIC + data
        return data, f"random {len(data)} bytes", None

    # forgeries with a recomputed checksum -----------------------------------------------------

    def header_field(self, chooser, name, blob):
        parts = Parts(**vars(self.parts[name]))
        field = chooser.pick(
            ["version", "tag", "flags", "reserved", "params_hash", "fingerprint", "length"]
        )
        delta = 0
        if field in ("params_hash", "fingerprint"):
            value = chooser.pick([bytes(16), b"\xff" * 16, chooser.raw(16).ljust(16, b"\x00")])
            setattr(parts, field, value)
        elif field == "length":
            delta = chooser.pick([-1, 1, -len(parts.meta), 2**63, chooser.integer(-64, 64)])
            value = delta
        else:
            value = chooser.pick([0, 1, 2, 3, 7, 8, 9, 0x8000, 0xFFFF, chooser.integer(0, 0xFFFF)])
            setattr(parts, field, value)
        return put_together(parts, length_delta=delta), f"header {field}={value!r}", False

    def meta_value(self, chooser, name, blob):
        meta = self.metas[name]
        paths = json_paths(meta)
        if not paths:
            return self.meta_random(chooser, name, blob)
        path = chooser.pick(paths)
        old = meta
        for key in path:
            old = old[key]
        new = nearby(chooser, old) if chooser.chance(1, 2) else random_json(chooser)
        return self.with_meta(name, dump(replace_at(meta, path, new))), f"meta {path}", False

    def meta_keys(self, chooser, name, blob):
        meta = dict(self.metas[name])
        if meta and chooser.chance(1, 2):
            key = chooser.pick(sorted(meta))
            del meta[key]
            recipe = f"meta without {key!r}"
        else:
            key = chooser.pick(META_KEYS)
            meta[key] = random_json(chooser)
            recipe = f"meta with {key!r}"
        return self.with_meta(name, dump(meta)), recipe, False

    def meta_random(self, chooser, name, blob):
        meta = chooser.raw(64) if chooser.chance(1, 4) else dump(random_json(chooser))
        return self.with_meta(name, meta), "meta random", False

    def meta_nested(self, chooser, name, blob):
        depth = 1 << chooser.integer(4, 17)
        opening, closing = chooser.pick([(b"[", b"]"), (b'{"a":', b"}")])
        meta = opening * depth + b"0" + closing * depth
        return self.with_meta(name, meta), f"meta nested {depth} deep", False

    def array_bytes(self, chooser, name, blob):
        parts = Parts(**vars(self.parts[name]))
        arrays = bytearray(parts.arrays)
        action = chooser.integer(0, 2)
        if action == 0 and arrays:
            position = chooser.integer(0, len(arrays) - 1)
            arrays[position] ^= 1 << chooser.integer(0, 7)
            recipe = f"array bit at {position}"
        elif action == 1:
            cut = chooser.integer(0, len(arrays))
            arrays = arrays[:cut]
            recipe = f"arrays cut to {cut}"
        else:
            arrays += chooser.raw(16) or b"\x00"
            recipe = "arrays extended"
        parts.arrays = bytes(arrays)
        return put_together(parts), recipe, False

    def type_swap(self, chooser, name, blob):
        parts = Parts(**vars(self.parts[name]))
        donor = chooser.pick(self.names)
        parts.meta, parts.arrays = self.parts[donor].meta, self.parts[donor].arrays
        return put_together(parts), f"payload of {donor}", False

    def compression_toggle(self, chooser, name, blob):
        parts = Parts(**vars(self.parts[name]))
        if chooser.chance(1, 2):
            parts.flags ^= 1  # flag and payload disagree
            return put_together(parts, compress=not (parts.flags & 1)), "zstd flag flipped", False
        data = bytearray(put_together(parts, compress=True))
        if len(data) > HEADER.size + CHECKSUM_BYTES:
            data[chooser.integer(HEADER.size, len(data) - CHECKSUM_BYTES - 1)] ^= 0xFF
        struct.pack_into("<H", data, 12, 1)
        return reseal(bytes(data[:-CHECKSUM_BYTES])), "zstd frame byte altered", False

    def with_meta(self, name, meta: bytes) -> bytes:
        parts = Parts(**vars(self.parts[name]))
        parts.meta = meta
        return put_together(parts)

    # running ---------------------------------------------------------------------------------

    def make_input(self, chooser: Chooser) -> Input:
        name = chooser.pick(self.names)
        blob = self.blobs[name]
        mutator = chooser.pick(self.mutators)
        data, recipe, resealed = mutator(chooser, name, blob)
        # Without a new checksum only a valid blob of the corpus itself (a splice can rebuild
        # one when two blobs share a prefix) may load.
        must_fail = resealed is None and data not in self.valid
        return Input(data, f"{mutator.__name__}: {recipe}", name, must_fail)

    def run_one(self, chooser: Chooser) -> None:
        item = self.make_input(chooser)
        params = chooser.pick([self.params, self.params, self.params, None, self.other_params])
        expected = chooser.pick([None, None, "base", chooser.pick(TYPE_NAMES)])
        if expected == "base":
            expected = item.base.split("/")[0].split("-")[0]
        self.runs += 1
        if self.runs % 10_000 == 0:
            elapsed = time.perf_counter() - self.started
            print(f"  … {self.runs} inputs, {elapsed:.0f} s", flush=True)
        mutator = item.recipe.split(":")[0]
        try:
            loaded = self.io.deserialize(item.data, params, expected)
        except self.ckks.SerializationError as error:
            self.record(mutator, "SerializationError")
            self.messages[message_kind(str(error))] += 1
        except Exception as error:  # every other exception is a finding
            self.record(mutator, f"FINDING {type(error).__name__}")
            self.report(item, params, expected, error)
        else:
            if item.must_fail:
                self.record(mutator, "FINDING loaded corrupt bytes")
                self.report(item, params, expected, None, loaded)
            elif item.data in self.valid:
                self.record(mutator, f"loaded {type(loaded).__name__} (an unaltered corpus blob)")
            else:
                self.record(mutator, f"loaded {type(loaded).__name__} (forgery, resealed)")

    def record(self, mutator: str, outcome: str) -> None:
        self.outcomes[outcome] += 1
        self.by_recipe[mutator][outcome.split(" ")[0]] += 1

    def report(self, item: Input, params, expected, error, loaded=None) -> None:
        if error is not None:
            frames = traceback.extract_tb(error.__traceback__)
            ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(CKKS_FOLDER)]
            frame = (ours or frames)[-1]
            signature = f"{type(error).__name__} at {Path(frame.filename).name}:{frame.lineno}"
        else:
            signature = f"loaded {type(loaded).__name__} from corrupt bytes"
        self.findings[signature] += 1
        if self.findings[signature] > 3:
            return
        self.finding_examples.setdefault(signature, item.recipe)
        meta = ""
        with contextlib.suppress(Exception):  # the input may not even have a header
            meta = take_apart(item.data).meta[:300].decode("utf-8", "replace")
        print(f"\nFINDING #{self.findings[signature]} of [{signature}]", flush=True)
        print(f"  error: {error!r}"[:400] if error is not None else f"  loaded: {loaded!r}")
        print(f"  input: {item.recipe} on {item.base}; {len(item.data)} bytes, sha256 "
              f"{hashlib.sha256(item.data).hexdigest()[:16]}; params="
              f"{'right' if params is self.params else 'none' if params is None else 'other'}, "
              f"expected={expected!r}")  # fmt: skip
        print(f"  first bytes: {item.data[:96].hex()}")
        if meta:
            print(f"  meta: {meta}")
        if self.save_findings is not None:
            self.save_findings.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256(item.data).hexdigest()[:16]
            (self.save_findings / f"finding-{digest}.bin").write_bytes(item.data)

    def summary(self, engine: str) -> None:
        elapsed = time.perf_counter() - self.started
        print(f"\n=== fuzz_loader summary ({engine}) ===")
        print(f"inputs run: {self.runs} in {elapsed:.1f} s ({self.runs / elapsed:.0f} inputs/s)")
        print(f"corpus: {len(self.blobs)} valid blobs (N = 1024, raw and zstd)")
        print("by outcome:")
        for outcome, count in self.outcomes.most_common():
            print(f"  {count:8d}  {outcome}")
        print("by mutator (SerializationError / loaded / FINDING):")
        for mutator in sorted(self.by_recipe):
            counts = self.by_recipe[mutator]
            print(
                f"  {mutator:20s} {counts['SerializationError']:7d} {counts['loaded']:7d} "
                f"{counts['FINDING']:5d}"
            )
        print("most frequent SerializationError messages (numbers elided):")
        for message, count in self.messages.most_common(15):
            print(f"  {count:8d}  {message}")
        total = sum(self.findings.values())
        print(f"findings: {total} input(s), {len(self.findings)} signature(s)")
        for signature, count in self.findings.most_common():
            print(f"  {count:8d}  {signature}  (e.g. {self.finding_examples.get(signature)})")


def message_kind(message: str) -> str:
    """A SerializationError message with numbers, hex and quoted values elided, first 70 chars."""
    message = re.sub(r"'[^']*'|\"[^\"]*\"|b'[^']*'", "…", message)
    message = re.sub(r"0x[0-9a-f.p+-]+|[0-9a-f]{16,}|\d+", "#", message)
    return message[:70]


# -- engines ---------------------------------------------------------------------------------------


def run_hypothesis(fuzzer: Fuzzer, runs: int, seed: int) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    @hypothesis_seed(seed)
    @settings(
        max_examples=runs,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def fuzz(data):
        fuzzer.run_one(HypothesisChooser(data))

    fuzz()
    fuzzer.summary("hypothesis")


def run_atheris(fuzzer_factory, runs: int, seed: int) -> None:
    # Coverage of the two loader modules only: atheris includes whole top-level packages, and
    # the Numba kernels elsewhere in ckks cannot compile instrumented bytecode.
    # ckks must not be imported yet (its __init__ imports the loader modules).
    import pkgutil

    import atheris

    if "ckks" in sys.modules:
        raise RuntimeError("run_atheris must import ckks itself, under instrumentation")
    targets = {"ckks.serialization", "ckks.io"}
    others = [
        module.name
        for folder, prefix in (("ckks", "ckks."), ("ckks/ring", "ckks.ring."))
        for module in pkgutil.iter_modules([str(REPOSITORY_ROOT / folder)], prefix)
        if module.name not in targets
    ]
    with atheris.instrument_imports(include=["ckks"], exclude=["ckks", "ckks.ring", *others]):
        import ckks.io
        import ckks.serialization  # noqa: F401

        fuzzer = fuzzer_factory()

    def test_one_input(data: bytes) -> None:
        fuzzer.run_one(AtherisChooser(atheris.FuzzedDataProvider(data)))
        if fuzzer.runs == runs:  # libFuzzer exits the process right after the last run
            fuzzer.summary("atheris")
            sys.stdout.flush()

    arguments = [
        sys.argv[0],
        f"-runs={runs}",
        f"-seed={seed}",
        "-max_len=2048",
        "-print_final_stats=0",
    ]
    atheris.Setup(arguments, test_one_input)
    atheris.Fuzz()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save-findings", type=Path, default=None)
    arguments = parser.parse_args(argv)

    engine = arguments.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    print(f"fuzz_loader: {arguments.runs} inputs with {engine}, seed {arguments.seed}", flush=True)
    if engine == "atheris":
        run_atheris(lambda: Fuzzer(arguments.save_findings), arguments.runs, arguments.seed)
    else:
        run_hypothesis(Fuzzer(arguments.save_findings), arguments.runs, arguments.seed)


if __name__ == "__main__":
    main()
