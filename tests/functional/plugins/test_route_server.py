"""`ze run` with examples/plugins/route_server.py over TLS and two live raw peers: filter-update
(a verdict per received UPDATE before the hub: the bogon is rejected, never forwarded, never an
event) and forward-cached (the accepted UPDATE reaches the other peer byte for byte, not
re-encoded: no AS prepended, same next hop), an evicted id is a clear error."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tests.functional.conftest import wait_for
from tests.functional.speaker.lab import established, free_port, start, unique_net
from tests.functional.speaker.rawpeer import RawPeer
from ze.bgp.wire.header import MessageType
from ze.bgp.wire.text import encode_text

REPO = Path(__file__).resolve().parents[3]
RS = f"{sys.executable} {REPO / 'examples/plugins/route_server.py'}"


def conf(me: str, a: str, b: str, port: int) -> str:
    return (
        "environment { log { level info; } }\n"
        f"bgp {{ router-id {me}; local-as 65001; listen {{ ip {me}; port {port}; }} passive true; hold-time 30;\n"
        f"  peer a {{ remote {{ ip {a}; as 65002; }} }}\n"
        f"  peer b {{ remote {{ ip {b}; as 65003; }} }} }}\n"
        "plugin { fast-hook { timeout-ms 5000; default reject; } }\n"  # a loaded CI machine is slow
        f'process rs {{ run "{RS}"; required true; }}\n'
    )


def body(text: str) -> bytes:
    (msg,) = encode_text(text)
    return msg[19:]


def test_filter_update_and_forward_cached_between_live_peers(tmp_path):
    net = unique_net()
    me, a_ip, b_ip = f"127.{net}.9.1", f"127.{net}.9.2", f"127.{net}.9.3"
    port = free_port(me)
    d = start(tmp_path, "ze", conf(me, a_ip, b_ip, port))
    a = RawPeer(me, port, local=a_ip, asn=65002, peer_as=65001, hold_time=30)
    b = RawPeer(me, port, local=b_ip, asn=65003, peer_as=65001, hold_time=30)
    try:
        wait_for(lambda: d.json("show", "plugins")["plugins"]["plugins"][0]["state"] == "ready", 30)
        a.open_session()
        b.open_session()
        established(d, "a")
        established(d, "b")
        good = body(
            f"update text origin set igp nhop set {a_ip} as-path set [65002] nlri ipv4/unicast add 10.1.0.0/24"
        )
        bogon = body(
            f"update text origin set igp nhop set {a_ip} as-path set [65002] nlri ipv4/unicast add 10.66.0.0/16"
        )
        later = body(
            f"update text origin set igp nhop set {a_ip} as-path set [65002 64999] nlri ipv4/unicast add 10.2.0.0/24"
        )
        for x in (good, bogon, later):
            a.send(b"\xff" * 16 + (19 + len(x)).to_bytes(2, "big") + bytes([MessageType.UPDATE]) + x)

        def updates_at_b() -> list[bytes]:
            return [m for t, m in list(b.received) if t == MessageType.UPDATE]

        wait_for(lambda: any(later in m for m in updates_at_b()), 20)
        got = updates_at_b()
        assert any(m.endswith(good) for m in got)  # byte for byte: not re-encoded for b
        assert not any(bogon in m for m in got)  # rejected before the hub: never forwarded
        rs = d.json("show", "rs")["result"]["data"]
        assert (rs["filtered"], rs["rejected"], rs["forwarded"]) == (3, 1, 2)
        assert rs["last"]["peers"] == ["b"] and rs["last"]["from"] == "a"
        st = d.json("show", "plugins")["plugins"]
        assert st["filter-update"]["calls"] == 3 and st["filter-update"]["failures"] == 0
        assert "filter-update: 3 calls, 0 failures (0 timeouts)" in d.ze("show", "plugins").stdout
        # an id no longer (or never) cached: a clear error
        r = d.ze("plugin", "command", "rs", "forward", "999999", "b")
        assert r.returncode == 1 and "UPDATE id 999999 is not in the cache" in r.stderr, (r.stdout, r.stderr)
        # a peer the UPDATE came from, and an unknown one, are skipped with the reason
        first = rs["last"]["id"]
        res = d.json("plugin", "command", "rs", "forward", str(first), "a", "nobody")["result"]["data"]
        assert res["peers"] == [] and res["skipped"] == {
            "a": "the UPDATE came from this peer",
            "nobody": "no such peer",
        }
        time.sleep(0.2)
        assert sum(1 for m in updates_at_b() if m.endswith(good)) == 1
    finally:
        a.close()
        b.close()
        d.stop()
