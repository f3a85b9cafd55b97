"""fib-kernel against the real kernel, in a namespace each test creates (see lab.py).

Checked with iproute2 from outside the code under test (`ip -j route show table N proto 186`,
`ip -j nexthop`) and with a netlink dump for the big counts."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import time

import pytest

from tests.functional.fib.lab import Lab
from ze.bgp.events import BestBatch, NextHopSet, PeerInfo, PeerStateChanged
from ze.bgp.wire.nlri.prefix import Prefix

pytestmark = [pytest.mark.root, pytest.mark.slow]

if os.geteuid() != 0:
    pytest.skip("the fib lab needs root (network namespaces, rtnetlink writes)", allow_module_level=True)
if shutil.which("ip") is None:
    pytest.skip("iproute2 (ip) not installed (scripts/bootstrap installs it)", allow_module_level=True)

from ze.fib.kernel import netlink as nl  # noqa: E402
from ze.fib.kernel import show  # noqa: E402
from ze.fib.kernel.service import KernelConfig, Service  # noqa: E402

TABLE = 100
A = NextHopSet("ebgp", (("10.0.1.2", "peer-a", ""),))
B = NextHopSet("ebgp", (("10.0.2.2", "peer-b", ""),))
AB = NextHopSet("ebgp", (("10.0.1.2", "peer-a", ""), ("10.0.2.2", "peer-b", "")))
A6 = NextHopSet("ebgp", (("2001:db8:1::2", "peer-a", ""),))
LL6 = NextHopSet("ebgp", (("fe80::1:2", "peer-a", "pa0"),))


def p4(text: str) -> Prefix:
    return Prefix.parse(text)


def many(n: int, base: int = 16 << 24) -> list[Prefix]:
    return [Prefix(1, 24, base + (i << 8)) for i in range(n)]


def announce(svc: Service, nhs: NextHopSet, *prefixes: Prefix) -> dict:
    fam = "ipv4/unicast" if prefixes[0].afi == 1 else "ipv6/unicast"
    return svc.on_best(BestBatch(fam, tuple((p, nhs) for p in prefixes)))


def withdraw(svc: Service, *prefixes: Prefix) -> dict:
    fam = "ipv4/unicast" if prefixes[0].afi == 1 else "ipv6/unicast"
    return svc.on_best(BestBatch(fam, (), tuple(prefixes)))


@pytest.fixture
def lab():
    lab = Lab()
    yield lab
    lab.close()


@pytest.fixture
def svc(lab):
    s = Service(KernelConfig(table=TABLE), netns=lab.ns)
    assert s.start()["state"] == "running", s.reason
    yield s
    s.stop()


def by_dst(routes: list[dict]) -> dict[str, dict]:
    return {r["dst"]: r for r in routes}


def gateways(route: dict) -> list[tuple[str, str]]:
    hops = route.get("nexthops") or [route]
    return sorted((h["gateway"], h["dev"]) for h in hops)


def test_routes_appear_with_protocol_186_and_the_next_hop(lab, svc):
    out = announce(svc, A, p4("10.10.0.0/16"), p4("10.20.0.0/24"))
    assert out == {"replaced": 2, "deleted": 0, "errors": 0}
    routes = by_dst(lab.routes(TABLE))
    assert set(routes) == {"10.10.0.0/16", "10.20.0.0/24"}
    assert gateways(routes["10.10.0.0/16"]) == [("10.0.1.2", "pa0")]
    # unfiltered, iproute2 names protocol 186 "bgp"
    assert {r["protocol"] for r in lab.routes(TABLE, proto=None)} == {"bgp"}
    nh = lab.nexthops()
    assert {n.get("protocol") for n in nh} == {"bgp"}
    assert routes["10.10.0.0/16"]["nhid"] in {n["id"] for n in nh if "group" in n}


def test_withdraw_removes_and_unused_nexthops_go(lab, svc):
    announce(svc, A, p4("10.10.0.0/16"), p4("10.20.0.0/24"))
    assert withdraw(svc, p4("10.10.0.0/16"))["deleted"] == 1
    assert set(by_dst(lab.routes(TABLE))) == {"10.20.0.0/24"}
    withdraw(svc, p4("10.20.0.0/24"))
    assert lab.routes(TABLE) == []
    assert lab.nexthops() == []
    assert withdraw(svc, p4("10.30.0.0/24")) == {"replaced": 0, "deleted": 0, "errors": 0}  # unknown: no-op


def test_better_path_replaces(lab, svc):
    announce(svc, A, p4("10.10.0.0/16"))
    announce(svc, B, p4("10.10.0.0/16"))
    (route,) = lab.routes(TABLE)
    assert gateways(route) == [("10.0.2.2", "pb0")]
    assert [n["gateway"] for n in lab.nexthops() if "gateway" in n] == ["10.0.2.2"]  # A's object dropped


def test_ecmp_is_one_multipath_route(lab, svc):
    announce(svc, AB, p4("10.10.0.0/16"))
    (route,) = lab.routes(TABLE)
    assert gateways(route) == [("10.0.1.2", "pa0"), ("10.0.2.2", "pb0")]
    groups = [n for n in lab.nexthops() if "group" in n]
    assert len(groups) == 1 and len(groups[0]["group"]) == 2


def test_ipv6_and_link_local_next_hop(lab, svc):
    announce(svc, A6, p4("2001:db8:100::/48"))
    announce(svc, LL6, p4("2001:db8:200::/48"))
    routes = by_dst(lab.routes(TABLE, "-6"))
    assert gateways(routes["2001:db8:100::/48"]) == [("2001:db8:1::2", "pa0")]
    assert gateways(routes["2001:db8:200::/48"]) == [("fe80::1:2", "pa0")]
    withdraw(svc, p4("2001:db8:100::/48"), p4("2001:db8:200::/48"))
    assert lab.routes(TABLE, "-6") == []


def test_main_table_and_metric(lab):
    s = Service(KernelConfig.from_json({"kernel": {"table": "main", "metric": 50}}), netns=lab.ns)
    assert s.start()["table"] == 254
    try:
        announce(s, A, p4("10.10.0.0/16"))
        (route,) = lab.routes("main")
        assert route["dst"] == "10.10.0.0/16" and route["metric"] == 50
    finally:
        s.stop()


def test_route_deleted_behind_our_back_comes_back(lab, svc):
    announce(svc, A, p4("10.10.0.0/16"), p4("10.20.0.0/24"))
    assert svc.poll_monitor() == {"reasserted": 0, "resync": 0}  # our own writes never reach the monitor
    lab.ip("route", "del", "10.10.0.0/16", "table", str(TABLE))
    assert "10.10.0.0/16" not in by_dst(lab.routes(TABLE))
    got = svc.poll_monitor(timeout=2.0)
    assert got["reasserted"] == 1
    assert gateways(by_dst(lab.routes(TABLE))["10.10.0.0/16"]) == [("10.0.1.2", "pa0")]
    # overwritten with another protocol: ours again
    lab.ip("route", "replace", "10.20.0.0/24", "via", "10.0.2.2", "table", str(TABLE), "proto", "static")
    assert svc.poll_monitor(timeout=2.0)["reasserted"] == 1
    assert gateways(by_dst(lab.routes(TABLE))["10.20.0.0/24"]) == [("10.0.1.2", "pa0")]
    assert svc.status()["reasserted"] == 2


def test_monitor_thread_reasserts(lab, svc):
    import threading

    announce(svc, A, p4("10.10.0.0/16"))
    stop = threading.Event()
    t = svc.run_monitor(stop, interval=0.05)
    try:
        lab.ip("route", "del", "10.10.0.0/16", "table", str(TABLE))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "10.10.0.0/16" not in by_dst(lab.routes(TABLE)):
            time.sleep(0.05)
        assert "10.10.0.0/16" in by_dst(lab.routes(TABLE))
    finally:
        stop.set()
        t.join(5)


def test_nexthop_deleted_behind_our_back_resyncs(lab, svc):
    announce(svc, AB, p4("10.10.0.0/16"), p4("10.20.0.0/24"))
    group = next(n["id"] for n in lab.nexthops() if "group" in n)
    lab.ip("nexthop", "del", "id", str(group))  # takes our routes with it
    assert lab.routes(TABLE) == []
    assert svc.poll_monitor(timeout=2.0)["resync"] == 1
    assert len(lab.routes(TABLE)) == 2
    assert svc.status()["resyncs"] == 1


def test_resync_repairs_and_removes_strays(lab, svc):
    announce(svc, A, p4("10.10.0.0/16"), p4("10.20.0.0/24"))
    for dst in ("10.10.0.0/16", "10.20.0.0/24"):
        lab.ip("route", "del", dst, "table", str(TABLE))
    lab.ip("route", "add", "10.99.0.0/16", "via", "10.0.1.2", "table", str(TABLE), "proto", "186")  # not ours
    assert svc.resync() == {"rewritten": 2, "deleted": 1}
    assert set(by_dst(lab.routes(TABLE))) == {"10.10.0.0/16", "10.20.0.0/24"}


def test_unusable_next_hop_is_pending_and_refused_route_failed_never_fatal(lab, svc):
    announce(svc, NextHopSet("ebgp", (("203.0.113.9", "peer-x", ""),)), p4("10.10.0.0/16"))
    # an IPv6 route through an IPv4 next hop object: the kernel refuses it
    out = announce(svc, A, p4("2001:db8:300::/48"))
    assert out["errors"] == 1
    st = svc.status()
    assert (st["pending"], st["failed"], st["installed"]) == (1, 1, 0)
    assert sum(st["errors"].values()) >= 1
    assert show.route(svc, "10.10.0.0/16")["state"] == "pending"
    assert show.route(svc, "2001:db8:300::/48")["state"] == "failed"
    # the next hop becomes reachable: retry installs the pending route
    lab.ip("route", "add", "203.0.113.0/24", "via", "10.0.2.2")
    svc.retry()
    assert gateways(by_dst(lab.routes(TABLE))["10.10.0.0/16"]) == [("10.0.2.2", "pb0")]
    assert svc.status()["pending"] == 0


def test_restart_keeps_routes_as_stale_until_confirmed_or_swept(lab):
    first = Service(KernelConfig(table=TABLE), netns=lab.ns)
    first.start()
    announce(first, A, *many(1000))
    announce(first, A6, p4("2001:db8:100::/48"))
    first.close()  # like SIGKILL: nothing flushed
    now = [1000.0]
    second = Service(KernelConfig(table=TABLE, stale_time=30), netns=lab.ns, clock=lambda: now[0])
    st = second.start()
    try:
        assert st["stale"] == 1001 and st["installed"] == 0
        assert len(lab.routes(TABLE)) == 1000  # still forwarding
        # half comes back (re-confirmed), now through B
        announce(second, B, *many(500))
        assert second.status()["stale"] == 501
        assert second.tick(now[0] + 10) is None  # not yet
        assert len(lab.routes(TABLE)) == 1000
        assert second.tick(now[0] + 31) == {"swept": 501}
        routes = by_dst(lab.routes(TABLE))
        assert len(routes) == 500 and lab.routes(TABLE, "-6") == []
        assert gateways(routes["16.0.0.0/24"]) == [("10.0.2.2", "pb0")]
        ids = {n["id"] for n in lab.nexthops()}
        assert ids == set(second.hops) | set(second.groups)  # the old objects are gone
    finally:
        second.stop()


def test_flush_on_stop(lab):
    s = Service(KernelConfig(table=TABLE, flush_on_stop=True), netns=lab.ns)
    s.start()
    announce(s, AB, *many(100))
    s.stop()
    assert lab.routes(TABLE) == [] and lab.nexthops() == []


def test_peer_down_100k_routes_one_nexthop_change(lab, svc):
    prefixes = many(100_000)
    only_a = many(100_000, base=48 << 24)
    announce(svc, AB, *prefixes)
    announce(svc, A, *only_a)
    assert nl.count_routes(svc.writer, 1, 186) == 200_000
    st = svc.status()
    assert (st["routes-replaced"], st["routes-deleted"]) == (200_000, 0)
    t0 = time.monotonic()
    out = svc.on_peer_state(PeerStateChanged(PeerInfo("peer-a", "10.0.1.2", 65001, 65000), "down"))
    took = time.monotonic() - t0
    st = svc.status()  # the kernel did the work: no route message written
    assert (st["routes-replaced"], st["routes-deleted"]) == (200_000, 0)
    print(f"\npeer down: 100k re-pointed + 100k removed in {took * 1000:.1f} ms: {out}")
    assert out["nexthops-removed"] == 1 and out["groups-repointed"] == 1 and out["groups-removed"] == 1
    assert out["routes-removed"] == 100_000
    assert nl.count_routes(svc.writer, 1, 186) == 100_000
    routes = by_dst(lab.routes(TABLE))
    assert gateways(routes["16.0.0.0/24"]) == [("10.0.2.2", "pb0")]
    assert "48.0.0.0/24" not in routes
    # the rib then says the same: nothing to write
    assert announce(svc, B, *prefixes[:1000]) == {"replaced": 0, "deleted": 0, "errors": 0}
    assert withdraw(svc, *only_a[:1000]) == {"replaced": 0, "deleted": 0, "errors": 0}


def many_hops(n_hops: int, per_hop: int, peer: str = "peer-a") -> list[tuple[NextHopSet, list[Prefix]]]:
    """`n_hops` next hops on peer A's link (as a route reflector sends: one peer, many next hops),
    each with `per_hop` /24s."""
    return [
        (
            NextHopSet("ibgp", ((f"10.0.1.{10 + i}", peer, ""),)),
            many(per_hop, base=(32 << 24) + (i * per_hop << 8)),
        )
        for i in range(n_hops)
    ]


def test_peer_down_with_many_next_hops_deletes_routes_before_objects(lab, svc):
    # one peer, 40 next hops: deleting 40 objects that routes still use would cost the kernel 40
    # walks of the whole FIB; their routes are deleted first instead
    for nhs, prefixes in many_hops(40, 1000):
        announce(svc, nhs, *prefixes)
    assert nl.count_routes(svc.writer, 1, 186) == 40_000 and len(lab.nexthops()) == 80
    t0 = time.monotonic()
    out = svc.on_peer_state(PeerStateChanged(PeerInfo("peer-a", "10.0.1.2", 65001, 65000), "down"))
    print(f"\npeer down, 40 next hops, 40k routes: {(time.monotonic() - t0) * 1000:.1f} ms: {out}")
    assert out["nexthops-removed"] == 40 and out["groups-removed"] == 40 and out["routes-removed"] == 40_000
    assert nl.count_routes(svc.writer, 1, 186) == 0 and lab.nexthops() == []
    assert svc.status()["installed"] == 0
    assert svc.status()["routes-deleted"] == 40_000  # written before the objects went


def test_flush_with_many_next_hops_removes_routes_then_objects(lab):
    s = Service(KernelConfig(table=TABLE, flush_on_stop=True), netns=lab.ns)
    s.start()
    for nhs, prefixes in many_hops(30, 500):
        announce(s, nhs, *prefixes)
    assert nl.count_routes(s.writer, 1, 186) == 15_000
    assert s.flush()["removed"] == 15_000
    assert lab.routes(TABLE) == [] and lab.nexthops() == []
    s.stop()


def test_200k_installed_and_removed_without_loss(lab, svc):
    n = 200_000
    prefixes = many(n)
    t0 = time.monotonic()
    assert announce(svc, AB, *prefixes)["replaced"] == n
    t1 = time.monotonic()
    assert nl.count_routes(svc.writer, 1, 186) == n
    assert svc.status()["installed"] == n
    t2 = time.monotonic()
    assert withdraw(svc, *prefixes)["deleted"] == n
    t3 = time.monotonic()
    assert nl.count_routes(svc.writer, 1, 186) == 0
    print(f"\n200k: install {n / (t1 - t0):,.0f} routes/s, remove {n / (t3 - t2):,.0f} routes/s")


def spy_nexthop_writes(svc: Service) -> list[tuple[int, int, dict[int, bytes]]]:
    """Record every nexthop message the service writes: (type, flags, attributes)."""
    seen: list[tuple[int, int, dict[int, bytes]]] = []
    real = svc.writer.request

    def request(msgs):
        for ty, fl, body in msgs:
            if ty in (nl.RTM_NEWNEXTHOP, nl.RTM_DELNEXTHOP):
                a = nl.attrs(body, nl._NHMSG.size, len(body))
                seen.append((ty, fl, {k: bytes(v) for k, v in a.items()}))
        return real(msgs)

    svc.writer.request = request
    return seen


def no_blackhole(seen: list[tuple[int, int, dict[int, bytes]]]) -> int:
    """Assert no blackhole nexthop object was written; the number of objects created."""
    made = [a for ty, _f, a in seen if ty == nl.RTM_NEWNEXTHOP]
    assert not [a for a in made if nl.NHA_BLACKHOLE in a], "a blackhole nexthop object was written"
    return len(made)


@pytest.fixture
def wlab():
    lab = Lab("withdraw")
    yield lab
    lab.close()


@pytest.fixture
def wsvc(wlab):
    s = Service(KernelConfig(table=TABLE), netns=wlab.ns)
    assert s.start()["state"] == "running", s.reason
    yield s
    s.stop()


def test_200k_withdrawn_in_ascending_batches_all_leave(wlab, wsvc):
    """A full table withdrawn the way BGP speakers send it: batches going up in prefix order (the
    kernel's IPv4 trie is quadratic on that order when routes are deleted one by one; fib-kernel
    gathers the batches of such a stream and flushes them through throwaway clones of their nexthop
    objects, never a blackhole). Every route leaves, the counts are right, nothing else is touched
    (routes announced in the same batches are installed; a route deleted behind ze's back is no
    error), no nexthop object is left over."""
    n, chunk = 200_000, 4096
    prefixes = many(n)
    others = many(2 * (n // chunk + 1), base=64 << 24)
    assert announce(wsvc, A, *prefixes)["replaced"] == n
    wlab.ip("route", "del", "16.0.1.0/24", "table", str(TABLE))  # already gone: still a clean delete
    seen = spy_nexthop_writes(wsvc)
    t0 = time.monotonic()
    deleted = replaced = 0
    for j, i in enumerate(range(0, n, chunk)):
        batch = BestBatch("ipv4/unicast", ((others[j], B),), tuple(prefixes[i : i + chunk]))
        out = wsvc.on_best(batch)
        assert out["errors"] == 0, out
        deleted += out["deleted"]
        replaced += out["replaced"]
    deleted += wsvc.flush_withdrawn()["deleted"]  # the last ones held (the monitor thread's job)
    dt = time.monotonic() - t0
    assert deleted == n and replaced == n // chunk + 1
    assert wsvc.counters["delete-flushes"] > 0 and wsvc.status()["deletes-held"] == 0
    assert no_blackhole(seen) >= wsvc.counters["delete-flushes"]  # a clone (at least) per flush
    assert not [n for n in wlab.nexthops() if n.get("blackhole")]
    assert nl.count_routes(wsvc.writer, 1, 186) == replaced
    st = wsvc.status()
    assert st["installed"] == replaced and st["errors"] == {} and st["failed"] == 0, st
    left = by_dst(wlab.routes(TABLE))
    assert set(left) == {str(p) for p in others[:replaced]}
    assert all(gateways(r) == [("10.0.2.2", "pb0")] for r in left.values())
    ids = {h["id"] for h in wlab.nexthops()}
    assert ids == set(wsvc.hops) | set(wsvc.groups), (ids, wsvc.hops, wsvc.groups)  # no throwaway left
    print(
        f"\n200k withdrawn in {n // chunk + 1} ascending batches of {chunk}: {dt:.2f} s ({n / dt:,.0f} routes/s)"
    )


def test_withdrawal_stream_in_small_batches_is_held_briefly_and_all_leave(wlab, wsvc):
    """100k withdrawn in ascending batches of 500 (below the flush size): once the stream is on,
    deletes are held (at most HOLD_DELETES) and written together. A held prefix announced again
    stays (its replace is not followed by the held delete); every other route leaves; the last
    held deletes are written by flush_withdrawn (the monitor thread's job in the daemon)."""
    n, chunk = 100_000, 500
    prefixes = many(n)
    assert announce(wsvc, A, *prefixes)["replaced"] == n
    back = prefixes[n // 2]
    held_seen = deleted = 0
    t0 = time.monotonic()
    for i in range(0, n, chunk):
        out = withdraw(wsvc, *prefixes[i : i + chunk])
        assert out["errors"] == 0, out
        deleted += out["deleted"]
        held_seen = max(held_seen, wsvc.status()["deletes-held"])
        if i == n // 2:  # `back` was just withdrawn (and may be held): announce it again
            assert announce(wsvc, B, back)["replaced"] == 1
    deleted += wsvc.flush_withdrawn()["deleted"]
    dt = time.monotonic() - t0
    assert held_seen > 0 and wsvc.status()["deletes-held"] == 0
    assert deleted in (n - 1, n)  # `back` held: its delete gave way to the replace
    assert wsvc.counters["delete-flushes"] > 0
    left = by_dst(wlab.routes(TABLE))
    assert list(left) == [str(back)] and gateways(left[str(back)]) == [("10.0.2.2", "pb0")]
    st = wsvc.status()
    assert st["installed"] == 1 and st["errors"] == {} and st["groups"] == 1, st
    ids = {h["id"] for h in wlab.nexthops()}
    assert ids == set(wsvc.hops) | set(wsvc.groups)
    print(
        f"\n100k withdrawn in {n // chunk} ascending batches of {chunk}: {dt:.2f} s, up to {held_seen} held"
    )


def route_get(lab: Lab, address: str) -> str:
    """The gateway the kernel forwards `address` to (TABLE is looked up first: see the rule below)."""
    out = json.loads(lab.ip("-j", "route", "get", address).stdout)
    return out[0].get("gateway", out[0].get("type", "?"))


def test_flush_keeps_forwarding_through_clones_of_each_next_hop(wlab, wsvc):
    """6,000 routes through three nexthop groups (A, B and the ECMP A+B, interleaved) withdrawn in
    one batch: one flush, one clone per group. Right before the clones are deleted, every route
    still resolves to its old gateway (not a blackhole), points at a clone (a single object for a
    route through one next hop is cloned as a group of the same member), and no blackhole object
    exists; afterwards every route is gone and only the live objects stay."""
    n = 6000
    prefixes = many(n)
    sets = (A, B, AB)
    for j, nhs in enumerate(sets):
        announce(wsvc, nhs, *prefixes[j::3])
    gw = {A: {"10.0.1.2"}, B: {"10.0.2.2"}, AB: {"10.0.1.2", "10.0.2.2"}}
    wlab.ip("rule", "add", "pref", "100", "lookup", str(TABLE))  # `ip route get` sees TABLE
    probes = [(p, sets[i % 3]) for i, p in enumerate(prefixes) if i % 997 < 3]
    before = {str(p): by_dst(wlab.routes(TABLE))[str(p)]["nhid"] for p, _n in probes}
    seen = spy_nexthop_writes(wsvc)
    checked: list[int] = []
    real = wsvc.writer.request
    first_new = wsvc.next_id

    def request(msgs):
        ids = [nl._U32.unpack_from(b, nl._NHMSG.size + 4)[0] for ty, _f, b in msgs if ty == nl.RTM_DELNEXTHOP]
        clones = [i for i in ids if i >= first_new]  # made by the flush (not the old groups going)
        if clones:  # the flush is about to delete its clones: the routes still forward as before
            routes = by_dst(wlab.routes(TABLE))
            for p, nhs in probes:
                host = str(ipaddress.IPv4Address(p.value + 1))
                assert route_get(wlab, host) in gw[nhs], (p, route_get(wlab, host))
                assert routes[str(p)]["nhid"] in clones and routes[str(p)]["nhid"] != before[str(p)]
            assert not [h for h in wlab.nexthops() if h.get("blackhole")]
            checked.append(len(clones))
        return real(msgs)

    wsvc.writer.request = request
    out = withdraw(wsvc, *prefixes)
    assert out == {"replaced": 0, "deleted": n, "errors": 0}
    assert checked == [3] and wsvc.counters["delete-flushes"] == 1
    assert no_blackhole(seen) == 3
    assert lab_empty(wlab, wsvc)


def lab_empty(lab: Lab, svc: Service) -> bool:
    assert lab.routes(TABLE) == [] and nl.count_routes(svc.writer, 1, 186) == 0
    assert lab.nexthops() == [], lab.nexthops()  # no clone left, the unused groups gone too
    return True


def test_flush_of_stale_routes_clones_the_previous_runs_objects(wlab):
    """Routes a previous run left (stale, their objects unknown to this run) withdrawn in one batch:
    cloned from the kernel's own view of the objects, never blackholed; the stale objects stay
    until the sweep, no clone is left."""
    first = Service(KernelConfig(table=TABLE), netns=wlab.ns)
    first.start()
    prefixes = many(3000)
    announce(first, AB, *prefixes)
    first.close()
    second = Service(KernelConfig(table=TABLE), netns=wlab.ns)
    assert second.start()["stale"] == 3000
    try:
        seen = spy_nexthop_writes(second)
        assert withdraw(second, *prefixes) == {"replaced": 0, "deleted": 3000, "errors": 0}
        assert second.counters["delete-flushes"] == 1 and no_blackhole(seen) == 1
        assert wlab.routes(TABLE) == []
        assert {h["id"] for h in wlab.nexthops()} == second.stale_nh
    finally:
        second.stop()


def test_flush_with_more_next_hops_than_clones(wlab, wsvc):
    """A flush over routes through more objects than FLUSH_CLONES_MAX: the most used are cloned,
    the routes of the others deleted one by one; all leave, nothing is left over."""
    from ze.fib.kernel.service import FLUSH_CLONES_MAX

    sets = many_hops(FLUSH_CLONES_MAX + 3, 300)
    for nhs, prefixes in sets:
        announce(wsvc, nhs, *prefixes)
    everything = sorted((p for _n, ps in sets for p in ps), key=lambda p: p.value)
    seen = spy_nexthop_writes(wsvc)
    assert withdraw(wsvc, *everything) == {"replaced": 0, "deleted": len(everything), "errors": 0}
    assert wsvc.counters["delete-flushes"] == 1 and no_blackhole(seen) == FLUSH_CLONES_MAX
    assert lab_empty(wlab, wsvc)


def test_one_withdrawal_leaves_at_once_with_a_full_table_installed(wlab, wsvc):
    """A single withdrawal is deleted at once (no hold, no flush walk): the route is gone when
    on_best returns; the time is printed, not asserted."""
    n = 200_000
    prefixes = many(n)
    assert announce(wsvc, A, *prefixes)["replaced"] == n
    times = []
    for p in (prefixes[0], prefixes[n // 2], prefixes[-1]):
        t0 = time.monotonic()
        assert withdraw(wsvc, p) == {"replaced": 0, "deleted": 1, "errors": 0}
        times.append(time.monotonic() - t0)
        assert wlab.ip("-j", "route", "show", "table", str(TABLE), str(p)).stdout.strip() in ("", "[]")
    assert wsvc.counters["delete-flushes"] == 0
    assert nl.count_routes(wsvc.writer, 1, 186) == n - 3
    print(f"\none withdrawal with 200k installed: {', '.join(f'{t * 1000:.2f}' for t in times)} ms")


def test_show_views(lab, svc):
    announce(svc, AB, p4("10.10.0.0/16"))
    v = show.summary(svc)
    assert (v["installed"], v["pending"], v["failed"], v["stale"], v["groups"], v["nexthops"]) == (
        1,
        0,
        0,
        0,
        1,
        2,
    )
    text = show.summary_text(v)
    assert "installed 1  pending 0  failed 0  stale 0" in text
    r = show.route(svc, "10.10.0.0/16")
    assert r["state"] == "installed"
    assert [(h["address"], h["peers"]) for h in r["nexthops"]] == [
        ("10.0.1.2", ["peer-a"]),
        ("10.0.2.2", ["peer-b"]),
    ]
    assert "next hop 10.0.1.2 peers peer-a" in show.route_text(r)
    assert show.route(svc, "10.99.0.0/16")["state"] == "absent"
    rows = show.nexthops(svc)
    assert len(rows) == 1 and rows[0]["routes"] == 1 and rows[0]["family"] == "ipv4/unicast"
    assert "10.0.1.2 (peer-a), 10.0.2.2 (peer-b)" in show.nexthops_text(rows)


def test_lost_monitor_events_enobufs_trigger_a_full_resync(lab, svc, tmp_path):
    import socket as so

    announce(svc, A, p4("10.10.0.0/16"))
    svc.monitor.setsockopt(so.SOL_SOCKET, so.SO_RCVBUF, 1024)  # the kernel's minimum: overflows fast
    batch = tmp_path / "routes.batch"
    batch.write_text(
        "".join(f"route add 172.16.{i // 256}.{i % 256}/32 via 10.0.2.2 table {TABLE}\n" for i in range(3000))
    )
    lab.ip("route", "del", "10.10.0.0/16", "table", str(TABLE))
    lab.ip("-batch", str(batch))
    out = svc.poll_monitor(timeout=2.0)
    assert out["resync"] == 1 and svc.status()["errors"]["ENOBUFS"] >= 1
    assert "10.10.0.0/16" in by_dst(lab.routes(TABLE))  # the resync put it back
    assert len(lab.routes(TABLE, proto=None)) == 3001  # and left routes of other protocols alone


def test_unknown_vrf_is_unavailable_not_fatal(lab):
    s = Service(KernelConfig(vrf="nosuchvrf"), netns=lab.ns)
    st = s.start()
    assert st["state"] == "unavailable" and "nosuchvrf" in st["reason"]
    assert s.on_best(BestBatch("ipv4/unicast", ((p4("10.0.0.0/8"), A),))) == {"ignored": True}
    s.stop()


def test_moved_next_hop_is_replaced_in_place(lab, svc):
    lab.ip("route", "add", "203.0.113.0/24", "via", "10.0.2.2")
    far = NextHopSet("ibgp", (("203.0.113.9", "peer-x", ""),))
    announce(svc, far, *many(1000))
    assert gateways(lab.routes(TABLE)[0]) == [("10.0.2.2", "pb0")]
    lab.ip("route", "replace", "203.0.113.0/24", "via", "10.0.1.2")
    assert svc.refresh_nexthops() == {"moved": 1, "failed": 0}
    routes = lab.routes(TABLE)
    assert len(routes) == 1000 and {gateways(r)[0] for r in routes} == {("10.0.1.2", "pa0")}


def test_sysrib_feeds_the_kernel(lab, svc):
    from ze.fib.sysrib.service import SysRib, SysribConfig

    rib = SysRib(
        SysribConfig.from_json({"static": {"route": {"10.10.0.0/16": {"next-hop": ["10.0.2.2"]}}}}),
        publish=lambda _topic, batch: svc.on_best(batch),
    )
    rib.on_best(BestBatch("ipv4/unicast", ((p4("10.10.0.0/16"), A), (p4("10.20.0.0/24"), A))))
    rib.set_static(rib.config.static)  # static (10) beats eBGP (20)
    routes = by_dst(lab.routes(TABLE))
    assert gateways(routes["10.10.0.0/16"]) == [("10.0.2.2", "pb0")]
    assert gateways(routes["10.20.0.0/24"]) == [("10.0.1.2", "pa0")]
    rib.set_static([])  # static removed: the eBGP route comes back
    assert gateways(by_dst(lab.routes(TABLE))["10.10.0.0/16"]) == [("10.0.1.2", "pa0")]


def test_raw_route_get_resolves_like_pyroute2(lab, svc):
    from ze.fib.kernel.resolve import ResolveError, Resolver

    lab.ip("route", "add", "192.0.2.77/32", "via", "10.0.2.2", "dev", "pb0")
    lab.ip("route", "add", "unreachable", "198.51.100.0/24")
    raw = svc.resolver
    assert raw.route_get is not None  # the service uses its netlink writer for lookups
    slow = Resolver(lab.ns)
    try:
        for afi, addr in ((1, "10.0.1.2"), (1, "192.0.2.77"), (2, "2001:db8:2::2")):
            assert raw.resolve(afi, addr) == slow.resolve(afi, addr), addr
        assert raw.resolve(1, "192.0.2.77")[1] == slow.ifindex("pb0")
        assert raw.resolve(1, "192.0.2.77")[0] == bytes([10, 0, 2, 2])  # one level of recursion
        for addr in ("198.51.100.1", "203.0.113.1"):  # unreachable; no route at all
            with pytest.raises(ResolveError):
                raw.resolve(1, addr)
    finally:
        slow.close()
