"""The BGP speaker calling the plugin host's hooks, with `ze run` and a raw test peer:
back-pressure (a slow plugin's queue at its bound stops the reads from the peer's socket, the
session stays up and every UPDATE is delivered), capabilities a plugin adds to the OPEN ze sends,
and validate-open (a plugin refusing a peer's OPEN: NOTIFICATION 2/0, no session)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from tests.functional.conftest import wait_for
from tests.functional.speaker.lab import free_port, peer, start, unique_net
from tests.functional.speaker.rawpeer import RawPeer, flood
from ze.bgp.negotiation import build_open
from ze.bgp.wire.header import MessageType, frame
from ze.bgp.wire.open import Open

REPO = Path(__file__).resolve().parents[3]
BEHAVE = f"{sys.executable} {REPO / 'tests/functional/plugins/behave.py'}"
BOUND = 1000


def conf(me: str, them: str, port: int, out: Path, mode: str) -> str:
    return (
        "environment { log { level info; } }\n"
        f"bgp {{ router-id {me}; local-as 65001; listen {{ ip {me}; port {port}; }}\n"
        f"  peer p {{ remote {{ ip {them}; as 65002; }} passive true; hold-time 9; }} }}\n"
        f"plugin {{ queue-bound {BOUND}; }}\n"
        f'process behave {{ run "ZE_TEST_MODE={mode} ZE_TEST_OUT={out} {BEHAVE}"; required true; }}\n'
    )


@pytest.fixture
def lab(tmp_path, request):
    net = unique_net()
    me, them = f"127.{net}.7.1", f"127.{net}.7.2"
    port = free_port(me)
    out = tmp_path / "events"
    d = start(tmp_path, "ze", conf(me, them, port, out, request.param))
    # the list is empty until the plugin has registered (seen under load in make test)
    wait_for(lambda: [p["state"] for p in d.json("show", "plugins")["plugins"]["plugins"]] == ["ready"], 30)
    peers: list[RawPeer] = []

    def raw(**kw) -> RawPeer:
        p = RawPeer(me, port, local=them, asn=65002, peer_as=65001, hold_time=9, **kw)
        peers.append(p)
        return p

    try:
        yield d, raw, out
    finally:
        for p in peers:
            p.close()
        d.stop()


@pytest.mark.parametrize("lab", ["slow"], indirect=True)
def test_back_pressure_pauses_reads_and_loses_nothing(lab):
    d, raw, out = lab
    p = raw()
    p.open_session()
    p.keepalives(3)
    blob, updates = flood(60_000, per_update=10)
    p.send_stream(blob)
    p.send(frame(MessageType.UPDATE, b"\x00\x00\x00\x00"))  # End-of-RIB

    def st() -> dict:
        return d.json("show", "plugins")["plugins"]["plugins"][0]

    wait_for(lambda: st()["delivered"] >= updates + 1, timeout=180)
    s = st()
    # the queue went to its bound several times (each time the reads stopped until it was back
    # under half), and never far past it: at most one socket read (256 KiB) of UPDATEs more
    assert s["queue-bound"] == BOUND
    assert s["pauses"] >= 2, s
    assert s["high-water"] < BOUND + 3000, s
    assert s["delivered"] == updates + 1 and s["queue-depth"] == 0
    got = peer(d, "p")
    assert got["state"] == "established" and got["established-count"] == 1
    assert not p.notifications()
    ids = [json.loads(line)["bgp"]["message"]["id"] for line in out.read_text().splitlines()]
    assert len(ids) == updates + 1 and ids == sorted(ids)


def _open_of(p: RawPeer) -> dict:
    body = next(b for t, b in p.received if t == MessageType.OPEN)
    return Open.from_wire(body, 19).to_json()


@pytest.mark.parametrize("lab", ["open"], indirect=True)
def test_plugin_capability_in_the_open_ze_sends(lab):
    d, raw, _ = lab
    p = raw()
    p.open_session()
    got = wait_for(lambda: (g := peer(d, "p"))["state"] == "established" and g, 20)
    assert got["established-count"] == 1
    caps = _open_of(p)["capabilities"]
    ours = [c for c in caps if c["code"] == 240]
    assert ours == [{"code": 240, "name": "unknown", "value": b"ze-test".hex().upper()}]
    assert caps[-1]["code"] == 240  # after the configured ones
    assert {1, 2, 65} <= {c["code"] for c in caps}  # multiprotocol, route refresh, asn4 still there


@pytest.mark.parametrize("lab", ["open"], indirect=True)
def test_validate_open_refuses_then_accepts(lab):
    d, raw, out = lab
    # refused: the plugin's on_validate_open raises Reject -> NOTIFICATION 2/0 with the reason,
    # no KEEPALIVE from ze first, no session
    bad = raw(router_id="9.9.9.9")
    bad.connect()
    bad.send(build_open(bad.config).to_bytes())
    bad.wait(lambda: MessageType.NOTIFICATION in bad.types(), 15)
    note = bad.notifications()[0]
    assert note[:2] == b"\x02\x00" and b"router-id 9.9.9.9 is not welcome" in note[2:]
    assert MessageType.KEEPALIVE not in bad.types()
    caps = {c["code"]: c["value"] for c in _open_of(bad)["capabilities"]}
    assert caps[240] == b"ze-test".hex().upper()  # the plugin's capability, to peer "p"
    got = peer(d, "p")
    assert got["state"] != "established" and got["established-count"] == 0
    bad.close()

    # accepted: the session comes up (ze holds the connection while Idle: retry a few times)
    for attempt in range(20):
        good = raw()
        try:
            good.open_session(timeout=5)
            break
        except (AssertionError, OSError):
            good.close()
            if attempt == 19:
                raise
            time.sleep(0.5)
    got = wait_for(lambda: (g := peer(d, "p"))["state"] == "established" and g, 20)
    assert got["established-count"] == 1
    caps = {c["code"]: c["value"] for c in _open_of(good)["capabilities"]}
    assert caps[240] == b"ze-test".hex().upper()
    asked = [
        json.loads(line)["validate-open"] for line in out.read_text().splitlines() if "validate-open" in line
    ]
    assert [a["open"]["router-id"] for a in asked][:1] == ["9.9.9.9"] and asked[-1]["open"][
        "router-id"
    ] != "9.9.9.9"
    assert asked[-1]["peer"]["name"] == "p" and asked[-1]["peer"]["remote-as"] == 65002
