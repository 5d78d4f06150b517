"""Misuse: one test per documented error of the scheme layer, each checked for its message.

Every error must be a :class:`ckks.CkksError` and the builtin that matches its meaning, and its
message must contain the offending value. The documented conditions come from the ``Raises``
sections of ``ckks.parameters``, ``encoder``, ``keygen``, ``encryptor``, ``decryptor`` and
``evaluator``, plus the module docstrings of ``ckks.errors`` and ``ckks.evaluator``.
"""

from __future__ import annotations

import numpy as np
import pytest

import ckks
from ckks.ring.sampling import InsecureDeterministicSource, RandomSource

BUILTINS = {
    "ParameterError": ValueError,
    "ArrayShapeError": ValueError,
    "ArrayTypeError": TypeError,
    "InsecureRandomnessError": ValueError,
    "EncodingError": ValueError,
    "ScaleMismatchError": ValueError,
    "LevelMismatchError": ValueError,
    "OutOfLevelsError": ValueError,
    "KeyMismatchError": ValueError,
    "MissingKeyError": KeyError,
    "MemoryBudgetError": MemoryError,
    "SerializationError": ValueError,
    "TransparentCiphertextError": ValueError,
}


def test_every_exported_error_is_covered():
    exported = {name for name in ckks.__all__ if name.endswith("Error")} - {"CkksError"}

    assert exported == set(BUILTINS)


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_error_is_a_ckks_error_and_its_builtin(name):
    error_class = getattr(ckks, name)

    assert issubclass(error_class, ckks.CkksError)
    assert issubclass(error_class, BUILTINS[name])
    with pytest.raises(BUILTINS[name]):
        raise error_class("message")


# ------------------------------------------------------------------------------------------------
# ParameterError from Parameters
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ring_degree", [3000, 0, -8, 2**18, 2.5, True, "8192"])
def test_bad_ring_degree(ring_degree):
    with pytest.raises(ckks.ParameterError) as caught:
        ckks.Parameters(ring_degree, [60, 40], [60], 40)

    assert str(ring_degree) in str(caught.value) or repr(ring_degree) in str(caught.value)


# The security-table cases C10a–c and the memory budget of C15 are in test_cases_engine.py.


def test_ring_degree_without_a_security_row():
    with pytest.raises(ckks.ParameterError, match="ring_degree 512 has no 128-bit"):
        ckks.Parameters(512, [20], [], 10)


def test_insecure_flag_is_accepted_and_visible():
    """insecure=True must be set on purpose; the repr (and the parameter hash) then say so."""
    insecure = ckks.Parameters(512, [20], [], 10, insecure=True)
    secure = ckks.Parameters(1024, [20], [], 10)

    assert insecure.insecure is True
    assert "INSECURE" in repr(insecure)
    assert "INSECURE" not in repr(secure)
    assert secure.insecure is False


def test_insecure_flag_changes_the_parameter_identity(standard_params):
    twin = ckks.Parameters(8192, [60, 40, 40], [60], 40, insecure=True)

    assert twin.moduli == standard_params.moduli
    assert twin != standard_params


@pytest.mark.parametrize("bits", [62, 13, 0, "40", 40.0, None])
def test_bad_prime_size(bits):
    with pytest.raises(ckks.ParameterError) as caught:
        ckks.Parameters(8192, [60, bits], [60], 40)

    assert str(bits) in str(caught.value)


@pytest.mark.parametrize("moduli_bits", [[], "60,40", 60, None])
def test_bad_moduli_list(moduli_bits):
    with pytest.raises(ckks.ParameterError):
        ckks.Parameters(8192, moduli_bits, [60], 40)


@pytest.mark.parametrize("scale_bits", [60, 61, 0, -1, float("nan"), float("inf"), "40", True])
def test_scale_without_headroom_or_invalid(scale_bits):
    """The scale must stay below the first prime, which is what remains at the last level."""
    with pytest.raises(ckks.ParameterError) as caught:
        ckks.Parameters(8192, [60, 40, 40], [60], scale_bits)

    assert str(scale_bits) in str(caught.value) or repr(scale_bits) in str(caught.value)


@pytest.mark.parametrize("digits", [0, 4, -1, True, 1.5])
def test_bad_key_switch_digit_count(digits):
    with pytest.raises(ckks.ParameterError) as caught:
        ckks.Parameters(8192, [60, 40, 40], [60], 40, key_switch_digits=digits)

    assert str(digits) in str(caught.value)


def test_digit_count_without_special_primes():
    with pytest.raises(ckks.ParameterError, match="needs special primes"):
        ckks.Parameters(8192, [60, 40, 40], [], 40, key_switch_digits=1)


@pytest.mark.parametrize("digits", [1, 2, 3])
def test_valid_digit_counts(digits):
    params = ckks.Parameters(8192, [60, 40, 40], [60], 40, key_switch_digits=digits)

    assert params.key_switch_digit_count == digits


# ------------------------------------------------------------------------------------------------
# Key generation
# ------------------------------------------------------------------------------------------------


def test_key_switching_keys_need_special_primes():
    params = ckks.Parameters(8192, [60, 40], [], 40)
    keygen = ckks.KeyGenerator(params, random_source=InsecureDeterministicSource(1))

    with pytest.raises(ckks.ParameterError, match="special primes"):
        keygen.relinearization_key()


@pytest.mark.parametrize("step", [1.0, "1", None, True])
def test_galois_steps_must_be_integers(small_params, step):
    keygen = ckks.KeyGenerator(small_params, random_source=InsecureDeterministicSource(1))

    with pytest.raises(ckks.ParameterError, match="steps must be ints"):
        keygen.galois_keys([step])


def test_secure_source_refuses_a_seed():
    """Seeding the CSPRNG source is refused; the deterministic one must be named on purpose."""
    with pytest.raises(ckks.InsecureRandomnessError, match="InsecureDeterministicSource"):
        RandomSource(0)


# ------------------------------------------------------------------------------------------------
# Encryptor and Decryptor
# ------------------------------------------------------------------------------------------------


def test_encryptor_refuses_a_non_key(standard_params, standard):
    with pytest.raises(ckks.ParameterError, match="PublicKey or a SecretKey"):
        ckks.Encryptor(standard_params, standard.evaluator.relinearization_key)


def test_encrypt_refuses_a_non_plaintext(standard):
    with pytest.raises(ckks.ParameterError, match="list"):
        standard.encryptor.encrypt([1.0, 2.0])


def test_key_or_plaintext_of_other_parameters_is_refused(standard, small):
    """Documented KeyMismatchError (the docstrings said ParameterError until e9ae375)."""
    with pytest.raises(ckks.KeyMismatchError, match="other parameters"):
        ckks.Encryptor(standard.params, small.keygen.public_key())
    with pytest.raises(ckks.KeyMismatchError, match="other parameters"):
        standard.encryptor.encrypt(small.encoder.encode([1.0]))


def test_decryptor_refuses_a_non_secret_key(standard_params, standard):
    with pytest.raises(ckks.ParameterError, match="PublicKey"):
        ckks.Decryptor(standard_params, standard.keygen.public_key())


def test_decrypt_with_another_secret_key(standard, standard_other_key):
    ciphertext = standard.encrypt([1.0])

    with pytest.raises(ckks.KeyMismatchError) as caught:
        standard_other_key.decryptor.decrypt(ciphertext)

    assert ciphertext.fingerprint.hex() in str(caught.value)
    assert standard_other_key.keygen.secret_key.fingerprint.hex() in str(caught.value)


def test_decrypt_ciphertext_of_other_parameters(standard, small):
    with pytest.raises(ckks.KeyMismatchError, match="other parameters"):
        standard.decryptor.decrypt(small.encrypt([1.0]))


def test_decrypt_detects_a_wrapped_value(standard):
    """1.25·2^19 at Δ = 2^40 is 0.625·q_0 at level 0: the product is refused by the value bound;
    with that check off, the result wraps and decrypt says so."""
    ciphertext = standard.encrypt(1.0, level=0)
    with pytest.raises(ckks.EncodingError, match="overflow"):
        standard.evaluator.multiply_constant(ciphertext, 5 * 2**17)

    unchecked = ckks.Evaluator(standard.params, check_bounds=False)
    wrapped = unchecked.multiply_constant(ciphertext, 5 * 2**17)
    with pytest.raises(ckks.EncodingError, match="overflowed the modulus at level 0"):
        standard.decryptor.decrypt(wrapped)


# ------------------------------------------------------------------------------------------------
# Evaluator: operands
# ------------------------------------------------------------------------------------------------


def test_scale_mismatch_names_both_scales(standard):
    a = standard.encrypt([1.0])
    b = standard.encrypt([1.0], scale=2.0**41)

    with pytest.raises(ckks.ScaleMismatchError) as caught:
        standard.evaluator.add(a, b)

    assert repr(2.0**40) in str(caught.value)
    assert repr(2.0**41) in str(caught.value)


def test_plaintext_scale_mismatch(standard):
    a = standard.encrypt([1.0])
    plain = standard.encoder.encode([1.0], scale=2.0**30)

    with pytest.raises(ckks.ScaleMismatchError, match=repr(2.0**30)):
        standard.evaluator.add_plain(a, plain)


def test_scales_within_the_relative_tolerance_are_equal(standard):
    """Scales are compared with a relative tolerance (2^-30), not exact float equality."""
    a = standard.encrypt([1.0])
    b = standard.encrypt([2.0], scale=2.0**40 * (1 + 2.0**-40))

    total = standard.evaluator.add(a, b)

    assert abs(standard.decrypt(total)[0] - 3.0) < 1e-5


def test_no_level_left_to_align_scales(standard):
    a = standard.encrypt([1.0], level=0)
    b = standard.encrypt([1.0], level=0, scale=2.0**40 * 1.5)

    with pytest.raises(ckks.ScaleMismatchError, match="at level 0"):
        a + b


def test_level_mismatch_names_both_levels(standard):
    a = standard.encrypt([1.0])
    b = standard.encrypt([1.0], level=1)

    with pytest.raises(ckks.LevelMismatchError, match=r"\(2 and 1\)"):
        standard.evaluator.add(a, b)
    with pytest.raises(ckks.LevelMismatchError, match=r"\(2 and 1\)"):
        standard.evaluator.multiply(a, b)


def test_plaintext_level_mismatch(standard):
    a = standard.encrypt([1.0], level=1)
    plain = standard.encoder.encode([1.0])

    with pytest.raises(ckks.LevelMismatchError, match="level 2 but the ciphertext at level 1"):
        standard.evaluator.multiply_plain(a, plain)


def test_plaintext_below_the_ciphertext_cannot_be_aligned(standard):
    a = standard.encrypt([1.0])
    plain = standard.encoder.encode([1.0], level=0)

    with pytest.raises(ckks.LevelMismatchError):
        standard.evaluator.multiply_plain(a, plain, align=True)


def test_operand_of_other_parameters(standard, small):
    with pytest.raises(ckks.KeyMismatchError, match="other parameters"):
        standard.evaluator.negate(small.encrypt([1.0]))


def test_operands_under_different_secret_keys(standard, standard_other_key):
    a = standard.encrypt([1.0])
    b = standard_other_key.encrypt([1.0])

    with pytest.raises(ckks.KeyMismatchError) as caught:
        standard.evaluator.add(a, b)

    assert a.fingerprint.hex() in str(caught.value)
    assert b.fingerprint.hex() in str(caught.value)


@pytest.mark.parametrize("operation", ["add", "sub", "multiply"])
def test_non_ciphertext_operand(standard, operation):
    a = standard.encrypt([1.0])

    with pytest.raises(ckks.ParameterError, match="must be a Ciphertext, got list"):
        getattr(standard.evaluator, operation)(a, [1.0])


def test_operator_with_an_unsupported_type(standard):
    a = standard.encrypt([1.0])

    with pytest.raises(ckks.ParameterError, match="str"):
        a + "1"


# ------------------------------------------------------------------------------------------------
# Evaluator: levels
# ------------------------------------------------------------------------------------------------


def test_rescale_at_level_zero(standard):
    with pytest.raises(ckks.OutOfLevelsError, match="level 0"):
        standard.evaluator.rescale(standard.encrypt([1.0], level=0))


def test_mod_switch_to_next_at_level_zero(standard):
    with pytest.raises(ckks.OutOfLevelsError, match="level 0"):
        standard.evaluator.mod_switch_to_next(standard.encrypt([1.0], level=0))


def test_product_scale_beyond_the_modulus(standard):
    """At level 0, Δ² = 2^80 cannot fit q_0 ≈ 2^60: refused before computing, values named."""
    a = standard.encrypt([1.0], level=0)

    with pytest.raises(ckks.OutOfLevelsError) as caught:
        standard.evaluator.multiply(a, a)

    assert "2^80" in str(caught.value)
    assert "2^60" in str(caught.value)
    with pytest.raises(ckks.OutOfLevelsError):
        standard.evaluator.square(a)
    with pytest.raises(ckks.OutOfLevelsError):
        standard.evaluator.multiply_plain(a, standard.encoder.encode([1.0], level=0))


@pytest.mark.parametrize("level", [3, -1, 1.0, True, None])
def test_mod_switch_to_bad_level(standard, level):
    a = standard.encrypt([1.0], level=2)

    with pytest.raises(ckks.ParameterError) as caught:
        standard.evaluator.mod_switch_to(a, level)

    assert str(level) in str(caught.value)


# ------------------------------------------------------------------------------------------------
# Evaluator: keys
# ------------------------------------------------------------------------------------------------


def test_relinearize_without_a_key(standard_params, standard):
    a = standard.encrypt([1.0])
    product = standard.evaluator.multiply(a, a)

    with pytest.raises(ckks.MissingKeyError, match="no relinearization key") as caught:
        ckks.Evaluator(standard_params).relinearize(product)

    assert isinstance(caught.value, KeyError)
    assert not str(caught.value).startswith(("'", '"'))


def test_rotate_without_galois_keys(standard_params, standard):
    with pytest.raises(ckks.MissingKeyError, match="no Galois keys"):
        ckks.Evaluator(standard_params).rotate(standard.encrypt([1.0]), 1)


def test_rotate_by_a_step_without_a_key(standard):
    """The message names the step and lists the available (normalized) steps."""
    with pytest.raises(ckks.MissingKeyError) as caught:
        standard.evaluator.rotate(standard.encrypt([1.0]), 7)

    assert "step 7" in str(caught.value)
    assert str(sorted({s % 4096 for s in standard.rotation_steps})) in str(caught.value)


def test_conjugate_and_sum_slots_without_their_keys(standard, standard_other_key):
    other = standard_other_key  # Galois keys for step 1 only, no conjugation
    a = other.encrypt([1.0])

    with pytest.raises(ckks.MissingKeyError, match="conjugation"):
        other.evaluator.conjugate(a)
    with pytest.raises(ckks.MissingKeyError, match="step 2"):
        other.evaluator.sum_slots(a)


def test_galois_keys_of_another_secret_key(standard_params, standard, standard_other_key):
    evaluator = ckks.Evaluator(
        standard_params, galois_keys=standard_other_key.evaluator.galois_keys
    )

    with pytest.raises(ckks.KeyMismatchError, match="different secret key"):
        evaluator.rotate(standard.encrypt([1.0]), 1)


def test_relinearization_key_of_another_secret_key(standard_params, standard, standard_other_key):
    evaluator = ckks.Evaluator(
        standard_params, relinearization_key=standard_other_key.evaluator.relinearization_key
    )
    a = standard.encrypt([1.0])

    with pytest.raises(ckks.KeyMismatchError, match="different secret key"):
        evaluator.relinearize(evaluator.multiply(a, a))


def test_evaluator_keys_from_two_secret_keys(standard_params, standard, standard_other_key):
    with pytest.raises(ckks.KeyMismatchError, match="different secret keys"):
        ckks.Evaluator(
            standard_params,
            relinearization_key=standard.evaluator.relinearization_key,
            galois_keys=standard_other_key.evaluator.galois_keys,
        )


def test_evaluator_keys_of_other_parameters(standard_params, small):
    with pytest.raises(ckks.KeyMismatchError, match="other parameters"):
        ckks.Evaluator(standard_params, relinearization_key=small.evaluator.relinearization_key)


def test_evaluator_key_of_the_wrong_type(standard_params, standard):
    with pytest.raises(ckks.ParameterError, match="must be a GaloisKeys"):
        ckks.Evaluator(standard_params, galois_keys=standard.evaluator.relinearization_key)


@pytest.mark.parametrize("step", [1.0, "1", None])
def test_rotation_step_must_be_an_integer(standard, step):
    with pytest.raises(ckks.ParameterError, match="steps must be ints"):
        standard.evaluator.rotate(standard.encrypt([1.0]), step)


def test_three_part_ciphertext_is_refused_by_rotate_and_multiply(standard):
    """C13 family: rotation, conjugation and another product need two parts."""
    a = standard.encrypt([1.0])
    product = standard.evaluator.multiply(a, a)

    with pytest.raises(ckks.ParameterError, match="ciphertext has 3 components"):
        standard.evaluator.rotate(product, 1)
    with pytest.raises(ckks.ParameterError, match="ciphertext has 3 components"):
        standard.evaluator.conjugate(product)
    with pytest.raises(ckks.ParameterError, match="relinearize"):
        standard.evaluator.multiply(product, a)
    with pytest.raises(ckks.ParameterError, match="relinearize"):
        standard.evaluator.square(product)


# ------------------------------------------------------------------------------------------------
# Transparent ciphertexts
# ------------------------------------------------------------------------------------------------


def test_transparent_result_without_public_material(standard_params, standard):
    """x − x with no public key anywhere cannot be re-randomized: a named error, not c1 = 0."""
    a = standard.encrypt([1.0])
    bare = ckks.Ciphertext(a.data, a.level, a.scale, a.params, a.fingerprint)
    evaluator = ckks.Evaluator(standard_params)

    with pytest.raises(ckks.TransparentCiphertextError, match="mask polynomial is zero"):
        evaluator.sub(bare, bare)
    with pytest.raises(ckks.TransparentCiphertextError):
        evaluator.multiply_constant(bare, 0)


def test_transparent_result_is_rerandomized_when_a_public_key_is_known(standard):
    a = standard.encrypt([1.0, 2.0, 3.0])

    for result in (a - a, a * 0, standard.evaluator.multiply_plain(a, standard.encoder.encode(0))):
        assert result.data[1].any()
        assert result.size == 2
        assert np.max(np.abs(standard.decrypt(result))) <= standard.noise.fresh()
