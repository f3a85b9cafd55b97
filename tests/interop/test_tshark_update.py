"""UPDATE messages built by ze, decoded by Wireshark's dissector (tshark): prefixes and attributes
compared field by field, for random route sets over IPv4 (classic NLRI) and IPv6 (MP_REACH/UNREACH)."""

from __future__ import annotations

import ipaddress
import random

from tests.interop import tshark
from ze.bgp.wire.attr.aggregator import Aggregator
from ze.bgp.wire.attr.aspath import AsPath
from ze.bgp.wire.attr.cluster_list import ClusterList
from ze.bgp.wire.attr.community import Community
from ze.bgp.wire.attr.large_community import LargeCommunity
from ze.bgp.wire.attr.localpref import LocalPref
from ze.bgp.wire.attr.med import Med
from ze.bgp.wire.attr.origin import Origin
from ze.bgp.wire.attr.originator_id import OriginatorId
from ze.bgp.wire.context import DEFAULT
from ze.bgp.wire.nlri.prefix import Prefix
from ze.bgp.wire.update import NlriSection, WireUpdate, build_updates
from ze.core.family import AFI, IPV4_UNICAST, IPV6_UNICAST

N = 1000


def _prefix(rng: random.Random, afi: int) -> Prefix:
    bits = 32 if afi == AFI.IPV4 else 128
    length = rng.randrange(8, 25) if afi == AFI.IPV4 else rng.randrange(16, 65)
    value = rng.getrandbits(bits) & ~((1 << (bits - length)) - 1)
    return Prefix(afi, length, value)


def _ip(rng: random.Random, v6: bool = False) -> str:
    if v6:
        return str(ipaddress.IPv6Address((0x2001_0DB8 << 96) | rng.getrandbits(64)))
    return str(ipaddress.IPv4Address(rng.randrange(0x01000000, 0xDF000000)))


def _random_update(rng: random.Random) -> tuple[list[bytes], dict]:
    v6 = rng.random() < 0.3
    fam, afi = (IPV6_UNICAST, AFI.IPV6) if v6 else (IPV4_UNICAST, AFI.IPV4)
    adds = sorted({_prefix(rng, afi) for _ in range(rng.randrange(1, 40))})
    dels = sorted({_prefix(rng, afi) for _ in range(rng.randrange(0, 10))} - set(adds))
    path = [
        rng.choice([rng.randrange(1, 65536), rng.randrange(65536, 2**32)]) for _ in range(rng.randrange(1, 8))
    ]
    want = {
        "adds": [str(p) for p in adds],
        "dels": [str(p) for p in dels],
        "origin": rng.randrange(3),
        "path": path,
        "nh": _ip(rng, v6),
        "med": rng.choice([None, rng.randrange(2**32)]),
        "lp": rng.choice([None, rng.randrange(2**32)]),
        "communities": sorted({rng.getrandbits(32) for _ in range(rng.randrange(0, 6))}),
        "large": sorted(
            {
                (rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(32))
                for _ in range(rng.randrange(0, 4))
            }
        ),
        "originator": rng.choice([None, _ip(rng)]),
        "clusters": [_ip(rng) for _ in range(rng.randrange(0, 3))],
        "aggregator": rng.choice([None, (rng.randrange(1, 2**32), _ip(rng))]),
    }
    attrs = [Origin.from_value(want["origin"]), AsPath.from_sequence(path)]
    if want["med"] is not None:
        attrs.append(Med.from_value(want["med"]))
    if want["lp"] is not None:
        attrs.append(LocalPref.from_value(want["lp"]))
    if want["communities"]:
        attrs.append(Community.from_value(want["communities"]))
    if want["large"]:
        attrs.append(LargeCommunity.from_value(want["large"]))
    if want["originator"]:
        attrs.append(OriginatorId.from_value(want["originator"]))
    if want["clusters"]:
        attrs.append(ClusterList.from_value(want["clusters"]))
    if want["aggregator"]:
        attrs.append(Aggregator.from_value(*want["aggregator"]))
    sections = [NlriSection(fam, "add", adds, (want["nh"],))]
    if dels:
        sections.insert(0, NlriSection(fam, "del", dels))
    want["v6"] = v6
    return list(build_updates(sections, attrs, DEFAULT)), want


def _prefixes(addrs: list[str], lengths: list[str]) -> list[str]:
    return [f"{a}/{n}" for a, n in zip(addrs, lengths)]


def test_tshark_agrees_on_update_fields(tmp_path):
    rng = random.Random(4271)
    cases = [_random_update(rng) for _ in range(N)]
    msgs = [m for ms, _ in cases for m in ms]
    owner = [w for ms, w in cases for _ in ms]
    rows = tshark.dissect(msgs, tmp_path)
    assert len(rows) == len(msgs) >= N
    seen_adds: dict[int, list[str]] = {}
    seen_dels: dict[int, list[str]] = {}
    for msg, want, got in zip(msgs, owner, rows):
        assert got["bgp.type"] == ["2"]
        upd = WireUpdate(memoryview(msg)[19:], DEFAULT)
        # what ze reads back is what tshark reads
        if want["v6"]:
            reach, unreach = upd.mp_reach(), upd.mp_unreach()
            z_adds = [str(p) for p in reach.nlri()] if reach else []
            z_dels = [str(p) for p in unreach.nlri()] if unreach else []
            lengths = got["bgp.prefix_length"]  # attributes in code order: MP_REACH (14) then MP_UNREACH (15)
            t_adds = _prefixes(got["bgp.mp_reach_nlri_ipv6_prefix"], lengths[: len(z_adds)])
            t_dels = _prefixes(got["bgp.mp_unreach_nlri_ipv6_prefix"], lengths[len(z_adds) :])
            if z_adds:
                assert got["bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6"] == [want["nh"]]
        else:
            z_adds = [str(p) for p in upd.nlri()]
            z_dels = [str(p) for p in upd.withdrawn()]
            lengths = got["bgp.prefix_length"]
            t_dels = _prefixes(got["bgp.withdrawn_prefix"], lengths[: len(z_dels)])
            t_adds = _prefixes(got["bgp.nlri_prefix"], lengths[len(z_dels) :])
            if z_adds:
                assert got["bgp.update.path_attribute.next_hop"] == [want["nh"]]
        assert (t_adds, t_dels) == (z_adds, z_dels)
        seen_adds.setdefault(id(want), []).extend(t_adds)
        seen_dels.setdefault(id(want), []).extend(t_dels)
        if not z_adds:
            continue
        assert got["bgp.update.path_attribute.origin"] == [str(want["origin"])]
        assert got["bgp.update.path_attribute.as_path_segment.as4"] == [str(a) for a in want["path"]]
        assert got["bgp.update.path_attribute.multi_exit_disc"] == (
            [] if want["med"] is None else [str(want["med"])]
        )
        assert got["bgp.update.path_attribute.local_pref"] == (
            [] if want["lp"] is None else [str(want["lp"])]
        )
        assert got["bgp.update.path_attribute.community_as"] == [str(c >> 16) for c in want["communities"]]
        assert got["bgp.update.path_attribute.community_value"] == [
            str(c & 0xFFFF) for c in want["communities"]
        ]
        assert got["bgp.large_communities.ga"] == [str(g) for g, _, _ in want["large"]]
        assert got["bgp.large_communities.ldp1"] == [str(x) for _, x, _ in want["large"]]
        assert got["bgp.large_communities.ldp2"] == [str(x) for _, _, x in want["large"]]
        assert got["bgp.update.path_attribute.originator_id"] == (
            [want["originator"]] if want["originator"] else []
        )
        assert got["bgp.path_attribute.cluster_id"] == want["clusters"]
        agg = want["aggregator"]
        assert got["bgp.update.path_attribute.aggregator_as"] == ([str(agg[0])] if agg else [])
        assert got["bgp.update.path_attribute.aggregator_origin"] == ([agg[1]] if agg else [])
    # every route of every case crossed, split over however many messages the builder chose
    for _, want in cases:
        assert sorted(seen_adds[id(want)]) == sorted(want["adds"])
        assert sorted(seen_dels.get(id(want), [])) == sorted(want["dels"])
