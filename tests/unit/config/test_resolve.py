"""Inheritance bgp -> group -> peer, defaults, and the resolution errors."""

from __future__ import annotations

import pytest

from ze.config.errors import ConfigProblems
from ze.config.resolve import Environment, Peer, deep_merge, load_config, parse_config

BASE = """
bgp {
    router-id 192.0.2.1;
    local-as 65001;
    hold-time 180;
    remote { as 65000; }
    group transit {
        family { ipv4 unicast; ipv6 unicast; }
        remote { as 65002; }
        ttl-security 1;
        peer a { remote { ip 192.0.2.2; } hold-time 30; }
        peer b { remote { ip 192.0.2.3; as 65003; } family { ipv6 unicast; } passive; }
    }
    peer c { remote { ip 2001:db8::2; } local-as 65009; md5-password "k"; port 1179; }
}
"""


def test_inheritance(schema):
    cfg = parse_config(BASE, schema, "c.conf")
    assert list(cfg.peers) == ["a", "b", "c"]
    assert cfg.peers["a"] == Peer(
        name="a",
        group="transit",
        remote_ip="192.0.2.2",
        remote_as=65002,
        local_as=65001,
        router_id="192.0.2.1",
        hold_time=30,
        families=("ipv4/unicast", "ipv6/unicast"),
        ttl_security=1,
    )
    assert cfg.peers["b"] == Peer(
        name="b",
        group="transit",
        remote_ip="192.0.2.3",
        remote_as=65003,
        local_as=65001,
        router_id="192.0.2.1",
        hold_time=180,
        families=("ipv6/unicast",),
        ttl_security=1,
        passive=True,
    )
    c = cfg.peers["c"]
    assert (c.group, c.remote_as, c.local_as, c.hold_time, c.families, c.port, c.md5_password) == (
        None,
        65000,
        65009,
        180,
        ("ipv6/unicast",),
        1179,
        "k",
    )
    assert c.to_dict()["md5-password"] == "********"
    assert c.to_dict(secrets=True)["md5-password"] == "k"
    assert cfg.environment == Environment("info", "/run/ze/ze.sock", 0o660)


def test_peer_to_dict(schema):
    cfg = parse_config(BASE, schema)
    assert cfg.peers["a"].to_dict() == {
        "name": "a",
        "group": "transit",
        "remote": {"ip": "192.0.2.2", "as": 65002},
        "local-address": None,
        "local-as": 65001,
        "router-id": "192.0.2.1",
        "hold-time": 30,
        "families": ["ipv4/unicast", "ipv6/unicast"],
        "md5-password": None,
        "ttl-security": 1,
        "passive": False,
        "port": 179,
    }
    assert cfg.peers["a"].ibgp is False


def test_deep_merge_does_not_touch_inputs():
    base = {"remote": {"as": 1}, "x": [1]}
    over = {"remote": {"ip": "a"}, "x": [2]}
    assert deep_merge(base, over) == {"remote": {"as": 1, "ip": "a"}, "x": [2]}
    assert base == {"remote": {"as": 1}, "x": [1]}


def test_environment(schema):
    cfg = parse_config(
        'environment { log { level debug; } api { socket "/tmp/z.sock"; mode 0600; } }', schema
    )
    assert cfg.environment == Environment("debug", "/tmp/z.sock", 0o600)
    assert cfg.peers == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "bgp { peer a { remote { ip 10.0.0.1; } } }",
            [
                "c.conf:1:7: peer 'a' has no remote as, no local-as, no router-id (set it on the peer, its group or bgp)"
            ],
        ),
        (
            "bgp { router-id 1.1.1.1; local-as 1; remote { as 2; } peer a { remote { ip 10.0.0.1; } } "
            "group g { peer a { remote { ip 10.0.0.2; } } } }",
            ["c.conf:1:100: peer 'a' defined twice (first at c.conf:1:55)"],
        ),
        (
            "bgp { router-id 1.1.1.1; local-as 1; remote { as 2; } peer a { remote { ip 10.0.0.1; } } "
            "peer b { remote { ip 10.0.0.1; } } }",
            ["c.conf:1:90: peer 'b' has the same remote ip 10.0.0.1 as peer 'a'"],
        ),
        (
            "bgp { router-id 1.1.1.1; local-as 1; peer a { remote { ip 10.0.0.1; as 2; } local-address ::1; } }",
            ["c.conf:1:38: peer 'a': local-address ::1 and remote ip 10.0.0.1 are not the same family"],
        ),
        # A value that failed its type check is reported once, not also as missing.
        (
            "bgp { router-id 1.1.1; local-as 1; peer a { remote { ip 10.0.0.1; as 2; } } }",
            ["c.conf:1:17: router-id: '1.1.1' is not a valid router-id"],
        ),
    ],
)
def test_resolution_errors(schema, text, expected):
    with pytest.raises(ConfigProblems) as e:
        parse_config(text, schema, "c.conf")
    assert [str(p) for p in e.value.problems] == expected


def test_load_config_files(tmp_path, schema):
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "missing.conf", schema)
    bad = tmp_path / "bin.conf"
    bad.write_bytes(b"bgp { \xff }")
    with pytest.raises(ConfigProblems, match=r"bin.conf: not UTF-8 text \(invalid start byte at byte 6\)"):
        load_config(bad, schema)
    good = tmp_path / "ok.conf"
    good.write_text(BASE)
    cfg = load_config(good, schema)
    assert (cfg.source, cfg.text) == (str(good), BASE)
    assert parse_config(cfg.render(), schema).peers == cfg.peers


@pytest.mark.parametrize("name", ["packaging/etc/ze.conf", "examples/transit.conf", "examples/lab.conf"])
def test_shipped_configs_are_valid(schema, name):
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / name
    cfg = load_config(path, schema)
    assert cfg.environment.api_socket in ("/run/ze/ze.sock", "/tmp/ze-lab.sock")
