"""A container for several ckks blobs (keys, ciphertexts) crossing between client and server.

Layout: magic b"HENNBNDL", u32 length of a JSON header, the header (kind, structure, blob
lengths), then the blobs, each a complete, checksummed ckks blob. The header is checked against
the blobs before any is read.
"""

from __future__ import annotations

import json
import struct

from ckks.errors import SerializationError

MAGIC = b"HENNBNDL"


def pack_bundle(kind: str, structure: dict, blobs: list[bytes]) -> bytes:
    header = json.dumps(
        {"kind": kind, "structure": structure, "lengths": [len(b) for b in blobs]},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    return MAGIC + struct.pack("<I", len(header)) + header + b"".join(blobs)


def unpack_bundle(data: bytes, kind: str) -> tuple[dict, list[bytes]]:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SerializationError(f"expected bytes of a {kind} bundle, got {type(data).__name__}")
    data = bytes(data)
    if data[:8] != MAGIC:
        raise SerializationError(f"not a henn bundle: expected magic {MAGIC!r}, found {data[:8]!r}")
    try:
        (length,) = struct.unpack_from("<I", data, 8)
        header = json.loads(data[12 : 12 + length].decode())
        lengths = [int(n) for n in header["lengths"]]
        found = header["kind"]
        structure = header["structure"]
    except (struct.error, ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise SerializationError(f"malformed bundle header: {error}") from None
    if found != kind:
        raise SerializationError(f"expected a {kind} bundle, found {found}")
    offset = 12 + length
    if any(n < 0 for n in lengths) or offset + sum(lengths) != len(data):
        raise SerializationError(
            f"truncated or overlong {kind} bundle: {len(data)} bytes, header declares "
            f"{offset + sum(lengths)}"
        )
    blobs = []
    for n in lengths:
        blobs.append(data[offset : offset + n])
        offset += n
    return structure, blobs
