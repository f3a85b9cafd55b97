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
    # Stopping ze says so to its peers (Cease 2 with a shutdown communication).
    import signal

    a.signal(signal.SIGTERM)
    assert a.proc.wait(timeout=10) == 0
    note = wait_for(lambda: peer(b, "a")["last-notification"])
    assert (note["code"], note["subcode"], note["communication"]) == (6, 2, "ze shutting down")


def test_reload_touches_only_changed_peers(tmp_path):
    import signal

    net = unique_net()
    a_ip, b_ip, c_ip = f"127.{net}.4.1", f"127.{net}.4.2", f"127.{net}.4.3"
    port = free_port(a_ip, b_ip, c_ip)
    a_text = conf("a", a_ip, 65001, port, [("b", b_ip, 65002), ("c", c_ip, 65003)])
    a = start(tmp_path, "a", a_text)
    b = start(tmp_path, "b", conf("b", b_ip, 65002, port, [("a", a_ip, 65001)]))
    c = start(tmp_path, "c", conf("c", c_ip, 65003, port, [("a", a_ip, 65001)]))
    try:
        established(a, "b")
        established(a, "c")
        # c's hold time changes (Cease 6, restart); b is untouched; d is added.
        text = a_text.replace(
            f"peer c {{ remote {{ ip {c_ip}; as 65003; }}",
            f"peer c {{ remote {{ ip {c_ip}; as 65003; }} hold-time 30;",
        )
        a.conf.write_text(text)
        a.signal(signal.SIGHUP)
        wait_for(lambda: a.json("show", "status")["status"]["reloads"]["ok"] == 1)
        note = wait_for(lambda: peer(c, "a")["last-notification"])
        assert (note["code"], note["subcode"]) == (6, 6)
        pc = established(a, "c")
        assert pc["negotiated"]["hold-time"] == 30
        pb = peer(a, "b")
        assert pb["established-count"] == 1 and pb["last-notification"] is None
        # b removed: Cease 3 (peer de-configured) on the wire.
        a.conf.write_text(
            conf("a", a_ip, 65001, port, [("c", c_ip, 65003)]).replace(
                f"peer c {{ remote {{ ip {c_ip}; as 65003; }}",
                f"peer c {{ remote {{ ip {c_ip}; as 65003; }} hold-time 30;",
            )
        )
        a.signal(signal.SIGHUP)
        note = wait_for(lambda: peer(b, "a")["last-notification"])
        assert (note["code"], note["subcode"]) == (6, 3)
        assert [p["name"] for p in a.json("show", "peers")["peers"]] == ["c"]
        # c was not touched by the second reload: on its side, two sessions in all (start, Cease 6).
        assert peer(c, "a")["established-count"] == 2 and peer(a, "c")["state"] == "established"
    finally:
        for r in (a, b, c):
            r.stop()


def test_ipv6_session_and_routes(tmp_path):
    a_ip, b_ip = "::1", "::1"
    del a_ip, b_ip
    port_a = free_port("::1")
    port_b = free_port("::1")
    # Two daemons on ::1 with different ports: each peer's port is the other's listening port.
    a_text = (
        "environment { log { level info; } }\n"
        f"bgp {{ router-id 10.0.0.1; local-as 65001; listen {{ ip ::1; port {port_a}; }} adj-rib-in true;\n"
        f"  peer b {{ remote {{ ip ::1; as 65002; }} port {port_b}; family {{ ipv6 unicast; ipv4 unicast; }} }} }}\n"
    )
    b_text = (
        "environment { log { level info; } }\n"
        f"bgp {{ router-id 10.0.0.2; local-as 65002; listen {{ ip ::1; port {port_b}; }} adj-rib-in true;\n"
        f"  peer a {{ remote {{ ip ::1; as 65001; }} port {port_a}; passive true; family {{ ipv6 unicast; ipv4 unicast; }} }} }}\n"
    )
    a = start(tmp_path, "a", a_text)
    b = start(tmp_path, "b", b_text)
    try:
        pa = established(b, "a")
        assert sorted(pa["negotiated"]["families"]) == ["ipv4/unicast", "ipv6/unicast"]
        r = a.json(
            "bgp",
            "update-route",
            "b",
            "update text origin set igp nhop set self large-community set [65001:1:2] nlri ipv6/unicast add 2001:db8:1::/48 2001:db8:2::/48",
        )
        assert r == {"peers-affected": 1, "routes-sent": 2}
        wait_for(lambda: received(b, "a", "ipv6/unicast") == 2)
        assert b.json("show", "peer", "a", "routes", "received")["routes-received"]["ipv6/unicast"] == [
            "2001:db8:1::/48",
            "2001:db8:2::/48",
        ]
        a.json("bgp", "update-route", "b", "update text nlri ipv6/unicast del 2001:db8:1::/48")
        wait_for(lambda: received(b, "a", "ipv6/unicast") == 1)
        assert sorted(peer(b, "a")["end-of-rib"]) == ["ipv4/unicast", "ipv6/unicast"]
    finally:
        a.stop()
        b.stop()
