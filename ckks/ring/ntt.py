"""Negacyclic number-theoretic transform (NTT) over a set of word-sized primes.

For a prime q ≡ 1 (mod 2N) with a primitive 2N-th root of unity ψ, the forward transform maps the
coefficients of a(X) ∈ Z_q[X]/(X^N + 1) to its values at the odd powers ψ^(2k+1); products in
the ring become pointwise products. The twist by powers of ψ that turns the cyclic transform into
the negacyclic one is merged into the twiddle factors (Pöppelmann–Oder–Güneysu, Longa–Naehrig).

Forward: Cooley–Tukey butterflies, natural order in, bit-reversed order out; value k is
a(ψ^(2·brv(k)+1)), brv the bit reversal over log2 N bits. Inverse: Gentleman–Sande, bit-reversed
in, natural out, the factor 1/N merged into the last stage.

Butterflies are lazy (Harvey 2014): values stay in [0, 4q) (forward) or [0, 2q) (inverse) between
stages and are reduced once at the end, which needs q < 2^61. Twiddles are Shoup constants.

Every prime of a polynomial goes through one parallel kernel call (``prange`` over primes).
"""

from __future__ import annotations

import numpy as np
import sympy
from numba import njit, prange

from ckks.errors import ArrayShapeError, ArrayTypeError, ParameterError
from ckks.ring.modarith import MAX_PRIME_BITS, mul_shoup, mul_shoup_lazy, shoup_companion
from ckks.ring.validation import check_residues, check_ring_degree

_U64 = np.uint64


def bit_reverse_permutation(ring_degree: int) -> np.ndarray:
    """Indices brv(k) for k < N, reversing log2 N bits."""
    bits = ring_degree.bit_length() - 1
    indices = np.arange(ring_degree, dtype=np.int64)
    reversed_indices = np.zeros(ring_degree, dtype=np.int64)
    for bit in range(bits):
        reversed_indices |= ((indices >> bit) & 1) << (bits - 1 - bit)
    return reversed_indices


def primitive_root_of_unity(order: int, q: int) -> int:
    """A primitive ``order``-th root of unity mod q (order a power of two dividing q − 1)."""
    if (q - 1) % order:
        raise ArrayShapeError(f"modulus {q} is not ≡ 1 mod {order}; it has no {order}-th root")
    for base in range(2, q):
        root = pow(base, (q - 1) // order, q)
        if pow(root, order // 2, q) == q - 1:
            return root
    raise ArrayShapeError(f"modulus {q} has no primitive {order}-th root of unity; is it prime?")


class NttTables:
    """Precomputed twiddles for a list of primes at one ring degree (read-only after creation).

    Attributes:
        ring_degree: N.
        moduli: uint64 array of the primes.
        psi: uint64 array (primes,) of the chosen primitive 2N-th roots ψ_i.
        forward_roots, forward_roots_shoup: (primes, N) powers ψ^brv(k) and Shoup companions.
        inverse_roots, inverse_roots_shoup: (primes, N) powers ψ^-(brv(k)) and companions.
        degree_inverse, degree_inverse_shoup: N^-1 mod q_i; merged into the last inverse stage.
        last_inverse, last_inverse_shoup: N^-1 · ψ^-brv(1), the last stage's merged twiddle.
    """

    def __init__(self, ring_degree: int, moduli: list[int]):
        self.ring_degree = check_ring_degree(ring_degree)
        moduli = [_check_modulus(q, index, self.ring_degree) for index, q in enumerate(moduli)]
        self.moduli = np.array(moduli, dtype=np.uint64)
        count = len(moduli)
        brv = bit_reverse_permutation(ring_degree)
        self.psi = np.zeros(count, dtype=np.uint64)
        tables = {name: np.zeros((count, ring_degree), np.uint64) for name in _TABLE_NAMES}
        scalars = {name: np.zeros(count, np.uint64) for name in _SCALAR_NAMES}
        for row, q in enumerate(moduli):
            psi = primitive_root_of_unity(2 * ring_degree, q)
            psi_inverse = pow(psi, -1, q)
            self.psi[row] = psi
            powers = _powers(psi, ring_degree, q)[brv]
            inverse_powers = _powers(psi_inverse, ring_degree, q)[brv]
            tables["forward_roots"][row] = powers
            tables["forward_roots_shoup"][row] = [shoup_companion(int(w), q) for w in powers]
            tables["inverse_roots"][row] = inverse_powers
            tables["inverse_roots_shoup"][row] = [
                shoup_companion(int(w), q) for w in inverse_powers
            ]
            degree_inverse = pow(ring_degree, -1, q)
            last = degree_inverse * int(inverse_powers[1]) % q if ring_degree > 1 else 0
            scalars["degree_inverse"][row] = degree_inverse
            scalars["degree_inverse_shoup"][row] = shoup_companion(degree_inverse, q)
            scalars["last_inverse"][row] = last
            scalars["last_inverse_shoup"][row] = shoup_companion(last, q)
        for name, value in {**tables, **scalars}.items():
            value.flags.writeable = False
            setattr(self, name, value)
        self.moduli.flags.writeable = False
        self.psi.flags.writeable = False

    def _rows(self, prime_indices, count: int) -> np.ndarray:
        if prime_indices is None:
            rows = np.arange(count, dtype=np.int64)
        else:
            rows = np.asarray(prime_indices)
            if rows.dtype.kind not in "iu" and rows.size:
                raise ArrayTypeError(
                    f"prime_indices must be integers, got dtype {rows.dtype} ({prime_indices!r})"
                )
            rows = rows.astype(np.int64)
        if rows.shape != (count,):
            raise ArrayShapeError(
                f"prime_indices must list one table row per polynomial row ({count}), "
                f"got shape {rows.shape}"
            )
        if count and (rows.min() < 0 or rows.max() >= len(self.moduli)):
            raise ArrayShapeError(
                f"prime_indices must lie in [0, {len(self.moduli)}), got {rows.tolist()}"
            )
        return rows

    def forward_inplace(self, residues: np.ndarray, prime_indices=None) -> None:
        """Transform every row of ``residues`` (reduced coefficients) into NTT form, in place.

        Args:
            residues: uint64 (k, N); row j reduced modulo the prime ``prime_indices[j]``.
            prime_indices: table rows of the primes of each row; default 0 … k−1.
        """
        rows = self._check(residues, prime_indices)
        _forward_kernel(residues, rows, self.moduli, self.forward_roots, self.forward_roots_shoup)

    def inverse_inplace(self, residues: np.ndarray, prime_indices=None) -> None:
        """Transform every row of ``residues`` from NTT form back to coefficients, in place."""
        rows = self._check(residues, prime_indices)
        _inverse_kernel(
            residues,
            rows,
            self.moduli,
            self.inverse_roots,
            self.inverse_roots_shoup,
            self.degree_inverse,
            self.degree_inverse_shoup,
            self.last_inverse,
            self.last_inverse_shoup,
        )

    def forward(self, residues: np.ndarray, prime_indices=None) -> np.ndarray:
        """Return the NTT form of ``residues`` (a new array)."""
        _check_uint64(residues)
        out = np.array(residues, dtype=np.uint64, copy=True, order="C")
        self.forward_inplace(out, prime_indices)
        return out

    def inverse(self, residues: np.ndarray, prime_indices=None) -> np.ndarray:
        """Return the coefficients of ``residues`` given in NTT form (a new array)."""
        _check_uint64(residues)
        out = np.array(residues, dtype=np.uint64, copy=True, order="C")
        self.inverse_inplace(out, prime_indices)
        return out

    def _check(self, residues, prime_indices) -> np.ndarray:
        count = residues.shape[0] if isinstance(residues, np.ndarray) and residues.ndim else -1
        check_residues(residues, max(count, 0), self.ring_degree, "residues")
        rows = self._rows(prime_indices, count)
        if (residues >= self.moduli[rows][:, None]).any():
            raise ArrayShapeError(
                "residues must be reduced modulo their primes (values >= q found)"
            )
        return rows


def _check_uint64(residues) -> None:
    if not isinstance(residues, np.ndarray) or residues.dtype != np.uint64:
        check_residues(residues, 0, 0, "residues")  # raises the matching named error


def _check_modulus(q, index: int, ring_degree: int) -> int:
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)):
        raise ParameterError(f"moduli[{index}] must be an int, got {q!r}")
    q = int(q)
    if q >= 1 << MAX_PRIME_BITS or q < 3:
        raise ParameterError(
            f"moduli[{index}] must be below 2^{MAX_PRIME_BITS} (lazy butterflies keep values "
            f"below 4q < 2^63), got {q} ({q.bit_length()} bits)"
        )
    if (q - 1) % (2 * ring_degree) or not sympy.isprime(q):
        raise ParameterError(
            f"moduli[{index}] must be a prime ≡ 1 mod 2N = {2 * ring_degree}, got {q}"
        )
    return q


_TABLE_NAMES = ("forward_roots", "forward_roots_shoup", "inverse_roots", "inverse_roots_shoup")
_SCALAR_NAMES = ("degree_inverse", "degree_inverse_shoup", "last_inverse", "last_inverse_shoup")


def _powers(root: int, count: int, q: int) -> np.ndarray:
    values = np.empty(count, dtype=np.uint64)
    power = 1
    for k in range(count):
        values[k] = power
        power = power * root % q
    return values


@njit(inline="always", cache=True)
def _forward_one(a, q, roots, roots_shoup):
    # Zero-based loops over the two halves let LLVM drop negative-index checks: 2x faster.
    N = a.shape[0]
    two_q = q + q
    t = N
    m = 1
    while m < N:
        t >>= 1
        for i in range(m):
            w = roots[m + i]
            ws = roots_shoup[m + i]
            low = a[2 * i * t : 2 * i * t + t]
            high = a[2 * i * t + t : 2 * i * t + 2 * t]
            for j in range(t):
                x = low[j]
                x = x - two_q if x >= two_q else x
                y = mul_shoup_lazy(high[j], w, ws, q)
                low[j] = x + y
                high[j] = x - y + two_q
        m <<= 1
    for j in range(N):
        x = a[j]
        x = x - two_q if x >= two_q else x
        a[j] = x - q if x >= q else x


@njit(parallel=True, cache=True)
def _forward_kernel(a, rows, moduli, roots, roots_shoup):
    for r in prange(a.shape[0]):
        p = rows[r]
        _forward_one(a[r], moduli[p], roots[p], roots_shoup[p])


@njit(inline="always", cache=True)
def _inverse_one(a, q, roots, roots_shoup, n_inv, n_inv_s, last, last_s):
    N = a.shape[0]
    two_q = q + q
    t = 1
    m = N
    while m > 2:
        h = m >> 1
        for i in range(h):
            w = roots[h + i]
            ws = roots_shoup[h + i]
            low = a[2 * i * t : 2 * i * t + t]
            high = a[2 * i * t + t : 2 * i * t + 2 * t]
            for j in range(t):
                x = low[j]
                y = high[j]
                s = x + y
                low[j] = s - two_q if s >= two_q else s
                high[j] = mul_shoup_lazy(x - y + two_q, w, ws, q)
        t <<= 1
        m = h
    # Last stage (m = 2): the factor 1/N is merged into both outputs.
    low = a[:t]
    high = a[t:]
    for j in range(t):
        x = low[j]
        y = high[j]
        low[j] = mul_shoup(x + y, n_inv, n_inv_s, q)
        high[j] = mul_shoup(x - y + two_q, last, last_s, q)


@njit(parallel=True, cache=True)
def _inverse_kernel(a, rows, moduli, roots, roots_shoup, n_inv, n_inv_s, last, last_s):
    for r in prange(a.shape[0]):
        p = rows[r]
        _inverse_one(
            a[r], moduli[p], roots[p], roots_shoup[p], n_inv[p], n_inv_s[p], last[p], last_s[p]
        )
