"""The whole hot path, for real: a peer's routes reach ze's kernel FIB through the plugins.

Two `ze run` daemons in a namespace pair: B (AS 65002) originates routes with update-route; A
(AS 65001) runs the bgp-rib, sysrib and fib-kernel features in-process. The routes must appear
in A's namespace kernel table with protocol 186 ("bgp") and B as next hop, be visible in
`ze show rib`, `ze show sysrib` and `ze show fib`, go away when withdrawn, and all go when the
session goes down. A static route from A's config is in the kernel too (sysrib's own protocol).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.functional.conftest import wait_for
from tests.functional.speaker.lab import conf, daemons, established, have_netns, netns_delete, netns_pair

pytestmark = pytest.mark.skipif(bool(have_netns()), reason=have_netns() or "")

A_FEATURES = """
plugin { internal bgp-rib; internal sysrib; internal fib-kernel; }
rib { igp-cost none; }
fib {
    kernel { table main; stale-time 5; }
    static { route 192.0.2.128/25 { next-hop 10.99.0.2; } }
}
"""


def kernel_routes(ns: str) -> dict[str, dict]:
    out = subprocess.run(
        ["ip", "-n", ns, "-j", "route", "show", "proto", "186"], capture_output=True, text=True, check=True
    ).stdout
    return {r["dst"]: r for r in json.loads(out or "[]")}


def test_routes_from_a_peer_reach_the_kernel_fib(tmp_path):
    na, nb = netns_pair(f"ze-pipe-{os.getpid() % 100000}")
    a_text = conf("a", "10.99.0.1", 65001, 179, [("b", "10.99.0.2", 65002)]) + A_FEATURES
    b_text = conf("b", "10.99.0.2", 65002, 179, [("a", "10.99.0.1", 65001)])
    try:
        with daemons(tmp_path, {"a": (a_text, na), "b": (b_text, nb)}) as d:
            a, b = d["a"], d["b"]
            established(a, "b")

            # the static route is in the kernel before any BGP route
            wait_for(lambda: "192.0.2.128/25" in kernel_routes(na), 10)

            cmd = "update text origin set igp nhop set 10.99.0.2 as-path set [65002] nlri ipv4/unicast add 198.51.100.0/24 203.0.113.0/25"
            r = b.ze("bgp", "update-route", "a", cmd)
            assert r.returncode == 0, r.stdout + r.stderr

            def both() -> dict | None:
                k = kernel_routes(na)
                return k if {"198.51.100.0/24", "203.0.113.0/25"} <= set(k) else None

            routes = wait_for(both, 15)
            assert routes["198.51.100.0/24"].get("gateway") == "10.99.0.2" or any(
                h.get("gateway") == "10.99.0.2" for h in routes["198.51.100.0/24"].get("nexthops", [])
            ), routes["198.51.100.0/24"]

            rib = a.json("show", "rib")
            text = json.dumps(rib)
            assert "198.51.100.0/24" in text and "203.0.113.0/25" in text, text
            fib = a.json("show", "fib")
            assert "installed" in json.dumps(fib), fib
            sysrib = a.json("show", "sysrib", "198.51.100.0/24")
            assert "10.99.0.2" in json.dumps(sysrib), sysrib

            r = b.ze("bgp", "update-route", "a", "update text nlri ipv4/unicast del 203.0.113.0/25")
            assert r.returncode == 0, r.stdout + r.stderr
            wait_for(lambda: "203.0.113.0/25" not in kernel_routes(na), 15)
            assert "198.51.100.0/24" in kernel_routes(na)

            b.stop()  # the session goes down: its routes leave the FIB, the static stays
            wait_for(lambda: "198.51.100.0/24" not in kernel_routes(na), 15)
            assert "192.0.2.128/25" in kernel_routes(na)
    finally:
        netns_delete(na, nb)
