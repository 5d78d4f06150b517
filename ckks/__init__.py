"""ckks: a from-scratch CKKS homomorphic-encryption engine (NumPy and Numba only)."""

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

__all__ = [
    "ArrayShapeError",
    "ArrayTypeError",
    "CkksError",
    "EncodingError",
    "InsecureRandomnessError",
    "KeyMismatchError",
    "LevelMismatchError",
    "MemoryBudgetError",
    "MissingKeyError",
    "OutOfLevelsError",
    "ParameterError",
    "ScaleMismatchError",
    "SerializationError",
    "TransparentCiphertextError",
]

from ckks.ciphertext import Ciphertext
from ckks.decryptor import Decryptor
from ckks.encoder import Encoder
from ckks.encryptor import Encryptor
from ckks.evaluator import Evaluator
from ckks.keygen import KeyGenerator
from ckks.keys import GaloisKeys, PublicKey, RelinearizationKey, SecretKey
from ckks.parameters import Parameters
from ckks.plaintext import Plaintext

__all__ += [
    "Ciphertext",
    "Decryptor",
    "Encoder",
    "Encryptor",
    "Evaluator",
    "GaloisKeys",
    "KeyGenerator",
    "Parameters",
    "Plaintext",
    "PublicKey",
    "RelinearizationKey",
    "SecretKey",
]
