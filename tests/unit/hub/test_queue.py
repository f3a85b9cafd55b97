"""Queued subscribers: prefix patterns, per-subscriber order, batches, back-pressure, status."""

from __future__ import annotations

import asyncio

import pytest

from ze.hub.bus import Hub


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_queue_gets_matching_topics_in_order_in_batches():
    async def main():
        hub = Hub()
        batches: list[list] = []

        async def sink(items):
            batches.append(list(items))

        q = hub.subscribe_queue(["bgp/", "rib/best"], sink, owner="p", batch=4)
        for i in range(10):
            hub.publish("bgp/update", i)
            hub.publish("fib/x", -1)  # not matched
        hub.publish("rib/best", "b")
        hub.publish("rib/bestx", "no")
        await q.flush()
        flat = [p for b in batches for _, p in b]
        assert flat == [*range(10), "b"]
        assert all(len(b) <= 4 for b in batches)
        assert q.delivered == 11 and q.depth == 0
        await hub.close()

    run(main())


def test_slow_subscriber_does_not_slow_fast_one_and_loses_nothing():
    async def main():
        hub = Hub()
        fast, slow = [], []

        async def fast_sink(items):
            fast.extend(p for _, p in items)

        async def slow_sink(items):
            await asyncio.sleep(0.01)
            slow.extend(p for _, p in items)

        hub.subscribe_queue("*", fast_sink, owner="fast")
        qs = hub.subscribe_queue("*", slow_sink, owner="slow", bound=100, batch=10)
        changes = []
        hub.on_pressure(changes.append)
        sent = 0
        for _ in range(20):
            for _ in range(50):
                hub.publish("bgp/update", sent)
                sent += 1
            await hub.drain()  # the publisher waits here while the slow queue is over its bound
            assert qs.depth <= 100
        await qs.flush()
        assert slow == list(range(sent)) and fast == list(range(sent))
        assert changes[0] is True and changes[-1] is False
        st = hub.status()["queues"][1]
        assert st["owner"] == "slow" and st["bound"] == 100 and st["pauses"] >= 1 and st["high-water"] >= 100
        await hub.close()

    run(main())


def test_failing_sink_is_counted_and_the_queue_goes_on():
    async def main():
        hub = Hub()
        got = []

        async def sink(items):
            if items[0][1] == 0:
                raise RuntimeError("boom")
            got.extend(p for _, p in items)

        q = hub.subscribe_queue("x", sink, owner="f", batch=1)
        for i in range(3):
            hub.publish("x", i)
        await q.flush()
        assert got == [1, 2] and q.errors == 1 and "boom" in q.last_error
        hub.unsubscribe(q)
        assert hub.publish("x", 9) == 0
        await hub.close()

    run(main())


def test_drain_returns_at_once_without_pressure_and_bad_args():
    async def main():
        hub = Hub()
        await asyncio.wait_for(hub.drain(), 0.5)
        with pytest.raises(ValueError):
            hub.subscribe_queue("/x", lambda items: None)
        with pytest.raises(ValueError):
            hub.subscribe_queue("x", lambda items: None, bound=0)

    run(main())


def test_unsubscribing_an_over_bound_queue_releases_the_publisher():
    async def main():
        hub = Hub()
        gate = asyncio.Event()

        async def stuck(items):
            await gate.wait()

        q = hub.subscribe_queue("x", stuck, owner="stuck", bound=5)
        for i in range(10):
            hub.publish("x", i)
        assert hub.under_pressure
        hub.unsubscribe(q)
        assert not hub.under_pressure
        await asyncio.wait_for(hub.drain(), 0.5)

    run(main())
