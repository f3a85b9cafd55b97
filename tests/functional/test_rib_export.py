"""Routes through a RIB, for real: three `ze run` daemons in a namespace chain P1 - R - P2 (eBGP).

P1 (AS 65001) originates routes with update-route; R (AS 65002) runs bgp-rib and sends its Loc-RIB
to P2 (AS 65003) by the default export rules; P2 runs bgp-rib too, so what it received can be
read back: R's AS in front of the path, R's address as the next hop. A withdraw on P1 reaches P2,
and P1's own routes are not sent back to it. `ze show peer NAME routes received|advertised` on
R is answered by the rib plugin; a ROUTE-REFRESH from P2 makes R's rib send its routes again.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.functional.conftest import Running, wait_for
from tests.functional.speaker.lab import daemons, established, have_netns, netns_delete, peer, received

pytestmark = pytest.mark.skipif(bool(have_netns()), reason=have_netns() or "")

RIB = "plugin { internal bgp-rib; }\nrib { igp-cost none; }\n"
IGP_KERNEL = "plugin { internal bgp-rib; }\nrib { igp-cost kernel; }\n"


def netns_chain(tag: str) -> tuple[str, str, str]:
    """P1 (10.98.1.1) -- (10.98.1.2) R (10.98.2.1) -- (10.98.2.2) P2, joined by two veth pairs."""
    p1, r, p2 = f"{tag}-p1", f"{tag}-r", f"{tag}-p2"
    cmds = [
        f"ip netns add {p1}",
        f"ip netns add {r}",
        f"ip netns add {p2}",
        f"ip link add v1 netns {p1} type veth peer name r1 netns {r}",
        f"ip link add v2 netns {p2} type veth peer name r2 netns {r}",
        f"ip -n {p1} addr add 10.98.1.1/24 dev v1",
        f"ip -n {r} addr add 10.98.1.2/24 dev r1",
        f"ip -n {r} addr add 10.98.2.1/24 dev r2",
        f"ip -n {p2} addr add 10.98.2.2/24 dev v2",
    ]
    for ns, dev in ((p1, "v1"), (r, "r1"), (r, "r2"), (p2, "v2"), (p1, "lo"), (r, "lo"), (p2, "lo")):
        cmds.append(f"ip -n {ns} link set {dev} up")
    try:
        for c in cmds:
            subprocess.run(c.split(), check=True, capture_output=True)
    except subprocess.CalledProcessError:
        netns_delete(p1, r, p2)
        raise
    return p1, r, p2


@contextlib.contextmanager
def chain(tmp_path, tag: str, texts: dict[str, str]) -> Iterator[tuple[Running, Running, Running]]:
    """`ze run` P1, R and P2 (texts by those names) in the namespace chain; R's sessions to both
    up. Everything stopped and deleted on the way out."""
    n1, nr, n2 = netns_chain(f"{tag}-{os.getpid() % 100000}")
    try:
        specs = {name: (texts[name], ns) for name, ns in (("p1", n1), ("r", nr), ("p2", n2))}
        with daemons(tmp_path, specs) as d:
            established(d["r"], "p1")
            established(d["r"], "p2")
            yield d["p1"], d["r"], d["p2"]
    finally:
        netns_delete(n1, nr, n2)


def config(rid: str, asn: int, listen: str, peers: list[tuple[str, str, int, str]], extra: str = "") -> str:
    body = "\n".join(
        f"    peer {name} {{ remote {{ ip {ip}; as {pas}; }} local-address {local}; }}"
        for name, ip, pas, local in peers
    )
    return (
        "environment { log { level info; } }\n"
        f"bgp {{\n    router-id {rid};\n    local-as {asn};\n    listen {{ ip {listen}; port 179; }}\n"
        f"    connect-retry 1;\n    adj-rib-in true;\n{body}\n}}\n{extra}"
    )


def chain_texts(r_extra: str = RIB, p2_extra: str = RIB, p2_as: int = 65003) -> dict[str, str]:
    """The three configs: P1 (AS 65001) and P2 (eBGP AS 65003, or iBGP with p2_as 65002) peer with
    R (AS 65002); r_extra and p2_extra add sections (plugins, rib) to R's and P2's."""
    r_peers = [("p1", "10.98.1.1", 65001, "10.98.1.2"), ("p2", "10.98.2.2", p2_as, "10.98.2.1")]
    return {
        "p1": config("10.98.1.1", 65001, "10.98.1.1", [("r", "10.98.1.2", 65002, "10.98.1.1")]),
        "r": config("10.98.2.1", 65002, "0.0.0.0", r_peers, r_extra),
        "p2": config("10.98.2.2", p2_as, "10.98.2.2", [("r", "10.98.2.1", 65002, "10.98.2.2")], p2_extra),
    }


def rib_rows(d: Running, peer: str) -> list[dict]:
    """The routes `d`'s bgp-rib holds from `peer` (show peer NAME routes received, as JSON)."""
    data = d.json("show", "peer", peer, "routes", "received")
    return data["routes"]


def test_routes_cross_a_rib_to_the_next_ebgp_peer(tmp_path):
    with chain(tmp_path, "ze-exp", chain_texts()) as (p1, r, p2):
        cmd = (
            "update text origin set igp nhop set 10.98.1.1 "
            "nlri ipv4/unicast add 198.51.100.0/24 203.0.113.0/25 203.0.113.128/25"
        )
        res = p1.ze("bgp", "update-route", "r", cmd)
        assert res.returncode == 0, res.stdout + res.stderr

        wait_for(lambda: received(p2, "r") == 3, 20)
        rows = {x["prefix"]: x for x in rib_rows(p2, "r")}
        assert set(rows) == {"198.51.100.0/24", "203.0.113.0/25", "203.0.113.128/25"}, rows
        for x in rows.values():
            assert x["peer"] == "r" and x["next-hop"] == "10.98.2.1", x
            assert x["as-path"] == [65002, 65001], x
            assert x["origin"] == "igp" and x["best"], x
        # P1's routes are not sent back to it (they came from it)
        assert received(p1, "r") == 0

        # the rib plugin answers `show peer NAME routes received|advertised` on R
        adv = r.json("show", "peer", "p2", "routes", "advertised")
        assert adv["advertised"] == 3, adv
        text = json.dumps(adv)
        assert "203.0.113.128/25" in text and "10.98.2.1" in text, adv
        got = r.json("show", "peer", "p1", "routes", "received")
        assert got["received"] == 3, got
        assert r.json("show", "peer", "p1", "routes", "advertised")["advertised"] == 0
        human = r.ze("show", "peer", "p2", "routes", "advertised")
        assert human.returncode == 0 and "198.51.100.0/24" in human.stdout, human.stdout + human.stderr

        # a withdraw on P1 reaches P2
        res = p1.ze("bgp", "update-route", "r", "update text nlri ipv4/unicast del 203.0.113.0/25")
        assert res.returncode == 0, res.stdout + res.stderr
        wait_for(lambda: received(p2, "r") == 2, 20)
        assert {x["prefix"] for x in rib_rows(p2, "r")} == {"198.51.100.0/24", "203.0.113.128/25"}

        # a ROUTE-REFRESH from P2: R's rib sends its Adj-RIB-Out (both routes) again
        before = peer(p2, "r")["updates-received"]
        res = p2.ze("bgp", "peer", "refresh", "r")
        assert res.returncode == 0, res.stdout + res.stderr
        wait_for(lambda: peer(p2, "r")["updates-received"] > before, 20)
        assert peer(r, "p2")["refreshes-received"] == 1
        assert received(p2, "r") == 2

        # P1 goes away: R withdraws everything it had from it towards P2
        p1.stop()
        wait_for(lambda: received(p2, "r") == 0, 20)
        assert rib_rows(p2, "r") == []


def test_a_next_hop_becoming_reachable_in_the_kernel_sends_the_route(tmp_path):
    """R resolves next hops in its kernel (igp-cost kernel): a route whose next hop has no route
    is not selected, so P2 gets nothing; a kernel route to it makes the rib (watching the
    kernel's route notifications) select it and send it on; removing that route withdraws it."""
    with chain(tmp_path, "ze-igp", chain_texts(IGP_KERNEL, "")) as (p1, r, p2):
        cmd = "update text origin set igp nhop set 10.98.9.9 nlri ipv4/unicast add 198.51.100.0/24"
        res = p1.ze("bgp", "update-route", "r", cmd)
        assert res.returncode == 0, res.stdout + res.stderr
        wait_for(lambda: r.json("show", "peer", "p1", "routes", "received")["received"] == 1, 20)
        assert r.json("show", "peer", "p2", "routes", "advertised")["advertised"] == 0
        assert received(p2, "r") == 0

        ip = ["ip", "-n", r.netns, "route"]
        subprocess.run([*ip, "add", "10.98.9.0/24", "via", "10.98.1.1", "metric", "5"], check=True)
        wait_for(lambda: received(p2, "r") == 1, 20)
        adv = r.json("show", "peer", "p2", "routes", "advertised")
        assert adv["advertised"] == 1 and "198.51.100.0/24" in json.dumps(adv), adv

        subprocess.run([*ip, "del", "10.98.9.0/24", "via", "10.98.1.1", "metric", "5"], check=True)
        wait_for(lambda: received(p2, "r") == 0, 20)


def test_reload_rewrites_what_an_ibgp_peer_was_sent(tmp_path):
    """P1 (eBGP) - R - P2 (iBGP: R's own AS). R first keeps P1's next hop towards P2 with LOCAL_PREF
    100; a reload of R with next-hop-self-ibgp and default-local-preference 200 sends P2 the routes
    it already has again, rewritten by the new rules, and later routes follow them too."""
    with chain(tmp_path, "ze-rld", chain_texts(p2_as=65002)) as (p1, r, p2):

        def announce(prefixes: str) -> None:
            cmd = f"update text origin set igp nhop set 10.98.1.1 nlri ipv4/unicast add {prefixes}"
            res = p1.ze("bgp", "update-route", "r", cmd)
            assert res.returncode == 0, res.stdout + res.stderr

        def seen() -> dict[str, tuple]:
            return {x["prefix"]: (x["next-hop"], x.get("local-preference")) for x in rib_rows(p2, "r")}

        announce("198.51.100.0/24 203.0.113.0/25")
        wait_for(lambda: received(p2, "r") == 2, 20)
        assert seen() == {"198.51.100.0/24": ("10.98.1.1", 100), "203.0.113.0/25": ("10.98.1.1", 100)}

        rules = (
            "rib { igp-cost none; next-hop-self-ibgp true; best-path { default-local-preference 200; } }\n"
        )
        r.conf.write_text(chain_texts("plugin { internal bgp-rib; }\n" + rules, p2_as=65002)["r"])
        result = r.json("signal", "reload")["result"]
        assert (result["status"], result["changed"]) == ("ok", True), result
        want = {"198.51.100.0/24": ("10.98.2.1", 200), "203.0.113.0/25": ("10.98.2.1", 200)}
        wait_for(lambda: seen() == want, 20)

        announce("203.0.113.128/25")
        wait_for(lambda: received(p2, "r") == 3, 20)
        assert seen() == {**want, "203.0.113.128/25": ("10.98.2.1", 200)}
