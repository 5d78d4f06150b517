"""ckks: a from-scratch CKKS homomorphic-encryption engine (NumPy and Numba only).

Typical use::

    params = ckks.Parameters(1 << 14, [60] + [40] * 6, [60], 40)
    keygen = ckks.KeyGenerator(params)
    encoder = ckks.Encoder(params)
    encryptor = ckks.Encryptor(params, keygen.public_key())
    evaluator = ckks.Evaluator(params, keygen.relinearization_key(), keygen.galois_keys([1]))
    ct = encryptor.encrypt(encoder.encode([1.0, 2.0, 3.0]))
    values = encoder.decode(ckks.Decryptor(params, keygen.secret_key).decrypt(ct * ct))
"""

from ckks.ciphertext import Ciphertext
from ckks.decryptor import Decryptor
from ckks.encoder import Encoder
from ckks.encryptor import Encryptor
from ckks.errors import (
    ArrayShapeError,
    ArrayTypeError,
    CkksError,
    EncodingError,
    InsecureRandomnessError,
    KeyMismatchError,
    LevelMismatchError,
    MemoryBudgetError,
    MissingKeyError,
    OutOfLevelsError,
    ParameterError,
    ScaleMismatchError,
    SerializationError,
    TransparentCiphertextError,
)
from ckks.evaluator import Evaluator
from ckks.io import load, save, save_secret_key
from ckks.keygen import KeyGenerator
from ckks.keys import GaloisKeys, PublicKey, RelinearizationKey, SecretKey
from ckks.parameters import Parameters
from ckks.plaintext import Plaintext

__all__ = [
    "ArrayShapeError",
    "ArrayTypeError",
    "Ciphertext",
    "CkksError",
    "Decryptor",
    "Encoder",
    "EncodingError",
    "Encryptor",
    "Evaluator",
    "GaloisKeys",
    "InsecureRandomnessError",
    "KeyGenerator",
    "KeyMismatchError",
    "LevelMismatchError",
    "MemoryBudgetError",
    "MissingKeyError",
    "OutOfLevelsError",
    "ParameterError",
    "Parameters",
    "Plaintext",
    "PublicKey",
    "RelinearizationKey",
    "ScaleMismatchError",
    "SecretKey",
    "SerializationError",
    "TransparentCiphertextError",
    "load",
    "save",
    "save_secret_key",
]
