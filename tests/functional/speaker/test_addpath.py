"""Two ze daemons with ADD-PATH (RFC 7911): the sender announces two paths of one prefix (path ids
1 and 2) and a prefix with no path id (sent as path id 1); the receiver holds and counts every path,
and `ze show peer` shows what was negotiated."""

from __future__ import annotations

from tests.functional.conftest import wait_for
from tests.functional.speaker.lab import conf, established, free_port, peer, received, start, unique_net


def test_two_paths_of_one_prefix_are_sent_and_counted(tmp_path):
    net = unique_net()
    a_ip, b_ip = f"127.{net}.1.1", f"127.{net}.1.2"
    port = free_port(a_ip, b_ip)
    announce = (
        'announce "update text origin set igp nhop set self med set 10 nlri ipv4/unicast add 10.70.0.0/24 path-id 1";'
        ' announce "update text origin set igp nhop set self med set 20 nlri ipv4/unicast add 10.70.0.0/24 path-id 2";'
        ' announce "update text origin set igp nhop set self nlri ipv4/unicast add 10.71.0.0/24";'
    )
    a = start(tmp_path, "a", conf("a", a_ip, 65001, port, [("b", b_ip, 65002)],
                                  extra="    add-path { ipv4 { unicast send; } }", peer_extra=announce))  # fmt: skip
    b = start(tmp_path, "b", conf("b", b_ip, 65002, port, [("a", a_ip, 65001)],
                                  extra="    add-path { ipv4 { unicast receive; } }"))  # fmt: skip
    try:
        pa = established(b, "a")
        assert pa["negotiated"]["add-path"] == {"receive": ["ipv4/unicast"], "send": []}
        assert established(a, "b")["negotiated"]["add-path"] == {"receive": [], "send": ["ipv4/unicast"]}
        r = a.ze("show", "peer", "b")
        assert "negotiated.add-path.send" in r.stdout and "ipv4/unicast" in r.stdout, r.stdout
        wait_for(lambda: received(b, "a") == 3)
        assert peer(b, "a")["prefixes"]["ipv4/unicast"] == {"announced": 3, "withdrawn": 0, "received": 3}
        assert b.json("show", "peer", "a", "routes", "received")["routes-received"]["ipv4/unicast"] == [
            "10.70.0.0/24 path-id 1",
            "10.71.0.0/24 path-id 1",
            "10.70.0.0/24 path-id 2",
        ]
        assert peer(a, "b")["routes-advertised"] == {"ipv4/unicast": 3}
        # Withdraw one path: the other stays.
        r = a.json("bgp", "update-route", "b", "update text nlri ipv4/unicast del 10.70.0.0/24 path-id 2")
        assert r == {"peers-affected": 1, "routes-sent": 1}
        wait_for(lambda: received(b, "a") == 2)
        assert b.json("show", "peer", "a", "routes", "received")["routes-received"]["ipv4/unicast"] == [
            "10.70.0.0/24 path-id 1",
            "10.71.0.0/24 path-id 1",
        ]
    finally:
        a.stop()
        b.stop()
