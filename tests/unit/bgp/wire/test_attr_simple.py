"""NEXT_HOP, MED, LOCAL_PREF, ATOMIC_AGGREGATE, ORIGINATOR_ID, CLUSTER_LIST, OTC, AGGREGATOR."""

from __future__ import annotations

import pytest

from tests.unit.bgp.wire.attrhelp import decode, error, hexof
from ze.bgp.wire.attr import aggregator, atomic_aggregate, cluster_list, localpref, med, originator_id, otc
from ze.bgp.wire.attr.aggregator import Aggregator
from ze.bgp.wire.attr.as4_aggregator import As4Aggregator
from ze.bgp.wire.attr.atomic_aggregate import AtomicAggregate
from ze.bgp.wire.attr.cluster_list import ClusterList
from ze.bgp.wire.attr.localpref import LocalPref
from ze.bgp.wire.attr.med import Med
from ze.bgp.wire.attr.nexthop import NextHop
from ze.bgp.wire.attr.originator_id import OriginatorId
from ze.bgp.wire.attr.otc import Otc
from ze.bgp.wire.context import ASN2, DEFAULT


@pytest.mark.parametrize(
    ("cls", "code", "name", "flags"),
    [
        (NextHop, 3, "next-hop", 0x40),
        (Med, 4, "med", 0x80),
        (LocalPref, 5, "local-preference", 0x40),
        (AtomicAggregate, 6, "atomic-aggregate", 0x40),
        (Aggregator, 7, "aggregator", 0xC0),
        (OriginatorId, 9, "originator-id", 0x80),
        (ClusterList, 10, "cluster-list", 0x80),
        (As4Aggregator, 18, "as4-aggregator", 0xC0),
        (Otc, 35, "otc", 0xC0),
    ],
)
def test_codes_names_flags(cls, code, name, flags):
    assert (cls.CODE, cls.NAME, cls.FLAGS) == (code, name, flags)


def test_next_hop():
    nh = decode(NextHop, "C0000201")
    assert (nh.address, nh.to_json()) == ("192.0.2.1", "192.0.2.1")
    assert hexof(NextHop.from_value("127.0.0.1")) == "4003047F000001"


@pytest.mark.parametrize(
    ("value", "subcode"),
    [("C00002", 5), ("C000020101", 5), ("00000000", 8), ("00010203", 8), ("E0000001", 8), ("FFFFFFFF", 8)],
)
def test_next_hop_errors(value, subcode):
    e = error(NextHop, value)
    assert (e.code, e.subcode, e.offset) == (3, subcode, 100)
    assert e.data == bytes([0x40, 3, len(value) // 2]) + bytes.fromhex(value)


@pytest.mark.parametrize("cls", [Med, LocalPref, Otc])
def test_u32_attributes(cls):
    a = decode(cls, "FFFFFFFE")
    assert (a.number, a.to_json()) == (4294967294, 4294967294)
    assert cls.from_json(4294967294) == a
    assert hexof(cls.from_value(10)) == f"{cls.FLAGS:02X}{cls.CODE:02X}040000000A"
    for bad in ("", "000000", "0000000000"):
        e = error(cls, bad)
        assert (e.code, e.subcode, e.offset) == (3, 5, 100)
    with pytest.raises(ValueError):
        cls.from_json(-1)
    with pytest.raises(ValueError):
        cls.from_json("10")


def test_u32_text():
    assert hexof(med.SPEC.parse_text(["10"])) == "8004040000000A"
    assert hexof(localpref.SPEC.parse_text(["200"])) == "400504000000C8"
    assert hexof(otc.SPEC.parse_text(["65000"])) == "C023040000FDE8"
    for bad in ([], ["1", "2"], ["x"], ["4294967296"], ["-1"]):
        with pytest.raises(ValueError):
            med.SPEC.parse_text(bad)


def test_atomic_aggregate():
    assert decode(AtomicAggregate, "").to_json() is True
    assert hexof(atomic_aggregate.SPEC.parse_text([])) == "400600"
    e = error(AtomicAggregate, "00")
    assert (e.code, e.subcode, e.offset, e.data) == (3, 5, 100, bytes.fromhex("40060100"))
    with pytest.raises(ValueError):
        atomic_aggregate.SPEC.parse_text(["x"])
    with pytest.raises(ValueError):
        AtomicAggregate.from_json(False)


def test_originator_id_and_cluster_list():
    o = decode(OriginatorId, "C6336401")
    assert (o.router_id, o.to_json()) == ("198.51.100.1", "198.51.100.1")
    assert hexof(originator_id.SPEC.parse_text(["192.0.2.1"])) == "800904C0000201"
    c = decode(ClusterList, "C0000201 C0000202")
    assert c.to_json() == ["192.0.2.1", "192.0.2.2"]
    assert "192.0.2.2" in c and "192.0.2.3" not in c
    assert hexof(cluster_list.SPEC.parse_text(["192.0.2.1", "192.0.2.2"])) == "800A08C0000201C0000202"
    for cls, bad in ((OriginatorId, "C00002"), (ClusterList, ""), (ClusterList, "C0000201C0")):
        e = error(cls, bad)
        assert (e.code, e.subcode, e.offset) == (3, 5, 100)
    with pytest.raises(ValueError):
        originator_id.SPEC.parse_text(["192.0.2"])


def test_aggregator_widths():
    a4 = decode(Aggregator, "FA56EA00 C0000201")
    assert (a4.asn, a4.address, a4.to_json()) == (
        4200000000,
        "192.0.2.1",
        {"asn": 4200000000, "address": "192.0.2.1"},
    )
    assert hexof(a4, ASN2) == "C007065BA0C0000201"  # AS_TRANS to an ASN2 peer
    a2 = decode(Aggregator, "FDE8 C0000201", ASN2)
    assert a2.to_json() == {"asn": 65000, "address": "192.0.2.1"}
    assert hexof(a2, DEFAULT) == "C007080000FDE8C0000201"
    assert a2 == Aggregator.from_value(65000, "192.0.2.1")
    e = error(Aggregator, "FDE8 C0000201")  # 6 bytes in an ASN4 context
    assert (e.code, e.subcode, e.offset) == (3, 5, 100)
    e = error(Aggregator, "0000FDE8 C0000201", ASN2)
    assert (e.code, e.subcode) == (3, 5)
    e = error(Aggregator, "00000000 C0000201")  # AS 0, RFC 7607
    assert (e.code, e.subcode, e.offset) == (3, 9, 100)
    e = error(As4Aggregator, "FDE8 C0000201", ASN2)  # always 8 bytes
    assert (e.code, e.subcode) == (3, 5)


def test_aggregator_text_and_json():
    assert hexof(aggregator.SPEC.parse_text(["65000", "192.0.2.1"])) == "C007080000FDE8C0000201"
    assert hexof(aggregator.SPEC.parse_text(["65000:192.0.2.1"])) == "C007080000FDE8C0000201"
    for bad in (["65000"], ["x:192.0.2.1"], ["65000", "300.0.0.1"]):
        with pytest.raises(ValueError):
            aggregator.SPEC.parse_text(bad)
    with pytest.raises(ValueError):
        Aggregator.from_json({"asn": 1})
