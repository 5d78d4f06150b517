"""Timings of the peer CKKS libraries TenSEAL (Microsoft SEAL) and desilofhe.

Both peers are optional (``pip install henn[bench]``); this module imports without them and
each timing function raises ``PeerNotInstalledError`` when its peer is missing.

Every timing is the median of ``repeats`` runs after one warm-up run, in seconds per
operation; sizes are serialized bytes. An operation a peer cannot do is ``None``. Both peers
run on one thread: TenSEAL through ``n_threads=1`` (SEAL's own kernels are single-threaded),
desilofhe through ``Engine(thread_count=1)``. Set ``OMP_NUM_THREADS=1`` in the environment
before the peers are first imported; ``python -m benchmarks.peers`` does so itself.

What each peer times, operation by operation:

TenSEAL 0.3.x (ciphertexts are ``ts.ckks_vector`` objects, ``auto_relin``, ``auto_rescale``
and ``auto_mod_switch`` left on; rotations go through ``tenseal.sealapi``, the raw SEAL
bindings shipped inside TenSEAL, applied to the TenSEAL context's own SEAL objects, because
``CKKSVector`` exposes no rotation):
    context_setup           ``ts.context(CKKS, N, coeff_mod_bit_sizes, n_threads=1)``
                            (SEAL parameter precomputation plus secret, public, relin keys)
    keygen                  ``sealapi.KeyGenerator(seal_context)`` then
                            ``create_public_key`` and ``create_relin_keys``
    galois_keys             ``KeyGenerator(seal_context, secret_key).create_galois_keys``
                            for the Galois elements 3^k mod 2N of steps k = 1..8
    galois_keys_default     ``context.generate_galois_keys()``, SEAL's default set
                            (steps ±2^i and conjugation; TenSEAL lets no steps be chosen)
    encode_encrypt          ``ts.ckks_vector(context, plain_tensor)`` (public-key encryption)
    decrypt_decode          ``vector.decrypt()``
    add                     ``vector + vector``
    multiply_relin_rescale  ``vector * vector``
    multiply_plain_rescale  ``vector * plain_tensor`` (TenSEAL encodes the plain operand
                            inside every call; it has no pre-encoded plaintext operand)
    rotate                  ``sealapi.Evaluator.rotate_vector(ciphertext, 1, galois_keys, out)``
    hoisted_rotate_8        eight ``rotate_vector`` calls, steps 1..8 (SEAL has no hoisting)
    ciphertext_bytes        ``len(vector.serialize())`` (SEAL's default zstd compression)
    galois_key_bytes_per_step  ``GaloisKeys.save`` of the 8-step keys, divided by 8
    relin_key_bytes         ``RelinKeys.save`` of the context's relinearization key

desilofhe 2.x (``Engine(max_level=L, thread_count=1)``; the library picks the ring degree,
the moduli and the scale from ``max_level``, so the chain asked for is matched by its number
of rescaling levels and the configuration used is returned under ``"config"``):
    context_setup           ``Engine(max_level=L, thread_count=1)``
    keygen                  ``create_secret_key``, ``create_public_key``,
                            ``create_relinearization_key``
    galois_keys             ``create_fixed_rotation_key(secret_key, k)`` for k = 1..8
    galois_keys_default     ``create_rotation_key(secret_key)`` (one key for any step)
    encode_encrypt          ``engine.encrypt(array, public_key)``
    decrypt_decode          ``engine.decrypt(ciphertext, secret_key)``
    add                     ``engine.add(ciphertext, ciphertext)``
    multiply_relin_rescale  ``engine.multiply(ciphertext, ciphertext, relinearization_key)``
                            (relinearizes and rescales in the same call)
    multiply_plain_rescale  ``engine.multiply(ciphertext, plaintext)`` with the plaintext
                            encoded beforehand at the ciphertext's level (rescales too)
    rotate                  ``engine.rotate(ciphertext, fixed_rotation_key_1)``
    hoisted_rotate_8        ``engine.rotate_many(ciphertext, fixed_rotation_keys_1_to_8)``
    ciphertext_bytes        ``len(engine.serialize_ciphertext(ciphertext))`` (uncompressed)
    galois_key_bytes_per_step  ``len(engine.serialize_fixed_rotation_key(key))``
    relin_key_bytes         ``len(engine.serialize_relinearization_key(key))``
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence

import numpy as np

INSTALL_HINT = "pip install henn[bench]"
ROTATION_STEPS = tuple(range(1, 9))
SCALE_BITS = 40
PARAMETER_SETS: tuple[tuple[int, tuple[int, ...]], ...] = (
    (1 << 13, (60, 40, 40, 60)),
    (1 << 14, (60, *[40] * 6, 60)),
    (1 << 15, (60, *[40] * 16, 60)),
)
OPERATIONS = (
    "context_setup",
    "keygen",
    "galois_keys",
    "galois_keys_default",
    "encode_encrypt",
    "decrypt_decode",
    "add",
    "multiply_relin_rescale",
    "multiply_plain_rescale",
    "rotate",
    "hoisted_rotate_8",
)
SIZES = ("ciphertext_bytes", "galois_key_bytes_per_step", "relin_key_bytes")

PeerResult = dict[str, float | str | None]


class PeerNotInstalledError(ImportError):
    """A peer library needed for a timing is not installed."""


def _import_peer(module_name: str):
    try:
        return __import__(module_name)
    except ImportError as error:
        raise PeerNotInstalledError(
            f"cannot time {module_name}: it is not installed ({INSTALL_HINT})"
        ) from error


def _check_arguments(ring_degree: int, moduli_bits: Sequence[int], repeats: int) -> None:
    if ring_degree < 2 or ring_degree & (ring_degree - 1):
        raise ValueError(f"ring_degree must be a power of two at least 2, not {ring_degree}")
    if len(moduli_bits) < 3:
        raise ValueError(
            "moduli_bits needs a base prime, at least one rescaling prime and a special prime, "
            f"not {list(moduli_bits)}"
        )
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")


def _median_seconds(operation: Callable[[], object], repeats: int) -> float:
    """Run `operation` once to warm up, then `repeats` times; return the median seconds."""
    operation()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        operation()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def _random_slots(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, count)


def _saved_size(seal_object, directory: str) -> int:
    """Bytes written by a SEAL object's `save`, which only writes to a file path."""
    path = os.path.join(directory, "object.seal")
    type(seal_object).save(seal_object, path)
    return os.path.getsize(path)


def time_tenseal(
    ring_degree: int, moduli_bits: Sequence[int], scale_bits: int = SCALE_BITS, repeats: int = 5
) -> PeerResult:
    """Time Microsoft SEAL's CKKS through TenSEAL on one thread.

    Args:
        ring_degree: the ring degree N (a power of two).
        moduli_bits: bit sizes of the SEAL modulus chain, special prime last.
        scale_bits: log2 of the encoding scale.
        repeats: timed runs per operation, after one warm-up run.

    Returns:
        Seconds per operation and bytes per object, keyed as in the module docstring, plus
        ``"config"`` and ``"notes"`` strings.

    Raises:
        PeerNotInstalledError: TenSEAL is not installed.
        ValueError: an argument is out of range.
    """
    _check_arguments(ring_degree, moduli_bits, repeats)
    ts = _import_peer("tenseal")
    from tenseal import sealapi

    def make_context():
        return ts.context(
            ts.SCHEME_TYPE.CKKS,
            ring_degree,
            coeff_mod_bit_sizes=list(moduli_bits),
            n_threads=1,
        )

    result: PeerResult = {"context_setup": _median_seconds(make_context, repeats)}
    context = make_context()
    context.global_scale = 2.0**scale_bits
    seal_context = context.data.seal_context()
    secret_key = context.data.secret_key()

    def keygen():
        generator = sealapi.KeyGenerator(seal_context)
        generator.create_public_key(sealapi.PublicKey())
        generator.create_relin_keys(sealapi.RelinKeys())

    # SEAL's Python overload taking a list reads it as Galois elements, not steps:
    # a left rotation by k slots is the automorphism X -> X^(3^k mod 2N).
    galois_elements = [pow(3, step, 2 * ring_degree) for step in ROTATION_STEPS]

    def galois_keys():
        keys = sealapi.GaloisKeys()
        sealapi.KeyGenerator(seal_context, secret_key).create_galois_keys(galois_elements, keys)
        return keys

    result["keygen"] = _median_seconds(keygen, repeats)
    result["galois_keys"] = _median_seconds(galois_keys, repeats)
    result["galois_keys_default"] = _median_seconds(context.generate_galois_keys, repeats)
    default_key_count = context.data.galois_keys().size()
    rotation_keys = galois_keys()

    slot_count = ring_degree // 2
    plain_x = ts.plain_tensor(_random_slots(slot_count, seed=1))
    plain_y = ts.plain_tensor(_random_slots(slot_count, seed=2))
    vector_x = ts.ckks_vector(context, plain_x)
    vector_y = ts.ckks_vector(context, plain_y)
    ciphertext_x = vector_x.data.ciphertext()[0]
    evaluator = sealapi.Evaluator(seal_context)

    def rotate(step: int):
        rotated = sealapi.Ciphertext()
        evaluator.rotate_vector(ciphertext_x, step, rotation_keys, rotated)
        return rotated

    result["encode_encrypt"] = _median_seconds(lambda: ts.ckks_vector(context, plain_x), repeats)
    result["decrypt_decode"] = _median_seconds(vector_x.decrypt, repeats)
    result["add"] = _median_seconds(lambda: vector_x + vector_y, repeats)
    result["multiply_relin_rescale"] = _median_seconds(lambda: vector_x * vector_y, repeats)
    result["multiply_plain_rescale"] = _median_seconds(lambda: vector_x * plain_y, repeats)
    result["rotate"] = _median_seconds(lambda: rotate(1), repeats)
    result["hoisted_rotate_8"] = _median_seconds(
        lambda: [rotate(step) for step in ROTATION_STEPS], repeats
    )

    result["ciphertext_bytes"] = float(len(vector_x.serialize()))
    with tempfile.TemporaryDirectory() as directory:
        result["galois_key_bytes_per_step"] = _saved_size(rotation_keys, directory) / len(
            ROTATION_STEPS
        )
        result["relin_key_bytes"] = float(_saved_size(context.data.relin_keys(), directory))

    result["config"] = (
        f"tenseal {ts.__version__}: N={ring_degree}, moduli bits {list(moduli_bits)}, "
        f"scale 2^{scale_bits}, n_threads=1"
    )
    result["notes"] = (
        f"rotations via tenseal.sealapi rotate_vector (CKKSVector has none); hoisted_rotate_8 "
        f"is 8 plain rotations (SEAL has no hoisting); galois_keys_default makes "
        f"{default_key_count} keys; multiply_plain includes encoding; sizes zstd-compressed"
    )
    return result


def _desilofhe_engine(desilofhe, ring_degree: int, levels: int):
    """The engine with `ring_degree` whose max_level is nearest to `levels`."""
    engine = desilofhe.Engine(max_level=levels, thread_count=1)
    if 2 * engine.slot_count == ring_degree:
        return engine

    candidates = []
    for max_level in range(1, 41):
        try:
            trial = desilofhe.Engine(max_level=max_level, thread_count=1)
        except (RuntimeError, ValueError):
            break
        if 2 * trial.slot_count == ring_degree:
            candidates.append((abs(max_level - levels), max_level))
    if not candidates:
        raise ValueError(
            f"desilofhe offers no max_level with ring degree {ring_degree}; "
            f"its max_level={levels} gives ring degree {2 * engine.slot_count}"
        )
    return desilofhe.Engine(max_level=min(candidates)[1], thread_count=1)


def time_desilofhe(
    ring_degree: int, moduli_bits: Sequence[int], scale_bits: int = SCALE_BITS, repeats: int = 5
) -> PeerResult:
    """Time desilofhe's CKKS on the CPU with one thread.

    desilofhe chooses its own moduli and scale; the engine used has the requested ring degree
    and, among those, the number of rescaling levels nearest to ``len(moduli_bits) - 2``.

    Args:
        ring_degree: the ring degree N (a power of two).
        moduli_bits: bit sizes of the chain asked for, special prime last; only its length is
            used, to pick the engine's ``max_level``.
        scale_bits: log2 of the scale asked for; desilofhe ignores it, and ``"config"`` says so.
        repeats: timed runs per operation, after one warm-up run.

    Returns:
        Seconds per operation and bytes per object, keyed as in the module docstring, plus
        ``"config"`` (the engine actually used) and ``"notes"`` strings.

    Raises:
        PeerNotInstalledError: desilofhe is not installed.
        ValueError: an argument is out of range, or no engine has the ring degree.
    """
    _check_arguments(ring_degree, moduli_bits, repeats)
    desilofhe = _import_peer("desilofhe")

    levels = len(moduli_bits) - 2
    engine = _desilofhe_engine(desilofhe, ring_degree, levels)
    max_level = engine.max_level
    result: PeerResult = {
        "context_setup": _median_seconds(
            lambda: desilofhe.Engine(max_level=max_level, thread_count=1), repeats
        )
    }

    def keygen():
        secret = engine.create_secret_key()
        engine.create_public_key(secret)
        engine.create_relinearization_key(secret)

    def fixed_rotation_keys():
        return [engine.create_fixed_rotation_key(secret_key, step) for step in ROTATION_STEPS]

    secret_key = engine.create_secret_key()
    public_key = engine.create_public_key(secret_key)
    relinearization_key = engine.create_relinearization_key(secret_key)
    result["keygen"] = _median_seconds(keygen, repeats)
    result["galois_keys"] = _median_seconds(fixed_rotation_keys, repeats)
    result["galois_keys_default"] = _median_seconds(
        lambda: engine.create_rotation_key(secret_key), repeats
    )
    rotation_keys = fixed_rotation_keys()

    x = _random_slots(engine.slot_count, seed=1)
    y = _random_slots(engine.slot_count, seed=2)
    ciphertext_x = engine.encrypt(x, public_key)
    ciphertext_y = engine.encrypt(y, public_key)
    plaintext_y = engine.encode(y, ciphertext_x.level)

    result["encode_encrypt"] = _median_seconds(lambda: engine.encrypt(x, public_key), repeats)
    result["decrypt_decode"] = _median_seconds(
        lambda: engine.decrypt(ciphertext_x, secret_key), repeats
    )
    result["add"] = _median_seconds(lambda: engine.add(ciphertext_x, ciphertext_y), repeats)
    result["multiply_relin_rescale"] = _median_seconds(
        lambda: engine.multiply(ciphertext_x, ciphertext_y, relinearization_key), repeats
    )
    result["multiply_plain_rescale"] = _median_seconds(
        lambda: engine.multiply(ciphertext_x, plaintext_y), repeats
    )
    result["rotate"] = _median_seconds(
        lambda: engine.rotate(ciphertext_x, rotation_keys[0]), repeats
    )
    result["hoisted_rotate_8"] = _median_seconds(
        lambda: engine.rotate_many(ciphertext_x, rotation_keys), repeats
    )

    result["ciphertext_bytes"] = float(len(engine.serialize_ciphertext(ciphertext_x)))
    result["galois_key_bytes_per_step"] = statistics.mean(
        len(engine.serialize_fixed_rotation_key(key)) for key in rotation_keys
    )
    result["relin_key_bytes"] = float(
        len(engine.serialize_relinearization_key(relinearization_key))
    )

    words_per_polynomial = ciphertext_x.nbytes / (2 * 8 * 2 * engine.slot_count)
    result["config"] = (
        f"desilofhe Engine(max_level={max_level}, thread_count=1): N={2 * engine.slot_count}, "
        f"~{words_per_polynomial:.0f} 64-bit RNS words per polynomial at the top level; "
        f"moduli and scale chosen by the library (asked {levels} levels, scale 2^{scale_bits})"
    )
    result["notes"] = (
        "rotation keys chosen per step (fixed rotation keys); hoisted_rotate_8 is rotate_many; "
        "galois_keys_default is one RotationKey serving any step; sizes uncompressed"
    )
    return result


def tenseal_mnist_latency(repeats: int = 5) -> dict[str, float | str]:
    """Per-image latency of TenSEAL's encrypted-MNIST tutorial network, with random weights.

    The network: im2col-encoded 28x28 image, convolution with 4 kernels 7x7 of stride 3
    (``conv2d_im2col``, packed with ``CKKSVector.pack_vectors``), square, linear 256 -> 64,
    square, linear 64 -> 10; N=8192, moduli bits [31, 26, 26, 26, 26, 26, 26, 31],
    scale 2^26, default Galois keys, one thread.

    Args:
        repeats: timed images, after one warm-up image.

    Returns:
        ``"encrypt_evaluate_decrypt"`` and ``"evaluate"`` median seconds per image, the
        ``"max_error"`` of one decrypted set of logits against the same network in
        numpy, the ``"max_abs_logit"`` of that reference, and a ``"config"`` string. The
        error is mostly TenSEAL's, not the scale's: its vector-matrix product leaves near-copies
        of the result in the slots past the output size, the bias is added to the used slots
        only, and the next product reads both (about 0.1 on logits up to 2 at scale 2^26 and
        at scale 2^40 alike).

    Raises:
        PeerNotInstalledError: TenSEAL is not installed.
        ValueError: repeats is below 1.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")
    ts = _import_peer("tenseal")

    kernel_size, stride, channel_count = 7, 3, 4
    context = ts.context(
        ts.SCHEME_TYPE.CKKS, 8192, coeff_mod_bit_sizes=[31, 26, 26, 26, 26, 26, 26, 31], n_threads=1
    )
    context.global_scale = 2.0**26
    context.generate_galois_keys()

    rng = np.random.default_rng(0)
    image = rng.uniform(0.0, 1.0, (28, 28))
    kernels = rng.normal(0.0, 0.1, (channel_count, kernel_size, kernel_size))
    kernel_biases = rng.normal(0.0, 0.1, channel_count)
    window_side = (28 - kernel_size) // stride + 1
    hidden_weights = rng.normal(0.0, 0.1, (channel_count * window_side**2, 64))
    hidden_biases = rng.normal(0.0, 0.1, 64)
    output_weights = rng.normal(0.0, 0.1, (64, 10))
    output_biases = rng.normal(0.0, 0.1, 10)

    def evaluate(encrypted_image, window_count):
        channels = [
            encrypted_image.conv2d_im2col(kernel.tolist(), window_count) + float(bias)
            for kernel, bias in zip(kernels, kernel_biases, strict=True)
        ]
        hidden = ts.CKKSVector.pack_vectors(channels)
        hidden.square_()
        hidden = hidden.mm(hidden_weights.tolist()) + hidden_biases.tolist()
        hidden.square_()
        return hidden.mm(output_weights.tolist()) + output_biases.tolist()

    def encrypt():
        return ts.im2col_encoding(context, image.tolist(), kernel_size, kernel_size, stride)

    def encrypt_evaluate_decrypt():
        return evaluate(*encrypt()).decrypt()

    encrypted_image, window_count = encrypt()
    logits = np.array(encrypt_evaluate_decrypt())
    expected = _mnist_reference(image, kernels, kernel_biases, stride)
    expected = (expected @ hidden_weights + hidden_biases) ** 2 @ output_weights + output_biases
    return {
        "encrypt_evaluate_decrypt": _median_seconds(encrypt_evaluate_decrypt, repeats),
        "evaluate": _median_seconds(lambda: evaluate(encrypted_image, window_count), repeats),
        "max_error": float(np.abs(logits - expected).max()),
        "max_abs_logit": float(np.abs(expected).max()),
        "config": (
            f"tenseal {ts.__version__}: N=8192, moduli bits [31, 26x6, 31], scale 2^26, "
            "n_threads=1, random weights, one 28x28 image"
        ),
    }


def _mnist_reference(image, kernels, kernel_biases, stride: int) -> np.ndarray:
    """Plaintext convolution and first square, flattened channel after channel."""
    kernel_size = kernels.shape[1]
    side = (image.shape[0] - kernel_size) // stride + 1
    channels = []
    for kernel, bias in zip(kernels, kernel_biases, strict=True):
        outputs = np.empty((side, side))
        for row in range(side):
            for column in range(side):
                window = image[
                    row * stride : row * stride + kernel_size,
                    column * stride : column * stride + kernel_size,
                ]
                outputs[row, column] = np.sum(window * kernel) + bias
        channels.append(outputs.ravel())
    return np.concatenate(channels) ** 2


def _format_cell(value: float | str | None, operation: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if operation.endswith("_bytes") or operation.endswith("_per_step"):
        return f"{value / 2**20:.2f} MiB"
    return f"{value * 1e3:.3f} ms"


def markdown_table(results: dict[str, PeerResult]) -> str:
    """A markdown table with one column per labelled peer result and one row per measure."""
    labels = list(results)
    lines = [
        "| measure | " + " | ".join(labels) + " |",
        "| --- | " + " | ".join("---:" for _ in labels) + " |",
    ]
    for operation in OPERATIONS + SIZES:
        cells = [_format_cell(results[label].get(operation), operation) for label in labels]
        lines.append(f"| {operation} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _run_peer(timer, ring_degree: int, moduli_bits: Sequence[int], repeats: int) -> PeerResult:
    try:
        return timer(ring_degree, moduli_bits, SCALE_BITS, repeats)
    except PeerNotInstalledError as error:
        return {"config": str(error)}


def main(repeats: int = 5) -> None:
    """Print both peers' tables at the three parameter sets, then the MNIST latency."""
    for ring_degree, moduli_bits in PARAMETER_SETS:
        results = {
            f"TenSEAL N=2^{ring_degree.bit_length() - 1}": _run_peer(
                time_tenseal, ring_degree, moduli_bits, repeats
            ),
            f"desilofhe N=2^{ring_degree.bit_length() - 1}": _run_peer(
                time_desilofhe, ring_degree, moduli_bits, repeats
            ),
        }
        print(f"### N = {ring_degree}, moduli bits {list(moduli_bits)}, scale 2^{SCALE_BITS}\n")
        print(markdown_table(results))
        print()
        for label, result in results.items():
            print(f"- {label}: {result.get('config')}; {result.get('notes', '')}")
        print()

    try:
        mnist = tenseal_mnist_latency(repeats)
    except PeerNotInstalledError as error:
        print(f"TenSEAL MNIST: {error}")
        return
    print(
        f"TenSEAL encrypted MNIST per image: encrypt+evaluate+decrypt "
        f"{mnist['encrypt_evaluate_decrypt'] * 1e3:.1f} ms, evaluate "
        f"{mnist['evaluate'] * 1e3:.1f} ms (logit error {mnist['max_error']:.2e} on logits up to "
        f"{mnist['max_abs_logit']:.2f}; "
        f"{mnist['config']})"
    )


if __name__ == "__main__":
    os.environ["OMP_NUM_THREADS"] = "1"
    main()
