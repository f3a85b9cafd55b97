from __future__ import annotations

import pytest

from ze.bgp.wire.attr.mpreach import MpReach, RawNlri
from ze.bgp.wire.attr.mpunreach import MpUnreach
from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.nlri.prefix import Prefix
from ze.core.errors import WireError
from ze.core.family import IPV4_MULTICAST, IPV4_UNICAST, IPV6_UNICAST, Family

GLOBAL = "20010DB8000000000000000000000001"
LL = "FE800000000000000000000000000001"
# ipv6/unicast, 16-byte next hop 2001:db8::1, reserved, 2001:db8:1::/48
V6 = bytes.fromhex("00020110" + GLOBAL + "00" + "3020010DB80001")
ADDPATH_V6 = EncodingContext(addpath=frozenset({IPV6_UNICAST}))
EXT_NH = EncodingContext(extended_nexthop=frozenset({(IPV4_UNICAST, 2)}))


def test_ipv6_reach_fields():
    a = MpReach.from_wire(0x80, memoryview(V6), DEFAULT, 30)
    assert a.family == IPV6_UNICAST
    assert a.next_hops == ["2001:db8::1"]
    assert list(a.nlri()) == [Prefix(2, 48, 0x20010DB80001 << 80, None)]
    assert a.to_json() == {"family": "ipv6/unicast", "next-hop": ["2001:db8::1"], "nlri": ["2001:db8:1::/48"]}
    assert a.to_bytes(DEFAULT) == bytes.fromhex("800E1C") + V6


def test_from_json_round_trip_and_from_value_bytes():
    v = {"family": "ipv6/unicast", "next-hop": ["2001:db8::1"], "nlri": ["2001:db8:1::/48"]}
    assert bytes(MpReach.from_json(v).raw) == V6
    built = MpReach.from_value(IPV6_UNICAST, ["2001:db8::1"], [Prefix.parse("2001:db8:1::/48")])
    assert bytes(built.raw) == V6


def test_global_and_link_local():
    raw = bytes.fromhex("00020120" + GLOBAL + LL + "00")
    a = MpReach.from_wire(0x80, memoryview(raw), DEFAULT)
    assert a.next_hops == ["2001:db8::1", "fe80::1"]
    assert list(a.nlri()) == []
    assert bytes(MpReach.from_json(a.to_json()).raw) == raw


def test_ipv6_next_hop_for_ipv4_needs_extended_next_hop():
    raw = bytes.fromhex("00010110" + GLOBAL + "00" + "180A0000")
    with pytest.raises(WireError) as e:
        MpReach.from_wire(0x80, memoryview(raw), DEFAULT, 100)
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 9, 103)
    a = MpReach.from_wire(0x80, memoryview(raw), EXT_NH, 100)
    assert a.next_hops == ["2001:db8::1"]
    assert [p.text() for p in a.nlri()] == ["10.0.0.0/24"]
    with pytest.raises(ValueError, match="extended next hop"):
        MpReach.from_value(IPV4_UNICAST, ["2001:db8::1"], [Prefix.parse("10.0.0.0/24")])


def test_ipv4_multicast_reach():
    raw = bytes.fromhex("00010204C0000201" + "00" + "08E0")
    a = MpReach.from_wire(0x80, memoryview(raw), DEFAULT)
    assert a.family == IPV4_MULTICAST
    assert a.to_json() == {"family": "ipv4/multicast", "next-hop": ["192.0.2.1"], "nlri": ["224.0.0.0/8"]}


def test_vpn_next_hop_and_raw_nlri_for_family_without_codec():
    raw = bytes.fromhex("0001800C" + "0000000000000000C0000201" + "00" + "70000641000000010000000A0000")
    a = MpReach.from_wire(0x80, memoryview(raw), DEFAULT)
    assert a.family == Family(1, 128)
    assert a.next_hops == ["192.0.2.1"]
    assert list(a.nlri()) == [RawNlri(bytes.fromhex("70000641000000010000000A0000"))]
    j = a.to_json()
    assert j == {"family": "ipv4/mpls-vpn", "next-hop": ["192.0.2.1"], "raw": "70000641000000010000000A0000"}
    assert bytes(MpReach.from_json(j).raw) == raw


def test_short_and_overrunning_reach():
    with pytest.raises(WireError) as e:
        MpReach.from_wire(0x80, memoryview(bytes.fromhex("000101")), DEFAULT, 40)
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 5, 40)
    with pytest.raises(WireError) as e:
        MpReach.from_wire(0x80, memoryview(bytes.fromhex("00010104C00002")), DEFAULT, 40)
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 5, 43)


def test_bad_nlri_raises_lazily_with_absolute_offset():
    raw = bytes.fromhex("00020110" + GLOBAL + "00" + "8120")  # /129
    a = MpReach.from_wire(0x80, memoryview(raw), DEFAULT, 50)
    with pytest.raises(WireError) as e:
        list(a.nlri())
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 10, 50 + 21)


def test_addpath_nlri_and_repack_for_other_context():
    raw = bytes.fromhex("00020110" + GLOBAL + "00" + "00000007" + "3020010DB80001")
    a = MpReach.from_wire(0x80, memoryview(raw), ADDPATH_V6)
    assert a.to_json()["nlri"] == ["2001:db8:1::/48 path-id 7"]
    assert a.value(ADDPATH_V6) == raw
    assert a.value(DEFAULT) == V6


def test_unreach():
    raw = bytes.fromhex("000201" + "3020010DB80001")
    u = MpUnreach.from_wire(0x80, memoryview(raw), DEFAULT)
    assert u.family == IPV6_UNICAST
    assert not u.is_eor()
    assert u.to_json() == {"family": "ipv6/unicast", "nlri": ["2001:db8:1::/48"]}
    assert bytes(MpUnreach.from_json(u.to_json()).raw) == raw
    assert u.to_bytes(DEFAULT) == bytes.fromhex("800F0A") + raw
    eor = MpUnreach.eor(IPV6_UNICAST)
    assert eor.is_eor() and bytes(eor.raw) == bytes.fromhex("000201")
    assert eor.to_json() == {"family": "ipv6/unicast", "nlri": []}


def test_unreach_short():
    with pytest.raises(WireError) as e:
        MpUnreach.from_wire(0x80, memoryview(b"\x00\x02"), DEFAULT, 60)
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 5, 60)
