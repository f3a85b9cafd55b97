"""COMMUNITIES, EXTENDED_COMMUNITIES, IPv6 extended communities, LARGE_COMMUNITY."""

from __future__ import annotations

import pytest

from tests.unit.bgp.wire.attrhelp import decode, error, hexof
from ze.bgp.wire.attr import community, extended_community, ipv6_extended_community, large_community
from ze.bgp.wire.attr.community import NO_EXPORT, Community, parse_community
from ze.bgp.wire.attr.extended_community import ExtendedCommunity, parse_ext
from ze.bgp.wire.attr.ipv6_extended_community import Ipv6ExtendedCommunity
from ze.bgp.wire.attr.large_community import LargeCommunity
from ze.bgp.wire.context import DEFAULT
from ze.core.errors import WireError


def test_codes_names_flags():
    assert [
        (c.CODE, c.NAME, c.FLAGS)
        for c in (Community, ExtendedCommunity, Ipv6ExtendedCommunity, LargeCommunity)
    ] == [
        (8, "community", 0xC0),
        (16, "extended-community", 0xC0),
        (25, "ipv6-extended-community", 0xC0),
        (32, "large-community", 0xC0),
    ]


def test_community_decode_and_accessors():
    c = decode(Community, "FDE80001 FFFFFF01 FFFF0000 FFFFFF04")
    assert list(c.communities()) == [0xFDE80001, NO_EXPORT, 0xFFFF0000, 0xFFFFFF04]
    assert NO_EXPORT in c and 0xFFFFFF02 not in c
    assert c.to_json() == ["65000:1", "no-export", "graceful-shutdown", "no-peer"]
    assert Community.from_json(c.to_json()) == c


def test_community_text():
    c = community.SPEC.parse_text(
        ["65000:1", "no-export", "NO-ADVERTISE", "65535:65281", "blackhole", "llgr-stale", "no-llgr"]
    )
    assert hexof(c) == "C0081CFDE80001FFFFFF01FFFFFF02FFFFFF01FFFF029AFFFF0006FFFF0007"
    assert c.to_json() == [
        "65000:1",
        "no-export",
        "no-advertise",
        "no-export",
        "blackhole",
        "llgr-stale",
        "no-llgr",
    ]
    for bad in ([], ["65536:1"], ["1:65536"], ["no-such"], ["1"], ["a:b"]):
        with pytest.raises(ValueError):
            community.SPEC.parse_text(bad)
    assert parse_community("0:0") == 0


@pytest.mark.parametrize("cls", [Community, ExtendedCommunity, Ipv6ExtendedCommunity, LargeCommunity])
def test_empty_list_attributes_are_length_errors(cls):
    # RFC 7606: these lengths must be non-zero multiples of the value size.
    e = error(cls, "")
    assert (e.code, e.subcode, e.offset, e.data) == (3, 5, 100, bytes([0xC0, cls.CODE, 0]))


@pytest.mark.parametrize(
    ("cls", "value"),
    [
        (Community, "FDE800"),
        (ExtendedCommunity, "0002FDE8000000"),
        (Ipv6ExtendedCommunity, "00" * 21),
        (LargeCommunity, "00" * 13),
    ],
)
def test_bad_multiples(cls, value):
    e = error(cls, value)
    assert (e.code, e.subcode, e.offset) == (3, 5, 100)


def test_extended_community_forms():
    words = [
        "target:65000:1",
        "target:192.0.2.1:1",
        "target:4200000000:1",
        "target:65000L:1",
        "origin:65000:4294967295",
        "030C000000000008",
    ]
    ec = extended_community.SPEC.parse_text(words)
    assert hexof(ec) == (
        "C01030"
        "0002FDE800000001"
        "0102C00002010001"
        "0202FA56EA000001"
        "02020000FDE80001"
        "0003FDE8FFFFFFFF"
        "030C000000000008"
    )
    assert ec.to_json() == words
    assert list(ec.route_targets()) == words[:4]
    assert ExtendedCommunity.from_json(words) == ec
    # Non-transitive variants (0x40 bit) and other subtypes stay hex.
    assert decode(ExtendedCommunity, "4002FDE800000001").to_json() == ["4002FDE800000001"]
    assert parse_ext("target:1.10:5") == bytes.fromhex("02020001000A0005")  # asdot 4-byte AS
    for bad in (
        "target:65000",
        "target:x:1",
        "target:65000:4294967296",
        "target:65536:65536",
        "bogus:1:2",
        "0002",
        "ZZZZZZZZZZZZZZZZ",
        "target:192.0.2.1:65536",
    ):
        with pytest.raises(ValueError):
            parse_ext(bad)


def test_ipv6_extended_community():
    words = ["target:2001:db8::1:100", "origin::::5"]
    v6 = ipv6_extended_community.SPEC.parse_text(words)
    assert (
        hexof(v6) == "C01928000220010DB800000000000000000000000100640003000000000000000000000000000000000005"
    )
    assert v6.to_json() == words
    assert Ipv6ExtendedCommunity.from_json(words) == v6
    with pytest.raises(ValueError):
        ipv6_extended_community.SPEC.parse_text(["target:2001:db8::zz:1"])


def test_large_community():
    lc = large_community.SPEC.parse_text(["65000:1:2", "4294967295:0:4294967295"])
    assert hexof(lc) == "C020180000FDE80000000100000002FFFFFFFF00000000FFFFFFFF"
    assert list(lc.communities()) == [(65000, 1, 2), (4294967295, 0, 4294967295)]
    assert lc.to_json() == ["65000:1:2", "4294967295:0:4294967295"]
    for bad in ([], ["1:2"], ["1:2:3:4"], ["4294967296:0:0"]):
        with pytest.raises(ValueError):
            large_community.SPEC.parse_text(bad)


def test_error_data_keeps_an_extended_length_header():
    data = bytes.fromhex("FDE800")
    with pytest.raises(WireError) as e:
        Community.from_wire(0xD0, memoryview(data), DEFAULT, 7)
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 5, 7)
    assert e.value.data == bytes.fromhex("D0080003FDE800")
