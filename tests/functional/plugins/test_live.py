"""Plugins with live BGP sessions (`ze run` and a raw test peer): a deliberately slow external
plugin while the peer sends 100,000 prefixes (the session stays up, the plugin gets every
UPDATE, in order), and a plugin sending routes to the peer with update-route."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from tests.functional.conftest import wait_for
from tests.functional.speaker.lab import free_port, peer, start, unique_net
from tests.functional.speaker.rawpeer import RawPeer, flood
from ze.bgp.wire.header import MessageType, frame

REPO = Path(__file__).resolve().parents[3]
BEHAVE = f"{sys.executable} {REPO / 'tests/functional/plugins/behave.py'}"
N = 100_000


def conf(me: str, them: str, port: int, out: Path) -> str:
    return (
        "environment { log { level info; } }\n"
        f"bgp {{ router-id {me}; local-as 65001; listen {{ ip {me}; port {port}; }}\n"
        f"  peer p {{ remote {{ ip {them}; as 65002; }} passive true; hold-time 9; }} }}\n"
        f'process behave {{ run "ZE_TEST_MODE=slow ZE_TEST_OUT={out} {BEHAVE}"; required true; }}\n'
    )


@pytest.fixture
def lab(tmp_path):
    net = unique_net()
    me, them = f"127.{net}.6.1", f"127.{net}.6.2"
    port = free_port(me)
    out = tmp_path / "events"
    d = start(tmp_path, "ze", conf(me, them, port, out))
    wait_for(lambda: d.json("show", "plugins")["plugins"]["plugins"][0]["state"] == "ready", 30)
    p = RawPeer(me, port, local=them, asn=65002, peer_as=65001, hold_time=9)
    try:
        p.open_session()
        p.keepalives(3)
        yield d, p, out
    finally:
        p.close()
        d.stop()


def test_slow_plugin_during_a_100k_prefix_flood(lab):
    d, p, out = lab
    blob, updates = flood(N, per_update=10)
    t0 = time.monotonic()
    p.send_stream(blob)
    p.send(frame(MessageType.UPDATE, b"\x00\x00\x00\x00"))  # End-of-RIB

    def delivered() -> int:
        return d.json("show", "behave")["result"]["data"]["events"]

    wait_for(lambda: delivered() >= updates + 1, timeout=180)
    elapsed = time.monotonic() - t0
    got = peer(d, "p")
    assert got["state"] == "established" and got["established-count"] == 1
    assert not p.notifications()
    assert p.keepalives_received >= 1 + int(elapsed // 3) - 1  # ze's keepalives kept flowing
    ids, prefixes = [], 0
    for line in out.read_text().splitlines():
        ev = json.loads(line)["bgp"]
        ids.append(ev["message"]["id"])
        for entry in ev["update"]["nlri"].get("ipv4/unicast", []):
            prefixes += len(entry.get("nlri", []))
    assert prefixes == N and len(ids) == updates + 1
    assert ids == sorted(ids)  # in order
    st = d.json("show", "plugins")["plugins"]["plugins"][0]
    assert st["delivered"] == updates + 1 and st["queue-depth"] == 0 and st["restarts"] == 0


def test_plugin_sends_routes_with_update_route(lab):
    d, p, _ = lab
    cmd = "update text origin set igp nhop set self nlri ipv4/unicast add 198.51.100.0/24"
    res = d.json("plugin", "command", "behave", "announce", *cmd.split())["result"]
    assert res["plugin"] == "behave"
    data = res["data"]
    assert data.get("routes-sent", data.get("peers-affected")), data
    want = bytes([24, 198, 51, 100])
    p.wait(lambda: any(t == MessageType.UPDATE and want in b for t, b in list(p.received)), 10)
