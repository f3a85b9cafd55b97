"""The 19-byte BGP message header (RFC 4271 section 4.1) and its length rules per type.

Maximum size is 4096, or 65535 once extended message (RFC 8654) is negotiated; OPEN and
KEEPALIVE stay within 4096 in any case.
"""

from __future__ import annotations

import struct
from enum import IntEnum

from ze.bgp.wire.errors import header_error

MARKER = b"\xff" * 16
HEADER_LEN = 19
MAX_LEN = 4096
MAX_EXTENDED_LEN = 65535
_LEN_TYPE = struct.Struct("!HB")


class MessageType(IntEnum):
    OPEN = 1
    UPDATE = 2
    NOTIFICATION = 3
    KEEPALIVE = 4
    ROUTE_REFRESH = 5


# Smallest legal length per type (RFC 4271 4.2-4.5, RFC 2918).
MIN_LEN = {
    MessageType.OPEN: 29,
    MessageType.UPDATE: 23,
    MessageType.NOTIFICATION: 21,
    MessageType.KEEPALIVE: 19,
    # A short ROUTE-REFRESH passes framing: RFC 7313 section 5 answers it with 7/1 (the codec does).
    MessageType.ROUTE_REFRESH: 19,
}

# Header error subcodes (RFC 4271 6.1).
CONNECTION_NOT_SYNCHRONIZED = 1
BAD_MESSAGE_LENGTH = 2
BAD_MESSAGE_TYPE = 3


def parse_header(
    data: bytes | bytearray | memoryview, offset: int = 0, extended: bool = False
) -> tuple[int, int]:
    """Check the header at `offset` and return (type, length). Raises WireError with the NOTIFICATION
    RFC 4271 6.1 calls for: bad marker 1/1, bad length 1/2 (data: the length), bad type 1/3 (data: the type).
    """
    if len(data) - offset < HEADER_LEN:
        raise header_error(
            f"short header: {len(data) - offset} of {HEADER_LEN} bytes", BAD_MESSAGE_LENGTH, offset
        )
    if bytes(data[offset : offset + 16]) != MARKER:
        raise header_error("bad marker (not all ones)", CONNECTION_NOT_SYNCHRONIZED, offset)
    length, mtype = _LEN_TYPE.unpack_from(data, offset + 16)
    if mtype not in MIN_LEN:
        raise header_error(f"unknown message type {mtype}", BAD_MESSAGE_TYPE, offset + 18, bytes([mtype]))
    limit = (
        MAX_EXTENDED_LEN if extended and mtype not in (MessageType.OPEN, MessageType.KEEPALIVE) else MAX_LEN
    )
    if length < MIN_LEN[mtype] or length > limit or (mtype == MessageType.KEEPALIVE and length != HEADER_LEN):
        raise header_error(
            f"bad length {length} for {MessageType(mtype).name} (allowed {MIN_LEN[mtype]}..{limit})",
            BAD_MESSAGE_LENGTH,
            offset + 16,
            struct.pack("!H", length),
        )
    return mtype, length


def frame(mtype: int, body: bytes | bytearray | memoryview) -> bytes:
    """Prefix a body with marker, length and type."""
    return MARKER + _LEN_TYPE.pack(HEADER_LEN + len(body), mtype) + bytes(body)


def frame_into(buf: bytearray, mtype: int, body_start: int) -> None:
    """Fill in the header reserved at body_start - 19 in `buf` once the body is written up to the end."""
    start = body_start - HEADER_LEN
    buf[start : start + 16] = MARKER
    _LEN_TYPE.pack_into(buf, start + 16, len(buf) - start, mtype)
