"""C16: thread safety of shared parameters, keys and evaluators.

SEAL 3.5.8 built a Galois index table lazily and racing threads summed to 2.63e19 instead of
4095; TenSEAL crashed in threads on a scale error that one thread reports normally. Here many
threads share one evaluator (and its keys and tables) from its very first rotation. Rotation and
addition use no randomness, so every thread's result must be bit-identical to the sequential one,
and its decryption must be 4095 in every slot within the derived bound.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import ckks
from tests.ckks.conftest import assert_slots_close, make_kit, powers_of_two_below

WORKERS = 32
TASKS = 90  # the case's "about 90 threads"


def rotate_and_accumulate(evaluator: ckks.Evaluator, ciphertext: ckks.Ciphertext, slots: int):
    """acc ← acc + rotate(acc, 2^r) for every r: each slot ends up holding the sum of all."""
    accumulated = ciphertext
    for step in powers_of_two_below(slots):
        accumulated = accumulated + evaluator.rotate(accumulated, step)
    return accumulated


def run_case(kit, repeats: int) -> None:
    slots = kit.params.slot_count
    ciphertext = kit.encryptor_for(1600).encrypt(kit.encoder.encode(np.arange(1.0, 91.0)))
    bound = kit.noise.sum_slots(kit.noise.fresh(), kit.params.max_level, ciphertext.scale)
    expected = np.full(slots, 4095.0)

    for _ in range(repeats):
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = [
                pool.submit(rotate_and_accumulate, kit.evaluator, ciphertext, slots)
                for _ in range(TASKS)
            ]
            results = [future.result() for future in futures]

        reference = rotate_and_accumulate(kit.evaluator, ciphertext, slots)
        assert_slots_close(kit.decrypt(reference), expected, bound, kit.params, expected)
        for result in results:
            assert np.array_equal(result.data, reference.data)


def test_c16a_rotate_and_sum_in_32_threads():
    """A fresh parameter set and evaluator, first used by 32 threads at once: 4095 everywhere."""
    params = ckks.Parameters(2048, [50, 35], [50], 35, insecure=True)
    kit = make_kit(
        params, seed=1601, rotation_steps=powers_of_two_below(params.slot_count), conjugation=False
    )

    run_case(kit, repeats=3)


@pytest.mark.slow
def test_c16a_rotate_and_sum_in_32_threads_at_n_2_13_ten_times():
    """The case at full size: N = 2^13, 90 tasks, ten repetitions."""
    params = ckks.Parameters(8192, [60, 40, 40], [60], 40)
    kit = make_kit(
        params, seed=1602, rotation_steps=powers_of_two_below(params.slot_count), conjugation=False
    )

    run_case(kit, repeats=10)


def test_c16b_scale_error_in_threads_is_an_ordinary_exception():
    """N = 8192, {60, 40} + special {60}, Δ = 2^40. v = [0, 1]; square v in place (relinearize,
    rescale: level 0, scale about 2^40); v·[[1, 2], [3, 4]] then needs a product scale of 2^80
    in a 60-bit modulus: every thread gets an OutOfLevelsError, the process carries on."""
    params = ckks.Parameters(8192, [60, 40], [60], 40)
    kit = make_kit(params, seed=1603)
    v = kit.encryptor_for(1604).encrypt(kit.encoder.encode([0.0, 1.0]))
    kit.evaluator.square_inplace(v)
    kit.evaluator.relinearize_inplace(v)
    kit.evaluator.rescale_inplace(v)
    assert v.level == 0
    before = v.data.copy()

    def matrix_product(_):
        column_0 = kit.evaluator.multiply_vector(v, [1.0, 3.0])
        column_1 = kit.evaluator.multiply_vector(v, [2.0, 4.0])
        return column_0, column_1

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = [pool.submit(matrix_product, index) for index in range(WORKERS)]
        errors = [future.exception() for future in futures]

    assert all(isinstance(error, ckks.OutOfLevelsError) for error in errors)
    assert all("product scale 2^80" in str(error) for error in errors)
    assert np.array_equal(v.data, before)
    with pytest.raises(ckks.OutOfLevelsError):
        matrix_product(0)


def test_threads_encrypting_with_one_seeded_source_draw_distinct_randomness(small):
    """The seeded source is locked: concurrent encryptions never reuse a draw."""
    encryptor = small.encryptor_for(1605)
    plaintext = small.encoder.encode([1.0])

    with ThreadPoolExecutor(max_workers=8) as pool:
        ciphertexts = list(pool.map(lambda _: encryptor.encrypt(plaintext), range(64)))

    masks = {ciphertext.data[1].tobytes() for ciphertext in ciphertexts}
    assert len(masks) == 64
    for ciphertext in ciphertexts:
        assert_slots_close(small.decrypt(ciphertext)[:1], 1.0, small.noise.fresh(), small.params)
