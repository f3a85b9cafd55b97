"""The RIB service: Adj-RIB-In updates, interning and reference counts, batches, peer down,
IPv6 (MP_REACH/MP_UNREACH), ADD-PATH, ASN2 sessions."""

from __future__ import annotations

import struct

from ze.bgp.events import BestBatch, PeerUpdate
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.update import WireUpdate
from ze.core.family import IPV4_UNICAST, IPV6_UNICAST, Family
from ze.plugins.rib.service import RibService
from ze.plugins.rib.table import RibConfig

from .helpers import announced, best_of, peer, send, withdrawn

A = peer("a", "192.0.2.1", 65001, "10.0.0.1")
B = peer("b", "192.0.2.2", 65002, "10.0.0.2")


def prefixes(n: int, base: str = "10") -> str:
    return " ".join(f"{base}.{i >> 8}.{i & 255}.0/24" for i in range(n))


def test_announce_withdraw_and_implicit_replace():
    rib = RibService()
    b1 = send(
        rib,
        A,
        "update text origin set igp as-path set [65001] nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/24 10.0.1.0/24",
    )
    assert announced(b1) == {
        "10.0.0.0/24": (("192.0.2.1", "a", ""),),
        "10.0.1.0/24": (("192.0.2.1", "a", ""),),
    }
    assert all(isinstance(b, BestBatch) and b.family == "ipv4/unicast" for b in b1)
    # the same prefix with another next hop replaces the route (implicit withdraw)
    b2 = send(
        rib,
        A,
        "update text origin set igp as-path set [65001] nhop set 192.0.2.9 nlri ipv4/unicast add 10.0.0.0/24",
    )
    assert announced(b2) == {"10.0.0.0/24": (("192.0.2.9", "a", ""),)}
    assert rib.peers["a"].route_count() == 2
    # a repeat changes nothing and publishes nothing
    assert (
        send(
            rib,
            A,
            "update text origin set igp as-path set [65001] nhop set 192.0.2.9 nlri ipv4/unicast add 10.0.0.0/24",
        )
        == []
    )
    b3 = send(rib, A, "update text nlri ipv4/unicast del 10.0.1.0/24 10.9.9.0/24")
    assert withdrawn(b3) == ["10.0.1.0/24"] and announced(b3) == {}
    assert rib.peers["a"].route_count() == 1
    assert rib.counters.withdrawn == 2 and rib.counters.updates == 4


def test_identical_attribute_sets_are_one_copy_and_refcounted():
    rib = RibService()
    send(
        rib,
        A,
        f"update text origin set igp as-path set [65001 3] community set [65000:1] nhop set 192.0.2.1 nlri ipv4/unicast add {prefixes(500)}",
    )
    send(
        rib,
        A,
        f"update text origin set igp as-path set [65001 3] community set [65000:1] nhop set 192.0.2.1 nlri ipv4/unicast add {prefixes(300, '11')}",
    )
    assert rib.peers["a"].route_count() == 800
    assert rib.store.sets == 1
    (pa,) = rib.store.by_key.values()
    assert pa.refs == 800
    assert pa.as_path == ((2, (65001, 3)),) and pa.communities == (65000 << 16 | 1,)
    # a set differing only in MED shares the AS_PATH and COMMUNITY values
    send(
        rib,
        B,
        "update text origin set igp as-path set [65001 3] community set [65000:1] med set 5 nhop set 192.0.2.2 nlri ipv4/unicast add 12.0.0.0/24",
    )
    assert rib.store.sets == 2
    assert len(rib.store.pools[2]) == 1 and len(rib.store.pools[8]) == 1 and len(rib.store.pools[4]) == 1
    assert rib.store.pools[2].refs[0] == 2
    send(rib, A, f"update text nlri ipv4/unicast del {prefixes(500)}")
    assert pa.refs == 300
    batches = rib.on_peer_down(A)
    assert len(withdrawn(batches)) == 300
    assert rib.store.sets == 1 and len(rib.store.pools[4]) == 1 and rib.store.pools[2].refs[0] == 1
    rib.on_peer_down(B)
    assert rib.store.stats() == {"attribute-sets": 0, "attribute-values": 0}
    assert rib.summary()["selections"] == 0


def test_peer_down_withdraws_in_batches_and_falls_back():
    rib = RibService(RibConfig(batch_size=100))
    send(
        rib,
        A,
        f"update text origin set igp as-path set [65001] nhop set 192.0.2.1 nlri ipv4/unicast add {prefixes(250)}",
    )
    send(
        rib,
        B,
        f"update text origin set igp as-path set [65002 1] nhop set 192.0.2.2 nlri ipv4/unicast add {prefixes(10)}",
    )
    batches = rib.on_peer_down(A)
    assert [len(b.announce) + len(b.withdraw) for b in batches] == [100, 100, 50]
    assert len(withdrawn(batches)) == 240
    fallback = announced(batches)
    assert len(fallback) == 10 and set(fallback.values()) == {(("192.0.2.2", "b", ""),)}
    assert "a" not in rib.peers and len(rib.loc[IPV4_UNICAST]) == 10
    assert rib.on_peer_down(A) == []


def test_ipv6_mp_reach_and_unreach():
    rib = RibService()
    b1 = send(
        rib,
        A,
        "update text origin set igp as-path set [65001] nhop set [2001:db8::1 fe80::1] nlri ipv6/unicast add 2001:db8:1::/48 2001:db8:2::/48",
    )
    assert announced(b1) == {
        "2001:db8:1::/48": (("2001:db8::1", "a", ""),),
        "2001:db8:2::/48": (("2001:db8::1", "a", ""),),
    }
    assert b1[0].family == "ipv6/unicast"
    assert best_of(rib, "2001:db8:1::/48", IPV6_UNICAST) == [("a", "2001:db8::1")]
    b2 = send(rib, A, "update text nlri ipv6/unicast del 2001:db8:1::/48")
    assert withdrawn(b2) == ["2001:db8:1::/48"]
    assert rib.peers["a"].route_count(IPV6_UNICAST) == 1


def test_mixed_ipv4_and_ipv6_in_one_update_keep_their_own_next_hops():
    rib = RibService()
    text = (
        "update text origin set igp as-path set [65001] nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/24 "
        "nhop set 2001:db8::1 nlri ipv6/unicast add 2001:db8::/32"
    )
    send(rib, A, text)
    assert best_of(rib, "10.0.0.0/24") == [("a", "192.0.2.1")]
    assert best_of(rib, "2001:db8::/32", IPV6_UNICAST) == [("a", "2001:db8::1")]


def test_add_path_keeps_each_path_id():
    ctx = EncodingContext(addpath=frozenset({IPV4_UNICAST}))
    a = peer("a", "192.0.2.1", 65001, "10.0.0.1", ctx=ctx)
    rib = RibService(RibConfig(maximum_paths=2))
    send(
        rib,
        a,
        "update text origin set igp as-path set [65001 5] nhop set 192.0.2.7 nlri ipv4/unicast add 10.0.0.0/24 path-id 1",
    )
    send(
        rib,
        a,
        "update text origin set igp as-path set [65001 5] nhop set 192.0.2.8 nlri ipv4/unicast add 10.0.0.0/24 path-id 2",
    )
    send(
        rib,
        a,
        "update text origin set igp as-path set [65001 5 5] nhop set 192.0.2.9 nlri ipv4/unicast add 10.0.0.0/24 path-id 3",
    )
    assert rib.peers["a"].route_count() == 3
    assert best_of(rib, "10.0.0.0/24") == [("a", "192.0.2.7"), ("a", "192.0.2.8")]
    b = send(rib, a, "update text nlri ipv4/unicast del 10.0.0.0/24 path-id 1")
    assert announced(b) == {"10.0.0.0/24": (("192.0.2.8", "a", ""),)}
    send(rib, a, "update text nlri ipv4/unicast del 10.0.0.0/24 path-id 2 10.0.0.0/24 path-id 3")
    assert best_of(rib, "10.0.0.0/24") is None and rib.peers["a"].route_count() == 0


def test_asn2_session_merges_as4_path():
    # An ASN2 speaker's UPDATE: AS_PATH [23456 65001] (AS_TRANS) and AS4_PATH [4200000001 65001].
    ctx = EncodingContext(asn4=False)
    a = peer("a", "192.0.2.1", 65001, ctx=ctx)
    as_path = b"\x40\x02\x06\x02\x02" + struct.pack("!HH", 23456, 65001)
    as4_path = b"\xc0\x11\x0a\x02\x02" + struct.pack("!II", 4200000001, 65001)
    attrs = b"\x40\x01\x01\x00" + as_path + b"\x40\x03\x04\xc0\x00\x02\x01" + as4_path
    body = b"\x00\x00" + struct.pack("!H", len(attrs)) + attrs + b"\x18\x0a\x00\x00"
    rib = RibService()
    rib.on_update(PeerUpdate(a, WireUpdate(body, ctx), 1, 0.0))
    (pa,) = rib.store.by_key.values()
    assert pa.as_path == ((2, (4200000001, 65001)),)
    assert pa.neighbor_as == 4200000001 and pa.as_path_len == 2
    assert 17 not in pa.attrs[0::3]  # AS4_PATH merged in, not kept


def test_unknown_family_is_ignored_and_malformed_nlri_counted():
    rib = RibService()
    # MP_REACH for l2vpn/evpn (25/70): not a family this RIB keeps
    mp = struct.pack("!HBB", 25, 70, 4) + bytes([192, 0, 2, 1]) + b"\x00" + b"\x02\x05abcde"
    attrs = b"\x40\x01\x01\x00\x40\x02\x00" + b"\x80\x0e" + bytes([len(mp)]) + mp
    body = b"\x00\x00" + struct.pack("!H", len(attrs)) + attrs
    assert rib.on_update(PeerUpdate(A, WireUpdate(body, EncodingContext()), 1, 0.0)) == []
    assert Family(25, 70) not in rib.loc
    bad = b"\x00\x00\x00\x07\x40\x01\x01\x00\x40\x02\x00" + b"\x21\x0a"  # /33
    assert rib.on_update(PeerUpdate(A, WireUpdate(bad, EncodingContext()), 2, 0.0)) == []
    assert rib.counters.errors == 1


def test_end_of_rib_changes_nothing():
    rib = RibService()
    assert send(rib, A, "update text nlri ipv4/unicast eor") == []
    assert send(rib, A, "update text nlri ipv6/unicast eor") == []
    assert rib.counters.updates == 2 and rib.peers["a"].route_count() == 0


def test_from_config_section():
    rib = RibService.from_config(
        {"best-path": {"always-compare-med": True, "maximum-paths": 4}, "igp-cost": "none", "batch-size": 10}
    )
    assert rib.options.always_compare_med and rib.options.maximum_paths == 4
    assert rib.config.batch_size == 10
    assert rib.resolver.cost("192.0.2.1") == 0
