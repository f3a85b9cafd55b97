from __future__ import annotations

import pytest

from tests.unit.bgp.wire.attrhelp import decode, error, hexof
from ze.bgp.wire.attr.as4_path import As4Path
from ze.bgp.wire.attr.aspath import AS_CONFED_SEQUENCE, AS_CONFED_SET, AS_SEQUENCE, AS_SET, AsPath, parse_text
from ze.bgp.wire.context import ASN2, DEFAULT


def test_flags_and_codes():
    assert (AsPath.CODE, AsPath.NAME, AsPath.FLAGS) == (2, "as-path", 0x40)
    assert (As4Path.CODE, As4Path.NAME, As4Path.FLAGS) == (17, "as4-path", 0xC0)


def test_decode_4byte_accessors():
    p = decode(AsPath, "02 02 0000FDE9 FA56EA00 01 02 0000FDEA 0000FDEB 03 01 0000FDE8")
    assert list(p.segments()) == [
        (AS_SEQUENCE, (65001, 4200000000)),
        (AS_SET, (65002, 65003)),
        (AS_CONFED_SEQUENCE, (65000,)),
    ]
    assert p.asns() == (65001, 4200000000, 65002, 65003, 65000)
    assert p.path_length() == 3  # 2 + set counts 1 + confed counts 0
    assert p.first_asn() == 65001


def test_decode_2byte_and_reencode_both_ways():
    p = decode(AsPath, "02 02 FDE9 5BA0", ASN2)
    assert p.to_json() == [65001, 23456]
    assert hexof(p, ASN2) == "4002060202FDE95BA0"
    assert hexof(p, DEFAULT) == "40020A02020000FDE900005BA0"


def test_asn4_path_to_asn2_peer_uses_as_trans():
    p = AsPath.from_sequence([65001, 4200000000])
    assert hexof(p, DEFAULT) == "40020A02020000FDE9FA56EA00"
    assert hexof(p, ASN2) == "4002060202FDE95BA0"
    # A received path keeps its bytes unchanged when the width matches.
    assert p.value(DEFAULT) == bytes.fromhex("02020000FDE9FA56EA00")


def test_as4_path_is_4byte_in_any_context():
    p = decode(As4Path, "02 01 FA56EA00", ASN2)
    assert p.to_json() == [4200000000]
    assert hexof(p, ASN2) == "C011060201FA56EA00"


def test_json_segments_and_inverse():
    p = AsPath.from_value([(AS_SET, [1, 2]), (AS_SEQUENCE, [3]), (AS_CONFED_SET, [4])])
    js = [
        {"type": "as-set", "asns": [1, 2]},
        {"type": "as-sequence", "asns": [3]},
        {"type": "confed-set", "asns": [4]},
    ]
    assert p.to_json() == js
    assert AsPath.from_json(js) == p
    # Two short sequences are not the canonical split: kept as segments so JSON stays exact.
    q = AsPath.from_value([(AS_SEQUENCE, [1]), (AS_SEQUENCE, [2])])
    assert q.to_json() == [{"type": "as-sequence", "asns": [1]}, {"type": "as-sequence", "asns": [2]}]
    assert hexof(AsPath.from_json(q.to_json())) == hexof(q)


def test_long_sequence_splits_at_255():
    p = AsPath.from_sequence(range(1, 301))
    assert [len(a) for _, a in p.segments()] == [255, 45]
    assert p.to_json() == list(range(1, 301))
    assert p.path_length() == 300
    assert p.to_bytes(DEFAULT)[:4] == bytes([0x50, 2, 0x04, 0xB4])  # 2+1020+2+180 = 1204 = 0x04B4


def test_equality_across_widths():
    assert decode(AsPath, "02 01 FDE9", ASN2) == AsPath.from_sequence([65001])
    assert decode(AsPath, "02 01 FDE9", ASN2) != AsPath.from_sequence([65002])
    assert hash(decode(AsPath, "02 01 FDE9", ASN2)) == hash(AsPath.from_sequence([65001]))


@pytest.mark.parametrize(
    ("value", "ctx", "offset"),
    [
        ("05 01 0000FDE9", DEFAULT, 100),  # segment type 5
        ("02 00", DEFAULT, 100),  # empty segment (RFC 7606 7.2)
        ("02 02 0000FDE9", DEFAULT, 100),  # overrun
        ("02 01 0000FDE9 02", DEFAULT, 106),  # truncated second header
        ("02 01 00000000", DEFAULT, 100),  # AS 0 (RFC 7607)
        ("02 01 FDE9 01 02 FDEA", ASN2, 104),  # second segment overruns in 2-byte width
        ("02 01 FDE8 FDE9", ASN2, 104),  # junk after the first segment: type 0xFD
    ],
)
def test_malformed_as_path_is_3_11(value, ctx, offset):
    e = error(AsPath, value, ctx)
    assert (e.code, e.subcode, e.offset, e.data) == (3, 11, offset, b"")


def test_malformed_as4_path_is_optional_attribute_error_with_data():
    e = error(As4Path, "02 02 0000FDE9", ASN2)
    assert (e.code, e.subcode, e.offset) == (3, 9, 100)
    assert e.data == bytes.fromhex("C011060202 0000FDE9".replace(" ", ""))


def test_parse_text():
    assert parse_text(["65001", "65002"]).to_json() == [65001, 65002]
    assert parse_text(["65001", "{65002", "65003}", "(65000)"]).to_json() == [
        {"type": "as-sequence", "asns": [65001]},
        {"type": "as-set", "asns": [65002, 65003]},
        {"type": "confed-sequence", "asns": [65000]},
    ]
    assert parse_text(["1.10"]).to_json() == [65546]  # asdot
    assert parse_text([]).to_json() == []
    for bad in (["x"], ["{1"], ["1}"], ["4294967296"], ["{", "}"]):
        with pytest.raises(ValueError):
            parse_text(bad)
