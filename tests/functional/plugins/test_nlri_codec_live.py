"""The route text syntax for a family a plugin encodes: `ze bgp update-route` with
`nlri ipv4/mpls-label add [10.0.0.0/24 label 300]`, ze asks examples/plugins/labels.py
(encode-nlri over TLS), and a live peer that negotiated ipv4/mpls-label receives the packed
labelled NLRI in MP_REACH_NLRI; text the plugin refuses is a clear error."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from tests.functional.conftest import wait_for
from tests.functional.speaker.lab import established, free_port, start, unique_net
from tests.functional.speaker.rawpeer import RawPeer
from ze.bgp.wire.header import MessageType
from ze.core.family import IPV4_UNICAST, Family

REPO = Path(__file__).resolve().parents[3]
LABELS = f"{sys.executable} {REPO / 'examples/plugins/labels.py'}"
LABELLED = Family(1, 4)


def conf(me: str, them: str, port: int) -> str:
    return (
        "environment { log { level info; } }\n"
        f"bgp {{ router-id {me}; local-as 65001; listen {{ ip {me}; port {port}; }} passive true; hold-time 30;\n"
        f"  peer b {{ remote {{ ip {them}; as 65003; }} family {{ ipv4 [ unicast mpls-label ]; }} }} }}\n"
        f'process labels {{ run "{LABELS}"; required true; }}\n'
    )


def test_update_route_with_a_plugin_encoded_family(tmp_path):
    net = unique_net()
    me, them = f"127.{net}.10.1", f"127.{net}.10.2"
    port = free_port(me)
    d = start(tmp_path, "ze", conf(me, them, port))
    b = RawPeer(me, port, local=them, asn=65003, peer_as=65001, hold_time=30)
    b.config = replace(b.config, families=(IPV4_UNICAST, LABELLED))
    try:
        wait_for(lambda: d.json("show", "plugins")["plugins"]["plugins"][0]["state"] == "ready", 30)
        b.open_session()
        established(d, "b")
        cmd = "update text origin set igp nhop set self nlri ipv4/mpls-label add [10.0.0.0/24 label 300] [10.0.1.0/24 label 301]"
        res = d.json("bgp", "update-route", "b", cmd)
        assert res["routes-sent"] >= 1, res
        want = bytes.fromhex("300012C10A0000" + "300012D10A0001")  # both, packed by the plugin

        def got() -> bool:
            return any(t == MessageType.UPDATE and want in m for t, m in list(b.received))

        wait_for(got, 10)
        shown = d.json("show", "labels")["result"]["data"]
        assert shown["encoded"] == 1
        r = d.ze(
            "bgp", "update-route", "b", "update text nhop set self nlri ipv4/mpls-label add [10.0.0.0/24]"
        )
        assert r.returncode == 1 and "expected 'PREFIX label N" in r.stderr, (r.stdout, r.stderr)
    finally:
        b.close()
        d.stop()
