"""Speed of the ring layer: NTT per butterfly, the choice of modular reduction, and cold start.

Prints three markdown tables and the target lines:

1. Forward + inverse negacyclic NTT through the public in-place methods (argument checks
   included) for N = 2^12 … 2^16 and 1 … 16 primes of 60 bits, against a vectorized NumPy
   NTT written here (one array operation per step of a stage, over every butterfly of the stage
   and every prime at once; 64-bit products from 32-bit halves, Shoup reduction by the
   twiddles). Butterflies per transform: primes · N/2 · log2 N; forward + inverse counts twice.
2. Pointwise product of two (8, 2^14) arrays under three reductions: the kernel the library
   uses (LLVM 64×64→128 product + Barrett), the same Barrett with the product built from 32-bit
   halves, and Shoup multiplication by a per-row constant.
3. A fresh ``python`` process, JIT cache warm: interpreter start, imports, prime search and
   tables, and the first forward NTT at N = 2^14.

Everything runs on one thread unless ``--threads`` says otherwise; times are medians of repeats
after one warm-up call.

Usage: python benchmarks/bench_ring.py [--threads 1] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numba
import numpy as np
from numba import njit, prange

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ckks.ring import arithmetic  # noqa: E402
from ckks.ring.modarith import (  # noqa: E402
    ModulusConstants,
    mul_shoup,
    mul_wide_portable,
    shoup_companion,
)
from ckks.ring.ntt import NttTables  # noqa: E402
from ckks.ring.primes import prime_chain  # noqa: E402

LOG_DEGREES = (12, 13, 14, 15, 16)
PRIME_COUNTS = (1, 2, 4, 8, 16)
PRIME_BITS = 60
TARGET_NS_PER_BUTTERFLY = 2.0
TARGET_FIRST_NTT_SECONDS = 2.0
MASK32 = np.uint64(0xFFFFFFFF)
SHIFT32 = np.uint64(32)


def median_seconds(function, min_repeats: int, budget_seconds: float, max_repeats: int) -> float:
    """Median time of ``function()`` over at least ``min_repeats`` runs after one warm-up."""
    function()
    times = []
    started = time.perf_counter()
    while len(times) < max_repeats and (
        len(times) < min_repeats or time.perf_counter() - started < budget_seconds
    ):
        begin = time.perf_counter()
        function()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


# --- vectorized NumPy reference NTT --------------------------------------------------------------


def numpy_mul_high(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """High 64 bits of a·b for uint64 arrays, from four 32×32-bit partial products."""
    a_low, a_high = a & MASK32, a >> SHIFT32
    b_low, b_high = b & MASK32, b >> SHIFT32
    low_low = a_low * b_low
    high_low = a_high * b_low
    middle = (low_low >> SHIFT32) + (high_low & MASK32) + a_low * b_high
    return a_high * b_high + (high_low >> SHIFT32) + (middle >> SHIFT32)


def numpy_mul_constant(a, w, w_shoup, q):
    """a·w mod q in [0, q) for uint64 arrays a, w < q, with w_shoup = floor(w·2^64/q)."""
    r = a * w - numpy_mul_high(a, w_shoup) * q  # exact modulo 2^64, and below 2q
    return np.where(r >= q, r - q, r)


class NumpyNtt:
    """A straightforward negacyclic NTT in NumPy: natural order in, bit-reversed order out.

    Twiddles are powers of the given roots ψ_i computed here in Python integers; every value is
    kept fully reduced. Arrays are (primes, N) uint64.
    """

    def __init__(self, ring_degree: int, moduli: list[int], roots: list[int]):
        self.ring_degree = ring_degree
        self.moduli = np.array(moduli, dtype=np.uint64)[:, None, None]
        log_degree = ring_degree.bit_length() - 1
        reversal = [
            int(f"{k:0{log_degree}b}"[::-1], 2) if log_degree else 0 for k in range(ring_degree)
        ]
        tables = {
            "forward_roots": [],
            "forward_shoup": [],
            "inverse_roots": [],
            "inverse_shoup": [],
        }
        inverse_degree = []
        for q, psi in zip(moduli, roots, strict=True):
            for name, root in (("forward", psi), ("inverse", pow(psi, -1, q))):
                powers = [1] * ring_degree
                for k in range(1, ring_degree):
                    powers[k] = powers[k - 1] * root % q
                permuted = [powers[j] for j in reversal]
                tables[name + "_roots"].append(permuted)
                tables[name + "_shoup"].append([(w << 64) // q for w in permuted])
            inverse_degree.append(pow(ring_degree, -1, q))
        for name, rows in tables.items():
            setattr(self, name, np.array(rows, dtype=np.uint64))
        self.inverse_degree = np.array(inverse_degree, dtype=np.uint64)[:, None]
        self.inverse_degree_shoup = np.array(
            [(w << 64) // q for w, q in zip(inverse_degree, moduli, strict=True)], dtype=np.uint64
        )[:, None]

    def forward(self, a: np.ndarray) -> np.ndarray:
        L, N = a.shape
        q = self.moduli[:L]
        groups = 1
        while groups < N:
            half = N // (2 * groups)
            view = a.reshape(L, groups, 2 * half)
            x, y = view[:, :, :half], view[:, :, half:]
            w = self.forward_roots[:L, groups : 2 * groups, None]
            ws = self.forward_shoup[:L, groups : 2 * groups, None]
            t = numpy_mul_constant(y, w, ws, q)
            total = x + t
            difference = x + q - t
            a = np.concatenate(
                [
                    np.where(total >= q, total - q, total),
                    np.where(difference >= q, difference - q, difference),
                ],
                axis=2,
            ).reshape(L, N)
            groups *= 2
        return a

    def inverse(self, a: np.ndarray) -> np.ndarray:
        L, N = a.shape
        q = self.moduli[:L]
        groups = N // 2
        while groups >= 1:
            half = N // (2 * groups)
            view = a.reshape(L, groups, 2 * half)
            x, y = view[:, :, :half], view[:, :, half:]
            w = self.inverse_roots[:L, groups : 2 * groups, None]
            ws = self.inverse_shoup[:L, groups : 2 * groups, None]
            total = x + y
            difference = x + q - y
            difference = np.where(difference >= q, difference - q, difference)
            a = np.concatenate(
                [np.where(total >= q, total - q, total), numpy_mul_constant(difference, w, ws, q)],
                axis=2,
            ).reshape(L, N)
            groups //= 2
        return numpy_mul_constant(
            a, self.inverse_degree[:L], self.inverse_degree_shoup[:L], q[:, :, 0]
        )


# --- table 1: NTT per butterfly ------------------------------------------------------------------


def random_residues(moduli: list[int], ring_degree: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([rng.integers(0, q, ring_degree, dtype=np.uint64) for q in moduli])


def ntt_table(log_degrees, prime_counts, quick: bool) -> list[dict]:
    rows = []
    for log_degree in log_degrees:
        ring_degree = 1 << log_degree
        moduli = prime_chain([PRIME_BITS] * max(prime_counts), ring_degree)
        tables = NttTables(ring_degree, moduli)
        reference = NumpyNtt(ring_degree, moduli, [int(psi) for psi in tables.psi])

        # The reference must agree with the library before its time means anything.
        sample = random_residues(moduli, ring_degree, seed=log_degree)
        transformed = tables.forward(sample)
        if not np.array_equal(reference.forward(sample), transformed):
            raise SystemExit(
                f"NumPy reference NTT disagrees with ckks.ring.ntt at N=2^{log_degree}"
            )
        if not np.array_equal(reference.inverse(transformed), sample):
            raise SystemExit(f"NumPy reference inverse NTT disagrees at N=2^{log_degree}")

        for count in prime_counts:
            work = random_residues(moduli[:count], ring_degree, seed=count)

            def ours(work=work, tables=tables):
                tables.forward_inplace(work)
                tables.inverse_inplace(work)

            def numpy_reference(work=work, reference=reference):
                reference.inverse(reference.forward(work))

            seconds = median_seconds(ours, 5, 0.05 if quick else 0.3, 200)
            numpy_repeats = 1 if quick or count * ring_degree >= 1 << 19 else 3
            numpy_seconds = median_seconds(numpy_reference, numpy_repeats, 0.0, numpy_repeats)
            butterflies = 2 * count * (ring_degree // 2) * log_degree
            rows.append(
                {
                    "log_degree": log_degree,
                    "primes": count,
                    "ms": seconds * 1e3,
                    "ns_per_butterfly": seconds / butterflies * 1e9,
                    "numpy_ms": numpy_seconds * 1e3,
                }
            )
    return rows


def print_ntt_table(rows: list[dict]) -> None:
    print(f"### Forward + inverse NTT, {PRIME_BITS}-bit primes\n")
    print("| N | primes | ms | ns / butterfly | NumPy ms | NumPy / ours |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| 2^{row['log_degree']} | {row['primes']} | {row['ms']:.3f} "
            f"| {row['ns_per_butterfly']:.2f} | {row['numpy_ms']:.1f} "
            f"| {row['numpy_ms'] / row['ms']:.0f}x |"
        )
    print()


# --- table 2: choice of reduction ----------------------------------------------------------------


@njit(inline="always", cache=True)
def barrett_portable(a, b, q, mu, bits):
    """a·b mod q by Barrett, with both wide products built from 32-bit halves."""
    high, low = mul_wide_portable(a, b)
    shift = bits - np.uint64(1)
    t = (low >> shift) | (high << (np.uint64(64) - shift))
    t_mu_high, t_mu_low = mul_wide_portable(t, mu)
    up = bits + np.uint64(1)
    quotient = (t_mu_low >> up) | (t_mu_high << (np.uint64(64) - up))
    r = low - quotient * q
    if r >= q:
        r -= q
    if r >= q:
        r -= q
    return r


@njit(parallel=True, cache=True)
def multiply_portable_kernel(a, b, moduli, mu, bits, out):
    L, N = a.shape
    for r in prange(L):
        q = moduli[r]
        for n in range(N):
            out[r, n] = barrett_portable(a[r, n], b[r, n], q, mu[r], bits[r])


@njit(parallel=True, cache=True)
def multiply_shoup_kernel(a, factors, companions, moduli, out):
    L, N = a.shape
    for r in prange(L):
        q = moduli[r]
        w = factors[r]
        ws = companions[r]
        for n in range(N):
            out[r, n] = mul_shoup(a[r, n], w, ws, q)


def reduction_table(quick: bool) -> list[tuple[str, float]]:
    ring_degree, count = 1 << 14, 8
    moduli = prime_chain([PRIME_BITS] * count, ring_degree)
    constants = ModulusConstants(moduli)
    a = random_residues(moduli, ring_degree, seed=1)
    b = random_residues(moduli, ring_degree, seed=2)
    factors = b[:, 0].copy()
    companions = np.array(
        [shoup_companion(int(w), q) for w, q in zip(factors, moduli, strict=True)], dtype=np.uint64
    )
    out = np.empty_like(a)

    expected = [
        [x * y % q for x, y in zip(ra, rb, strict=True)]
        for ra, rb, q in zip(a.tolist(), b.tolist(), moduli, strict=True)
    ]
    arithmetic.multiply(a, b, constants, out=out)
    library_ok = out.tolist() == expected
    multiply_portable_kernel(a, b, constants.moduli, constants.barrett, constants.bits, out)
    portable_ok = out.tolist() == expected
    multiply_shoup_kernel(a, factors, companions, constants.moduli, out)
    shoup_ok = out.tolist() == [
        [x * int(w) % q for x in ra] for ra, w, q in zip(a.tolist(), factors, moduli, strict=True)
    ]
    if not (library_ok and portable_ok and shoup_ok):
        raise SystemExit("a reduction variant gave a wrong product")

    cases = [
        (
            "LLVM 64×64→128 product + Barrett (ckks.ring.arithmetic.multiply, used)",
            lambda: arithmetic.multiply(a, b, constants, out=out),
        ),
        (
            "32-bit-halves product + Barrett (portable)",
            lambda: multiply_portable_kernel(
                a, b, constants.moduli, constants.barrett, constants.bits, out
            ),
        ),
        (
            "Shoup by a per-row constant (twiddles, fixed factors)",
            lambda: multiply_shoup_kernel(a, factors, companions, constants.moduli, out),
        ),
    ]
    products = count * ring_degree
    budget = 0.05 if quick else 0.3
    return [(name, median_seconds(call, 5, budget, 500) / products * 1e9) for name, call in cases]


def print_reduction_table(rows: list[tuple[str, float]]) -> None:
    print(f"### Pointwise product of two (8, 2^14) arrays, {PRIME_BITS}-bit primes\n")
    print("| reduction | ns / product |")
    print("| --- | ---: |")
    for name, nanoseconds in rows:
        print(f"| {name} | {nanoseconds:.2f} |")
    (_, llvm), (_, portable), (_, shoup) = rows
    faster = "LLVM" if llvm <= portable else "portable"
    print(
        f"\nVarying operands (Barrett): the {faster} product is faster here, "
        f"{max(llvm, portable) / min(llvm, portable):.2f}x; a constant factor with Shoup costs "
        f"{shoup / min(llvm, portable):.2f}x the faster Barrett.\n"
    )


# --- cold start ----------------------------------------------------------------------------------

COLD_START = """
import json, sys, time
started = float(sys.argv[1])
entered = time.time()
import numba
numba.set_num_threads(int(sys.argv[2]))
import numpy as np
from ckks.ring.ntt import NttTables
from ckks.ring.primes import prime_chain
imported = time.time()
moduli = prime_chain([60], 1 << 14)
tables = NttTables(1 << 14, moduli)
prepared = time.time()
residues = np.arange(1 << 14, dtype=np.uint64).reshape(1, -1)
tables.forward(residues)
done = time.time()
print(json.dumps({"interpreter": entered - started, "imports": imported - entered,
                  "tables": prepared - imported, "first_ntt": done - prepared,
                  "total": done - started}))
"""


def cold_start(threads: int, runs: int) -> dict:
    """Phases of a fresh process up to its first NTT at N = 2^14, median over ``runs``."""
    samples = []
    for run in range(runs + 1):
        result = subprocess.run(
            [sys.executable, "-c", COLD_START, repr(time.time()), str(threads)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        if run:  # the first run only makes sure the JIT cache is warm
            samples.append(json.loads(result.stdout))
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="Numba threads (default 1)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, N up to 2^14")
    args = parser.parse_args(argv)
    numba.set_num_threads(args.threads)
    log_degrees = LOG_DEGREES[:3] if args.quick else LOG_DEGREES

    print(f"Threads: {args.threads}; NumPy {np.__version__}, Numba {numba.__version__}\n")
    ntt_rows = ntt_table(log_degrees, PRIME_COUNTS, args.quick)
    print_ntt_table(ntt_rows)
    print_reduction_table(reduction_table(args.quick))

    phases = cold_start(args.threads, runs=1 if args.quick else 3)
    print(
        "Fresh process to the end of its first NTT at N=2^14 (1 prime, JIT cache warm): "
        f"{phases['total']:.2f} s = interpreter {phases['interpreter']:.2f} s + imports "
        f"{phases['imports']:.2f} s + primes and tables {phases['tables']:.2f} s + first NTT "
        f"{phases['first_ntt']:.2f} s\n"
    )

    at_target = [row["ns_per_butterfly"] for row in ntt_rows if row["log_degree"] == 14]
    worst = max(at_target)
    verdict = "pass" if worst <= TARGET_NS_PER_BUTTERFLY else "miss"
    print(
        f"- Target: at most {TARGET_NS_PER_BUTTERFLY:g} ns per butterfly at N=2^14 on one core: "
        f"{verdict} ({min(at_target):.2f}–{worst:.2f} ns over 1–{max(PRIME_COUNTS)} primes)"
        + ("" if args.threads == 1 else f" [measured with {args.threads} threads]")
    )
    verdict = "pass" if phases["total"] <= TARGET_FIRST_NTT_SECONDS else "miss"
    print(
        f"- Target: first NTT within {TARGET_FIRST_NTT_SECONDS:g} s of process start: {verdict} "
        f"({phases['total']:.2f} s)"
    )


if __name__ == "__main__":
    main()
