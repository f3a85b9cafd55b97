"""The lab proven without ze: two real daemons peer with each other over the lab's veth, every
scenario at once (eBGP v4/v6, iBGP, MD5 right and wrong, GTSM, ADD-PATH), routes with all the
attributes both ways, withdrawals and route refresh, as each daemon's own CLI reports them."""

from __future__ import annotations

import pytest

from tests.interop import normalise
from tests.interop.daemons import adapter
from tests.interop.daemons.base import Daemon
from tests.interop.lab import Lab, Route, missing_facility, wait_for

PAIRS = [("gobgp", "bird"), ("bird", "frr"), ("exabgp", "frr"), ("bird", "exabgp")]


def _routes(base: int, afi: str, ibgp: bool) -> list[Route]:
    if afi == "ipv4":
        pfx = [f"10.{base}.{i}.0/24" for i in range(3)]
    else:
        pfx = [f"2001:db8:{base:x}:{i:x}::/64" for i in range(3)]
    return [
        Route(
            p,
            as_path=(65100 + i,) if not ibgp else (),
            med=10 + i,
            local_pref=(200 + i) if ibgp else None,
            communities=(f"65000:{i + 1}", "65000:100"),
            large_communities=(f"65000:{i}:7",),
            ext_communities=(f"rt:65000:{i + 1}",),
        )
        for i, p in enumerate(pfx)
    ]


@pytest.fixture(scope="module", params=PAIRS, ids=lambda p: f"{p[0]}-{p[1]}")
def pair(request):
    left_name, right_name = request.param
    why = missing_facility(adapter(left_name).binaries + adapter(right_name).binaries)
    if why:
        pytest.skip(why)
    lab = Lab()
    request.addfinalizer(lab.close)
    ps = {
        "e4": lab.peering(0, "e4"),
        "e6": lab.peering(1, "e6", afi="ipv6"),
        "i4": lab.peering(2, "i4", left_as=65002),
        "i6": lab.peering(3, "i6", afi="ipv6", left_as=65002),
        "md5": lab.peering(4, "md5", md5="s3cret-Pass"),
        "gtsm": lab.peering(5, "gtsm", ttl_security=1),
        "md5bad": lab.peering(6, "md5bad", md5="right-one"),
        "rr": lab.peering(7, "rr"),
        "shut": lab.peering(8, "shut"),
    }
    right = adapter(right_name)(lab, lab.right, list(ps.values())).start()
    left_ps = [p.mirror(md5="wrong-one") if p.name == "md5bad" else p.mirror() for p in ps.values()]
    left = adapter(left_name)(lab, lab.left, left_ps).start()
    return lab, left, right, ps


@pytest.mark.parametrize("name", ["e4", "e6", "i4", "i6", "md5", "gtsm"])
def test_established(pair, name):
    _, left, right, _ = pair
    right.wait_state(name, timeout=30)
    left.wait_state(name, timeout=10)


@pytest.mark.parametrize("name", ["e4", "e6", "i4", "i6"])
def test_routes_both_ways_then_withdraw(pair, name):
    _, left, right, ps = pair
    p = ps[name]
    right.wait_state(name, timeout=30)
    base = 20 + 2 * list(ps).index(name)
    to_left = _routes(base, p.afi, p.ibgp)
    to_right = _routes(base + 1, p.afi, p.ibgp)
    right.announce(name, to_left)
    left.announce(name, to_right)
    want_left = normalise.expected_table(to_left, p)
    want_right = normalise.expected_table(to_right, p.mirror())
    left.wait_routes(name, want_left)
    right.wait_routes(name, want_right)
    right.withdraw(name, [to_left[0].prefix])
    left.withdraw(name, [to_right[0].prefix])
    del want_left[normalise.prefix(to_left[0].prefix)]
    del want_right[normalise.prefix(to_right[0].prefix)]
    left.wait_routes(name, want_left)
    right.wait_routes(name, want_right)


def test_md5_wrong_password_does_not_establish(pair):
    lab, left, right, _ = pair
    right.wait_state("md5", timeout=30)  # the right password works on the same pair of daemons
    with pytest.raises(TimeoutError):  # not up 5 s after both daemons started (the right key: < 1 s)
        right.wait_state("md5bad", timeout=max(0.5, 5 - lab.age()))
    assert left.state("md5bad") != "established"


def test_route_refresh_makes_the_peer_resend(pair):
    _, left, right, ps = pair
    if not left.sends_route_refresh:
        pytest.skip(f"{left.name} cannot send a ROUTE-REFRESH from its CLI")
    if not right.answers_route_refresh:
        pytest.skip(f"{right.name} cannot answer a ROUTE-REFRESH")
    right.wait_state("rr", timeout=30)
    routes = _routes(90, "ipv4", False)
    right.announce("rr", routes)
    left.wait_routes("rr", normalise.expected_table(routes, ps["rr"]))
    before = left.updates_received("rr")
    left.refresh("rr")
    wait_for(lambda: left.updates_received("rr") > before, 10, f"{right.name} resending after a refresh")
    left.wait_routes("rr", normalise.expected_table(routes, ps["rr"]))


def test_shutdown_communication_is_logged(pair):
    _, left, right, _ = pair
    if type(right).disable is Daemon.disable:
        pytest.skip(f"{right.name} cannot send a shutdown communication")
    right.wait_state("shut", timeout=30)
    left.wait_state("shut", timeout=10)
    right.disable("shut", "lab maintenance 42")
    wait_for(lambda: left.shutdown_message("shut") == "lab maintenance 42", 10, f"{left.name} logging it")


@pytest.mark.parametrize("receiver", ["bird", "frr", "exabgp"])
def test_addpath_receivers_hold_every_path(receiver):
    """The adapters' ADD-PATH settings work: GoBGP sends two paths of one prefix (path ids 1, 2)
    and the receiver reports both (what ze's ADD-PATH case will rely on)."""
    why = missing_facility(adapter("gobgp").binaries + adapter(receiver).binaries)
    if why:
        pytest.skip(why)
    with Lab() as lab:
        p = lab.peering(0, "ap", addpath=True)  # the receiver connects: GoBGP waits 5-10 s first
        right = adapter(receiver)(lab, lab.right, [p]).start()
        left = adapter("gobgp")(lab, lab.left, [p.mirror()]).start()
        right.wait_state("ap", timeout=30)
        left.gobgp("policy", "prefix", "add", "ps_ap", "10.80.0.0/24")
        for pid, med in ((1, 10), (2, 20)):
            left.gobgp("global", "rib", "-a", "ipv4", "add", "10.80.0.0/24", "identifier", str(pid),
                       "nexthop", p.remote_ip, "med", str(med))  # fmt: skip
        wait_for(lambda: len(right.received_paths("ap").get("10.80.0.0/24", [])) == 2, 10, "two paths")
        assert sorted(r["med"] for r in right.received_paths("ap")["10.80.0.0/24"]) == [10, 20]
