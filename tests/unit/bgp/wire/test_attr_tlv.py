"""AIGP (RFC 7311) and Prefix-SID (RFC 8669)."""

from __future__ import annotations

import pytest

from tests.unit.bgp.wire.attrhelp import decode, error, hexof
from ze.bgp.wire.attr import aigp
from ze.bgp.wire.attr.aigp import Aigp
from ze.bgp.wire.attr.prefix_sid import LABEL_INDEX, ORIGINATOR_SRGB, PrefixSid


def test_codes_names_flags():
    assert (Aigp.CODE, Aigp.NAME, Aigp.FLAGS) == (26, "aigp", 0x80)
    assert (PrefixSid.CODE, PrefixSid.NAME, PrefixSid.FLAGS) == (40, "prefix-sid", 0xC0)


def test_aigp_metric():
    a = decode(Aigp, "01 000B 00000000000003E8")
    assert (a.metric, a.to_json()) == (1000, 1000)
    assert list(a.tlvs()) == [(1, bytes.fromhex("00000000000003E8"))]
    assert hexof(aigp.SPEC.parse_text(["100"])) == "801A0B01000B0000000000000064"
    assert Aigp.from_json(1000) == a
    for bad in ([], ["x"], ["18446744073709551616"]):
        with pytest.raises(ValueError):
            aigp.SPEC.parse_text(bad)


def test_aigp_first_tlv_counts_and_unknown_tlvs_kept():
    a = decode(Aigp, "09 0004 FF 01 000B 0000000000000005 01 000B 0000000000000007")
    assert a.metric == 5
    js = [{"type": 9, "hex": "FF"}, {"type": 1, "metric": 5}, {"type": 1, "metric": 7}]
    assert a.to_json() == js
    assert Aigp.from_json(js) == a
    assert decode(Aigp, "").to_json() == []


@pytest.mark.parametrize(
    ("value", "offset"),
    [
        ("01 000B 00000000000000", 100),  # TLV runs past the attribute
        ("01 0002", 100),  # length below 3
        ("01 000A 00000000000000", 100),  # AIGP TLV of 10 bytes
        ("09 0003 01 00", 103),  # second TLV header truncated
    ],
)
def test_aigp_errors(value, offset):
    e = error(Aigp, value)
    assert (e.code, e.subcode, e.offset) == (3, 9, offset)
    assert e.data[:2] == bytes([0x80, 26])


def test_prefix_sid_decode():
    p = decode(PrefixSid, "01 0007 00 0000 000003E8 03 000E 0000 003E80 001F40 0F4240 0003E8")
    assert p.label_index == 1000
    assert p.srgb() == [(16000, 8000), (1000000, 1000)]
    assert p.to_json() == [
        {"type": "label-index", "flags": 0, "label-index": 1000},
        {"type": "originator-srgb", "flags": 0, "srgb": [[16000, 8000], [1000000, 1000]]},
    ]
    assert PrefixSid.from_json(p.to_json()) == p
    assert hexof(PrefixSid.from_value([(LABEL_INDEX, bytes(7))])) == "C0280A01000700000000000000"
    assert decode(PrefixSid, "").label_index is None


def test_prefix_sid_nonzero_reserved_and_unknown_stay_hex():
    p = decode(PrefixSid, "01 0007 FF 0000 00000001 05 0002 ABCD")
    assert p.to_json() == [{"type": 1, "hex": "FF000000000001"}, {"type": 5, "hex": "ABCD"}]
    assert PrefixSid.from_json(p.to_json()) == p
    assert list(p.tlvs())[1] == (5, b"\xab\xcd")
    assert PrefixSid.from_value([(ORIGINATOR_SRGB, bytes(8))]).srgb() == [(0, 0)]


@pytest.mark.parametrize(
    ("value", "offset"),
    [
        ("01 0007 00 0000 000000", 100),  # overrun
        ("01 0006 00 0000 000000", 100),  # label index TLV of 6
        ("03 0007 0000 003E80 001F", 100),  # SRGB not 2 + 6n
        ("03 0002 0000", 100),  # SRGB with no range
        ("05 0000 01", 103),  # truncated header
    ],
)
def test_prefix_sid_errors(value, offset):
    e = error(PrefixSid, value)
    assert (e.code, e.subcode, e.offset) == (3, 9, offset)


def test_prefix_sid_bad_json():
    for bad in (
        {"type": 1},
        [{"type": "label-index", "flags": 0}],
        [{"type": "originator-srgb", "flags": 0, "srgb": [[1]]}],
        [{"type": 300, "hex": ""}],
    ):
        with pytest.raises(ValueError):
            PrefixSid.from_json(bad)
