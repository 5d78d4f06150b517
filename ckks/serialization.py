"""One binary format for every object of the engine, and atomic file helpers.

Layout of a blob (all integers little-endian):

    magic        8 bytes   b"HENNCKKS"
    version      u16       format version (readers refuse newer versions)
    type tag     u16       what the payload holds (see ``TYPE_TAGS``)
    flags        u16       bit 0: payload compressed with zstandard
    reserved     u16       0
    params hash  16 bytes  hash of the parameters the object belongs to
    fingerprint  16 bytes  fingerprint of the secret key (zeros when not applicable)
    length       u64       payload length in bytes
    payload      length bytes: u32 meta length, JSON meta, then the raw little-endian arrays
    checksum     32 bytes  SHA-256 of everything above

Every field is checked on reading; any mismatch (foreign bytes, truncation, a flipped bit, a
newer version, another type, other parameters) raises :class:`~ckks.errors.SerializationError`
naming what was expected and what was found. Uniform polynomials of public keys, key-switching
keys and fresh symmetric ciphertexts are stored as their 32-byte seed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import tempfile

import numpy as np

from ckks.errors import SerializationError

MAGIC = b"HENNCKKS"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<8sHHHH16s16sQ")
_CHECKSUM_BYTES = 32
_FLAG_ZSTD = 1
_NO_FINGERPRINT = bytes(16)

TYPE_TAGS = {
    "Parameters": 1,
    "PublicKey": 2,
    "RelinearizationKey": 3,
    "GaloisKeys": 4,
    "SecretKey": 5,
    "Plaintext": 6,
    "Ciphertext": 7,
    "CompiledPlan": 8,
}
TYPE_NAMES = {tag: name for name, tag in TYPE_TAGS.items()}


class Blob:
    """A decoded blob: its type name, header fields, JSON meta and named arrays."""

    def __init__(self, type_name, params_hash, fingerprint, meta, arrays):
        self.type_name = type_name
        self.params_hash = params_hash
        self.fingerprint = fingerprint
        self.meta = meta
        self.arrays = arrays


def pack(
    type_name: str,
    params_hash: bytes,
    fingerprint: bytes | None,
    meta: dict,
    arrays: dict[str, np.ndarray],
    compression: str | None = None,
) -> bytes:
    """Serialize meta and arrays into one checked blob."""
    descriptors = []
    chunks = []
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        descriptors.append({"name": name, "dtype": array.dtype.str, "shape": list(array.shape)})
        chunks.append(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())
    meta = {**meta, "arrays": descriptors}
    meta_bytes = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
    payload = struct.pack("<I", len(meta_bytes)) + meta_bytes + b"".join(chunks)
    flags = 0
    if compression == "zstd":
        payload = _zstd().ZstdCompressor(level=3).compress(payload)
        flags |= _FLAG_ZSTD
    elif compression is not None:
        raise SerializationError(f"compression must be None or 'zstd', got {compression!r}")
    header = _HEADER.pack(
        MAGIC,
        FORMAT_VERSION,
        TYPE_TAGS[type_name],
        flags,
        0,
        params_hash,
        fingerprint or _NO_FINGERPRINT,
        len(payload),
    )
    body = header + payload
    return body + hashlib.sha256(body).digest()


def peek_type(data: bytes, expected: tuple[str, ...] = ()) -> str:
    """The type name a blob declares, after checking its header and checksum."""
    expected = (expected,) if isinstance(expected, str) else tuple(expected)
    return _read_header(data, expected)[0]


def unpack(data: bytes, expected: str | tuple[str, ...], params_hash: bytes | None) -> Blob:
    """Check and decode a blob of one of the ``expected`` types.

    Raises:
        SerializationError: foreign, truncated or altered bytes, a newer version, another type,
            or (when ``params_hash`` is given) other parameters.
    """
    expected = (expected,) if isinstance(expected, str) else tuple(expected)
    type_name, flags, blob_params_hash, fingerprint, payload = _read_header(data, expected)
    if params_hash is not None and blob_params_hash != params_hash:
        raise SerializationError(
            f"parameter hash mismatch: the {type_name} was made under parameters "
            f"{blob_params_hash.hex()}, but these parameters hash to {params_hash.hex()}"
        )
    if flags & _FLAG_ZSTD:
        try:
            payload = _decompress(payload, type_name)
        except SerializationError:
            raise
        except Exception as error:  # zstandard raises its own error type
            raise SerializationError(f"compressed payload is corrupt: {error}") from None
    meta, arrays = _read_payload(payload)
    fingerprint = None if fingerprint == _NO_FINGERPRINT else fingerprint
    return Blob(type_name, blob_params_hash, fingerprint, meta, arrays)


def _read_header(data, expected: tuple[str, ...] = ()):
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SerializationError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    minimum = _HEADER.size + _CHECKSUM_BYTES
    if data[:8] != MAGIC[: min(8, len(data))]:
        raise SerializationError(
            f"not a henn/ckks blob: expected magic {MAGIC!r}, found {data[:8]!r}"
        )
    if len(data) < minimum:
        raise SerializationError(
            f"truncated blob: {len(data)} bytes, the header alone needs {minimum}"
        )
    _, version, tag, flags, reserved, params_hash, fingerprint, length = _HEADER.unpack_from(data)
    if version > FORMAT_VERSION:
        raise SerializationError(
            f"format version {version} is newer than this reader's {FORMAT_VERSION}; upgrade henn"
        )
    if version < 1 or reserved != 0 or flags & ~_FLAG_ZSTD:
        raise SerializationError(f"corrupt header (version {version}, flags {flags})")
    if tag not in TYPE_NAMES:
        raise SerializationError(f"unknown type tag {tag}")
    # The type is checked before the length, so that objects read in the wrong order from a
    # stream say what they are rather than "overlong".
    if expected and TYPE_NAMES[tag] not in expected:
        raise SerializationError(f"expected {' or '.join(expected)}, found {TYPE_NAMES[tag]}")
    expected_size = _HEADER.size + length + _CHECKSUM_BYTES
    if len(data) != expected_size:
        raise SerializationError(
            f"{'truncated' if len(data) < expected_size else 'overlong'} {TYPE_NAMES[tag]} blob: "
            f"{len(data)} bytes, the header declares {expected_size}"
        )
    body, checksum = data[:-_CHECKSUM_BYTES], data[-_CHECKSUM_BYTES:]
    if hashlib.sha256(body).digest() != checksum:
        raise SerializationError(
            f"checksum mismatch in a {TYPE_NAMES[tag]} blob: the bytes were altered or corrupted"
        )
    return TYPE_NAMES[tag], flags, params_hash, fingerprint, body[_HEADER.size :]


def split_stream(data: bytes) -> list[bytes]:
    """Split a concatenation of blobs (objects saved one after another) into single blobs."""
    data = bytes(data)
    blobs, offset = [], 0
    while offset < len(data):
        if len(data) - offset < _HEADER.size or data[offset : offset + 8] != MAGIC:
            raise SerializationError(f"stream: no blob starts at byte {offset}")
        length = _HEADER.unpack_from(data, offset)[-1]
        end = offset + _HEADER.size + length + _CHECKSUM_BYTES
        if end > len(data):
            raise SerializationError(f"stream: truncated blob at byte {offset}")
        blobs.append(data[offset:end])
        offset = end
    return blobs


def _read_payload(payload: bytes):
    try:
        (meta_length,) = struct.unpack_from("<I", payload)
        meta = json.loads(payload[4 : 4 + meta_length].decode())
        if not isinstance(meta, dict) or not isinstance(meta.get("arrays"), list):
            raise ValueError("meta is not an object with an array list")
        offset = 4 + meta_length
        arrays = {}
        for descriptor in meta["arrays"]:
            dtype = np.dtype(descriptor["dtype"])
            if dtype.kind not in "iuf" or dtype.itemsize > 8:
                raise ValueError(f"unsupported dtype {dtype}")
            shape = tuple(int(n) for n in descriptor["shape"])
            if any(n < 0 for n in shape):
                raise ValueError(f"negative shape {shape}")
            size = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
            if offset + size > len(payload):
                raise ValueError("array data runs past the payload")
            arrays[str(descriptor["name"])] = (
                np.frombuffer(payload, dtype=dtype, count=size // dtype.itemsize, offset=offset)
                .reshape(shape)
                .copy()
            )
            offset += size
        if offset != len(payload):
            raise ValueError(f"{len(payload) - offset} unexplained bytes after the arrays")
    except SerializationError:
        raise
    except (
        ValueError,
        KeyError,
        TypeError,
        OverflowError,
        RecursionError,
        AttributeError,
        struct.error,
        UnicodeDecodeError,
    ) as error:
        raise SerializationError(f"malformed payload: {error}") from None
    return meta, arrays


#: Residues are close to incompressible; a payload inflating more than this is refused (bomb).
_MAX_EXPANSION = 16


#: Compiled plans (sparse weights, zero-padded diagonals) compress far better than residues.
_MAX_PLAN_BYTES = 1 << 30


def _decompress(payload: bytes, type_name: str) -> bytes:
    if type_name == "CompiledPlan":
        limit = _MAX_PLAN_BYTES
    else:
        limit = _MAX_EXPANSION * len(payload) + (1 << 20)
    reader = _zstd().ZstdDecompressor().stream_reader(payload)
    data = reader.read(limit + 1)
    if len(data) > limit:
        raise SerializationError(
            f"compressed payload inflates beyond {limit} bytes ({_MAX_EXPANSION}x its size): "
            f"refusing a decompression bomb"
        )
    return data


def _zstd():
    try:
        import zstandard
    except ImportError:
        raise SerializationError(
            "zstandard compression needs the zstandard package: pip install zstandard"
        ) from None
    return zstandard


def write_atomically(path, data: bytes, private: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never a partial file.

    Args:
        private: create the file readable by its owner only (secret keys).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        if not private:  # mkstemp creates 0o600; public objects follow the umask instead
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(temporary, 0o666 & ~mask)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
