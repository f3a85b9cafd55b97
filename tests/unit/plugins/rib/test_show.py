"""`show rib ...` and `show peer NAME routes received|advertised`: rows, filters, counts, JSON,
errors, and streaming (a generator, rows produced as they are consumed)."""

from __future__ import annotations

import types

import pytest

from ze.bgp.wire.context import DEFAULT
from ze.plugins.rib import show
from ze.plugins.rib.service import RibService
from ze.plugins.rib.table import RibConfig

from .helpers import peer, send

A = peer("a", "192.0.2.1", 65001, "10.0.0.1")
B = peer("b", "192.0.2.2", 65002, "10.0.0.2")
C = peer("c", "198.51.100.1", 65003, "10.0.0.3", local_address="198.51.100.254")


@pytest.fixture
def rib():
    r = RibService(RibConfig(maximum_paths=2))
    send(
        r,
        A,
        "update text origin set igp as-path set [65001 7] med set 5 community set [65001:100] nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/8 10.1.0.0/16 10.1.2.0/24",
    )
    send(
        r,
        B,
        "update text origin set incomplete as-path set [65002 8 9] nhop set 192.0.2.2 nlri ipv4/unicast add 10.1.0.0/16 172.16.0.0/12",
    )
    send(
        r,
        B,
        "update text origin set igp as-path set [65002] nhop set 2001:db8::2 nlri ipv6/unicast add 2001:db8:1::/48",
    )
    return r


def rows(rib, *words, command="show rib"):
    return list(show.run(rib, command, list(words)))


def test_text_table_all_routes(rib):
    out = rows(rib)
    assert out[0] == show.HEADER
    assert out[1:] == [
        "*> 10.0.0.0/8               192.0.2.1            a                            5  65001 7 i",
        "*> 10.1.0.0/16              192.0.2.1            a                            5  65001 7 i",
        "*  10.1.0.0/16              192.0.2.2            b                               65002 8 9 ?",
        "*> 10.1.2.0/24              192.0.2.1            a                            5  65001 7 i",
        "*> 172.16.0.0/12            192.0.2.2            b                               65002 8 9 ?",
        "*> 2001:db8:1::/48          2001:db8::2          b                               65002 i",
        "Total: 6 routes, 5 prefixes",
    ]


def test_json_rows_and_count(rib):
    out = rows(rib, "ipv4/unicast", "10.1.0.0/16", "--json")
    assert out == [
        {
            "family": "ipv4/unicast",
            "prefix": "10.1.0.0/16",
            "peer": "a",
            "next-hop": "192.0.2.1",
            "as-path": [65001, 7],
            "origin": "igp",
            "med": 5,
            "community": ["65001:100"],
            "best": True,
            "multipath": False,
        },
        {
            "family": "ipv4/unicast",
            "prefix": "10.1.0.0/16",
            "peer": "b",
            "next-hop": "192.0.2.2",
            "as-path": [65002, 8, 9],
            "origin": "incomplete",
            "best": False,
            "multipath": False,
        },
        {"routes": 2, "prefixes": 1},
    ]


def test_longer_prefixes_and_longest_match(rib):
    out = rows(rib, "10.1.0.0/16", "longer-prefixes", "best", "--json")
    assert [(r["prefix"], r["peer"]) for r in out[:-1]] == [("10.1.0.0/16", "a"), ("10.1.2.0/24", "a")]
    assert out[-1] == {"routes": 2, "prefixes": 2}
    out = rows(rib, "10.1.2.7", "--json")
    assert [r["prefix"] for r in out[:-1]] == ["10.1.2.0/24"]
    out = rows(rib, "10.200.0.1", "--json")
    assert [r["prefix"] for r in out[:-1]] == ["10.0.0.0/8"]
    assert rows(rib, "192.168.0.0/16", "--json") == [{"routes": 0, "prefixes": 0}]


def test_filters_community_as_path_peer(rib):
    assert [r["prefix"] for r in rows(rib, "community", "65001:100", "--json")[:-1]] == [
        "10.0.0.0/8",
        "10.1.0.0/16",
        "10.1.2.0/24",
    ]
    out = rows(rib, "as-path", "^65002 8", "--json")
    assert [(r["prefix"], r["peer"]) for r in out[:-1]] == [("10.1.0.0/16", "b"), ("172.16.0.0/12", "b")]
    out = rows(rib, "peer", "b", "ipv6/unicast", "--json")
    assert [(r["prefix"], r["best"]) for r in out[:-1]] == [("2001:db8:1::/48", True)]
    assert out[-1] == {"routes": 1, "prefixes": 1}


def test_best_shows_multipath_partners():
    r = RibService(RibConfig(maximum_paths=2))
    for p in (A, peer("a2", "192.0.2.3", 65001, "10.0.0.9")):
        send(
            r,
            p,
            f"update text origin set igp as-path set [65001] nhop set {p.address} nlri ipv4/unicast add 10.9.0.0/16",
        )
    out = rows(r, "best")
    assert [line[:3] for line in out[1:-1]] == ["*> ", "*= "]
    assert out[-1] == "Total: 2 routes, 1 prefixes"


def test_show_peer_received_and_advertised(rib):
    rib.on_peer_up(C, DEFAULT)
    out = rows(rib, "b", "routes", "received", "--json", command="show peer")
    assert [(r["prefix"], r["best"]) for r in out[:-1]] == [
        ("10.1.0.0/16", False),
        ("172.16.0.0/12", True),
        ("2001:db8:1::/48", True),
    ]
    assert out[-1] == {"peer": "b", "received": 3}
    out = rows(rib, "c", "routes", "advertised", "ipv4/unicast", "--json", command="show peer")
    assert out[0] == {
        "family": "ipv4/unicast",
        "prefix": "10.0.0.0/8",
        "peer": "c",
        "next-hop": "198.51.100.254",
        "as-path": [65000, 65001, 7],
        "origin": "igp",
        "community": ["65001:100"],
    }
    assert out[-1] == {"peer": "c", "advertised": 4}
    text = rows(rib, "c", "routes", "advertised", command="show peer")
    assert (
        text[1]
        == "   10.0.0.0/8               198.51.100.254       c                               65000 65001 7 i"
    )
    assert text[-1] == "Total: 5 routes advertised"


def test_errors_are_raised_before_any_row(rib):
    with pytest.raises(show.QueryError, match="longer-prefixes: a PREFIX is needed"):
        show.run(rib, "show rib", ["longer-prefixes"])
    with pytest.raises(show.QueryError, match="expected a family, a prefix"):
        show.run(rib, "show rib", ["bogus"])
    with pytest.raises(show.QueryError, match="community"):
        show.run(rib, "show rib", ["community", "nope"])
    with pytest.raises(show.QueryError, match="not known to the RIB"):
        show.run(rib, "show peer", ["zz", "routes", "received"])
    with pytest.raises(show.QueryError, match=r"received\|advertised"):
        show.run(rib, "show peer", ["a", "routes"])
    with pytest.raises(show.QueryError, match="unknown command"):
        show.run(rib, "show ribs", [])


def test_rows_stream_from_a_generator():
    r = RibService()
    send(
        r,
        A,
        "update text origin set igp as-path set [65001] nhop set 192.0.2.1 nlri ipv4/unicast add "
        + " ".join(f"10.{i}.0.0/16" for i in range(200)),
    )
    gen = show.show_rib(r, ["--json"])
    assert isinstance(gen, types.GeneratorType)
    first = next(gen)
    assert first["prefix"] == "10.0.0.0/16"
    # the table can change while a query streams: rows already produced stay valid
    assert sum(1 for _ in gen) == 200  # 199 rows + the count
