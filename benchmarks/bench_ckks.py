"""Speed of the CKKS scheme layer against TenSEAL (Microsoft SEAL) and desilofhe, on one thread.

Prints one markdown table, then the target lines and a profile:

1. Rows are operations, columns the ring degrees N = 2^13 (moduli bits {60, 40, 40} plus a
   special prime of 60), 2^14 ({60, 40 x 6} + {60}) and 2^15 ({60, 40 x 16} + {60}); for each
   degree our time, TenSEAL's, desilofhe's (milliseconds) and the ratio of ours to the fastest
   peer. What each peer runs per operation is documented in ``benchmarks/peers.py``.
2. Targets at N = 2^14: multiply + relinearize + rescale and rotate by one slot within 3x of
   the fastest peer (and, as a moonshot, at parity).
3. Where our time goes at N = 2^14: each stage of multiply + relinearize + rescale and of a
   rotation (the tensor product, the three steps of hybrid key switching in
   ``ckks/key_switching.py``, the rescale, the permutation of c0), timed on its own.

Our operations, row by row (fresh ciphertexts at the top level, as for the peers):
    keygen                  ``KeyGenerator(params)`` (secret and public key) and
                            ``relinearization_key()``
    galois_keys             ``KeyGenerator.galois_keys([1, ..., 8])``
    encode_encrypt          ``Encryptor.encrypt(Encoder.encode(values))`` (public key)
    decrypt_decode          ``Encoder.decode(Decryptor.decrypt(ciphertext))``
    add                     ``Evaluator.add``
    multiply_relin_rescale  ``Evaluator.multiply``, ``relinearize``, ``rescale``
    multiply_plain_rescale  ``Evaluator.multiply_plain`` by a plaintext encoded beforehand at
                            the ciphertext's level, then ``rescale``
    rotate                  ``Evaluator.rotate(ciphertext, 1)``
    hoisted_rotate_8        ``Evaluator.rotate_hoisted(ciphertext, [1, ..., 8])``

Every time is the median of ``--repeats`` runs after one warm-up run. Ours and the peers run in
the same process, one ring degree at a time (ours, then TenSEAL, then desilofhe), so that a
change in machine load lands on both sides. ``OMP_NUM_THREADS=1`` is set before anything is
imported; our Numba kernels run on ``--threads`` threads (default 1), the peers on one.

Usage: python benchmarks/bench_ckks.py [--sizes 13,14,15] [--repeats 5] [--threads 1]
       [--no-peers]
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"  # before NumPy, Numba or a peer loads an OpenMP runtime

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ckks  # noqa: E402
from benchmarks import peers  # noqa: E402
from ckks.key_switching import decompose_and_raise, inner_product, mod_down  # noqa: E402
from ckks.keygen import galois_element_for_step  # noqa: E402
from ckks.ring import arithmetic  # noqa: E402
from ckks.ring.automorphism import ntt_permutation, permute_rows  # noqa: E402

SCALE_BITS = 40
SPECIAL_PRIME_BITS = 60
#: log2 N → bit sizes of the data primes (the special prime comes on top).
DATA_MODULI_BITS = {
    13: [60, 40, 40],
    14: [60] + [40] * 6,
    15: [60] + [40] * 16,
}
ROTATION_STEPS = list(range(1, 9))
ROWS = (
    ("keygen", "key generation (secret, public, relinearization)"),
    ("galois_keys", "Galois keys, steps 1..8"),
    ("encode_encrypt", "encode + encrypt"),
    ("decrypt_decode", "decrypt + decode"),
    ("add", "add"),
    ("multiply_relin_rescale", "multiply + relinearize + rescale"),
    ("multiply_plain_rescale", "cipher·plain + rescale"),
    ("rotate", "rotate by 1"),
    ("hoisted_rotate_8", "8 hoisted rotations (1..8)"),
)
PEERS = (
    ("TenSEAL", "tenseal", peers.time_tenseal),
    ("desilofhe", "desilofhe", peers.time_desilofhe),
)
PEERS_MISSING = "peers not installed (pip install '.[bench]')"
TARGET_LOG_DEGREE = 14
TARGET_OPERATIONS = (
    ("multiply_relin_rescale", "multiply + relinearize + rescale"),
    ("rotate", "rotate by 1"),
)
TARGET_RATIO = 3.0
MOONSHOT_RATIO = 1.0

Result = dict[str, float | str | None]


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def median_seconds(operation: Callable[[], object], repeats: int) -> float:
    """Median seconds of ``operation()`` over ``repeats`` runs after one warm-up run."""
    operation()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        operation()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def make_parameters(log_degree: int) -> ckks.Parameters:
    return ckks.Parameters(
        1 << log_degree, DATA_MODULI_BITS[log_degree], [SPECIAL_PRIME_BITS], SCALE_BITS
    )


def peer_moduli_bits(log_degree: int) -> list[int]:
    """The same chain as a SEAL coefficient modulus: data primes, then the special prime."""
    return [*DATA_MODULI_BITS[log_degree], SPECIAL_PRIME_BITS]


# --- our engine ----------------------------------------------------------------------------------


class Session:
    """Keys, operands and an evaluator for one parameter set, shared by the table and profile."""

    def __init__(self, params: ckks.Parameters):
        self.params = params
        self.keygen = ckks.KeyGenerator(params)
        self.relinearization_key = self.keygen.relinearization_key()
        self.galois_keys = self.keygen.galois_keys(ROTATION_STEPS)
        self.encoder = ckks.Encoder(params)
        self.encryptor = ckks.Encryptor(params, self.keygen.public_key())
        self.decryptor = ckks.Decryptor(params, self.keygen.secret_key)
        self.evaluator = ckks.Evaluator(params, self.relinearization_key, self.galois_keys)
        rng = np.random.default_rng(0)
        self.x = rng.uniform(-1.0, 1.0, params.slot_count)
        self.y = rng.uniform(-1.0, 1.0, params.slot_count)
        self.cx = self.encryptor.encrypt(self.encoder.encode(self.x))
        self.cy = self.encryptor.encrypt(self.encoder.encode(self.y))
        self.plain_y = self.encoder.encode(self.y, level=self.cx.level)

    def decode(self, ciphertext) -> np.ndarray:
        return self.encoder.decode(self.decryptor.decrypt(ciphertext)).real

    def multiply_relin_rescale(self):
        evaluator = self.evaluator
        return evaluator.rescale(evaluator.relinearize(evaluator.multiply(self.cx, self.cy)))

    def multiply_plain_rescale(self):
        return self.evaluator.rescale(self.evaluator.multiply_plain(self.cx, self.plain_y))

    def keygen_all(self):
        keygen = ckks.KeyGenerator(self.params)
        return keygen.relinearization_key()

    def max_errors(self) -> dict[str, float]:
        """Largest slot error of a product, a plain product and the rotations, against NumPy."""
        rotations = self.evaluator.rotate_hoisted(self.cx, ROTATION_STEPS)
        return {
            "multiply": float(
                np.max(np.abs(self.decode(self.multiply_relin_rescale()) - self.x * self.y))
            ),
            "multiply_plain": float(
                np.max(np.abs(self.decode(self.multiply_plain_rescale()) - self.x * self.y))
            ),
            "rotate": max(
                float(np.max(np.abs(self.decode(rotated) - np.roll(self.x, -step))))
                for step, rotated in zip(ROTATION_STEPS, rotations, strict=True)
            ),
        }


def sizes_ours(session: Session) -> dict[str, float]:
    """Serialized bytes of our ciphertexts and keys (seeds stand in for uniform polynomials)."""
    symmetric = ckks.Encryptor(session.params, session.keygen.secret_key)
    seeded = symmetric.encrypt(session.encoder.encode(session.x))
    galois = session.keygen.galois_keys([1])
    relin = session.keygen.relinearization_key()
    return {
        "ciphertext_bytes": float(len(session.cx.to_bytes())),
        "ciphertext_zstd_bytes": float(len(session.cx.to_bytes("zstd"))),
        "symmetric_ciphertext_bytes": float(len(seeded.to_bytes())),
        "galois_key_bytes_per_step": float(len(galois.to_bytes())),
        "relin_key_bytes": float(len(relin.to_bytes())),
        "relin_key_memory_bytes": float(relin.nbytes),
    }


SIZE_ROWS = (
    ("ciphertext_bytes", "fresh public-key ciphertext"),
    ("ciphertext_zstd_bytes", "the same, zstd"),
    ("symmetric_ciphertext_bytes", "fresh symmetric ciphertext (mask as a seed)"),
    ("galois_key_bytes_per_step", "Galois key, one step (masks as seeds)"),
    ("relin_key_bytes", "relinearization key (masks as seeds)"),
    ("relin_key_memory_bytes", "relinearization key in memory"),
)


def size_table(sizes: dict[int, dict[str, dict]]) -> str:
    degrees = sorted(sizes)
    header = (
        "| object | "
        + " | ".join(f"ours 2^{d} | TenSEAL 2^{d} | ours/TenSEAL" for d in degrees)
        + " |"
    )
    lines = [header, "| --- |" + " ---: | ---: | ---: |" * len(degrees)]
    peer_key = {
        "ciphertext_bytes": "ciphertext_bytes",
        "galois_key_bytes_per_step": "galois_key_bytes_per_step",
        "relin_key_bytes": "relin_key_bytes",
    }
    for key, label in SIZE_ROWS:
        cells = []
        for d in degrees:
            ours = sizes[d]["ours"].get(key)
            peer = sizes[d].get("TenSEAL", {}).get(peer_key.get(key, ""), None)
            ratio = f"{ours / peer:.2f}x" if ours and isinstance(peer, float) and peer else ""
            cells += [
                f"{ours / 2**20:.2f} MiB" if ours else "",
                f"{peer / 2**20:.2f} MiB" if isinstance(peer, float) else "",
                ratio,
            ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def time_ours(session: Session, repeats: int) -> Result:
    """Seconds per operation of our engine, keyed like the peers' results."""
    evaluator = session.evaluator
    cx, cy = session.cx, session.cy
    operations = {
        "keygen": session.keygen_all,
        "galois_keys": lambda: session.keygen.galois_keys(ROTATION_STEPS),
        "encode_encrypt": lambda: session.encryptor.encrypt(session.encoder.encode(session.x)),
        "decrypt_decode": lambda: session.decode(cx),
        "add": lambda: evaluator.add(cx, cy),
        "multiply_relin_rescale": session.multiply_relin_rescale,
        "multiply_plain_rescale": session.multiply_plain_rescale,
        "rotate": lambda: evaluator.rotate(cx, 1),
        "hoisted_rotate_8": lambda: evaluator.rotate_hoisted(cx, ROTATION_STEPS),
    }
    result: Result = {}
    for key, operation in operations.items():
        result[key] = median_seconds(operation, repeats)
    result["config"] = f"{session.params!r}"
    return result


# --- peers ---------------------------------------------------------------------------------------


def installed_peers() -> dict[str, bool]:
    """Whether each peer library imports (after OMP_NUM_THREADS is set)."""
    found = {}
    for label, module, _ in PEERS:
        try:
            __import__(module)
            found[label] = True
        except ImportError:
            found[label] = False
    return found


def time_peer(timer, log_degree: int, repeats: int) -> Result:
    try:
        return timer(1 << log_degree, peer_moduli_bits(log_degree), SCALE_BITS, repeats)
    except peers.PeerNotInstalledError as error:
        return {"config": str(error)}


# --- the table -----------------------------------------------------------------------------------


def format_ms(seconds: float | str | None) -> str:
    if not isinstance(seconds, float):
        return "n/a"
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def fastest_peer(results: dict[str, Result], operation: str) -> tuple[str, float] | None:
    timed = [
        (label, value)
        for label, result in results.items()
        if label != "ours" and isinstance(value := result.get(operation), float)
    ]
    return min(timed, key=lambda pair: pair[1]) if timed else None


def ratio_text(results: dict[str, Result], operation: str) -> str:
    best = fastest_peer(results, operation)
    ours = results["ours"].get(operation)
    if best is None or not isinstance(ours, float):
        return "n/a"
    return f"{ours / best[1]:.1f}×"


def markdown_table(by_degree: dict[int, dict[str, Result]], peer_labels: list[str]) -> str:
    header = ["operation"]
    for log_degree in by_degree:
        header.append(f"ours 2^{log_degree} (ms)")
        header += [f"{label} 2^{log_degree} (ms)" for label in peer_labels]
        if peer_labels:
            header.append(f"ours / fastest 2^{log_degree}")
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    for key, name in ROWS:
        cells = [name]
        for results in by_degree.values():
            cells.append(format_ms(results["ours"].get(key)))
            cells += [format_ms(results[label].get(key)) for label in peer_labels]
            if peer_labels:
                cells.append(ratio_text(results, key))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def print_notes(by_degree: dict[int, dict[str, Result]], errors: dict[int, dict[str, float]]):
    print()
    for log_degree, results in by_degree.items():
        for label, result in results.items():
            notes = result.get("notes")
            print(
                f"- 2^{log_degree} {label}: {result.get('config')}"
                + (f"; {notes}" if notes else "")
            )
        worst = errors[log_degree]
        print(
            f"- 2^{log_degree} ours, largest slot error against NumPy: multiply "
            f"{worst['multiply']:.1e}, cipher·plain {worst['multiply_plain']:.1e}, rotations "
            f"{worst['rotate']:.1e}"
        )


def print_targets(by_degree: dict[int, dict[str, Result]]) -> None:
    print(f"\nTargets at N=2^{TARGET_LOG_DEGREE} (ours / fastest peer, one thread):")
    results = by_degree.get(TARGET_LOG_DEGREE)
    if results is None:
        print(f"- not measured: add {TARGET_LOG_DEGREE} to --sizes")
        return
    for key, name in TARGET_OPERATIONS:
        best = fastest_peer(results, key)
        ours = results["ours"][key]
        if best is None:
            print(f"- {name}: ours {format_ms(ours)} ms; no peer timed")
            continue
        label, peer_seconds = best
        ratio = ours / peer_seconds
        verdict = "pass" if ratio <= TARGET_RATIO else "miss"
        moonshot = "pass" if ratio <= MOONSHOT_RATIO else "miss"
        print(
            f"- {name}: ours {format_ms(ours)} ms vs {label} {format_ms(peer_seconds)} ms = "
            f"{ratio:.1f}×; target ≤ {TARGET_RATIO:.0f}×: {verdict}; moonshot parity: {moonshot}"
        )


# --- where the time goes -------------------------------------------------------------------------


PROFILE_MIN_ROUNDS = 15
WHOLE = "whole operation"
REST = "rest (checks, additions, allocation)"


def interleaved_medians(operations: dict[str, Callable[[], object]], rounds: int):
    """Median seconds of each operation, timed once per round in turn after one warm-up each.

    Taking the operations in turn spreads a change of machine load over all of them alike.
    """
    for operation in operations.values():
        operation()
    seconds: dict[str, list[float]] = {name: [] for name in operations}
    for _ in range(rounds):
        for name, operation in operations.items():
            start = time.perf_counter()
            operation()
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in seconds.items()}


def profile_stages(session: Session, repeats: int) -> dict[str, dict[str, float]]:
    """Seconds of each stage of multiply + relinearize + rescale and of a rotation by 1.

    Each stage runs alone on inputs prepared beforehand, in interleaved rounds together with
    the whole operation; "rest" is the whole minus the stages. ``mod_down`` overwrites the
    special rows of its input (an inverse NTT in place), so it runs on a fresh copy each time
    and the time of that copy, timed alongside, is subtracted.
    """
    evaluator = session.evaluator
    context = session.params.context
    cx, cy = session.cx, session.cy
    level = cx.level
    rounds = max(repeats, PROFILE_MIN_ROUNDS)

    product = evaluator.multiply(cx, cy)
    relin_data = session.relinearization_key.data
    relin_raised = decompose_and_raise(context, product.data[2], level)
    relin_extended = inner_product(context, relin_raised, relin_data, level)
    relinearized = evaluator.relinearize(product)

    element = galois_element_for_step(1, session.params)
    permutation = ntt_permutation(session.params.ring_degree, element)
    galois_data = session.galois_keys.keys[element].data
    rotate_raised = decompose_and_raise(context, cx.data[1], level)
    rotate_extended = inner_product(context, rotate_raised, galois_data, level, permutation)
    moduli = context.level(level).constants.moduli
    head = cx.data[0]

    def permute_and_add():
        permuted = permute_rows(head, permutation)
        return arithmetic.add(permuted, head, moduli, out=permuted)

    multiply_times = interleaved_medians(
        {
            WHOLE: session.multiply_relin_rescale,
            "multiply (tensor product, 3 parts)": lambda: evaluator.multiply(cx, cy),
            "decompose_and_raise": lambda: decompose_and_raise(context, product.data[2], level),
            "inner_product": lambda: inner_product(context, relin_raised, relin_data, level),
            "mod_down (k0)": lambda: mod_down(context, relin_extended[0].copy(), level),
            "mod_down (k1)": lambda: mod_down(context, relin_extended[1].copy(), level),
            "copy": lambda: relin_extended[0].copy(),
            "rescale": lambda: evaluator.rescale(relinearized),
        },
        rounds,
    )
    rotate_times = interleaved_medians(
        {
            WHOLE: lambda: evaluator.rotate(cx, 1),
            "decompose_and_raise": lambda: decompose_and_raise(context, cx.data[1], level),
            "inner_product (with the permutation)": lambda: inner_product(
                context, rotate_raised, galois_data, level, permutation
            ),
            "mod_down (k0)": lambda: mod_down(context, rotate_extended[0].copy(), level),
            "mod_down (k1)": lambda: mod_down(context, rotate_extended[1].copy(), level),
            "copy": lambda: rotate_extended[0].copy(),
            "permute c0 + add": permute_and_add,
        },
        rounds,
    )
    return {
        "multiply + relinearize + rescale": _stages_and_rest(multiply_times),
        "rotate by 1": _stages_and_rest(rotate_times),
    }


def _stages_and_rest(times: dict[str, float]) -> dict[str, float]:
    """Stage times with the copy taken out of mod_down, then the rest of the whole."""
    copying = times.pop("copy")
    stages = {
        name: seconds - copying if name.startswith("mod_down") else seconds
        for name, seconds in times.items()
    }
    stages[REST] = stages[WHOLE] - sum(seconds for name, seconds in stages.items() if name != WHOLE)
    return stages


def print_profile(profile: dict[str, dict[str, float]], log_degree: int) -> None:
    print(f"\nWhere our time goes at N=2^{log_degree} (each stage timed alone, one thread):")
    for title, stages in profile.items():
        total = stages[WHOLE]
        print(f"\n{title}: {total * 1e3:.1f} ms\n")
        print("| stage | ms | share |")
        print("| --- | ---: | ---: |")
        for name, seconds in stages.items():
            if name != WHOLE:
                share = round(100 * seconds / total) + 0  # + 0 turns -0 into 0
                print(f"| {name} | {seconds * 1e3:.2f} | {share}% |")


# --- command line --------------------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sizes must be a comma-separated list, got {text!r}"
        ) from None
    unknown = [size for size in sizes if size not in DATA_MODULI_BITS]
    if not sizes or unknown:
        raise argparse.ArgumentTypeError(
            f"--sizes takes log2 ring degrees among {sorted(DATA_MODULI_BITS)}, got {text!r}"
        )
    return sizes


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=parse_sizes, default=[13, 14, 15], help="log2 N list (default 13,14,15)"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per operation")
    parser.add_argument("--threads", type=int, default=1, help="Numba threads for ours")
    parser.add_argument("--no-peers", action="store_true", help="time our engine only")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    if not 1 <= args.threads <= numba.config.NUMBA_NUM_THREADS:
        parser.error(
            f"--threads must be between 1 and {numba.config.NUMBA_NUM_THREADS}, got {args.threads}"
        )
    numba.set_num_threads(args.threads)

    peer_labels: list[str] = []
    if not args.no_peers:
        found = installed_peers()
        peer_labels = [label for label, present in found.items() if present]
        if not peer_labels:
            print(PEERS_MISSING)
        for label, present in found.items():
            if not present and peer_labels:
                print(f"{label} not installed (pip install '.[bench]')")

    by_degree: dict[int, dict[str, Result]] = {}
    sizes: dict[int, dict[str, dict]] = {}
    errors: dict[int, dict[str, float]] = {}
    profile = None
    for log_degree in args.sizes:
        progress(f"2^{log_degree}: ours (parameters, keys, {args.repeats} repeats per operation)")
        start = time.perf_counter()
        params = make_parameters(log_degree)
        setup_seconds = time.perf_counter() - start
        session = Session(params)
        results = {"ours": time_ours(session, args.repeats)}
        results["ours"]["notes"] = (
            f"parameters and tables {setup_seconds * 1e3:.0f} ms (one run, not in the table); "
            f"{numba.get_num_threads()} Numba thread(s), threading layer {numba.threading_layer()}"
        )
        errors[log_degree] = session.max_errors()
        sizes[log_degree] = {"ours": sizes_ours(session)}
        if log_degree == TARGET_LOG_DEGREE:
            progress(f"2^{log_degree}: profile of ours")
            profile = profile_stages(session, args.repeats)
        del session
        for label, _, timer in PEERS:
            if label in peer_labels:
                progress(f"2^{log_degree}: {label}")
                results[label] = time_peer(timer, log_degree, args.repeats)
        by_degree[log_degree] = results
        if "TenSEAL" in results:
            sizes[log_degree]["TenSEAL"] = results["TenSEAL"]
    progress("done")

    print(
        f"CKKS operations, median of {args.repeats} after a warm-up; ours on {args.threads} "
        f"Numba thread(s), peers on 1; NumPy {np.__version__}, Numba {numba.__version__}\n"
    )
    print(markdown_table(by_degree, peer_labels))
    print_notes(by_degree, errors)
    if peer_labels:
        print_targets(by_degree)
    if profile is not None:
        print_profile(profile, TARGET_LOG_DEGREE)
    print("\nSerialized sizes (TenSEAL: SEAL's default zstd compression, seeded masks):\n")
    print(size_table(sizes))


if __name__ == "__main__":
    main()
