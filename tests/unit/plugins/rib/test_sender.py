"""Routes out of the RIB: pending peers, ROUTE-REFRESH making a family pending again, and the
plugin's Sender publishing PeerSend chunks and waiting for each to be written (back-pressure)."""

from __future__ import annotations

import asyncio

from ze.bgp.events import PeerSend
from ze.bgp.wire.context import DEFAULT
from ze.plugins.rib import plugin as rib_plugin
from ze.plugins.rib.service import RibService

from .helpers import peer, send
from .test_export import EBGP, ROUTE, SRC, decoded


def test_pending_peers_and_refresh():
    rib = RibService()
    assert rib.pending_peers() == []
    rib.on_peer_up(EBGP, DEFAULT)
    assert rib.pending_peers() == ["ext"]  # the (empty) whole table
    assert decoded(rib, "ext") == []
    assert rib.pending_peers() == []
    send(rib, SRC, f"{ROUTE} nlri ipv4/unicast add 10.1.0.0/24 10.2.0.0/24")
    assert rib.pending_peers() == ["ext"]
    assert [m[1] for m in decoded(rib, "ext")] == [["10.1.0.0/24", "10.2.0.0/24"]]
    assert rib.on_refresh("ext", "ipv4/unicast")
    assert [m[1] for m in decoded(rib, "ext")] == [["10.1.0.0/24", "10.2.0.0/24"]]  # all again
    assert not rib.on_refresh("src", "ipv4/unicast")  # up without a send context: no exports
    assert not rib.on_refresh("nobody", "ipv4/unicast")


def test_sender_publishes_chunks_and_waits_for_them(monkeypatch):
    monkeypatch.setattr(rib_plugin, "CHUNK", 2)
    rib = RibService()
    rib.on_peer_up(EBGP, DEFAULT)
    for i in range(5):  # five attribute sets: five UPDATE messages
        send(
            rib,
            SRC,
            f"update text origin set igp as-path set [65001 {i}] nhop set 192.0.2.1 nlri ipv4/unicast add 10.{i}.0.0/24",
        )
    got: list[PeerSend] = []

    async def main() -> None:
        async def publish(topic: str, payload: PeerSend) -> int:
            assert topic == "bgp/send"
            got.append(payload)
            # the speaker writes later: the sender must wait for it before the next chunk
            asyncio.get_running_loop().call_later(0.01, payload.written.set_result, len(payload.messages))
            return 1

        s = rib_plugin.Sender(publish, rib)
        s.kick()
        await asyncio.wait_for(s.task, 5)
        assert s.sent == 5

    asyncio.run(main())
    assert [p.peer for p in got] == ["ext"] * 3
    assert [len(p.messages) for p in got] == [2, 2, 1]
    assert all(m[:16] == b"\xff" * 16 and m[18] == 2 for p in got for m in p.messages)
    assert rib.pending_peers() == []


def test_sender_stops_a_peers_chunks_when_its_session_went_down(monkeypatch):
    monkeypatch.setattr(rib_plugin, "CHUNK", 1)
    rib = RibService()
    rib.on_peer_up(EBGP, DEFAULT)
    for i in range(3):
        send(
            rib,
            SRC,
            f"update text origin set igp as-path set [65001 {i}] nhop set 192.0.2.1 nlri ipv4/unicast add 10.{i}.0.0/24",
        )
    got: list[PeerSend] = []

    async def main() -> None:
        async def publish(topic: str, payload: PeerSend) -> int:
            got.append(payload)
            rib.on_peer_down(EBGP)  # down while the first chunk is being written
            payload.written.set_result(0)
            return 1

        s = rib_plugin.Sender(publish, rib)
        s.kick()
        await asyncio.wait_for(s.task, 5)

    asyncio.run(main())
    assert len(got) == 1


def test_no_speaker_listening_stops_quietly():
    rib = RibService()
    rib.on_peer_up(peer("ext", "198.51.100.1", 65002, "10.0.0.2", local_address="198.51.100.254"), DEFAULT)
    send(rib, SRC, f"{ROUTE} nlri ipv4/unicast add 10.1.0.0/24")

    async def main() -> int:
        async def publish(topic: str, payload: PeerSend) -> int:
            return 0

        s = rib_plugin.Sender(publish, rib)
        s.kick()
        await asyncio.wait_for(s.task, 5)
        return s.sent

    assert asyncio.run(main()) == 0
