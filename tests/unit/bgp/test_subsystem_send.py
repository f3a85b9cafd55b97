"""The speaker's side of "bgp/send": PeerSend messages written per peer in order through the
session's send path, `written` completed with the count, dropped when the peer is not up."""

from __future__ import annotations

import asyncio

from ze.bgp.events import PeerSend
from ze.bgp.subsystem import BgpSubsystem
from ze.hub.bus import Hub


class FakeSession:
    def __init__(self, established: bool = True) -> None:
        self.established = established
        self.name = "p"
        self.wire: list[bytes] = []

    async def send_messages(self, messages):
        n = 0
        for m in messages:
            if not self.established:
                break
            await asyncio.sleep(0)  # the socket drains
            self.wire.append(m)
            n += 1
        return n


class FakeReactor:
    def __init__(self, sessions):
        self.sessions = sessions


def wired() -> tuple[Hub, BgpSubsystem, FakeSession]:
    """A subsystem on a hub, taking "bgp/send" for one Established session "p"."""
    hub = Hub()
    sub = BgpSubsystem(hub)
    s = FakeSession()
    sub.reactor = FakeReactor({"p": s})
    hub.subscribe("bgp/send", sub._on_send, owner="bgp")
    return hub, sub, s


def test_messages_are_written_in_order_and_acknowledged():
    async def main():
        hub, sub, s = wired()
        loop = asyncio.get_running_loop()
        futs = [loop.create_future() for _ in range(3)]
        for i, f in enumerate(futs):
            assert hub.publish("bgp/send", PeerSend("p", [bytes([i, j]) for j in range(2)], f)) == 1
        assert await asyncio.wait_for(asyncio.gather(*futs), 5) == [2, 2, 2]
        assert s.wire == [bytes([i, j]) for i in range(3) for j in range(2)]
        # a peer not up, or unknown: dropped at once
        s.established = False
        f = loop.create_future()
        hub.publish("bgp/send", PeerSend("p", [b"x"], f))
        assert f.done() and f.result() == 0
        f = loop.create_future()
        hub.publish("bgp/send", PeerSend("nobody", [b"x"], f))
        assert f.result() == 0
        assert sub.sent_messages == 6 and sub.dropped_messages == 2

    asyncio.run(main())


def test_session_down_drops_what_waits():
    async def main():
        hub, sub, s = wired()
        loop = asyncio.get_running_loop()
        f1, f2 = loop.create_future(), loop.create_future()
        hub.publish("bgp/send", PeerSend("p", [b"a", b"b"], f1))
        hub.publish("bgp/send", PeerSend("p", [b"c"], f2))
        await asyncio.sleep(0)  # the writer starts on the first
        s.established = False
        sub._drop_queue("p")  # what the "down" state change does
        assert await asyncio.wait_for(f2, 5) == 0
        assert await asyncio.wait_for(f1, 5) < 2

    asyncio.run(main())
