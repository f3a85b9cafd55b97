"""ADD-PATH (RFC 7911) end to end in the speaker: the config setting, the capability in our OPEN,
the negotiated contexts used by the reactor (path ids sent from the Adj-RIB-Out, default 1; path ids
received and counted per path), and what a peer without ADD-PATH gets."""

from __future__ import annotations

import asyncio

from tests.unit.bgp.fakenet import Net, RawPeer
from tests.unit.bgp.test_reactor import A, B, make, settings, until
from ze.bgp.adjout import AdjRibOut, Outgoing, parse_command
from ze.bgp.negotiation import LocalConfig, build_open
from ze.bgp.reactor import PeerSettings
from ze.bgp.ribin import key_prefix
from ze.bgp.subsystem import settings_from_peer
from ze.bgp.wire.capability.addpath import BOTH, RECEIVE, SEND, AddPath
from ze.bgp.wire.codecs import core as core_codecs
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.header import MessageType
from ze.bgp.wire.text import encode_text
from ze.config.resolve import parse_config
from ze.core.family import IPV4_UNICAST, IPV6_UNICAST

AP = frozenset({IPV4_UNICAST})


def held(session) -> list[tuple[int, str]]:
    """(path id, prefix) pairs the session's Adj-RIB-In holds for ipv4/unicast."""
    out = []
    for key in session.ribin.families[IPV4_UNICAST].held:
        pid, plen, value = key_prefix(key, 1)
        out.append((pid, f"{value >> 24}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}/{plen}"))
    return sorted(out)


# -- config ----------------------------------------------------------------------------------------


def test_config_add_path_inherited_overridden_and_off():
    c = parse_config(
        """bgp {
            router-id 192.0.2.1; local-as 65001;
            add-path { ipv4 { unicast both; } }
            group g {
                add-path { ipv6 { unicast send; } }
                peer a { remote { ip 192.0.2.2; as 65002; } family { ipv4 unicast; ipv6 unicast; } }
                peer b { remote { ip 192.0.2.3; as 65002; } add-path { ipv4 { unicast off; } } }
            }
            peer c { remote { ip 192.0.2.4; as 65002; } add-path { ipv4 { unicast receive; } } }
            peer d { remote { ip 192.0.2.5; as 65002; } }
        }"""
    )
    p = c.peers
    assert p["a"].add_path == (("ipv4/unicast", "both"), ("ipv6/unicast", "send"))
    assert p["b"].add_path == (("ipv6/unicast", "send"),)
    assert p["c"].add_path == (("ipv4/unicast", "receive"),)
    assert p["d"].add_path == (("ipv4/unicast", "both"),)
    assert p["a"].to_dict()["add-path"] == {"ipv4/unicast": "both", "ipv6/unicast": "send"}
    s = settings_from_peer(p["a"])
    assert s.add_path == {IPV4_UNICAST: "both", IPV6_UNICAST: "send"}
    # b carries only ipv4/unicast: its inherited ipv6 mode is not offered.
    assert settings_from_peer(p["b"]).local_config().addpath == {}


def test_config_add_path_bad_mode_is_reported():
    try:
        parse_config(
            "bgp { router-id 192.0.2.1; local-as 65001; add-path { ipv4 { unicast sometimes; } }"
            " peer a { remote { ip 192.0.2.2; as 65002; } } }"
        )
    except Exception as e:  # ConfigProblems
        assert "sometimes" in str(e)
    else:
        raise AssertionError("an unknown add-path mode was accepted")


def test_open_carries_the_add_path_capability():
    s = PeerSettings("p", B, 65002, 65001, A, families=(IPV4_UNICAST, IPV6_UNICAST),
                     add_path={IPV4_UNICAST: "send", IPV6_UNICAST: "receive"})  # fmt: skip
    caps = [c for c in build_open(s.local_config()).capabilities() if isinstance(c, AddPath)]
    assert len(caps) == 1 and caps[0].CODE == 69
    assert dict(caps[0].families()) == {IPV4_UNICAST: SEND, IPV6_UNICAST: RECEIVE}
    plain = PeerSettings("p", B, 65002, 65001, A)
    assert not [c for c in build_open(plain.local_config()).capabilities() if isinstance(c, AddPath)]


# -- Adj-RIB-Out -----------------------------------------------------------------------------------


def test_adjout_default_path_id_and_peers_without_add_path():
    codecs = core_codecs()
    rib = AdjRibOut()
    for cmd in (
        "update text nhop set 192.0.2.9 med set 10 nlri ipv4/unicast add 10.70.0.0/24",
        "update text nhop set 192.0.2.9 med set 20 nlri ipv4/unicast add 10.70.0.0/24 path-id 2",
        "update text nhop set 192.0.2.9 med set 11 nlri ipv4/unicast add 10.70.0.0/24 path-id 1",
    ):
        rib.apply(*parse_command(cmd, codecs))
    assert rib.counts() == {"ipv4/unicast": 2}  # no id and path-id 1 are the same route
    out = Outgoing(65001, True, A, codecs)
    ap = EncodingContext(addpath=AP)
    sent = [m for key, sec in rib.snapshot() for m in out.encode(key[0], [sec], ap)]
    want = encode_text(
        "update text origin set igp as-path set [] local-preference set 100 med set 11 nhop set 192.0.2.9"
        " nlri ipv4/unicast add 10.70.0.0/24 path-id 1",
        ap,
    ) + encode_text(
        "update text origin set igp as-path set [] local-preference set 100 med set 20 nhop set 192.0.2.9"
        " nlri ipv4/unicast add 10.70.0.0/24 path-id 2",
        ap,
    )
    assert sorted(sent) == sorted(want)
    # Without ADD-PATH: path id 1 only, without its id.
    plain = [m for key, sec in rib.snapshot() for m in out.encode(key[0], [sec], EncodingContext())]
    assert plain == encode_text(
        "update text origin set igp as-path set [] local-preference set 100 med set 11 nhop set 192.0.2.9"
        " nlri ipv4/unicast add 10.70.0.0/24"
    )
    # A withdrawal of path 2 is nothing for such a peer; of the default path it is the prefix.
    attrs, secs = parse_command("update text nlri ipv4/unicast del 10.70.0.0/24 path-id 2", codecs)
    assert out.encode(attrs, secs, EncodingContext()) == []
    attrs, secs = parse_command("update text nlri ipv4/unicast del 10.70.0.0/24", codecs)
    assert out.encode(attrs, secs, EncodingContext()) == encode_text(
        "update text nlri ipv4/unicast del 10.70.0.0/24"
    )
    assert out.encode(attrs, secs, ap) == encode_text(
        "update text nlri ipv4/unicast del 10.70.0.0/24 path-id 1", ap
    )


# -- reactor ---------------------------------------------------------------------------------------


def test_two_reactors_send_and_count_two_paths_of_one_prefix():
    async def main():
        net = Net()
        a, b = make(net, A), make(net, B)
        sa = a.add_peer(settings("b", A, B, 65001, 65002, add_path={IPV4_UNICAST: "send"}))
        sb = b.add_peer(settings("a", B, A, 65002, 65001, passive=True, add_path={IPV4_UNICAST: "receive"}))
        await until(lambda: sa.established and sb.established)
        await until(lambda: IPV4_UNICAST in sb.ribin.eor)  # the initial (empty) table is sent first
        na, nb = sa.describe()["negotiated"]["add-path"], sb.describe()["negotiated"]["add-path"]
        assert na == {"send": ["ipv4/unicast"], "receive": []}
        assert nb == {"send": [], "receive": ["ipv4/unicast"]}
        for pid, med in ((1, 10), (2, 20)):
            r = a.update_route(
                "*",
                f"update text nhop set self med set {med} nlri ipv4/unicast add 10.70.0.0/24 path-id {pid}",
            )
            assert r == {"peers-affected": 1, "routes-sent": 1}
        a.update_route("*", "update text nhop set self nlri ipv4/unicast add 10.71.0.0/24")  # path id 1
        await until(lambda: sb.describe()["prefixes"].get("ipv4/unicast", {}).get("received") == 3)
        assert held(sb) == [(1, "10.70.0.0/24"), (1, "10.71.0.0/24"), (2, "10.70.0.0/24")]
        a.update_route("*", "update text nlri ipv4/unicast del 10.70.0.0/24 path-id 2")
        await until(lambda: sb.describe()["prefixes"]["ipv4/unicast"]["received"] == 2)
        assert held(sb) == [(1, "10.70.0.0/24"), (1, "10.71.0.0/24")]
        # A new session resends the table with the path ids.
        sb.stop("again")
        await until(lambda: not sa.established)
        sb.start()
        await until(lambda: sa.established and sb.established)
        await until(lambda: len(sb.ribin.families.get(IPV4_UNICAST, ()) and held(sb)) == 2)
        assert held(sb) == [(1, "10.70.0.0/24"), (1, "10.71.0.0/24")]

    asyncio.run(main())


def test_peer_without_add_path_gets_path_one_only():
    async def main():
        net = Net()
        a, b = make(net, A), make(net, B)
        sa = a.add_peer(settings("b", A, B, 65001, 65002, add_path={IPV4_UNICAST: "both"}))
        sb = b.add_peer(settings("a", B, A, 65002, 65001, passive=True))
        await until(lambda: sa.established and sb.established)
        await until(lambda: IPV4_UNICAST in sb.ribin.eor)  # the initial (empty) table is sent first
        assert sa.describe()["negotiated"]["add-path"] == {"send": [], "receive": []}
        a.update_route(
            "*", "update text nhop set self med set 10 nlri ipv4/unicast add 10.70.0.0/24 path-id 1"
        )
        r = a.update_route(
            "*", "update text nhop set self med set 20 nlri ipv4/unicast add 10.70.0.0/24 path-id 2"
        )
        assert r == {"peers-affected": 1, "routes-sent": 0}
        await until(lambda: sb.describe()["prefixes"].get("ipv4/unicast", {}).get("received") == 1)
        a.update_route("*", "update text nlri ipv4/unicast del 10.70.0.0/24 path-id 2")
        await asyncio.sleep(0.05)
        assert held(sb) == [(0, "10.70.0.0/24")]
        assert sb.describe()["prefixes"]["ipv4/unicast"] == {"announced": 1, "withdrawn": 0, "received": 1}

    asyncio.run(main())


def test_received_paths_are_parsed_with_ids_and_counted_per_path():
    async def main():
        net = Net()
        got: list = []
        r = make(net, A, on_update=lambda s, b, ctx, mid: got.append((bytes(b), ctx)))
        s = r.add_peer(settings("p", A, B, 65001, 65002, passive=True, add_path={IPV4_UNICAST: "receive"}))
        peer = RawPeer(
            net, B, LocalConfig(asn=65002, router_id=B, peer_as=65001, addpath={IPV4_UNICAST: BOTH})
        )
        peer.connect_to(r, A)
        await until(lambda: MessageType.OPEN in peer.types())
        peer.send_open()
        peer.send_keepalive()
        await until(lambda: s.established)
        ap = EncodingContext(addpath=AP)
        peer.send_update(
            encode_text(
                "update text origin set igp as-path set [65002] nhop set 192.0.2.2"
                " nlri ipv4/unicast add 10.80.0.0/24 path-id 1 10.80.0.0/24 path-id 2 10.81.0.0/24 path-id 7",
                ap,
            )[0][19:]
        )
        await until(lambda: len(got) == 1)
        assert got[0][1].has_addpath(IPV4_UNICAST)  # the UPDATE is published with the receive context
        assert s.describe()["prefixes"]["ipv4/unicast"] == {"announced": 3, "withdrawn": 0, "received": 3}
        assert held(s) == [(1, "10.80.0.0/24"), (2, "10.80.0.0/24"), (7, "10.81.0.0/24")]
        peer.send_update(encode_text("update text nlri ipv4/unicast del 10.80.0.0/24 path-id 2", ap)[0][19:])
        await until(lambda: len(got) == 2)
        assert s.describe()["prefixes"]["ipv4/unicast"]["received"] == 2
        assert s.established

    asyncio.run(main())
