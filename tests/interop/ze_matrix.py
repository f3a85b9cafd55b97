"""The ze interop matrix, run by test_bird.py, test_frr.py, test_gobgp.py and test_exabgp.py (each
imports every test of it by `import *`: a test added here runs against every daemon).

One lab per daemon module (the `zelab` fixture in conftest.py): ze in the left namespace, the
daemon in the right, one peering per scenario on its own address pair, all configured at start.
Names: e/i = eBGP/iBGP, 4/6 = transport and family, a/p = ze is the active/passive side.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.interop import normalise
from tests.interop.daemons import adapter
from tests.interop.daemons.base import Daemon
from tests.interop.daemons.ze import Ze
from tests.interop.lab import Lab, Peering, Route, missing_facility, wait_for

ZE_AS, PEER_AS = 65001, 65002
SESSIONS = ("e4a", "e4p", "e6a", "e6p", "i4a", "i4p", "i6a", "i6p")
ROUTED = ("e4a", "e6p", "i4p", "i6a")
MD5 = "Ze-interop-s3cret"


def scenarios(lab: Lab) -> dict[str, Peering]:
    """Every peering, as the daemon (right side) sees it; `passive` is the daemon's."""
    ps: dict[str, Peering] = {}
    for k, name in enumerate(SESSIONS):
        afi = "ipv4" if name[1] == "4" else "ipv6"
        left_as = PEER_AS if name[0] == "i" else ZE_AS
        ps[name] = lab.peering(k, name, afi=afi, left_as=left_as, right_as=PEER_AS, passive=name[2] == "a")
    k = len(SESSIONS)
    extra = {
        "md5": {"md5": MD5, "passive": True},
        "md5bad": {"md5": MD5, "passive": True},
        "gtsm": {"ttl_security": 1, "passive": True},
        "gtsmp": {"ttl_security": 1},
        "md5v6": {"md5": MD5, "passive": True, "afi": "ipv6"},
        # ze passive: ExaBGP sets no hop limit on the sockets it accepts (its SYN-ACK leaves with
        # 64, which ze's IPV6_MINHOPCOUNT 255 drops), so over IPv6 it can only be the active side
        "gtsm6": {"ttl_security": 1, "afi": "ipv6"},
        "addpath": {"addpath": True, "passive": True},
        "rr": {"passive": True},
        "shut": {"passive": True},
    }
    for i, (name, kw) in enumerate(extra.items()):
        ps[name] = lab.peering(k + i, name, left_as=ZE_AS, right_as=PEER_AS, **kw)
    return ps


@dataclass
class ZeLab:
    lab: Lab
    ze: Ze
    peer: Daemon
    ps: dict[str, Peering]


def start(daemon: str) -> ZeLab:
    cls = adapter(daemon)
    why = missing_facility(cls.binaries)
    if why:
        pytest.skip(why)
    lab = Lab()
    try:
        ps = scenarios(lab)
        peer = cls(lab, lab.right, list(ps.values())).start()
        mine = [p.mirror(md5="not-" + MD5) if p.name == "md5bad" else p.mirror() for p in ps.values()]
        ze = Ze(lab, lab.left, mine).start()
    except BaseException:
        lab.close()
        raise
    return ZeLab(lab, ze, peer, ps)


def _routes(base: int, afi: str, ibgp: bool, n: int = 3) -> list[Route]:
    pfx = (
        [f"10.{base}.{i}.0/24" for i in range(n)]
        if afi == "ipv4"
        else [f"2001:db8:{base:x}:{i:x}::/64" for i in range(n)]
    )
    return [
        Route(
            p,
            as_path=() if ibgp else (65100 + i, 65200),
            med=10 + i,
            local_pref=(150 + i) if ibgp else None,
            communities=(f"65000:{i + 1}", "65000:100"),
            large_communities=(f"65000:{i}:7", "4200000000:1:2"),
            ext_communities=(f"rt:65000:{i + 1}",),
        )
        for i, p in enumerate(pfx)
    ]


def _up(z: ZeLab, name: str) -> Peering:
    z.peer.wait_state(name, timeout=30)
    z.ze.wait_state(name, timeout=10)
    return z.ps[name]


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SESSIONS)
def test_established(zelab: ZeLab, name: str) -> None:
    """eBGP and iBGP, IPv4 and IPv6 transport, ze active and ze passive."""
    _up(zelab, name)


@pytest.mark.parametrize("name", ROUTED)
def test_routes_both_ways_then_withdrawn(zelab: ZeLab, name: str) -> None:
    z = zelab
    p = _up(z, name)
    base = 40 + 2 * ROUTED.index(name)
    to_ze, from_ze = _routes(base, p.afi, p.ibgp), _routes(base + 1, p.afi, p.ibgp)
    z.peer.announce(name, to_ze)
    z.ze.announce(name, from_ze)
    want_ze = normalise.expected_table(to_ze, p)
    want_peer = normalise.expected_table(from_ze, p.mirror())
    z.ze.wait_routes(name, want_ze)
    z.peer.wait_routes(name, want_peer)
    assert z.ze.held_prefixes(name) == sorted(want_ze)  # ze's Adj-RIB-In agrees with its events
    z.peer.withdraw(name, [to_ze[0].prefix])
    z.ze.withdraw(name, [from_ze[1].prefix])
    del want_ze[normalise.prefix(to_ze[0].prefix)]
    del want_peer[normalise.prefix(from_ze[1].prefix)]
    z.ze.wait_routes(name, want_ze)
    z.peer.wait_routes(name, want_peer)
    wait_for(lambda: z.ze.held_prefixes(name) == sorted(want_ze), 5, "ze's Adj-RIB-In after the withdrawal")


@pytest.mark.parametrize("name", ["md5", "md5v6"])
def test_md5_right_password_establishes(zelab: ZeLab, name: str) -> None:
    _up(zelab, name)


def test_md5_wrong_password_does_not(zelab: ZeLab) -> None:
    z = zelab
    _up(z, "md5")  # same daemons, same moment: the right key works
    with pytest.raises(TimeoutError):  # not up 5 s after both sides started (the right key: < 1 s)
        z.peer.wait_state("md5bad", timeout=max(0.5, 5 - z.lab.age()))
    assert z.ze.state("md5bad") != "established"


@pytest.mark.parametrize("name", ["gtsm", "gtsmp", "gtsm6"])
def test_gtsm_one_hop_establishes(zelab: ZeLab, name: str) -> None:
    """ttl-security 1 on both sides (ze active: gtsm; ze passive: gtsmp, gtsm6), one hop away."""
    _up(zelab, name)


def test_route_refresh_makes_ze_resend(zelab: ZeLab) -> None:
    z = zelab
    if not z.peer.sends_route_refresh:
        pytest.skip(f"{z.peer.name} has no command that sends a ROUTE-REFRESH")
    p = _up(z, "rr")
    routes = _routes(60, "ipv4", False, n=2)
    z.ze.announce("rr", routes)
    want = normalise.expected_table(routes, p.mirror())
    z.peer.wait_routes("rr", want)
    before_ze, before_peer = z.ze.refreshes_received("rr"), z.peer.updates_received("rr")
    z.peer.refresh("rr")
    wait_for(lambda: z.ze.refreshes_received("rr") > before_ze, 10, "ze counting the ROUTE-REFRESH")
    wait_for(lambda: z.peer.updates_received("rr") > before_peer, 10, f"{z.peer.name} receiving ze's resend")
    z.peer.wait_routes("rr", want)


def test_admin_stop_sends_a_shutdown_communication(zelab: ZeLab) -> None:
    z = zelab
    _up(z, "shut")
    text = f"ze interop: maintenance with {z.peer.name} (ünïcode ok)"
    z.ze.cli("bgp", "peer", "stop", "shut", "--message", text)  # the operator's command
    try:
        wait_for(
            lambda: z.peer.shutdown_message("shut") == text, 10, f"{z.peer.name} logging the communication"
        )
        assert z.ze.state("shut") != "established"
        sent = z.ze.show("shut").get("last-notification") or {}
        assert (sent.get("direction"), sent.get("code"), sent.get("subcode")) == ("sent", 6, 2), sent
        assert sent.get("communication") == text  # `ze show peer` shows what was sent
    finally:
        z.ze.enable("shut")
    _up(z, "shut")


def test_addpath(zelab: ZeLab) -> None:
    """ze sends two paths of one prefix (path ids 1 and 2); the daemon holds both."""
    z = zelab
    if not z.peer.addpath:
        pytest.skip(f"{z.peer.name} has no ADD-PATH")
    _up(z, "addpath")
    negotiated = z.ze.show("addpath").get("negotiated") or {}
    assert "ipv4/unicast" in negotiated.get("add-path", {}).get("send", []), negotiated.get("add-path")
    pfx = "10.70.0.0/24"
    for pid, med in ((1, 10), (2, 20)):
        z.ze.update_route(
            "addpath",
            f"update text origin set igp nhop set self med set {med} nlri ipv4/unicast add {pfx} path-id {pid}",
        )
    wait_for(
        lambda: len(z.peer.received_paths("addpath").get(pfx, [])) == 2,
        4,
        f"{z.peer.name} holding two paths",
    )
    assert sorted(r["med"] for r in z.peer.received_paths("addpath")[pfx]) == [10, 20]


def test_addpath_received(zelab: ZeLab) -> None:
    """The daemon sends two paths of one prefix (path ids 1 and 2): ze parses the path ids, holds
    and counts both."""
    z = zelab
    if not z.peer.sends_paths:
        pytest.skip(f"the {z.peer.name} adapter cannot announce chosen path ids")
    _up(z, "addpath")
    negotiated = z.ze.show("addpath").get("negotiated") or {}
    assert "ipv4/unicast" in negotiated.get("add-path", {}).get("receive", []), negotiated.get("add-path")
    pfx = "10.71.0.0/24"
    z.peer.send_paths("addpath", pfx, {1: 30, 2: 40})
    wait_for(lambda: len(z.ze.received_paths("addpath").get(pfx, [])) == 2, 10, "ze holding two paths")
    assert sorted(r["med"] for r in z.ze.received_paths("addpath")[pfx]) == [30, 40]
    held = [h for h in z.ze.held_prefixes("addpath") if h.startswith(pfx)]
    assert held == [f"{pfx} path-id 1", f"{pfx} path-id 2"], held


# What `from tests.interop.ze_matrix import *` gives each daemon's module: every test above.
__all__ = [name for name in list(globals()) if name.startswith("test_")]
