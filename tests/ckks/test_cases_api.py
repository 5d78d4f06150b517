"""Cases C30, C31, C32 and C35 of ../shared/cases/ckks_cases.md, at the API level.

C30: seeding Python's ``random`` or NumPy's global generator changes no key material.
C31: serialization pitfalls of other libraries (load order, new process, other parameters, a
     secret key dropped on save).
C32: Galois keys of one secret key used on a ciphertext of another, loaded from disk.
C35: releasing decryptions to another party (``Decryptor.decrypt_for_release``).
"""

from __future__ import annotations

import math
import os
import random
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ckks
from ckks import serialization
from ckks.ring.sampling import InsecureDeterministicSource

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]

# From the layout documented in ckks.serialization: a 56-byte header whose last field (offset 48)
# is the u64 payload length, the payload, then a 32-byte SHA-256.
HEADER_BYTES = 56
LENGTH_OFFSET = 48
CHECKSUM_BYTES = 32

#: Standard deviation of the encryption error (ckks.ring.sampling.DEFAULT_SIGMA).
SIGMA = 3.2
#: Tail factor of the slot-error bound: P(|complex Gaussian| > 6σ) = e^-36 per slot.
TAIL = 6.0


def seeded_keygen(params, seed: int) -> ckks.KeyGenerator:
    return ckks.KeyGenerator(params, random_source=InsecureDeterministicSource(seed))


def run_python(script: str, *arguments: str) -> subprocess.CompletedProcess:
    """Run ``script`` in a new interpreter that imports this checkout's ``ckks``."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(REPOSITORY_ROOT), environment.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    result = subprocess.run(
        [sys.executable, "-c", script, *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def split_stream(stream: bytes) -> list[bytes]:
    """Cut concatenated blobs apart, using the payload length each header declares."""
    blobs = []
    while stream:
        (length,) = struct.unpack_from("<Q", stream, LENGTH_OFFSET)
        end = HEADER_BYTES + length + CHECKSUM_BYTES
        blobs.append(stream[:end])
        stream = stream[end:]
    return blobs


# ------------------------------------------------------------------------------------------------
# C30: the global generators of Python and NumPy have no say in key material
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_params() -> ckks.Parameters:
    """N = 2^12, data primes {36, 30}, special {36}, Δ = 2^30 (128-bit secure)."""
    return ckks.Parameters(4096, [36, 30], [36], 30)


def test_c30_reseeding_global_generators_gives_different_keys(small_params):
    random.seed(0)
    np.random.seed(0)
    first = ckks.KeyGenerator(small_params)
    random.seed(0)
    np.random.seed(0)
    second = ckks.KeyGenerator(small_params)

    assert first.secret_key.fingerprint != second.secret_key.fingerprint
    assert not np.array_equal(first.secret_key.coefficients, second.secret_key.coefficients)
    assert first.public_key().seed != second.public_key().seed


def test_c30_reseeding_global_generators_gives_different_ciphertexts(small_params):
    keygen = ckks.KeyGenerator(small_params)
    plain = ckks.Encoder(small_params).encode([1.0, 2.0, 3.0])
    for key in (keygen.public_key(), keygen.secret_key):
        ciphertexts = []
        for _ in range(2):
            random.seed(0)
            np.random.seed(0)
            ciphertexts.append(ckks.Encryptor(small_params, key).encrypt(plain))

        assert not np.array_equal(ciphertexts[0].data, ciphertexts[1].data)


def test_c30_deterministic_mode_is_explicit_and_says_insecure(small_params):
    first = seeded_keygen(small_params, 30)
    second = seeded_keygen(small_params, 30)

    assert first.secret_key.fingerprint == second.secret_key.fingerprint
    assert "INSECURE" in repr(InsecureDeterministicSource(30))
    with pytest.raises(ckks.InsecureRandomnessError, match="InsecureDeterministicSource"):
        ckks.ring.sampling.RandomSource(0)


@pytest.mark.parametrize("component", ["KeyGenerator", "Encryptor"])
def test_c30_python_random_generator_is_refused_with_a_named_error(small_params, component):
    """The C30 pitfall itself, random.Random(0), is refused when the component is built."""
    with pytest.raises(ckks.InsecureRandomnessError, match=r"random\.Random"):
        if component == "KeyGenerator":
            ckks.KeyGenerator(small_params, random_source=random.Random(0))
        else:
            public_key = ckks.KeyGenerator(small_params).public_key()
            ckks.Encryptor(small_params, public_key, random_source=random.Random(0))


# ------------------------------------------------------------------------------------------------
# C31: serialization pitfalls
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def c31(small_params):
    """Keys, a ciphertext of [1, 2, 3] and the values it decrypts to, under ``small_params``."""
    keygen = seeded_keygen(small_params, 3101)
    encoder = ckks.Encoder(small_params)
    encryptor = ckks.Encryptor(
        small_params, keygen.public_key(), random_source=InsecureDeterministicSource(3102)
    )
    ciphertext = encryptor.encrypt(encoder.encode([1.0, 2.0, 3.0]))
    decryptor = ckks.Decryptor(small_params, keygen.secret_key)
    return {
        "params": small_params,
        "keygen": keygen,
        "galois_keys": keygen.galois_keys([1]),
        "ciphertext": ciphertext,
        "values": encoder.decode(decryptor.decrypt(ciphertext)),
    }


def test_c31_wrong_load_order_from_one_stream_names_both_types(c31):
    stream = c31["galois_keys"].to_bytes() + c31["ciphertext"].to_bytes() + c31["params"].to_bytes()
    first, second, third = split_stream(stream)

    with pytest.raises(ckks.SerializationError, match="expected Parameters, found GaloisKeys"):
        ckks.Parameters.from_bytes(first)
    with pytest.raises(ckks.SerializationError, match="expected Parameters, found Ciphertext"):
        ckks.Parameters.from_bytes(second)
    params = ckks.Parameters.from_bytes(third)
    assert params == c31["params"]
    assert ckks.GaloisKeys.from_bytes(first, params).steps == c31["galois_keys"].steps
    np.testing.assert_array_equal(
        ckks.Ciphertext.from_bytes(second, params).data, c31["ciphertext"].data
    )


def test_c31_library_splits_a_stream_in_save_order(c31):
    stream = c31["galois_keys"].to_bytes() + c31["ciphertext"].to_bytes() + c31["params"].to_bytes()

    blobs = serialization.split_stream(stream)

    assert blobs == split_stream(stream)
    with pytest.raises(ckks.SerializationError, match="expected Parameters, found GaloisKeys"):
        ckks.Parameters.from_bytes(blobs[0])
    for broken in (stream[:-1], stream + b"HENN", b"garbage" + stream):
        with pytest.raises(ckks.SerializationError, match="stream"):
            serialization.split_stream(broken)


def test_c31_whole_stream_is_refused_not_half_read(c31):
    stream = c31["galois_keys"].to_bytes() + c31["params"].to_bytes()

    # The first header declares a shorter blob than the stream: no silent partial read.
    with pytest.raises(ckks.SerializationError, match="GaloisKeys"):
        ckks.Parameters.from_bytes(stream)


def test_c31_params_first_from_a_concatenated_stream_says_expected_parameters(c31):
    stream = c31["galois_keys"].to_bytes() + c31["params"].to_bytes()

    with pytest.raises(ckks.SerializationError, match="expected Parameters, found GaloisKeys"):
        ckks.Parameters.from_bytes(stream)


def test_c31_wrong_load_order_from_files(c31, tmp_path):
    ckks.save(c31["galois_keys"], tmp_path / "galois.ckks")
    ckks.save(c31["ciphertext"], tmp_path / "ciphertext.ckks")
    ckks.save(c31["params"], tmp_path / "params.ckks")

    with pytest.raises(ckks.SerializationError, match="expected Parameters, found GaloisKeys"):
        ckks.load(tmp_path / "galois.ckks", expected="Parameters")
    with pytest.raises(ckks.SerializationError, match="needs the parameters"):
        ckks.load(tmp_path / "galois.ckks")
    params = ckks.load(tmp_path / "params.ckks", expected="Parameters")
    assert ckks.load(tmp_path / "ciphertext.ckks", params, expected="Ciphertext").level == 1


#: New process: build the same parameters from their arguments, load the secret key and the
#: ciphertext, decrypt, and write back the decoded values and the ciphertext's bytes.
C31_CHILD = """
import pathlib, sys
import numpy as np
import ckks
folder = pathlib.Path(sys.argv[1])
params = ckks.Parameters(4096, [36, 30], [36], 30)
secret_key = ckks.load(folder / "secret.ckks", params, expected="SecretKey")
ciphertext = ckks.load(folder / "ciphertext.ckks", params, expected="Ciphertext")
plain = ckks.Decryptor(params, secret_key).decrypt(ciphertext)
np.save(folder / "values.npy", ckks.Encoder(params).decode(plain))
(folder / "ciphertext.back").write_bytes(ciphertext.to_bytes())
"""


def test_c31_ciphertext_decrypts_bit_identically_in_a_new_process(c31, tmp_path):
    ckks.save_secret_key(c31["keygen"].secret_key, tmp_path / "secret.ckks")
    ckks.save(c31["ciphertext"], tmp_path / "ciphertext.ckks")

    run_python(C31_CHILD, str(tmp_path))

    child_values = np.load(tmp_path / "values.npy")
    assert child_values.dtype == c31["values"].dtype
    assert child_values.tobytes() == c31["values"].tobytes()
    assert (tmp_path / "ciphertext.back").read_bytes() == c31["ciphertext"].to_bytes()
    np.testing.assert_allclose(child_values[:3], [1, 2, 3], atol=1e-3)


def test_c31_reloaded_parameters_decrypt_like_the_original(c31, tmp_path):
    ckks.save(c31["params"], tmp_path / "params.ckks")
    ckks.save_secret_key(c31["keygen"].secret_key, tmp_path / "secret.ckks")
    params = ckks.load(tmp_path / "params.ckks")

    decryptor = ckks.Decryptor(params, ckks.load(tmp_path / "secret.ckks", params))
    ciphertext = ckks.Ciphertext.from_bytes(c31["ciphertext"].to_bytes(), params)

    values = ckks.Encoder(params).decode(decryptor.decrypt(ciphertext))
    assert values.tobytes() == c31["values"].tobytes()


def test_c31_key_from_another_ring_degree_is_a_parameter_hash_mismatch(tmp_path):
    params_8192 = ckks.Parameters(8192, [60, 40, 40], [60], 40)
    params_16384 = ckks.Parameters(16384, [60, 40, 40], [60], 40)
    keygen = seeded_keygen(params_8192, 3103)
    ckks.save(keygen.public_key(), tmp_path / "public.ckks")
    ckks.save(keygen.relinearization_key(), tmp_path / "relin.ckks")
    ckks.save_secret_key(keygen.secret_key, tmp_path / "secret.ckks")

    for name in ("public.ckks", "relin.ckks", "secret.ckks"):
        with pytest.raises(ckks.SerializationError, match="parameter hash mismatch"):
            ckks.load(tmp_path / name, params_16384)
    assert isinstance(ckks.load(tmp_path / "relin.ckks", params_8192), ckks.RelinearizationKey)


def test_c31_secret_key_is_only_written_by_calls_that_name_it(c31, tmp_path):
    secret_key = c31["keygen"].secret_key

    with pytest.raises(ckks.SerializationError, match="refusing to serialize a SecretKey"):
        ckks.save(secret_key, tmp_path / "secret.ckks")
    with pytest.raises(ckks.SerializationError, match="export_secret_bytes"):
        secret_key.to_bytes()
    with pytest.raises(ckks.SerializationError, match="cannot serialize a KeyGenerator"):
        ckks.save(c31["keygen"], tmp_path / "keygen.ckks")
    assert os.listdir(tmp_path) == []

    ckks.save_secret_key(secret_key, tmp_path / "secret.ckks")
    exported = secret_key.export_secret_bytes()
    assert (tmp_path / "secret.ckks").read_bytes() == exported
    # No public object carries the secret: none of them is as small as, or contains, its bytes.
    coefficients = secret_key.coefficients.astype(np.int8).tobytes()
    for obj in (c31["params"], c31["galois_keys"], c31["ciphertext"]):
        assert coefficients not in obj.to_bytes()


# ------------------------------------------------------------------------------------------------
# C32: Galois keys of one secret key, ciphertext of another loaded from disk
# ------------------------------------------------------------------------------------------------


#: The case's parameters (N = 2^13, Δ = 2^25) and a wider scale; a 60-bit special prime keeps
#: the key-switching noise of the first digit near 2^-15 of a unit.
C32_PARAMETERS = {
    "case-scale-2^25": (8192, [45, 25], [60], 25),
    "scale-2^40": (8192, [60, 40], [60], 40),
}


@pytest.fixture(scope="module")
def c32(request, tmp_path_factory):
    """Two secret keys; sk2 and both Galois key sets go through files before use."""
    params = ckks.Parameters(*C32_PARAMETERS[request.param])
    folder = tmp_path_factory.mktemp("c32")
    first = seeded_keygen(params, 3201)
    second = seeded_keygen(params, 3202)
    ckks.save_secret_key(second.secret_key, folder / "sk2.ckks")
    ckks.save(second.galois_keys([-1]), folder / "gk2.ckks")
    ckks.save(first.galois_keys([-1]), folder / "gk1.ckks")
    secret_key_2 = ckks.load(folder / "sk2.ckks", params, expected="SecretKey")
    encryptor = ckks.Encryptor(
        params, secret_key_2, random_source=InsecureDeterministicSource(3203)
    )
    return {
        "params": params,
        "first": first,
        "secret_key_2": secret_key_2,
        "galois_keys_1": first.galois_keys([-1]),
        "galois_keys_1_loaded": ckks.load(folder / "gk1.ckks", params),
        "galois_keys_2_loaded": ckks.load(folder / "gk2.ckks", params),
        "ciphertext": encryptor.encrypt(ckks.Encoder(params).encode([1.0, 2.0, 3.0])),
    }


ALL_C32 = pytest.mark.parametrize("c32", sorted(C32_PARAMETERS), indirect=True)


@ALL_C32
@pytest.mark.parametrize("keys", ["galois_keys_1", "galois_keys_1_loaded"])
def test_c32_galois_keys_of_another_secret_key_are_refused(c32, keys):
    evaluator = ckks.Evaluator(c32["params"], galois_keys=c32[keys])

    with pytest.raises(ckks.KeyMismatchError, match="different secret key"):
        evaluator.rotate(c32["ciphertext"], -1)


@ALL_C32
def test_c32_plain_encrypt_decrypt_still_works_and_other_key_is_refused(c32):
    params = c32["params"]
    decryptor = ckks.Decryptor(params, c32["secret_key_2"])

    values = ckks.Encoder(params).decode(decryptor.decrypt(c32["ciphertext"]))

    np.testing.assert_allclose(values[:4].real, [1, 2, 3, 0], atol=1e-3)
    with pytest.raises(ckks.KeyMismatchError, match="different secret key"):
        ckks.Decryptor(params, c32["first"].secret_key).decrypt(c32["ciphertext"])


@ALL_C32
def test_c32_matching_keys_rotate_right_by_one(c32):
    """Bound: key switching adds about sqrt(N·(1 + 2N/3)/12)/Δ per slot (the /P rounding), so
    6σ is 3.5·10^-4 at Δ = 2^25 and 10^-8 at Δ = 2^40, both below the case's 10^-3."""
    params = c32["params"]
    evaluator = ckks.Evaluator(params, galois_keys=c32["galois_keys_2_loaded"])
    decryptor = ckks.Decryptor(params, c32["secret_key_2"])

    rotated = evaluator.rotate(c32["ciphertext"], -1)

    values = ckks.Encoder(params).decode(decryptor.decrypt(rotated))
    expected = np.zeros(params.slot_count)
    expected[1:4] = [1.0, 2.0, 3.0]
    assert float(np.max(np.abs(values - expected))) < 1e-3


@pytest.mark.parametrize("c32", ["case-scale-2^25"], indirect=True)
def test_c32_rotation_error_is_centred(c32):
    """The error coefficients of a rotated encryption of zero average to zero.

    At f7a7160 mod-down floored, (x − [x]_P)/P, adding −(f0 + f1·s) with f in [0, 1) to every key
    switch: a mean of −(1 + s)/2 per coefficient (−30 here), which the slots whose root is near 1
    amplify about 2N/π times (5.5·10^-3 at slot 0 for Δ = 2^25, against a median of 4·10^-5).
    With rounding the error is zero-mean with deviation σ_e (measured), so its mean over N
    coefficients stays within 6·σ_e/sqrt(N) of zero. The first digit (45 bits) is far below P
    (60 bits), so the non-centred digits' term (Q_d/2P)·e_d is negligible at these parameters.
    """
    params = c32["params"]
    evaluator = ckks.Evaluator(params, galois_keys=c32["galois_keys_2_loaded"])
    encryptor = ckks.Encryptor(
        params, c32["secret_key_2"], random_source=InsecureDeterministicSource(3204)
    )
    zero = encryptor.encrypt(ckks.Encoder(params).encode([0.0]))

    errors = (
        ckks.Decryptor(params, c32["secret_key_2"]).decrypt(evaluator.rotate(zero, -1)).centered
    )

    assert abs(errors.mean()) < 6 * errors.std() / math.sqrt(params.ring_degree)


@ALL_C32
def test_c32_evaluator_refuses_keys_of_two_secret_keys(c32):
    with pytest.raises(ckks.KeyMismatchError, match="different secret keys"):
        ckks.Evaluator(
            c32["params"],
            relinearization_key=c32["first"].relinearization_key(),
            galois_keys=c32["galois_keys_2_loaded"],
        )


# ------------------------------------------------------------------------------------------------
# C35: release precision drops to the declared level and no further
# ------------------------------------------------------------------------------------------------

RELEASE_PRECISIONS = [8, 12, 16, 20]


@pytest.fixture(scope="module")
def c35():
    """N = 2^13, Δ = 2^40: a fresh symmetric encryption errs by about 2^-29, far below 2^-20."""
    params = ckks.Parameters(8192, [60, 40], [60], 40)
    keygen = seeded_keygen(params, 3501)
    rng = np.random.default_rng(3502)
    values = np.sqrt(rng.uniform(0, 1, params.slot_count)) * np.exp(
        2j * np.pi * rng.uniform(0, 1, params.slot_count)
    )
    encryptor = ckks.Encryptor(
        params, keygen.secret_key, random_source=InsecureDeterministicSource(3503)
    )
    ciphertext = encryptor.encrypt(ckks.Encoder(params).encode(values))
    # Fresh symmetric error e (variance σ²) plus encoding rounding (1/12), per slot, 6σ tail.
    bound = TAIL * math.sqrt(params.ring_degree * (SIGMA**2 + 1 / 12)) / params.scale
    return {
        "params": params,
        "decryptor": ckks.Decryptor(params, keygen.secret_key),
        "encoder": ckks.Encoder(params),
        "values": values,
        "ciphertext": ciphertext,
        "exact_bound": bound,
    }


def component_errors(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Errors of the real and of the imaginary parts, side by side."""
    return np.concatenate(
        [np.abs(observed.real - expected.real), np.abs(observed.imag - expected.imag)]
    )


@pytest.mark.parametrize("precision_bits", RELEASE_PRECISIONS)
def test_c35_release_precision_is_the_declared_one(c35, precision_bits):
    """Error per real or imaginary part: flooding noise N(0, (step/4)²) plus rounding to step.

    max: |noise| + step/2 + exact error; |noise| > 1.5·step is a 6σ event (2·10^-9 per part, so
    about 10^-4 over the 8,192 parts of all four precisions), hence < 2·step.
    mean: E|round(x + noise) − x| ≈ 0.3·step for values spread over the grid, well above step/8.
    """
    step = 2.0**-precision_bits
    assert c35["exact_bound"] < step / 8  # the CKKS error must not mask the release

    released = c35["decryptor"].decrypt_for_release(c35["ciphertext"], precision_bits)

    assert released.dtype == np.complex128
    assert released.shape == (c35["params"].slot_count,)
    for part in (released.real, released.imag):
        assert np.array_equal(part / step, np.round(part / step))
    errors = component_errors(released, c35["values"])
    assert errors.max() < 2 * step
    assert errors.mean() > step / 8


@pytest.mark.parametrize("precision_bits", RELEASE_PRECISIONS)
def test_c35_exact_decryption_stays_more_precise(c35, precision_bits):
    step = 2.0**-precision_bits
    exact = c35["encoder"].decode(c35["decryptor"].decrypt(c35["ciphertext"]))
    released = c35["decryptor"].decrypt_for_release(c35["ciphertext"], precision_bits)

    exact_errors = component_errors(exact, c35["values"])
    assert exact_errors.max() <= c35["exact_bound"]
    assert exact_errors.max() < step / 8
    assert exact_errors.mean() < component_errors(released, c35["values"]).mean() / 8


def test_c35_each_release_draws_fresh_noise(c35):
    first = c35["decryptor"].decrypt_for_release(c35["ciphertext"], 16)
    second = c35["decryptor"].decrypt_for_release(c35["ciphertext"], 16)

    # The noise is drawn afresh: a part differs when the two noises straddle a rounding boundary,
    # with probability E|n1 − n2|/step = sqrt(1/8)·sqrt(2/π) ≈ 0.28, so a slot differs with
    # probability ≈ 1 − 0.72² ≈ 0.48; over 4,096 slots the observed rate stays well above 0.3.
    assert np.mean(first != second) > 0.3
