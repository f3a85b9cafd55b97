"""The route normalisation and each adapter's parser, on outputs recorded from the real daemons
(tests/interop/fixtures, captured from a lab: GoBGP announcing to BIRD/FRR/ExaBGP, and BIRD to
GoBGP). No root, no daemon needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.interop import normalise
from tests.interop.daemons import bird, exabgp, frr, gobgp, ze
from tests.interop.lab import Peering, Route

FIX = Path(__file__).with_name("fixtures")

E4 = {
    "as-path": [65001, 65100, 65200],
    "next-hop": "192.0.2.10",
    "med": 10,
    "communities": ["65000:1", "65000:100"],
    "large-communities": ["4200000000:1:2", "65000:0:7"],
    "ext-communities": ["rt:65000:1"],
}
E6 = {
    "as-path": [65001, 65100],
    "next-hop": "2001:db8::a:2",
    "med": 5,
    "communities": ["65000:2"],
    "large-communities": ["65000:1:7"],
    "ext-communities": ["rt:65000:2"],
}
I4 = {
    "as-path": [],
    "next-hop": "192.0.2.12",
    "med": 1,
    "local-pref": 250,
    "communities": ["65000:3"],
    "large-communities": [],
    "ext-communities": [],
}


def _last(paths: dict) -> dict:
    return {k: v[-1] for k, v in paths.items()}


def _same(got: dict, want: dict) -> None:
    assert not normalise.mismatches(got, want), normalise.mismatches(got, want)


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("RT:65000:1", "rt:65000:1"),
        ("target:65000:1", "rt:65000:1"),
        ("(rt, 65000, 1)", "rt:65000:1"),
        ("rt 65000:1", "rt:65000:1"),
        ("soo:65000:9", "soo:65000:9"),
        ("(ro, 65000, 9)", "soo:65000:9"),
    ],
)
def test_ext_community_spellings(raw, want):
    assert normalise.ext_community(raw) == want


def test_community_spellings_and_errors():
    assert normalise.community("(65000,1)") == normalise.community("65000:1") == "65000:1"
    assert normalise.large_community("(65000, 1, 2)") == "65000:1:2"
    for bad in ("65000", "1:2:3"):
        with pytest.raises(ValueError):
            normalise.community(bad)
    with pytest.raises(ValueError):
        normalise.ext_community("bandwidth:1:2:3")


def test_route_sorts_and_drops_link_local():
    r = normalise.route(next_hop="2001:db8::1,fe80::1", communities=["65000:2", "65000:1"])
    assert r["next-hop"] == "2001:db8::1"
    assert r["communities"] == ["65000:1", "65000:2"]
    assert r["med"] is None and r["local-pref"] is None


def test_expected_ebgp_prepends_and_omits_local_pref():
    p = Peering("x", "192.0.2.1", "192.0.2.2", 65001, 65002)
    want = normalise.expected(Route("10.0.0.0/24", as_path=(65100,), med=3, local_pref=500), p)
    assert want["as-path"] == [65001, 65100]
    assert want["next-hop"] == "192.0.2.1"
    assert "local-pref" not in want


def test_expected_ibgp_keeps_path_and_local_pref_defaults_to_100():
    p = Peering("x", "192.0.2.1", "192.0.2.2", 65001, 65001)
    assert normalise.expected(Route("10.0.0.0/24"), p)["local-pref"] == 100
    assert normalise.expected(Route("10.0.0.0/24", as_path=(7,), local_pref=9), p)["as-path"] == [7]


def test_mismatches_names_every_difference():
    want = {"10.0.0.0/24": {"med": 1}, "10.0.1.0/24": {"med": 2}}
    got = {"10.0.0.0/24": {"med": 5}, "10.0.2.0/24": {"med": 3}}
    out = normalise.mismatches(got, want)
    assert "10.0.1.0/24: missing" in out
    assert any(s.startswith("10.0.2.0/24: unexpected") for s in out)
    assert "10.0.0.0/24 med: got 5, want 1" in out


def test_bird_show_route_all():
    _same(_last(bird.parse_show_route_all((FIX / "bird_show_route_e4.txt").read_text())), {"10.1.0.0/24": E4})
    _same(
        _last(bird.parse_show_route_all((FIX / "bird_show_route_e6.txt").read_text())),
        {"2001:db8:1::/64": E6},
    )
    _same(_last(bird.parse_show_route_all((FIX / "bird_show_route_i4.txt").read_text())), {"10.3.0.0/24": I4})


def test_bird_export_filter_text():
    r = Route("10.0.0.0/24", as_path=(1, 2), med=3, communities=("65000:1",), ext_communities=("rt:65000:1",))
    p = Peering("x", "192.0.2.1", "192.0.2.2", 65001, 65002)
    text = bird._route_filter(r, p)
    # prepend is applied last-first so that the path reads 1 2 after the speaker's own AS
    assert text.index("prepend(2)") < text.index("prepend(1)")
    assert "bgp_ext_community.add((rt,65000,1));" in text
    assert "bgp_local_pref" not in text  # eBGP


def test_frr_path_json():
    for name, pfx, want in (
        ("frr_show_bgp_10.1.0.0_24.json", "10.1.0.0/24", E4),
        ("frr_show_bgp_2001-db8-1--_64.json", "2001:db8:1::/64", E6),
        ("frr_show_bgp_10.3.0.0_24.json", "10.3.0.0/24", I4),
    ):
        d = json.loads((FIX / name).read_text())
        _same({pfx: frr._path(d["paths"][0])}, {pfx: want})


def test_gobgp_adj_in_json():
    bird_e4 = dict(E4, **{"as-path": [65002, 65100, 65200], "next-hop": "192.0.2.100"})
    bird_e6 = dict(E6, **{"as-path": [65002, 65100], "next-hop": "2001:db8::d:2"})
    _same(_last(gobgp.parse_rib_json((FIX / "gobgp_adj_in_e4.json").read_text())), {"10.1.0.0/24": bird_e4})
    _same(
        _last(gobgp.parse_rib_json((FIX / "gobgp_adj_in_e6.json").read_text())), {"2001:db8:1::/64": bird_e6}
    )


def test_exabgp_events(tmp_path):
    class Fake(exabgp.ExaBGP):
        def __init__(self):
            self.events = FIX / "exabgp_events.jsonl"
            self.peerings = {
                "e4": Peering("e4", "192.0.2.100", "192.0.2.10", 65002, 65001),
                "e6": Peering("e6", "2001:db8::d:2", "2001:db8::a:2", 65002, 65001),
                "i4": Peering("i4", "192.0.2.102", "192.0.2.12", 65002, 65002),
            }

    x = Fake()
    _same(x.received("e4"), {"10.1.0.0/24": E4})
    _same(x.received("e6"), {"2001:db8:1::/64": E6})
    _same(x.received("i4"), {"10.3.0.0/24": I4})


def test_exabgp_shutdown_text():
    data = bytes([11]) + b"maintenance"
    assert exabgp._shutdown_text(data.hex().upper()) == "maintenance"
    assert exabgp._shutdown_text("") == ""


def test_ze_route_text_round_trips_through_ze_encode():
    """What the ze adapter sends is valid ze route text (parsed by ze's own codec)."""
    from ze.bgp.wire.text import encode_text

    p = Peering("x", "192.0.2.1", "192.0.2.2", 65001, 65001)
    r = Route("10.0.0.0/24", as_path=(7,), med=3, local_pref=9, communities=("65000:1",),
              large_communities=("65000:1:2",), ext_communities=("rt:65000:1",))  # fmt: skip
    text = ze.Ze.route_text(r, p)
    assert text.startswith("update text origin set igp nhop set self")
    assert "extended-community set [target:65000:1]" in text
    assert text.endswith("nlri ipv4/unicast add 10.0.0.0/24")
    msgs = encode_text(text.replace("nhop set self", "nhop set 192.0.2.1"))
    assert len(msgs) == 1 and len(msgs[0]) > 19
