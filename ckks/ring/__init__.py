"""Arithmetic of R_q = Z_q[X]/(X^N + 1) in residue-number-system (RNS) form.

Legend used in kernels: ``N`` ring degree, ``q`` a word-sized prime with q ≡ 1 (mod 2N), ``psi`` a
primitive 2N-th root of unity mod q, ``L`` number of primes (limbs) of a polynomial.
"""

import os as _os

# Kernels run on one thread unless HENN_THREADS (or NUMBA_NUM_THREADS) says otherwise: on a
# shared or oversubscribed machine, waking a thread team for each millisecond-sized kernel can
# cost more than the kernel (measured: a 0.05 ms addition took 12 ms at load 6 on 2 cores).
# This must happen before Numba is first imported; it has no effect if the caller did so.
_os.environ.setdefault("NUMBA_NUM_THREADS", _os.environ.get("HENN_THREADS", "1"))
