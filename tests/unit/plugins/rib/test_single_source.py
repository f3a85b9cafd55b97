"""The single-source fast path of best-path selection gives what the general loop gives: the same
batches, Loc-RIB, counters and Adj-RIB-Out (for an eBGP peer that gets the routes, the source that
does not, and an iBGP peer), through announces, implicit replaces, withdrawals and a next hop
that stops resolving."""

from __future__ import annotations

from ze.bgp.wire.context import DEFAULT
from ze.plugins.rib.resolver import StaticResolver
from ze.plugins.rib.service import RibService

from .helpers import peer, send

SRC = peer("src", "192.0.2.1", 65001, "10.0.0.1")
EBGP = peer("out", "192.0.2.7", 65007, "10.0.0.7", local_address="192.0.2.254")
IBGP = peer("in", "192.0.2.8", 65000, "10.0.0.8", local_address="192.0.2.254")


def nets(lo: int, hi: int) -> str:
    return " ".join(f"10.{i >> 8}.{i & 255}.0/24" for i in range(lo, hi))


STEPS = [
    f"update text origin set igp as-path set [65001] nhop set 192.0.2.1 nlri ipv4/unicast add {nets(0, 40)}",
    f"update text origin set igp as-path set [65001 65009] nhop set 192.0.2.1 nlri ipv4/unicast add {nets(20, 60)}",
    f"update text origin set igp as-path set [65001] med set 5 nhop set 192.0.2.66 nlri ipv4/unicast add {nets(50, 70)}",
    f"update text nlri ipv4/unicast del {nets(10, 30)}",
    f"update text origin set igp as-path set [65001] nhop set 192.0.2.1 nlri ipv4/unicast add {nets(0, 15)}",
    "update text origin set egp as-path set [65001] nhop set 192.0.2.66 nlri ipv4/unicast add 10.0.0.0/24",
]


def run(fast: bool) -> tuple:
    resolver = StaticResolver({"192.0.2.66": None})  # unresolvable: no best path through it
    rib = RibService(resolver=resolver)
    rib.fast_single = fast
    rib.on_peer_up(SRC, DEFAULT)
    rib.on_peer_up(EBGP, DEFAULT)
    rib.on_peer_up(IBGP, DEFAULT)
    out = []
    for text in STEPS:
        batches = send(rib, SRC, text)
        out.append([(b.family, b.announce, b.withdraw) for b in batches])
    loc = {
        k: ([(src.name, pid, pa.key, pa.refs) for src, pid, pa in sel.paths], sel.nhs, sel.refs)
        for k, sel in rib.loc[min(rib.loc)].items()
    }
    adj_out = {
        name: {k: (r.next_hop, r.items, r.refs) for k, r in p.out[min(p.out)].items()}
        for name, p in rib.peers.items()
    }
    pending = {name: p.pending.get(min(p.out)) for name, p in rib.peers.items()}
    return out, loc, adj_out, pending, rib.counters.to_json(), rib.summary()["selections"]


def test_fast_path_matches_the_general_loop():
    fast, slow = run(True), run(False)
    assert fast[0] == slow[0]  # batches, step by step
    assert fast[1:] == slow[1:]
    # and the scenario did what it says: routes out to the eBGP peer, none back to the source
    _, loc, adj_out, _, counters, _ = fast
    assert len(adj_out["out"]) == len(loc) > 0 and adj_out["src"] == {}
    assert counters["best-withdrawn"] > 0
