"""OPEN messages encoded by ze, decoded by Wireshark's dissector (tshark): field by field."""

from __future__ import annotations

import ipaddress
import random

from tests.interop import tshark
from ze.bgp.wire.capability.addpath import AddPath
from ze.bgp.wire.capability.asn4 import ASN4
from ze.bgp.wire.capability.enhanced_route_refresh import EnhancedRouteRefresh
from ze.bgp.wire.capability.graceful_restart import GracefulRestart
from ze.bgp.wire.capability.hostname import Hostname
from ze.bgp.wire.capability.multiprotocol import Multiprotocol
from ze.bgp.wire.capability.route_refresh import RouteRefresh
from ze.bgp.wire.open import Open
from ze.core.family import IPV4_MULTICAST, IPV4_UNICAST, IPV6_MULTICAST, IPV6_UNICAST

FAMILIES = [IPV4_UNICAST, IPV6_UNICAST, IPV4_MULTICAST, IPV6_MULTICAST]
N = 400


def _random_open(rng: random.Random) -> tuple[Open, dict]:
    asn = rng.choice([rng.randrange(1, 65536), rng.randrange(65536, 2**32)])
    fams = rng.sample(FAMILIES, rng.randrange(1, 5))
    caps = [Multiprotocol.from_value(f) for f in fams]
    if rng.random() < 0.5:
        caps.append(RouteRefresh.from_value())
    if rng.random() < 0.3:
        caps.append(EnhancedRouteRefresh.from_value())
    caps.append(ASN4.from_value(asn))
    ap = [(f, rng.choice(["receive", "send", "both"])) for f in fams if rng.random() < 0.5]
    if ap:
        caps.append(AddPath.from_value(ap))
    gr_time = rng.randrange(0, 4096)
    if rng.random() < 0.5:
        caps.append(GracefulRestart.from_value(gr_time, [(f, rng.random() < 0.5) for f in fams]))
    host = ""
    if rng.random() < 0.5:
        host = "".join(rng.choice("abcdefghij-0123") for _ in range(rng.randrange(1, 20)))
        caps.append(Hostname.from_value(host, "example.net"))
    rng.shuffle(caps)
    rid = str(ipaddress.IPv4Address(rng.randrange(1, 2**32)))
    hold = rng.choice([0, 3, 90, 180, 65535])
    msg = Open.from_value(asn, hold, rid, caps)
    return msg, {"asn": asn, "hold": hold, "rid": rid, "caps": caps, "fams": fams, "ap": ap, "host": host}


def test_tshark_agrees_on_open_fields(tmp_path):
    rng = random.Random(20261123)
    built = [_random_open(rng) for _ in range(N)]
    rows = tshark.dissect([m.to_bytes() for m, _ in built], tmp_path)
    assert len(rows) == N
    for (msg, want), got in zip(built, rows):
        assert got["bgp.type"] == ["1"]
        assert got["bgp.open.version"] == ["4"]
        assert got["bgp.open.myas"] == [str(want["asn"] if want["asn"] < 65536 else 23456)]
        assert got["bgp.open.holdtime"] == [str(want["hold"])]
        assert got["bgp.open.identifier"] == [want["rid"]]
        assert got["bgp.cap.type"] == [str(c.CODE) for c in want["caps"]]
        mp = [c for c in want["caps"] if isinstance(c, Multiprotocol)]
        assert got["bgp.cap.mp.afi"] == [str(c.afi) for c in mp]
        assert got["bgp.cap.mp.safi"] == [str(c.safi) for c in mp]
        assert got["bgp.cap.4as"] == [str(want["asn"])]
        ap = [c for c in want["caps"] if isinstance(c, AddPath)]
        if ap:
            fam_modes = list(ap[0].families())
            assert got["bgp.cap.ap.afi"] == [str(f.afi) for f, _ in fam_modes]
            assert got["bgp.cap.ap.safi"] == [str(f.safi) for f, _ in fam_modes]
            assert got["bgp.cap.ap.sendreceive"] == [str(m) for _, m in fam_modes]
        gr = [c for c in want["caps"] if isinstance(c, GracefulRestart)]
        assert got["bgp.cap.gr.timers.restart_time"] == [str(c.restart_time) for c in gr]
        if want["host"]:
            assert got["bgp.cap.orf.fqdn.hostname"] == [want["host"]]
            assert got["bgp.cap.orf.fqdn.domain_name"] == ["example.net"]
        # and ze reads back what it wrote
        assert Open.from_wire(memoryview(msg.to_bytes())[19:]).to_json() == msg.to_json()
