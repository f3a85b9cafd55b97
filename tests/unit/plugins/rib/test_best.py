"""Best-path selection (RFC 4271 9.1.2, RFC 4456 9): one test per tie-breaker, through real
UPDATEs into the service, asserting which peer and next hop won and why."""

from __future__ import annotations

from ze.plugins.rib import best
from ze.plugins.rib.resolver import StaticResolver
from ze.plugins.rib.service import RibService
from ze.plugins.rib.table import RibConfig

from .helpers import announced, best_of, peer, send

P = "10.0.0.0/24"
BASE = "origin set igp"


def two(rib, a_text: str, b_text: str, a=None, b=None):
    a = a or peer("a", "192.0.2.1", 65001, "10.0.0.1")
    b = b or peer("b", "192.0.2.2", 65002, "10.0.0.2")
    send(rib, a, f"update text {a_text} nhop set 192.0.2.1 nlri ipv4/unicast add {P}")
    send(rib, b, f"update text {b_text} nhop set 192.0.2.2 nlri ipv4/unicast add {P}")
    return best_of(rib, P)


def reason(rib) -> str:
    cands = rib.candidates(next(iter(rib.loc)), _key(P))
    sel = rib.loc[next(iter(rib.loc))][_key(P)]
    winner = sel.paths[0]
    loser = next(c for c in cands if c[0] is not winner[0] or c[1] != winner[1])
    return best.why(winner, loser, rib.resolver.cost, rib.options)


def _key(text: str) -> int:
    from ze.bgp.wire.nlri.prefix import Prefix

    p = Prefix.parse(text)
    return p.value << 8 | p.length


def ibgp(name: str, addr: str, rid: str):
    return peer(name, addr, 65000, rid)


def test_local_preference_beats_shorter_path():
    rib = RibService()
    a, b = ibgp("a", "192.0.2.1", "10.0.0.1"), ibgp("b", "192.0.2.2", "10.0.0.2")
    got = two(
        rib,
        f"{BASE} as-path set [1 2 3] local-preference set 200",
        f"{BASE} as-path set [1] local-preference set 100",
        a,
        b,
    )
    assert got == [("a", "192.0.2.1")]
    assert reason(rib) == "local-preference"


def test_local_preference_received_over_ebgp_is_ignored():
    rib = RibService()
    a = peer("a", "192.0.2.1", 65001, "10.0.0.1")  # eBGP, sends LOCAL_PREF 500: ignored (5.1.5)
    b = ibgp("b", "192.0.2.2", "10.0.0.2")
    got = two(
        rib,
        f"{BASE} as-path set [1] local-preference set 500",
        f"{BASE} as-path set [1 2] local-preference set 150",
        a,
        b,
    )
    assert got == [("b", "192.0.2.2")]
    assert reason(rib) == "local-preference"


def test_missing_local_preference_takes_the_configured_default():
    a, b = ibgp("a", "192.0.2.1", "10.0.0.1"), ibgp("b", "192.0.2.2", "10.0.0.2")
    rib = RibService(RibConfig(default_local_pref=300))
    got = two(rib, f"{BASE} as-path set [1 2]", f"{BASE} as-path set [1] local-preference set 200", a, b)
    assert got == [("a", "192.0.2.1")]


def test_shorter_as_path_wins():
    rib = RibService()
    assert two(rib, f"{BASE} as-path set [65001 7 8]", f"{BASE} as-path set [65002 9]") == [
        ("b", "192.0.2.2")
    ]
    assert reason(rib) == "as-path-length"


def test_as_set_counts_one():
    rib = RibService()
    # [65001 {1 2 3 4}] has length 2; [65002 5 6] has length 3
    got = two(rib, f"{BASE} as-path set [65001 {{1 2 3 4}}]", f"{BASE} as-path set [65002 5 6]")
    assert got == [("a", "192.0.2.1")]
    assert reason(rib) == "as-path-length"


def test_lowest_origin_wins():
    rib = RibService()
    got = two(rib, "origin set incomplete as-path set [65001]", "origin set egp as-path set [65002]")
    assert got == [("b", "192.0.2.2")]
    assert reason(rib) == "origin"


def test_med_compared_within_the_same_neighbour_as():
    rib = RibService()
    a = peer("a", "192.0.2.1", 65001, "10.0.0.1")
    b = peer("b", "192.0.2.2", 65001, "10.0.0.2")
    got = two(rib, f"{BASE} as-path set [65001] med set 50", f"{BASE} as-path set [65001] med set 10", a, b)
    assert got == [("b", "192.0.2.2")]
    assert reason(rib) == "med"


def test_med_ignored_between_neighbour_ases_unless_always_compare():
    texts = (f"{BASE} as-path set [65001] med set 10", f"{BASE} as-path set [65002] med set 50")
    rib = RibService()
    # different neighbour AS: MED skipped, the lower router id (a, 10.0.0.1 < 10.0.0.2) ... make b lower
    a = peer("a", "192.0.2.1", 65001, "10.0.0.9")
    b = peer("b", "192.0.2.2", 65002, "10.0.0.2")
    assert two(rib, *texts, a, b) == [("b", "192.0.2.2")]
    assert reason(rib) == "router-id"
    rib = RibService(RibConfig(always_compare_med=True))
    assert two(rib, *texts, a, b) == [("a", "192.0.2.1")]


def test_missing_med_is_lowest():
    rib = RibService()
    a = peer("a", "192.0.2.1", 65001, "10.0.0.9")
    b = peer("b", "192.0.2.2", 65001, "10.0.0.2")
    assert two(rib, f"{BASE} as-path set [65001]", f"{BASE} as-path set [65001] med set 1", a, b) == [
        ("a", "192.0.2.1")
    ]


def test_med_elimination_is_per_as_group():
    # c (AS 65002, MED 10) removes d (AS 65002, MED 20); a (AS 65001) stays; router id then picks a over c.
    rib = RibService()
    peers = [
        peer("a", "192.0.2.1", 65001, "10.0.0.1"),
        peer("c", "192.0.2.3", 65002, "10.0.0.3"),
        peer("d", "192.0.2.4", 65002, "10.0.0.0"),
    ]
    meds = {"a": 99, "c": 10, "d": 20}
    for p in peers:
        send(
            rib,
            p,
            f"update text {BASE} as-path set [{p.remote_as}] med set {meds[p.name]} nhop set {p.address} nlri ipv4/unicast add {P}",
        )
    assert best_of(rib, P) == [("a", "192.0.2.1")]  # d has the lowest router id but lost on MED


def test_ebgp_over_ibgp():
    rib = RibService()
    a = ibgp("a", "192.0.2.1", "10.0.0.1")
    b = peer("b", "192.0.2.2", 65002, "10.0.0.2")
    assert two(rib, f"{BASE} as-path set [65002]", f"{BASE} as-path set [65002]", a, b) == [
        ("b", "192.0.2.2")
    ]
    assert reason(rib) == "ebgp-over-ibgp"


def test_lowest_igp_cost_and_reevaluation_on_change():
    res = StaticResolver({"192.0.2.1": 20, "192.0.2.2": 10})
    rib = RibService(resolver=res)
    a = ibgp("a", "192.0.2.1", "10.0.0.1")
    b = ibgp("b", "192.0.2.2", "10.0.0.2")
    assert two(rib, f"{BASE} as-path set [1]", f"{BASE} as-path set [1]", a, b) == [("b", "192.0.2.2")]
    assert reason(rib) == "igp-cost"
    res.set("192.0.2.2", 30)
    batches = rib.on_next_hops_changed()
    assert announced(batches) == {P: (("192.0.2.1", "a", ""),)}
    assert best_of(rib, P) == [("a", "192.0.2.1")]
    assert rib.on_next_hops_changed() == []  # nothing new


def test_unreachable_next_hop_is_not_a_candidate():
    res = StaticResolver({"192.0.2.1": None})
    rib = RibService(resolver=res)
    a = peer("a", "192.0.2.1", 65001)
    batches = send(
        rib, a, f"update text {BASE} as-path set [65001] nhop set 192.0.2.1 nlri ipv4/unicast add {P}"
    )
    assert batches == [] and best_of(rib, P) is None
    res.set("192.0.2.1", 5)
    assert announced(rib.on_next_hops_changed()) == {P: (("192.0.2.1", "a", ""),)}
    res.set("192.0.2.1", None)
    batches = rib.on_next_hops_changed()
    assert [str(p) for b in batches for p in b.withdraw] == [P]


def test_lowest_router_id():
    rib = RibService()
    a = peer("a", "192.0.2.1", 65001, "10.0.0.7")
    b = peer("b", "192.0.2.2", 65002, "10.0.0.3")
    assert two(rib, f"{BASE} as-path set [65001]", f"{BASE} as-path set [65002]", a, b) == [
        ("b", "192.0.2.2")
    ]
    assert reason(rib) == "router-id"


def test_originator_id_stands_for_the_router_id():
    rib = RibService()
    a = ibgp("a", "192.0.2.1", "10.0.0.1")  # lower router id, but its route carries ORIGINATOR_ID 10.9.9.9
    b = ibgp("b", "192.0.2.2", "10.0.0.2")
    got = two(rib, f"{BASE} as-path set [1] originator-id set 10.9.9.9", f"{BASE} as-path set [1]", a, b)
    assert got == [("b", "192.0.2.2")]
    assert reason(rib) == "router-id"


def test_shorter_cluster_list():
    rib = RibService()
    a, b = ibgp("a", "192.0.2.1", "10.0.0.1"), ibgp("b", "192.0.2.2", "10.0.0.2")
    got = two(
        rib,
        f"{BASE} as-path set [1] originator-id set 10.5.5.5 cluster-list set [1.1.1.1 2.2.2.2]",
        f"{BASE} as-path set [1] originator-id set 10.5.5.5 cluster-list set [3.3.3.3]",
        a,
        b,
    )
    assert got == [("b", "192.0.2.2")]
    assert reason(rib) == "cluster-list-length"


def test_lowest_neighbour_address():
    rib = RibService()
    a = ibgp("a", "192.0.2.9", "10.0.0.1")
    b = ibgp("b", "192.0.2.2", "10.0.0.2")
    common = f"{BASE} as-path set [1] originator-id set 10.5.5.5"
    send(rib, a, f"update text {common} nhop set 192.0.2.9 nlri ipv4/unicast add {P}")
    send(rib, b, f"update text {common} nhop set 192.0.2.2 nlri ipv4/unicast add {P}")
    assert best_of(rib, P) == [("b", "192.0.2.2")]
    assert reason(rib) == "neighbor-address"


def test_multipath_up_to_maximum_paths():
    peers = [peer(n, f"192.0.2.{i}", 65001, f"10.0.0.{i}") for i, n in ((3, "c"), (1, "a"), (2, "b"))]
    for maximum, want in ((1, ["a"]), (2, ["a", "b"]), (8, ["a", "b", "c"])):
        rib = RibService(RibConfig(maximum_paths=maximum))
        batches = []
        for p in peers:
            batches += send(
                rib,
                p,
                f"update text {BASE} as-path set [65001 7] nhop set {p.address} nlri ipv4/unicast add {P}",
            )
        assert [n for n, _ in best_of(rib, P)] == want
        hops = announced(batches)[P]
        assert hops == tuple((f"192.0.2.{ord(n) - 96}", n, "") for n in want)
    # a worse route (longer path) never joins the multipath set
    rib = RibService(RibConfig(maximum_paths=4))
    send(
        rib,
        peers[1],
        f"update text {BASE} as-path set [65001 7] nhop set 192.0.2.1 nlri ipv4/unicast add {P}",
    )
    send(
        rib,
        peers[2],
        f"update text {BASE} as-path set [65001 7 7] nhop set 192.0.2.2 nlri ipv4/unicast add {P}",
    )
    assert best_of(rib, P) == [("a", "192.0.2.1")]


def test_multipath_requires_equal_igp_cost():
    res = StaticResolver({"192.0.2.1": 5, "192.0.2.2": 6})
    rib = RibService(RibConfig(maximum_paths=2), res)
    assert [n for n, _ in two(rib, f"{BASE} as-path set [65001]", f"{BASE} as-path set [65002]")] == ["a"]


def test_select_pure_function_orders_by_rules():
    rib = RibService()
    send(
        rib,
        peer("a", "192.0.2.1", 65001, "10.0.0.1"),
        f"update text {BASE} as-path set [65001] nhop set 192.0.2.1 nlri ipv4/unicast add {P}",
    )
    cands = rib.candidates(next(iter(rib.loc)), _key(P))
    assert best.select(cands, lambda nh: None) == ()
    assert best.select(cands, lambda nh: 0) == (cands[0],)
    assert best.select([], lambda nh: 0) == ()
