"""The relay between the reactor and the hub: with filters, verdicts asked as UPDATEs arrive but
applied in arrival order per peer (reject, modify, accept); without, published at once; the
cache of recent UPDATEs by id with a clear error for an evicted one."""

from __future__ import annotations

import asyncio

import pytest

from ze.bgp.events import PeerInfo, PeerUpdate
from ze.bgp.relay import Evicted, Relay
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.update import WireUpdate

A = PeerInfo("a", "192.0.2.2", 65002, 65001)
B = PeerInfo("b", "192.0.2.3", 65003, 65001)


def pu(peer: PeerInfo, n: int) -> PeerUpdate:
    body = b"\x00\x00\x00\x00" + bytes([24, 10, 0, n])
    return PeerUpdate(
        peer, WireUpdate(memoryview(body), EncodingContext(), None, peer=peer, msg_id=n), n, 0.0
    )


def test_no_filter_publishes_at_once_and_caches():
    out = []
    r = Relay(out.append, cache_size=3)
    for n in range(1, 6):
        r.received(pu(A, n))
    assert [p.msg_id for p in out] == [1, 2, 3, 4, 5]
    assert list(r.recent) == [3, 4, 5] and r.cached(4).msg_id == 4
    with pytest.raises(
        Evicted,
        match=r"UPDATE id 1 is not in the cache of the last 3 UPDATEs received \(held now: ids 3..5\)",
    ):
        r.cached(1)


def test_verdicts_in_arrival_order_per_peer():
    async def main():
        out = []
        r = Relay(out.append)

        async def verdict(peer, body, msg_id):
            await asyncio.sleep(0.05 if msg_id == 1 else 0)  # the first answers last
            if msg_id == 2:
                return {"verdict": "reject", "reason": "no"}
            if msg_id == 3:
                return {"verdict": "modify", "update": body[:-1] + b"\x63"}
            if msg_id == 4:
                raise RuntimeError("filter broke")
            return {"verdict": "accept"}

        r.filter = verdict
        r.filtering = lambda: True
        for n in (1, 2, 3, 4):
            r.received(pu(A, n))
        r.received(pu(B, 10))  # another peer is not held up by a's slow verdict
        await asyncio.sleep(0.01)
        assert [p.msg_id for p in out] == [10]
        for _ in range(100):
            if len(out) == 4:
                break
            await asyncio.sleep(0.01)
        assert [p.msg_id for p in out] == [10, 1, 3, 4]  # 2 rejected; a's order kept
        modified = out[2].update
        assert bytes(modified.view)[-1] == 0x63 and modified.msg_id == 3
        assert r.counts == {"accepted": 3, "rejected": 1, "modified": 1}
        assert r.cached(3).update is modified  # what was published is what forward-cached sends
        r.filtering = lambda: False
        r.received(pu(A, 5))
        assert out[-1].msg_id == 5 and r.status()["waiting-for-verdicts"] == 0

    asyncio.run(main())


def test_a_backlog_of_verdicts_pauses_reads_until_half_are_judged():
    async def main():
        out, paused = [], []
        r = Relay(out.append, backlog_bound=4)
        r.on_backlog = paused.append
        gate = asyncio.Event()

        async def verdict(peer, body, msg_id):
            await gate.wait()
            return {"verdict": "accept"}

        r.filter, r.filtering = verdict, lambda: True
        for n in range(1, 6):
            r.received(pu(A, n))
        assert paused == [True] and r.status()["backlogged"] and r.waiting == 5
        gate.set()
        for _ in range(100):
            if len(out) == 5:
                break
            await asyncio.sleep(0.01)
        assert paused == [True, False] and [p.msg_id for p in out] == [1, 2, 3, 4, 5] and r.waiting == 0

    asyncio.run(main())
