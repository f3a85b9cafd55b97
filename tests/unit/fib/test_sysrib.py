"""sysrib: admin distance across protocols, statics from config, batches out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ze.bgp.events import BestBatch, NextHopSet
from ze.bgp.wire.nlri.prefix import Prefix
from ze.fib.sysrib.service import TOPIC_OUT, SysRib, SysribConfig

V4 = "ipv4/unicast"
P = Prefix.parse("10.0.0.0/8")
Q = Prefix.parse("10.1.0.0/16")
EBGP = NextHopSet("ebgp", (("192.0.2.2", "a", ""),))
IBGP = NextHopSet("ibgp", (("192.0.2.3", "b", ""),))
CONN = NextHopSet("connected", (("0.0.0.0", "", "eth0"),))
FEATURE = Path(__file__).resolve().parents[3] / "ze" / "fib" / "sysrib"


def static_cfg(**routes) -> dict:
    return {"static": {"route": {p: r for p, r in routes.items()}}}


def test_bgp_best_goes_through_and_is_published():
    got = []
    rib = SysRib(publish=lambda topic, b: got.append((topic, b)))
    out = rib.on_best(BestBatch(V4, ((P, EBGP), (Q, IBGP))))
    assert out == BestBatch(V4, ((P, EBGP), (Q, IBGP)))
    assert got == [(TOPIC_OUT, out)]
    assert rib.on_best(BestBatch(V4, ((P, EBGP),))) is None  # same best: nothing to say
    assert rib.on_best(BestBatch(V4, (), (P,))) == BestBatch(V4, (), (P,))
    assert rib.best[V4] == {Q: IBGP}


def test_static_beats_ebgp_and_ibgp_and_connected_beats_static():
    rib = SysRib(SysribConfig.from_json(static_cfg(**{"10.0.0.0/8": {"next-hop": ["192.0.2.9"]}})))
    rib.on_best(BestBatch(V4, ((P, EBGP),)))
    (b,) = rib.set_static(rib.config.static)
    ((p, nhs),) = b.announce
    assert p == P and nhs.protocol == "static" and nhs.hops == (("192.0.2.9", "static", ""),)
    # the bgp route changes underneath: static still wins, nothing published
    assert rib.on_best(BestBatch(V4, ((P, IBGP),))) is None
    out = rib.on_best(BestBatch(V4, ((P, CONN),)), source="connected")
    assert out.announce == ((P, CONN),)
    # connected goes: static again; static goes: bgp (ibgp) again
    assert rib.on_best(BestBatch(V4, (), (P,)), source="connected").announce[0][1].protocol == "static"
    (b,) = rib.set_static([])
    assert b.announce == ((P, IBGP),) and b.withdraw == ()
    assert rib.lookup("10.0.0.0/8")["routes"] == [
        {"source": "bgp", "protocol": "ibgp", "distance": 200, "next-hops": ["192.0.2.3"], "best": True}
    ]


def test_ibgp_loses_to_ebgp_from_another_source_and_distances_are_configurable():
    rib = SysRib()
    rib.on_best(BestBatch(V4, ((P, IBGP),)), source="bgp")
    out = rib.on_best(BestBatch(V4, ((P, EBGP),)), source="bgp-vrf")
    assert out.announce == ((P, EBGP),)
    # make iBGP preferred: the winner flips
    (b,) = rib.reconfigure(SysribConfig(distance={"connected": 0, "static": 10, "ebgp": 200, "ibgp": 20}))
    assert b.announce == ((P, IBGP),)


def test_withdraw_of_the_winner_falls_back_and_last_withdraw_withdraws():
    rib = SysRib()
    rib.on_best(BestBatch(V4, ((P, IBGP),)), source="one")
    rib.on_best(BestBatch(V4, ((P, EBGP),)), source="two")
    assert rib.on_best(BestBatch(V4, (), (P,)), source="two").announce == ((P, IBGP),)
    assert rib.on_best(BestBatch(V4, (), (P,)), source="two") is None  # not its route any more
    assert rib.on_best(BestBatch(V4, (), (P,)), source="one").withdraw == (P,)
    assert rib.entries[V4] == {}


def test_equal_distance_first_source_keeps_it():
    rib = SysRib()
    other = NextHopSet("ebgp", (("192.0.2.7", "c", ""),))
    rib.on_best(BestBatch(V4, ((P, EBGP),)), source="one")
    assert rib.on_best(BestBatch(V4, ((P, other),)), source="two") is None
    assert rib.best[V4][P] is EBGP


def test_resync_batch_replaces_a_source_table():
    rib = SysRib()
    rib.on_best(BestBatch(V4, ((P, EBGP), (Q, EBGP))))
    out = rib.on_best(BestBatch(V4, ((Q, IBGP),), (), True))
    assert out.announce == ((Q, IBGP),) and out.withdraw == (P,)
    assert [b.resync for b in rib.resync()] == [True, True]
    assert rib.resync()[0].announce == ((Q, IBGP),)


def test_path_ids_are_dropped_and_other_families_ignored():
    rib = SysRib()
    rib.on_best(BestBatch(V4, ((P._replace(path_id=7), EBGP),)))
    assert list(rib.best[V4]) == [P]
    assert rib.on_best(BestBatch("l2vpn/evpn", ((P, EBGP),))) is None


def test_static_config_parsing():
    cfg = SysribConfig.from_json(
        {
            "distance": {"ebgp": 30},
            "static": {
                "route": [
                    {"prefix": "10.0.0.0/8", "next-hop": ["192.0.2.1", "192.0.2.2"], "distance": 5},
                    {"prefix": "2001:db8::/32", "next-hop": ["fe80::1"], "interface": "eth0"},
                ]
            },
        }
    )
    assert cfg.distance == {"connected": 0, "static": 10, "ebgp": 30, "ibgp": 200}
    (p1, n1, d1), (p2, n2, d2) = cfg.static
    assert (str(p1), [h[0] for h in n1.hops], d1) == ("10.0.0.0/8", ["192.0.2.1", "192.0.2.2"], 5)
    assert (str(p2), n2.hops, d2) == ("2001:db8::/32", (("fe80::1", "static", "eth0"),), None)
    with pytest.raises(ValueError, match="needs an interface"):
        SysribConfig.from_json(static_cfg(**{"2001:db8::/32": {"next-hop": ["fe80::1"]}}))
    with pytest.raises(ValueError, match="no next-hop"):
        SysribConfig.from_json(static_cfg(**{"10.0.0.0/8": {}}))
    with pytest.raises(ValueError, match="not one of"):
        SysribConfig.from_json({"distance": {"ospf": 110}})


def test_per_route_static_distance_can_lose_to_ebgp():
    rib = SysRib(
        SysribConfig.from_json(static_cfg(**{"10.0.0.0/8": {"next-hop": ["192.0.2.9"], "distance": 250}}))
    )
    rib.on_best(BestBatch(V4, ((P, EBGP),)))
    assert rib.set_static(rib.config.static) == []  # the floating static stays behind eBGP
    assert rib.on_best(BestBatch(V4, (), (P,))).announce[0][1].protocol == "static"


def test_config_through_the_yang_module():
    from ze.config.parser import parse_or_raise
    from ze.config.schema import load_schema

    schema = load_schema([FEATURE / "ze-fib.yang"])
    tree = parse_or_raise(
        "fib { distance { ibgp 150; } static { route 10.0.0.0/8 { next-hop 192.0.2.1; } } kernel { table 100; } }",
        schema,
    )
    data = tree.data["fib"]
    cfg = SysribConfig.from_json(data)
    assert cfg.distance["ibgp"] == 150 and str(cfg.static[0][0]) == "10.0.0.0/8"


def test_yang_module_passes_pyang_strict():
    pyang = Path(sys.executable).with_name("pyang")
    yang_dir = Path(__file__).resolve().parents[3] / "yang"
    r = subprocess.run(
        [str(pyang), "--strict", "-p", str(yang_dir), "-f", "tree", str(FEATURE / "ze-fib.yang")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:3] == ["module: ze-fib", "  +--rw fib", "     +--rw distance"]
    assert "+--rw kernel" in r.stdout and "+--rw route* [prefix]" in r.stdout


def test_manifests_import_nothing_heavy():
    code = (
        "import sys, ze.fib.sysrib.manifest as s, ze.fib.kernel.manifest as k;"
        "print(s.PLUGIN.name, k.PLUGIN.name, k.PLUGIN.requires, 'pyroute2' in sys.modules)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert r.stdout.split() == ["sysrib", "fib-kernel", "('pyroute2',)", "False"], r.stderr
    from ze.fib.sysrib.manifest import PLUGIN

    assert PLUGIN.config_roots == ("fib",) and all((FEATURE / y).exists() for y in PLUGIN.yang)
