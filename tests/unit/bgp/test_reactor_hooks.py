"""The reactor's plugin hooks over in-memory connections: reads paused and resumed (hub
back-pressure), capabilities added to the OPEN, and validate-open holding, refusing (2/0) or
accepting a peer's OPEN."""

from __future__ import annotations

import asyncio

from tests.unit.bgp.fakenet import Net, RawPeer
from tests.unit.bgp.test_reactor import A, B, make, settings, until
from ze.bgp.negotiation import LocalConfig
from ze.bgp.wire.header import MessageType
from ze.bgp.wire.open import Open
from ze.hub.bus import Hub


def _peer(net: Net, router_id: str = B) -> RawPeer:
    return RawPeer(net, B, LocalConfig(asn=65002, router_id=router_id, peer_as=65001, hold_time=30))


def test_capabilities_from_the_hook_are_in_the_open():
    async def main():
        net = Net()
        a = make(net, A)
        a.open_capabilities = lambda s: [(240, b"ze-test")] if s.name == "b" else []
        raw = _peer(net)
        a.add_peer(settings("b", A, B, 65001, 65002, passive=True))
        raw.connect_to(a, A)
        raw.send_open()
        await until(lambda: MessageType.OPEN in raw.types())
        body = next(b for t, b in raw.messages if t == MessageType.OPEN)
        caps = Open.from_wire(body, 19).to_json()["capabilities"]
        assert caps[-1] == {"code": 240, "name": "unknown", "value": b"ze-test".hex().upper()}

    asyncio.run(main())


def test_validate_open_refuses_with_2_0_and_holds_the_keepalive():
    async def main():
        net = Net()
        a = make(net, A)
        asked: list = []
        gate = asyncio.Event()

        async def validate(session, open_):
            asked.append((session.name, open_.to_json()["router-id"]))
            await gate.wait()
            return False, "not welcome"

        a.validate_open = validate
        raw = _peer(net)
        s = a.add_peer(settings("b", A, B, 65001, 65002, passive=True))
        raw.connect_to(a, A)
        raw.send_open()
        await until(lambda: asked)
        raw.send_keepalive()  # held with the OPEN: not read while the plugins decide
        await asyncio.sleep(0.05)
        assert MessageType.KEEPALIVE not in raw.types() and not s.established
        gate.set()
        await until(lambda: MessageType.NOTIFICATION in raw.types())
        note = next(b for t, b in raw.messages if t == MessageType.NOTIFICATION)
        assert note == b"\x02\x00not welcome"
        assert MessageType.KEEPALIVE not in raw.types()
        assert asked == [("b", B)] and s.established_count == 0
        assert s.describe()["last-notification"]["code"] == 2

    asyncio.run(main())


def test_validate_open_accepts_then_the_held_keepalive_establishes():
    async def main():
        net = Net()
        a = make(net, A)

        async def validate(session, open_):
            await asyncio.sleep(0.02)
            return True, ""

        a.validate_open = validate
        raw = _peer(net)
        s = a.add_peer(settings("b", A, B, 65001, 65002, passive=True))
        raw.connect_to(a, A)
        raw.send_open()
        raw.send_keepalive()
        await until(lambda: s.established and MessageType.KEEPALIVE in raw.types())
        assert raw.types()[:2] == [MessageType.OPEN, MessageType.KEEPALIVE]

    asyncio.run(main())


def test_hub_pressure_pauses_and_resumes_reads():
    async def main():
        net = Net()
        hub = Hub()
        got: list = []
        a = make(net, A, on_update=lambda s, body, ctx, mid: got.append(mid))
        a.pause_reads(False)
        raw = _peer(net)
        s = a.add_peer(settings("b", A, B, 65001, 65002, passive=True))
        raw.connect_to(a, A)
        raw.send_open()
        raw.send_keepalive()
        await until(lambda: s.established)
        a.pause_reads(True)
        raw.send_update(b"\x00\x00\x00\x00")
        await asyncio.sleep(0.05)
        assert got == [] and s.links[0].conn.paused
        a.pause_reads(False)
        await until(lambda: got == [1])
        # as the subsystem wires it: the hub's pressure listeners drive the reads
        hub.on_pressure(a.pause_reads)
        hub._tell(True)
        assert a.reads_paused and s.links[0].conn.paused
        hub._tell(False)
        assert not a.reads_paused and not s.links[0].conn.paused

    asyncio.run(main())
