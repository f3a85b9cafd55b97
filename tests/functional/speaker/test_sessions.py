"""Two ze daemons peering over loopback: sessions, routes both ways, withdrawals, route refresh,
administrative stop with a shutdown communication, reload touching one peer only."""

from __future__ import annotations

import pytest

from tests.functional.conftest import wait_for
from tests.functional.speaker.lab import conf, established, free_port, peer, received, start, unique_net


@pytest.fixture
def pair(tmp_path):
    net = unique_net()
    a_ip, b_ip = f"127.{net}.1.1", f"127.{net}.1.2"
    port = free_port(a_ip, b_ip)
    announce = 'announce "update text origin set igp nhop set self community set [no-export] nlri ipv4/unicast add 10.0.0.0/24 10.0.1.0/24";'
    a = start(tmp_path, "a", conf("a", a_ip, 65001, port, [("b", b_ip, 65002)], peer_extra=announce))
    b = start(tmp_path, "b", conf("b", b_ip, 65002, port, [("a", a_ip, 65001)]))
    try:
        yield a, b, a_ip, b_ip
    finally:
        a.stop()
        b.stop()


def test_session_routes_refresh_and_stop(pair):
    a, b, a_ip, _ = pair
    pa = established(b, "a")
    established(a, "b")
    assert pa["negotiated"]["peer-as"] == 65001 and pa["negotiated"]["families"] == ["ipv4/unicast"]
    assert pa["connection"]["remote"] == a_ip
    # The config's announce lines, then End-of-RIB.
    wait_for(lambda: received(b, "a") == 2)
    assert peer(b, "a")["end-of-rib"] == ["ipv4/unicast"]
    assert b.json("show", "peer", "a", "routes", "received") == {
        "routes-received": {"ipv4/unicast": ["10.0.0.0/24", "10.0.1.0/24"]}
    }
    r = b.ze("show", "peer", "a", "routes", "received")
    assert r.stdout.split("\n")[:2] == ["ipv4/unicast 10.0.0.0/24", "ipv4/unicast 10.0.1.0/24"]

    # update-route from the CLI: announce, then withdraw.
    r = a.ze(
        "bgp",
        "update-route",
        "b",
        "update text origin set igp nhop set self as-path set [65099] nlri ipv4/unicast add 10.2.0.0/16 10.3.0.0/16",
    )
    assert (r.returncode, r.stdout.strip()) == (0, "peers affected: 1, routes sent: 2"), r.stderr
    wait_for(lambda: received(b, "a") == 4)
    r = a.json("bgp", "update-route", "*", "update text nlri ipv4/unicast del 10.0.0.0/24")
    assert r == {"peers-affected": 1, "routes-sent": 1}
    wait_for(lambda: received(b, "a") == 3)
    counts = peer(b, "a")["prefixes"]["ipv4/unicast"]
    assert counts == {"announced": 4, "withdrawn": 1, "received": 3}
    assert peer(a, "b")["routes-advertised"] == {"ipv4/unicast": 3}

    assert b.json("show", "peer", "a", "routes", "received")["routes-received"]["ipv4/unicast"] == [
        "10.0.1.0/24",
        "10.2.0.0/16",
        "10.3.0.0/16",
    ]

    # ROUTE-REFRESH from b: a resends its Adj-RIB-Out (3 prefixes more announced on b's side).
    assert b.json("bgp", "peer", "refresh", "a") == {"peers": {"a": 1}}
    wait_for(lambda: peer(b, "a")["prefixes"]["ipv4/unicast"]["announced"] == 7)
    assert peer(a, "b")["refreshes-received"] == 1
    assert received(b, "a") == 3

    # Administrative stop with a shutdown communication, seen by the other side.
    assert a.json("bgp", "peer", "stop", "b", "--message", "maintenance: back at 10:00") == {"peers": ["b"]}
    note = wait_for(lambda: peer(b, "a")["last-notification"])
    assert (note["code"], note["subcode"], note["direction"]) == (6, 2, "received")
    assert note["communication"] == "maintenance: back at 10:00"
    assert peer(a, "b")["state"] == "idle" and peer(a, "b")["admin-down"]
    logs = [e for e in b.logs() if e.get("message") == "NOTIFICATION received"]
    assert logs and logs[-1]["communication"] == "maintenance: back at 10:00"
    # b keeps trying; a refuses while stopped; a start brings it back.
    assert a.json("bgp", "peer", "start", "b") == {"peers": ["b"]}
    established(b, "a")
    wait_for(lambda: received(b, "a") == 3)


def test_routes_received_view_and_selectors(pair):
    a, b, _, b_ip = pair
    established(b, "a")
    wait_for(lambda: received(b, "a") == 2)
    assert "routes-received" not in b.json("show", "peer", "a")["peer"]
    # Selectors: address, glob, exclusion.
    assert a.json(
        "bgp", "update-route", b_ip, "update text nhop set self nlri ipv4/unicast add 10.9.0.0/24"
    ) == {
        "peers-affected": 1,
        "routes-sent": 1,
    }
    assert a.json(
        "bgp", "update-route", "!b", "update text nhop set self nlri ipv4/unicast add 10.8.0.0/24"
    ) == {
        "peers-affected": 0,
        "routes-sent": 0,
    }
    bad = a.ze("bgp", "update-route", "b", "update text nlri ipv4/unicast add 10.0.0.0/33", "--json")
    assert bad.returncode == 1 and "33" in bad.stdout
