from __future__ import annotations

import pytest

from ze.bgp.wire import header
from ze.core.errors import WireError

KEEPALIVE = bytes.fromhex("FF" * 16 + "001304")


def test_keepalive_header():
    assert header.parse_header(KEEPALIVE) == (4, 19)


def test_frame_roundtrip():
    msg = header.frame(header.MessageType.UPDATE, b"\x00\x00\x00\x00")
    assert msg == bytes.fromhex("FF" * 16 + "001702" + "00000000")
    assert header.parse_header(msg) == (2, 23)


def test_bad_marker_is_1_1():
    with pytest.raises(WireError) as e:
        header.parse_header(b"\xfe" + KEEPALIVE[1:])
    assert (e.value.code, e.value.subcode, e.value.offset) == (1, 1, 0)


def test_bad_length_is_1_2_with_length():
    with pytest.raises(WireError) as e:
        header.parse_header(bytes.fromhex("FF" * 16 + "001404" + "00"))
    assert (e.value.code, e.value.subcode, e.value.data) == (1, 2, b"\x00\x14")


def test_bad_type_is_1_3_with_type():
    with pytest.raises(WireError) as e:
        header.parse_header(bytes.fromhex("FF" * 16 + "001309"))
    assert (e.value.code, e.value.subcode, e.value.data) == (1, 3, b"\x09")


def test_extended_length_only_when_negotiated():
    big = bytes.fromhex("FF" * 16) + (5000).to_bytes(2, "big") + b"\x02"
    with pytest.raises(WireError):
        header.parse_header(big)
    assert header.parse_header(big, extended=True) == (2, 5000)
    # OPEN stays within 4096 even with extended message (RFC 8654 section 3)
    big_open = bytes.fromhex("FF" * 16) + (5000).to_bytes(2, "big") + b"\x01"
    with pytest.raises(WireError):
        header.parse_header(big_open, extended=True)
