"""A short tour of the CKKS engine: keys, encryption, arithmetic, rotations, decryption.

Every result is compared with the same computation in NumPy on the clear values.

Run: python examples/engine_tour.py
"""

from __future__ import annotations

import time

import numpy as np

import ckks


def timed(label: str, function, *args):
    start = time.perf_counter()
    result = function(*args)
    print(f"  {label:<34s} {1e3 * (time.perf_counter() - start):8.1f} ms")
    return result


def main() -> None:
    print("Parameters: N = 2^14, moduli {60, 40 x 6} + special {60}, scale 2^40")
    params = timed(
        "parameters (primes, NTT tables)", ckks.Parameters, 1 << 14, [60] + [40] * 6, [60], 40
    )
    print(f"  {params!r}")
    keygen = timed("secret and public key", ckks.KeyGenerator, params)
    relin_key = timed("relinearization key", keygen.relinearization_key)
    galois_keys = timed("Galois keys for steps 1, -1", keygen.galois_keys, [1, -1])
    encoder = ckks.Encoder(params)
    encryptor = ckks.Encryptor(params, keygen.public_key())
    decryptor = ckks.Decryptor(params, keygen.secret_key)
    evaluator = ckks.Evaluator(params, relin_key, galois_keys)

    rng = np.random.default_rng()
    x = rng.uniform(-1, 1, params.slot_count)
    y = rng.uniform(-1, 1, params.slot_count)
    print(f"\nEncrypting two vectors of {params.slot_count} values")
    cx = timed("encode + encrypt x", lambda: encryptor.encrypt(encoder.encode(x)))
    cy = timed("encode + encrypt y", lambda: encryptor.encrypt(encoder.encode(y)))

    print("\nComputing x*y + 0.5*x, rotated left by one, on ciphertexts")
    product = timed("multiply", evaluator.multiply, cx, cy)
    product = timed("relinearize", evaluator.relinearize, product)
    product = timed("rescale", evaluator.rescale, product)
    combined = timed("add 0.5*x (operators align levels)", lambda: product + cx * 0.5)
    rotated = timed("rotate by 1", evaluator.rotate, combined, 1)
    decoded = timed("decrypt + decode", lambda: encoder.decode(decryptor.decrypt(rotated)))

    expected = np.roll(x * y + 0.5 * x, -1)
    error = np.max(np.abs(decoded.real - expected))
    print(f"\nresult level {rotated.level}, scale 2^{np.log2(rotated.scale):.6f}")
    print(f"max |decrypted - numpy| = {error:.2e} over {params.slot_count} slots")
    print("ok" if error < 1e-5 else "ERROR: result differs from numpy")


if __name__ == "__main__":
    main()
