"""Attributes without a codec (RFC 4271 5: partial bit on pass-through; 6.3: 3/2)."""

from __future__ import annotations

import pytest

from ze.bgp.wire.attr.unknown import Unknown
from ze.bgp.wire.context import DEFAULT
from ze.core.errors import WireError


def test_optional_transitive_forwarded_with_partial():
    u = Unknown.from_wire(99, 0xC0, memoryview(b"\x01\x02"), DEFAULT, 10)
    assert (u.CODE, u.NAME, u.flags, u.forwardable) == (99, "attribute-99", 0xC0, True)
    assert u.to_json() == {"code": 99, "flags": 192, "hex": "0102"}
    assert u.to_bytes(DEFAULT).hex().upper() == "E063020102"


def test_optional_non_transitive_not_forwardable_and_unchanged():
    u = Unknown.from_wire(99, 0x80, memoryview(b"\x01"), DEFAULT)
    assert u.forwardable is False
    assert u.to_bytes(DEFAULT).hex().upper() == "80630101"


def test_extended_length_header_follows_the_size():
    short = Unknown.from_wire(
        200, 0xD0, memoryview(b"\xaa"), DEFAULT
    )  # received with a needless 2-byte length
    assert short.to_bytes(DEFAULT).hex().upper() == "E0C801AA"
    long = Unknown.from_value(200, b"\xbb" * 300)
    assert long.to_bytes(DEFAULT)[:4] == bytes.fromhex("F0C8012C")


def test_equality_includes_the_code():
    assert Unknown(1, b"\x00") != Unknown(2, b"\x00")
    assert Unknown(1, b"\x00") == Unknown(1, b"\x00", 0xE0)
    assert Unknown.from_json({"code": 7, "flags": 192, "hex": "00"}) == Unknown(7, b"\x00")


def test_unrecognized_well_known_is_3_2_with_the_attribute_as_data():
    with pytest.raises(WireError) as e:
        Unknown.from_wire(200, 0x40, memoryview(b"\x01\x02"), DEFAULT, 33)
    assert (e.value.code, e.value.subcode, e.value.offset, e.value.data) == (
        3,
        2,
        33,
        bytes.fromhex("40C8020102"),
    )
