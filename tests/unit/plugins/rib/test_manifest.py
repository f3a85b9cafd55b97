"""The bgp-rib manifest is data (importing it imports no feature code), its YANG module compiles
strictly, and the config section maps onto RibConfig."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ze.plugins.rib.table import RibConfig

FEATURE = Path(__file__).resolve().parents[4] / "ze" / "plugins" / "rib"


def test_manifest_imports_nothing_of_the_feature():
    code = (
        "import sys, ze.plugins.rib.manifest as m; p = m.PLUGIN; "
        "print(p.name, p.entry, p.config_roots, p.yang, any(k.startswith('ze.plugins.rib.s') for k in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert r.stdout.split() == [
        "bgp-rib",
        "ze.plugins.rib.plugin:main",
        "('rib',)",
        "('ze-rib.yang',)",
        "False",
    ], r.stderr


def test_entry_resolves():
    from ze.plugin.protocol.manifest import resolve
    from ze.plugins.rib.manifest import PLUGIN

    assert callable(resolve(PLUGIN.entry))
    assert all((FEATURE / y).exists() for y in PLUGIN.yang)


def test_yang_module_passes_pyang_strict():
    pyang = Path(sys.executable).with_name("pyang")
    r = subprocess.run(
        [str(pyang), "--strict", "-f", "tree", str(FEATURE / "ze-rib.yang")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:6] == [
        "module: ze-rib",
        "  +--rw rib",
        "     +--rw best-path",
        "     |  +--rw always-compare-med?         boolean",
        "     |  +--rw maximum-paths?              uint16",
        "     |  +--rw default-local-preference?   uint32",
    ]


def test_config_section():
    c = RibConfig.from_json(
        {
            "best-path": {"always-compare-med": True, "maximum-paths": 8, "default-local-preference": 50},
            "route-reflector": {"cluster-id": "10.0.0.9", "client": ["x", "y"]},
            "next-hop-self-ibgp": True,
            "batch-size": 128,
            "igp-cost": "none",
        },
        router_id="10.0.0.1",
    )
    assert (c.always_compare_med, c.maximum_paths, c.default_local_pref) == (True, 8, 50)
    assert c.route_reflector_clients == frozenset({"x", "y"}) and c.cluster_id == "10.0.0.9"
    assert (c.next_hop_self_ibgp, c.batch_size, c.igp_cost, c.router_id) == (True, 128, "none", "10.0.0.1")
    with pytest.raises(ValueError, match="maximum-paths 0"):
        RibConfig.from_json({"best-path": {"maximum-paths": 0}})


def test_debug_entry_reads_hex_updates(capsys, monkeypatch):
    import io

    from ze.bgp.wire.text import encode_text
    from ze.plugins.rib.plugin import main

    msgs = encode_text(
        "update text origin set igp as-path set [65001] nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/24"
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(m.hex() + "\n" for m in msgs)))
    assert main(["--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == '{"routes": 1, "prefixes": 1}'
    assert '"prefix": "10.0.0.0/24"' in lines[0]
