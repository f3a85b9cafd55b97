"""The reactor over in-memory connections: sessions, collisions, routes out, RFC 7606 verdicts,
max-prefix, administrative stop, route refresh, and the subsystem's hub events."""

from __future__ import annotations

import asyncio
import struct

from tests.unit.bgp.fakenet import Net, RawPeer, ReactorNode, wrap
from ze.bgp.events import PeerStateChanged, PeerUpdate
from ze.bgp.negotiation import LocalConfig
from ze.bgp.reactor import MaxPrefix, PeerSettings, Reactor
from ze.bgp.subsystem import BgpSubsystem
from ze.bgp.wire.header import MessageType
from ze.bgp.wire.text import encode_text
from ze.core.family import IPV4_UNICAST
from ze.hub.bus import Hub

A, B = "192.0.2.1", "192.0.2.2"


async def until(cond, timeout: float = 3.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        v = cond()
        if v:
            return v
        await asyncio.sleep(0.005)
    raise AssertionError("timed out")


def settings(name: str, me: str, them: str, my_as: int, their_as: int, **kw) -> PeerSettings:
    kw.setdefault("connect_retry", 0.05)
    kw.setdefault("idle_hold", 0.05)
    kw.setdefault("adj_rib_in", True)
    return PeerSettings(name, them, their_as, my_as, me, **kw)


def make(net: Net, me: str, **hooks) -> Reactor:
    r = Reactor(connector=net.connector_for(me), wrap=wrap, **hooks)
    ReactorNode(net, me, r)
    return r


def body(text: str) -> bytes:
    return encode_text(text)[0][19:]


def test_two_reactors_establish_and_exchange_routes():
    async def main():
        net = Net()
        got: list = []
        a = make(net, A)
        b = make(net, B, on_update=lambda s, body, ctx, mid: got.append((s.name, bytes(body), mid)))
        sa = a.add_peer(
            settings(
                "b",
                A,
                B,
                65001,
                65002,
                announce=("update text nhop set self nlri ipv4/unicast add 10.0.0.0/24",),
            )
        )
        sb = b.add_peer(settings("a", B, A, 65002, 65001, passive=True))
        await until(lambda: sa.established and sb.established)
        await until(lambda: len(got) == 2)
        # The announced route (eBGP: our AS prepended, ORIGIN defaulted, next hop self), then EoR.
        upd, eor = got[0][1], got[1][1]
        assert eor == b"\x00\x00\x00\x00"
        assert upd == body(
            "update text origin set igp as-path set [65001] nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/24"
        )
        assert [m for _, _, m in got] == [1, 2]
        assert sb.describe()["prefixes"] == {"ipv4/unicast": {"announced": 1, "withdrawn": 0, "received": 1}}
        r = a.update_route(
            "*", "update text nhop set 192.0.2.9 med set 5 nlri ipv4/unicast add 10.1.0.0/16 10.2.0.0/16"
        )
        assert r == {"peers-affected": 1, "routes-sent": 2}
        await until(lambda: sb.describe()["prefixes"]["ipv4/unicast"]["received"] == 3)
        r = a.update_route(B, "update text nlri ipv4/unicast del 10.1.0.0/16")
        assert r == {"peers-affected": 1, "routes-sent": 1}
        await until(lambda: sb.describe()["prefixes"]["ipv4/unicast"]["received"] == 2)
        assert sa.adjout.counts() == {"ipv4/unicast": 2}
        # ROUTE-REFRESH from b: a resends its two routes between BoRR and EoRR (RFC 7313).
        n = len(got)
        assert sb.send_refresh() == 1
        await until(lambda: sb.describe()["prefixes"]["ipv4/unicast"]["announced"] == 5)
        assert sa.refreshes_received == 1 and len(got) == n + 2
        a.sessions["b"].stop("bye now")
        await until(lambda: not sb.established)
        assert sb.last_notification["communication"] == "bye now"
        assert sb.describe()["prefixes"] == {}
        # b retries (a passive peer waits), a refuses while admin-down; start brings it back.
        sa.start()
        await until(lambda: sa.established and sb.established)

    asyncio.run(main())


def test_collision_keeps_one_connection():
    async def main():
        net = Net()
        a = make(net, A)
        b = make(net, B)
        sa = a.add_peer(settings("b", A, B, 65001, 65002))
        sb = b.add_peer(settings("a", B, A, 65002, 65001))
        await until(lambda: sa.established and sb.established)
        await asyncio.sleep(0.2)
        assert sa.established and sb.established
        assert len(sa.links) == 1 and len(sb.links) == 1
        # Both ends of one pipe.
        assert sa.links[0].conn.sock.pipe is sb.links[0].conn.sock.pipe

    asyncio.run(main())


def peer_config(asn: int = 65002, rid: str = B) -> LocalConfig:
    return LocalConfig(asn=asn, router_id=rid, peer_as=65001, hold_time=90)


async def raw_session(net: Net, r: Reactor, **kw) -> tuple:
    s = r.add_peer(settings("p", A, B, 65001, 65002, passive=True, **kw))
    peer = RawPeer(net, B, peer_config())
    peer.connect_to(r, A)
    await until(lambda: MessageType.OPEN in peer.types())
    peer.send_open()
    peer.send_keepalive()
    await until(lambda: s.established)
    return s, peer


def test_treat_as_withdraw_and_attribute_discard():
    async def main():
        net = Net()
        got: list = []
        r = make(net, A, on_update=lambda s, b, ctx, mid: got.append(bytes(b)))
        s, peer = await raw_session(net, r)
        peer.send_update(
            body(
                "update text origin set igp as-path set [65002] nhop set 192.0.2.2 nlri ipv4/unicast add 10.0.0.0/24 10.0.1.0/24"
            )
        )
        await until(lambda: len(got) == 1)
        # ORIGIN with value 7: treat-as-withdraw (RFC 7606 7.1): both prefixes withdrawn, session up.
        bad = bytearray(
            body(
                "update text origin set igp as-path set [65002] nhop set 192.0.2.2 nlri ipv4/unicast add 10.0.1.0/24"
            )
        )
        i = bad.index(bytes([0x40, 1, 1, 0]))
        bad[i + 3] = 7
        peer.send_update(bytes(bad))
        await until(lambda: len(got) == 2)
        assert got[1] == b"\x00\x04\x18\x0a\x00\x01\x00\x00"  # withdrawn 10.0.1.0/24, no attributes
        assert s.established and s.treat_as_withdraw == 1
        assert s.describe()["prefixes"]["ipv4/unicast"] == {"announced": 2, "withdrawn": 1, "received": 1}
        # ATOMIC_AGGREGATE with a value: attribute-discard (7.6), the route stays.
        good = body(
            "update text origin set igp as-path set [65002] nhop set 192.0.2.2 nlri ipv4/unicast add 10.0.2.0/24"
        )
        wlen = 0
        alen = struct.unpack_from("!H", good, 2)[0]
        extra = bytes([0x40, 6, 1, 0])
        disc = good[:2] + struct.pack("!H", alen + 4) + good[4 : 4 + alen] + extra + good[4 + alen :]
        assert wlen == 0
        peer.send_update(disc)
        await until(lambda: len(got) == 3)
        assert got[2] == good and s.attribute_discard == 1
        # A malformed NLRI (prefix length 33): session reset with UPDATE error 3/10.
        peer.send_update(b"\x00\x00" + good[2 : 4 + alen] + b"\x21\x0a\x00\x00\x00\x00")
        await until(lambda: not s.established)
        notes = [m for t, m in peer.messages if t == MessageType.NOTIFICATION]
        assert notes[-1][:2] == bytes([3, 10])
        assert s.last_notification["direction"] == "sent"

    asyncio.run(main())


def test_max_prefix_cease_then_restart():
    async def main():
        net = Net()
        r = make(net, A)
        s, peer = await raw_session(net, r, max_prefix={IPV4_UNICAST: MaxPrefix(3, 0.1)})
        peer.send_update(
            body(
                "update text origin set igp as-path set [65002] nhop set 192.0.2.2 nlri ipv4/unicast add 10.0.0.0/24 10.0.1.0/24 10.0.2.0/24"
            )
        )
        await until(lambda: s.describe()["prefixes"].get("ipv4/unicast", {}).get("received") == 3)
        assert s.established
        peer.send_update(
            body(
                "update text origin set igp as-path set [65002] nhop set 192.0.2.2 nlri ipv4/unicast add 10.0.3.0/24"
            )
        )
        await until(lambda: not s.established)
        notes = [m for t, m in peer.messages if t == MessageType.NOTIFICATION]
        assert notes[-1] == bytes([6, 1]) + struct.pack("!HBI", 1, 1, 3)  # Cease 1, AFI/SAFI, limit
        assert s.prefix_down == IPV4_UNICAST and s.describe()["max-prefix-down"] == "ipv4/unicast"
        # A connection while down is refused; after the restart time it is accepted again.
        await until(lambda: s.prefix_down is None, 2)
        peer2 = RawPeer(net, B, peer_config())
        peer2.connect_to(r, A)
        await until(lambda: MessageType.OPEN in peer2.types())

    asyncio.run(main())


def test_subsystem_publishes_updates_and_states():
    async def main():
        net = Net()
        hub = Hub()
        seen: list = []
        hub.subscribe("bgp/", lambda topic, p: seen.append((topic, p)))
        sub = BgpSubsystem(hub)
        sub.reactor = make(net, A, on_update=sub._on_update, on_state=sub._on_state, peer_info=sub._peer_info)
        _s, peer = await raw_session(net, sub.reactor)
        peer.send_update(
            body(
                "update text origin set igp as-path set [65002] nhop set 192.0.2.2 nlri ipv4/unicast add 10.0.0.0/24 10.0.1.0/24"
            )
        )
        await until(lambda: len(seen) == 2)
        (t1, up), (t2, upd) = seen
        assert (t1, type(up), up.state, up.peer.name, up.peer.remote_as) == (
            "bgp/state",
            PeerStateChanged,
            "up",
            "p",
            65002,
        )
        assert up.peer.router_id == B and up.peer.address == B
        assert (t2, type(upd), upd.msg_id) == ("bgp/update", PeerUpdate, 1)
        assert [str(p) for p in upd.update.nlri()] == ["10.0.0.0/24", "10.0.1.0/24"]
        assert upd.peer is up.peer and upd.update.peer is up.peer
        peer.close()
        await until(lambda: len(seen) == 3)
        assert (seen[2][0], seen[2][1].state) == ("bgp/state", "down")
        assert sub.update_route("p", "update text nhop set self nlri ipv4/unicast add 10.0.0.0/24") == {
            "peers-affected": 1,
            "routes-sent": 0,
        }
        assert sub.describe("p")["routes-advertised"] == {"ipv4/unicast": 1}

    asyncio.run(main())


def test_selectors():
    async def main():
        net = Net()
        r = make(net, A)
        for i, name in enumerate(("edge-1", "edge-2", "core")):
            r.add_peer(settings(name, A, f"198.51.100.{i + 1}", 65001, 65100 + i, passive=True), start=False)
        names = lambda sel: [s.name for s in r.select(sel)]  # noqa: E731
        assert names("*") == ["edge-1", "edge-2", "core"]
        assert names("edge-*") == ["edge-1", "edge-2"]
        assert names("198.51.100.3") == ["core"]
        assert names("*,!edge-2") == ["edge-1", "core"]
        assert names("198.51.100.0/31") == ["edge-1"]
        assert names("nothing") == []

    asyncio.run(main())
