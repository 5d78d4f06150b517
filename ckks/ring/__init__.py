"""Arithmetic of R_q = Z_q[X]/(X^N + 1) in residue-number-system (RNS) form.

Legend used in kernels: ``N`` ring degree, ``q`` a word-sized prime with q ≡ 1 (mod 2N), ``psi`` a
primitive 2N-th root of unity mod q, ``L`` number of primes (limbs) of a polynomial.
"""
