"""The bgp-rib plugin lets the other subscribers of a peer-down event act before its reselection
holds the event loop (seconds for a full table): fib-kernel's one nexthop message that re-points or
removes the peer's routes must not wait for it (found by tests/functional/fib/test_daemon_fib.py:
900k routes left the kernel 4.3 s after the session went down, 0.6 s with the yield)."""

from __future__ import annotations

import asyncio
from typing import Any

from ze.bgp.events import PeerStateChanged
from ze.plugins.rib import plugin as rib_plugin
from ze.plugins.rib.service import RibService

from .helpers import peer, send


class FakePlugin:
    """What `run(plugin)` uses of the SDK: handlers captured, run() waits until told to stop."""

    def __init__(self) -> None:
        self.configure: Any = None
        self.event: Any = None
        self.published: list[tuple[str, Any]] = []
        self.stop = asyncio.Event()

    def on_configure(self, fn: Any) -> Any:
        self.configure = fn
        return fn

    def on_event(self, fn: Any) -> Any:
        self.event = fn
        return fn

    def on_command(self, *_a: Any) -> Any:
        return lambda fn: fn

    def set_startup_subscriptions(self, **_kw: Any) -> None:
        pass

    async def publish(self, topic: str, payload: Any) -> int:
        self.published.append((topic, payload))
        return 1

    async def run(self, _registration: Any) -> None:
        await self.stop.wait()


class Ev:
    def __init__(self, topic: str, payload: Any) -> None:
        self.topic, self.payload = topic, payload


def test_peer_down_yields_to_other_subscribers_before_reselecting(monkeypatch):
    order: list[str] = []
    real = RibService.on_peer_down

    def on_peer_down(self: RibService, info: Any) -> list:
        order.append("rib reselects")
        return real(self, info)

    monkeypatch.setattr(RibService, "on_peer_down", on_peer_down)

    async def main() -> None:
        fake = FakePlugin()
        task = asyncio.get_running_loop().create_task(rib_plugin.run(fake))
        await asyncio.sleep(0)
        rib = RibService()
        monkeypatch.setattr(RibService, "from_config", classmethod(lambda cls, *_: rib))
        fake.configure({"rib": {"igp-cost": "none"}})
        a = peer("a", "10.0.0.1", 65001)
        send(
            rib,
            a,
            "update text origin set igp nhop set 10.0.0.1 as-path set [65001] nlri ipv4/unicast add 10.1.0.0/24",
        )

        async def other_subscriber() -> None:  # e.g. fib-kernel's queue, woken by the same publish
            order.append("fib-kernel acts")

        other = asyncio.get_running_loop().create_task(other_subscriber())
        await fake.event(Ev("bgp/state", PeerStateChanged(a, "down")))
        await other
        assert order == ["fib-kernel acts", "rib reselects"]
        for _ in range(100):  # the coalescer publishes after a short delay
            if fake.published:
                break
            await asyncio.sleep(0.02)
        fake.stop.set()
        await task
        withdrawn = [p for t, b in fake.published if t == "rib/best" for p in b.withdraw]
        assert [str(p) for p in withdrawn] == ["10.1.0.0/24"]

    asyncio.run(main())
