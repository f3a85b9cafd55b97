"""The kernel FIB through the whole daemon: `ze run` with bgp-rib, sysrib and fib-kernel in a router
namespace, BIRD peers (AS 65002) in namespaces of their own (see daemon_lab.py), and the routes
checked in the namespace's kernel table (`ip -j route show table 100 proto 186`, nexthop objects
resolved, netlink dumps for the big counts) and in `ze show fib ... --json`.

Proved here: BIRD's IPv4 and IPv6 routes are installed with protocol 186 and BIRD as gateway and
leave on withdrawal; a better path from the second peer takes over and gives the route back when
withdrawn; equal paths from both peers make one ECMP route (a nexthop group of both gateways); a
ze killed with SIGKILL leaves its routes forwarding, the next ze adopts them as stale, confirms
what the peer sends again and sweeps the rest after stale-time; a route deleted behind ze's back
comes back; a peer going down with 100k routes re-points them (or removes them) with nexthop
changes only, no route message (counted by a netlink listener and by ze's own write counters);
1M routes installed and all of them withdrawn in UPDATEs (ascending prefix order), counted by
netlink dump and `ip route show | wc -l`. Each case prints its timings
(`pytest -s`).
"""

from __future__ import annotations

import ipaddress
import json
import signal
import threading
import time

import pytest

from tests.functional.fib.daemon_lab import (
    BULK_BASE,
    TABLE,
    FibLab,
    Listener,
    cleanup_stale,
    missing,
    timed,
    ze_conf,
)
from tests.interop.lab import wait_for

pytestmark = [pytest.mark.root, pytest.mark.slow]
if missing():
    pytest.skip(missing() or "", allow_module_level=True)

A4, A6, B4, B6 = "10.1.0.2", "2001:db8:1::2", "10.2.0.2", "2001:db8:2::2"


@pytest.fixture
def lab(tmp_path):
    cleanup_stale()  # what a killed run left
    lab = FibLab(tmp_path)
    try:
        yield lab
    finally:
        lab.close()


def up(lab: FibLab, *, stale_time: int = 60, sides: tuple[str, ...] = ("a", "b")) -> None:
    """BIRD on each side, then ze; every session established."""
    for s in sides:
        lab.bird(s)
    lab.start_ze(ze_conf(stale_time=stale_time, sides=sides))
    for s in sides:
        lab.bird(s).established()
    lab.ze_established(*(f"{s}{v}" for s in sides for v in "46"))


def gw(lab: FibLab, prefix: str) -> set[str] | None:
    """The kernel's gateways for ze's route to prefix (None: no such route)."""
    r = lab.kernel("-6" if ":" in prefix else "-4").get(prefix)
    return None if r is None else r["gateways"]


def until_gw(lab: FibLab, prefix: str, want: set[str] | None, timeout: float = 20) -> float:
    """Seconds until the kernel forwards prefix to exactly `want` (None: no route); bounded."""
    try:
        return timed(lambda: gw(lab, prefix) == want, timeout, f"{prefix} via {want}")
    except TimeoutError as e:
        raise AssertionError(f"{e}; the kernel has {gw(lab, prefix)}") from None


def test_routes_installed_with_protocol_186_and_withdrawn(lab):
    t0 = time.monotonic()
    up(lab, sides=("a",))
    a = lab.bird("a")
    a.announce({"198.51.100.0/24": 0, "203.0.113.128/25": 0, "2001:db8:100::/48": 0, "2001:db8:200::/64": 0})
    t_in = timed(
        lambda: (
            {"198.51.100.0/24", "203.0.113.128/25"} <= set(lab.kernel("-4"))
            and {"2001:db8:100::/48", "2001:db8:200::/64"} <= set(lab.kernel("-6"))
        ),
        20,
        "BIRD's routes in the kernel",
    )
    k4, k6 = lab.kernel("-4"), lab.kernel("-6")
    assert set(k4) == {"198.51.100.0/24", "203.0.113.128/25"}, k4
    assert set(k6) == {"2001:db8:100::/48", "2001:db8:200::/64"}, k6
    for r in k4.values():
        assert r["gateways"] == {A4} and r["dev"] == "pa", r
    for r in k6.values():
        assert r["gateways"] == {A6}, r
    # protocol 186 is iproute2's "bgp", seen without the proto filter too
    every = json.loads(lab.ip("-j", "-4", "route", "show", "table", str(TABLE)))
    assert {r["dst"]: r.get("protocol") for r in every} == {
        "198.51.100.0/24": "bgp",
        "203.0.113.128/25": "bgp",
    }
    s = lab.fib("summary")
    assert s["state"] == "running" and s["table"] == TABLE and s["protocol"] == 186, s
    assert s["families"] == {
        "ipv4/unicast": {"installed": 2, "stale": 0},
        "ipv6/unicast": {"installed": 2, "stale": 0},
    }, s
    one = lab.fib("2001:db8:100::/48")
    assert one["state"] == "installed" and [h["address"] for h in one["nexthops"]] == [A6], one
    assert one["nexthops"][0]["peers"] == ["a6"], one

    a.withdraw("203.0.113.128/25", "2001:db8:200::/64")
    t_out = timed(
        lambda: (
            set(lab.kernel("-4")) == {"198.51.100.0/24"} and set(lab.kernel("-6")) == {"2001:db8:100::/48"}
        ),
        20,
        "the withdrawn routes gone",
    )
    assert lab.fib("203.0.113.128/25")["state"] == "absent"
    assert lab.fib("summary")["installed"] == 2
    print(
        f"\n[fib lab] install v4+v6 {t_in:.2f} s, withdraw {t_out:.2f} s, case {time.monotonic() - t0:.1f} s"
    )


def test_better_path_from_second_peer_replaces_then_gives_back(lab):
    t0 = time.monotonic()
    up(lab)
    a, b = lab.bird("a"), lab.bird("b")
    # A's path is one AS longer (65002 65002): B's plain path wins when it comes
    a.announce({"192.0.2.0/24": 1, "2001:db8:300::/48": 1})
    until_gw(lab, "192.0.2.0/24", {A4})
    until_gw(lab, "2001:db8:300::/48", {A6})
    b.announce({"192.0.2.0/24": 0, "2001:db8:300::/48": 0})
    t_better = until_gw(lab, "192.0.2.0/24", {B4})
    until_gw(lab, "2001:db8:300::/48", {B6})
    one = lab.fib("192.0.2.0/24")
    assert [(h["address"], h["peers"]) for h in one["nexthops"]] == [(B4, ["b4"])], one
    b.withdraw("192.0.2.0/24", "2001:db8:300::/48")
    t_back = until_gw(lab, "192.0.2.0/24", {A4})
    until_gw(lab, "2001:db8:300::/48", {A6})
    assert [h["address"] for h in lab.fib("192.0.2.0/24")["nexthops"]] == [A4]
    print(
        f"\n[fib lab] better path in {t_better:.2f} s, first path back {t_back:.2f} s, "
        f"case {time.monotonic() - t0:.1f} s"
    )


def test_equal_paths_from_two_peers_make_one_ecmp_route(lab):
    t0 = time.monotonic()
    up(lab)
    for bird in (lab.bird("a"), lab.bird("b")):
        bird.announce({"198.18.0.0/24": 0, "198.18.1.0/24": 0, "2001:db8:400::/48": 0})
    t_ecmp = until_gw(lab, "198.18.0.0/24", {A4, B4})
    until_gw(lab, "198.18.1.0/24", {A4, B4})
    until_gw(lab, "2001:db8:400::/48", {A6, B6})
    k4 = lab.kernel("-4")
    # both routes point at the same kernel nexthop group, whose members are the two peers
    nhid = k4["198.18.0.0/24"]["nhid"]
    assert k4["198.18.1.0/24"]["nhid"] == nhid
    group = lab.nexthops()[nhid]
    assert len(group["group"]) == 2, group
    rows = {tuple(sorted(m["address"] for m in g["members"])): g for g in lab.fib("nexthops")}
    assert rows[(A4, B4)]["id"] == nhid and rows[(A4, B4)]["routes"] == 2, rows
    assert sorted(p for m in rows[(A4, B4)]["members"] for p in m["peers"]) == ["a4", "b4"]
    assert rows[(A6, B6)]["routes"] == 1, rows
    # one side leaves: the route narrows to the other gateway
    lab.bird("a").withdraw("198.18.0.0/24")
    until_gw(lab, "198.18.0.0/24", {B4})
    assert gw(lab, "198.18.1.0/24") == {A4, B4}
    # IPv6 sessions down one after the other: the ECMP route narrows, then goes
    lab.bird("a").disable("z6")
    until_gw(lab, "2001:db8:400::/48", {B6})
    lab.bird("b").disable("z6")
    until_gw(lab, "2001:db8:400::/48", None)
    assert set(lab.kernel("-4")) == {"198.18.0.0/24", "198.18.1.0/24"}
    s = lab.fib("summary")
    assert s["families"]["ipv6/unicast"]["installed"] == 0 and s["errors"] == {}, s
    print(f"\n[fib lab] ECMP route in {t_ecmp:.2f} s, case {time.monotonic() - t0:.1f} s")


def test_sigkill_keeps_routes_restart_confirms_and_sweeps_stale(lab):
    t0 = time.monotonic()
    stale_time = 12
    up(lab, stale_time=stale_time, sides=("a",))
    a = lab.bird("a")
    keep4, keep6, gone4 = "198.51.100.0/24", "2001:db8:500::/48", "203.0.113.0/24"
    a.announce({keep4: 0, keep6: 0, gone4: 0})
    until_gw(lab, keep4, {A4})
    until_gw(lab, keep6, {A6})
    until_gw(lab, gone4, {A4})

    # the kernel is sampled all along: the kept routes must never be missing
    samples: list[tuple[float, set[str]]] = []
    stop = threading.Event()

    def sample() -> None:
        for _ in range(2000):
            if stop.is_set():
                return
            try:
                samples.append((time.monotonic(), set(lab.kernel("-4")) | set(lab.kernel("-6"))))
            except Exception:
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        first = lab.ze
        first.signal(signal.SIGKILL)
        first.proc.wait(10)
        assert first.proc.returncode == -signal.SIGKILL
        # nobody programs the table now: the routes stay
        time.sleep(1)
        assert gw(lab, keep4) == {A4} and gw(lab, keep6) == {A6} and gw(lab, gone4) == {A4}
        # while ze is away the peer stops announcing one route (configure first: it re-enables
        # disabled protocols) and holds its sessions down until ze's stale state is checked
        a.routes.pop(gone4)
        a.configure()
        a.disable("z4")
        a.disable("z6")

        t_restart = time.monotonic()
        lab.start_ze(ze_conf(stale_time=stale_time, sides=("a",)))
        s = lab.fib("summary")
        assert s["stale"] == 3 and s["installed"] == 0, s
        assert s["families"]["ipv4/unicast"]["stale"] == 2 and s["families"]["ipv6/unicast"]["stale"] == 1
        assert lab.fib(keep4)["state"] == "stale"
        assert gw(lab, keep4) == {A4} and gw(lab, gone4) == {A4}

        a.enable("z4")
        a.enable("z6")
        t_confirm = timed(
            lambda: lab.fib(keep4)["state"] == "installed" and lab.fib(keep6)["state"] == "installed",
            stale_time - 1,
            "the kept routes re-confirmed before stale-time",
        )
        s = lab.fib("summary")
        assert s["stale"] == 1 and s["installed"] == 2, s
        assert lab.fib(gone4)["state"] == "stale"
        assert gw(lab, keep4) == {A4} and gw(lab, keep6) == {A6}

        t_sweep = timed(lambda: gw(lab, gone4) is None, stale_time + 15, "the unconfirmed route swept")
        swept_after = time.monotonic() - t_restart
        assert swept_after >= stale_time - 0.5, swept_after
        s = wait_for(lambda: (x := lab.fib("summary"))["stale"] == 0 and x, 5, "stale 0")
        assert s["installed"] == 2 and s["families"]["ipv4/unicast"]["installed"] == 1, s
        assert set(lab.kernel("-4")) == {keep4} and set(lab.kernel("-6")) == {keep6}
        assert lab.fib(gone4)["state"] == "absent"
    finally:
        stop.set()
        sampler.join(10)
    assert len(samples) > 20, len(samples)
    missing_at = [t for t, seen in samples if not {keep4, keep6} <= seen]
    assert not missing_at, f"kept routes missing from the kernel in {len(missing_at)} samples"
    print(
        f"\n[fib lab] restart: confirmed {t_confirm:.2f} s after the sessions came back, "
        f"swept {swept_after:.1f} s after restart (stale-time {stale_time}, waited {t_sweep:.1f} s), "
        f"{len(samples)} kernel samples without a gap, case {time.monotonic() - t0:.1f} s"
    )


def test_sigterm_keeps_routes_flush_on_stop_removes_them(lab):
    """A clean stop (SIGTERM) sends Cease to the peers but leaves the kernel forwarding; with
    `flush-on-stop true` it removes ze's routes and nexthop objects, those of the previous run too."""
    t0 = time.monotonic()
    up(lab, sides=("a",))
    lab.bird("a").announce({"198.51.100.0/24": 0, "2001:db8:700::/48": 0})
    until_gw(lab, "198.51.100.0/24", {A4})
    until_gw(lab, "2001:db8:700::/48", {A6})
    lab.ze.signal(signal.SIGTERM)
    assert lab.ze.proc.wait(30) == 0
    assert gw(lab, "198.51.100.0/24") == {A4} and gw(lab, "2001:db8:700::/48") == {A6}
    said = [e.get("message") for e in lab.ze.logs()]
    assert "ze stopped" in said and "peer down: next hops removed" not in said, said

    conf = ze_conf(sides=("a",)).replace("stale-time 60;", "stale-time 60; flush-on-stop true;")
    assert "flush-on-stop true;" in conf
    lab.start_ze(conf)
    running = [e for e in lab.ze.logs() if e.get("message") == "fib-kernel running"]
    assert [e["stale"] for e in running] == [2], running  # adopted what the first ze left
    lab.ze_established("a4", "a6")
    wait_for(lambda: lab.fib("summary")["installed"] == 2, 20, "routes confirmed")
    assert len(lab.nexthops()) >= 4  # the new objects, and the stale ones until the sweep
    lab.ze.signal(signal.SIGTERM)
    assert lab.ze.proc.wait(30) == 0
    assert lab.kernel("-4") == {} and lab.kernel("-6") == {} and lab.nexthops() == {}
    print(f"\n[fib lab] SIGTERM keeps, flush-on-stop removes: case {time.monotonic() - t0:.1f} s")


def test_route_deleted_behind_zes_back_comes_back(lab):
    t0 = time.monotonic()
    up(lab, sides=("a",))
    lab.bird("a").announce({"198.51.100.0/24": 0, "2001:db8:600::/48": 0})
    until_gw(lab, "198.51.100.0/24", {A4})
    until_gw(lab, "2001:db8:600::/48", {A6})
    nhid = lab.kernel("-4")["198.51.100.0/24"]["nhid"]
    lab.ip("route", "del", "198.51.100.0/24", "table", str(TABLE))
    lab.ip("-6", "route", "del", "2001:db8:600::/48", "table", str(TABLE))
    t_back = timed(
        lambda: gw(lab, "198.51.100.0/24") == {A4} and gw(lab, "2001:db8:600::/48") == {A6},
        10,
        "the deleted routes re-asserted",
    )
    assert lab.kernel("-4")["198.51.100.0/24"]["nhid"] == nhid
    # overwritten by another protocol: ze's route wins back too
    lab.ip("route", "replace", "198.51.100.0/24", "dev", "pa", "table", str(TABLE), "proto", "static")
    timed(lambda: gw(lab, "198.51.100.0/24") == {A4}, 10, "the overwritten route re-asserted")
    assert lab.fib("summary")["reasserted"] >= 3
    said = {(e.get("message"), e.get("prefix")) for e in lab.ze.logs()}
    assert ("route deleted behind ze's back: re-asserted", "198.51.100.0/24") in said, said
    assert ("route deleted behind ze's back: re-asserted", "2001:db8:600::/48") in said, said
    assert ("route overwritten behind ze's back: re-asserted", "198.51.100.0/24") in said, said
    # a nexthop object deleted: the kernel drops the routes using it; ze resyncs (objects and routes)
    hop = lab.nexthops()[nhid]["group"][0]["id"]
    resyncs = lab.fib("summary")["resyncs"]
    lab.ip("nexthop", "del", "id", str(hop))
    t_nh = timed(
        lambda: gw(lab, "198.51.100.0/24") == {A4} and hop in lab.nexthops(), 10, "the nexthop object back"
    )
    assert lab.fib("summary")["resyncs"] > resyncs
    assert gw(lab, "2001:db8:600::/48") == {A6}
    print(
        f"\n[fib lab] deleted routes back in {t_back:.2f} s, deleted nexthop back in {t_nh:.2f} s, "
        f"case {time.monotonic() - t0:.1f} s"
    )


def peer_down_seconds(lab: FibLab, peer: str) -> float:
    """fib-kernel's own time for the last `peer` down (its log: the nexthop messages and bookkeeping)."""
    done = [
        e
        for e in lab.ze.logs()
        if e.get("message") == "peer down: next hops removed" and e.get("peer") == peer
    ]
    return done[-1]["seconds"] if done else float("nan")


BULK = 100_000
LAST = f"{ipaddress.IPv4Address(BULK_BASE + ((BULK - 1) << 8))}/24"  # the last generated prefix


def received(lab: FibLab, peer: str) -> int:
    """Paths bgp-rib holds from peer (a peer that went down is dropped from the summary)."""
    return lab.show("rib", "summary")["peers"].get(peer, {}).get("received", 0)


def test_peer_down_with_100k_routes_is_one_nexthop_change(lab):
    """Both peers announce the same 100k prefixes: one ECMP group. A goes down: the group loses A's
    member (one nexthop message), no route is written. B goes down: B's nexthop object is deleted
    and the kernel drops the 100k routes with it, again without one route message from ze."""
    t0 = time.monotonic()
    up(lab)
    a, b = lab.bird("a"), lab.bird("b")
    a.set_bulk(BULK)
    b.set_bulk(BULK)
    t_in = timed(
        lambda: lab.fib("summary")["installed"] == BULK and lab.count() == BULK, 120, "100k installed"
    )
    wait_for(lambda: received(lab, "a4") == BULK and received(lab, "b4") == BULK, 60, "both peers' paths")
    wait_for(lambda: len([g for g in lab.fib("nexthops") if g["routes"]]) == 1, 60, "one group")
    groups = [g for g in lab.fib("nexthops") if g["routes"]]
    assert len(groups) == 1 and groups[0]["routes"] == BULK, groups
    gid = groups[0]["id"]
    hop = {m["address"]: m["id"] for m in groups[0]["members"]}
    assert sorted(hop) == [A4, B4], groups
    assert sorted(m["id"] for m in lab.nexthops()[gid]["group"]) == sorted(hop.values())

    def written() -> tuple[int, int]:
        s = lab.fib("summary")
        return s["routes-replaced"], s["routes-deleted"]

    before = written()
    assert before[0] >= BULK, before

    # A goes down: every route re-points to B by the group losing A's member
    listen = Listener(lab.ns["r"])
    try:
        t1 = time.monotonic()
        a.disable("z4")
        t_repoint = timed(lambda: len(lab.nexthops().get(gid, {}).get("group", [])) == 1, 30, "group shrunk")
        # settled: bgp-rib dropped A's paths, sysrib's best for the last prefix is B alone, and
        # the kernel saw nothing more for 2 s
        wait_for(lambda: received(lab, "a4") == 0, 60, "a4's paths gone")
        wait_for(lambda: A4 not in json.dumps(lab.show("sysrib", LAST)), 60, f"sysrib {LAST} via B only")
        wait_for(lambda: listen.quiet(2) and lab.fib("summary")["installed"] == BULK, 60, "settled")
        t_settled = time.monotonic() - t1 - 2
        ev = listen.snapshot()
    finally:
        listen.close()
    assert lab.count() == BULK
    assert [m["id"] for m in lab.nexthops()[gid]["group"]] == [hop[B4]]
    kernel = lab.kernel("-4")
    assert len(kernel) == BULK and {tuple(r["gateways"]) for r in kernel.values()} == {(B4,)}
    assert {r["nhid"] for r in kernel.values()} == {gid}
    assert ev["newroute"] == 0 and ev["delroute"] == 0 and ev["lost"] == 0, ev
    assert 1 <= ev["delnexthop"] + ev["newnexthop"] <= 3, ev
    assert written() == before  # ze's own count of route messages agrees

    # B goes down too: no other path, every route is removed with B's nexthop object
    listen = Listener(lab.ns["r"])
    try:
        b.disable("z4")
        t_remove = timed(lambda: lab.count() == 0, 60, "100k removed")
        wait_for(lambda: received(lab, "b4") == 0, 60, "b4's paths gone")
        wait_for(lambda: listen.quiet(2) and lab.fib("summary")["installed"] == 0, 60, "settled")
        ev2 = listen.snapshot()
    finally:
        listen.close()
    assert lab.count_ip() == 0
    s = lab.fib("summary")
    assert s["groups"] == 0 and s["nexthops"] == 0 and s["errors"] == {}, s
    assert ev2["newroute"] == 0 and ev2["delroute"] == 0 and ev2["lost"] == 0, ev2
    assert 1 <= ev2["delnexthop"] + ev2["newnexthop"] <= 3, ev2
    assert written() == before
    print(
        f"\n[fib lab] 100k: installed (2 peers, ECMP) in {t_in:.1f} s; A down: re-pointed in "
        f"{t_repoint:.3f} s (fib-kernel {peer_down_seconds(lab, 'a4') * 1000:.1f} ms, settled {t_settled:.1f} s), "
        f"{ev}; B down: removed in {t_remove:.3f} s (fib-kernel {peer_down_seconds(lab, 'b4') * 1000:.1f} ms), "
        f"{ev2}; "
        f"case {time.monotonic() - t0:.1f} s"
    )


MILLION = 1_000_000


def test_a_million_routes_installed_and_withdrawn_without_loss(lab):
    """BIRD announces 1M /24s: all of them in the kernel table (netlink dump and `ip route | wc -l`),
    none failed. BIRD withdraws the whole table in UPDATEs (in ascending prefix order, the order
    the kernel's IPv4 trie is slowest to delete in one by one): every route leaves, through
    fib-kernel's delete flushes. BIRD's session goes down: nothing left, no nexthop object left."""
    t0 = time.monotonic()
    up(lab, sides=("a",))
    a = lab.bird("a")

    def net(i: int) -> str:
        return f"{ipaddress.IPv4Address(BULK_BASE + (i << 8))}/24"

    def kernel_has(prefix: str) -> bool:
        r = json.loads(lab.ip("-j", "route", "show", "table", str(TABLE), "proto", "186", prefix) or "[]")
        return len(r) == 1 and r[0]["gateway"] == A4

    t1 = time.monotonic()
    a.set_bulk(MILLION)
    t_bird = time.monotonic() - t1
    timed(lambda: lab.fib("summary")["installed"] == MILLION, 240, "1M in ze's FIB", interval=0.5)
    t_in = time.monotonic() - t1
    exported = a.exported("z4")
    assert lab.count() == MILLION
    assert lab.count_ip() == MILLION
    s = lab.fib("summary")
    assert s["failed"] == 0 and s["pending"] == 0 and s["errors"] == {} and s["groups"] == 1, s
    for i in (0, MILLION // 2, MILLION - 1):
        assert kernel_has(net(i)), net(i)
        assert lab.fib(net(i))["state"] == "installed"

    # the whole table withdrawn in UPDATEs
    t2 = time.monotonic()
    a.set_bulk(0)
    timed(lambda: lab.fib("summary")["installed"] == 0, 240, "1M withdrawn from ze's FIB", interval=0.5)
    t_wd = time.monotonic() - t2
    timed(lambda: lab.count() == 0, 60, "1M withdrawn from the kernel", interval=0.2)
    t_wd_kernel = time.monotonic() - t2
    assert lab.count_ip() == 0
    for i in (0, MILLION // 2, MILLION - 1):
        assert not kernel_has(net(i)), net(i)
    s = lab.fib("summary")
    assert s["failed"] == 0 and s["errors"] == {} and s["routes-deleted"] == MILLION, s
    flushes = s["delete-flushes"]

    # the session goes down: nothing left to remove, the nexthop objects go
    a.disable("z4")
    wait_for(lambda: lab.fib("summary")["nexthops"] == 0, 60, "ze's next hops gone", interval=0.5)
    s = lab.fib("summary")
    assert s["installed"] == 0 and s["groups"] == 0 and s["errors"] == {}, s
    assert lab.nexthops() == {}
    print(
        f"\n[fib lab] 1M: BIRD configure {t_bird:.1f} s; {exported:,} announced and installed in {t_in:.1f} s "
        f"({MILLION / t_in:,.0f} routes/s end to end); all 1M withdrawn in UPDATEs: out of ze's FIB in "
        f"{t_wd:.1f} s, out of the kernel in {t_wd_kernel:.1f} s ({MILLION / t_wd_kernel:,.0f} routes/s, "
        f"{flushes} delete flushes); case {time.monotonic() - t0:.1f} s"
    )
