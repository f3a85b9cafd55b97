"""Read BGP messages out of MRT files (RFC 6396) for benchmarks: BGP4MP and BGP4MP_ET records,
MESSAGE (2-byte AS) and MESSAGE_AS4 subtypes; the raw BGP message bytes are returned unchanged.
"""

from __future__ import annotations

import bz2
import gzip
import struct
from collections.abc import Iterator
from pathlib import Path

BGP4MP, BGP4MP_ET = 16, 17
MESSAGE, MESSAGE_AS4 = 1, 4
_HDR = struct.Struct("!IHHI")


def read(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw)
    if raw[:3] == b"BZh":
        return bz2.decompress(raw)
    return raw


def messages(data: bytes) -> Iterator[tuple[bool, bytes, bytes]]:
    """(as4, peer address bytes, BGP message with header) for every recorded message."""
    pos, end = 0, len(data)
    view = memoryview(data)
    while pos + 12 <= end:
        _ts, mtype, sub, length = _HDR.unpack_from(data, pos)
        body = pos + 12
        pos = body + length
        if pos > end or mtype not in (BGP4MP, BGP4MP_ET) or sub not in (MESSAGE, MESSAGE_AS4):
            continue
        if mtype == BGP4MP_ET:
            body += 4
        as_len = 4 if sub == MESSAGE_AS4 else 2
        afi = struct.unpack_from("!H", data, body + 2 * as_len + 2)[0]
        alen = 4 if afi == 1 else 16
        peer = bytes(view[body + 2 * as_len + 4 : body + 2 * as_len + 4 + alen])
        msg_at = body + 2 * as_len + 4 + 2 * alen
        yield sub == MESSAGE_AS4, peer, bytes(view[msg_at:pos])


def updates(path: Path) -> tuple[bool, list[bytes]]:
    """The UPDATE messages of the file (as4 flag of the first record)."""
    out: list[bytes] = []
    as4 = True
    for i, (a4, _peer, msg) in enumerate(messages(read(path))):
        if i == 0:
            as4 = a4
        if len(msg) >= 19 and msg[18] == 2:
            out.append(msg)
    return as4, out
