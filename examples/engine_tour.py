"""A short tour of the ring layer: primes, NTT-based multiplication and CSPRNG sampling.

Run: python examples/engine_tour.py
"""

from __future__ import annotations

import time

import numpy as np

from ckks.ring.arithmetic import multiply
from ckks.ring.ntt import NttTables
from ckks.ring.primes import prime_chain
from ckks.ring.rns import RnsBase
from ckks.ring.sampling import RandomSource


def main() -> None:
    ring_degree = 1 << 14
    bit_sizes = [60, 40, 40, 40, 40, 40, 40, 60]
    start = time.perf_counter()
    primes = prime_chain(bit_sizes, ring_degree)
    base = RnsBase(primes)
    tables = NttTables(ring_degree, primes)
    print(f"ring degree {ring_degree}, {len(primes)} primes, log2 Q = {base.product.bit_length()}")
    print(f"precomputation: {time.perf_counter() - start:.2f} s")

    source = RandomSource()
    secret = source.ternary(ring_degree)
    error = source.gaussian(ring_degree)
    uniform = source.uniform(primes, ring_degree)
    print(f"ternary secret weight {np.count_nonzero(secret)}, max |error| {np.abs(error).max()}")

    # a·s + e computed through the NTT, checked against exact integers on a few coefficients.
    start = time.perf_counter()
    secret_residues = base.decompose(secret.tolist())
    product = tables.inverse(
        multiply(tables.forward(uniform), tables.forward(secret_residues), base.constants)
    )
    elapsed = time.perf_counter() - start
    exact = base.compose(uniform, centered=False)
    for k in (0, 1, ring_degree - 1):
        expected = sum(
            int(exact[i]) * int(secret[k - i]) if i <= k else -int(exact[i]) * int(secret[k - i])
            for i in range(ring_degree)
        ) % base.product
        got = int(base.compose(product[:, k : k + 1], centered=False)[0])
        status = "ok" if got == expected else "MISMATCH"
        print(f"coefficient {k:5d} of a·s: {status}")
    print(f"a·s over {len(primes)} primes via NTT: {elapsed * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
