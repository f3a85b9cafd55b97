"""Between the reactor's on_update and the hub (DESIGN.md "Plugin protocol": filter-update,
forward-cached): the per-peer filter pipeline and the cache of recent UPDATEs by message id.

- Filters: when plugins filter UPDATEs (a fast hook, or `filters` declared and
  `filter-update` served), each received UPDATE gets a verdict before it is published:
  accept, reject (not published), or modify (the new body is published). Verdicts are asked
  as UPDATEs arrive (pipelined) and applied in arrival order per peer, so a peer's UPDATEs
  reach the hub in the order they were received. Timeouts and failures are the filter's
  business (ze.plugin.host: the fast-hook default, fail-open or fail-closed). At
  `backlog_bound` UPDATEs waiting for verdicts the speaker stops reading its peers (like a
  full hub queue) until half have been judged. With no filter the hot path is one dict insert
  and the publish.
- Cache: the last `cache_size` published UPDATEs by message id (the `id` of their event), so
  a route server plugin can have one sent unchanged to other peers (`forward-cached`)
  without re-encoding; an id that has left the cache is a clear error.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from ze.bgp.events import PeerUpdate
from ze.bgp.wire.update import WireUpdate
from ze.core import log as zlog

log = zlog.get_logger("ze.bgp")

# (peer dict, UPDATE body, message id) -> {"verdict": "accept"|"reject"|"modify", "update"?, "reason"?}
Filter = Callable[[dict[str, Any], bytes, int], Awaitable[dict[str, Any]]]


class Evicted(LookupError):
    """forward-cached: the UPDATE is not (or no longer) in the cache."""


class Relay:
    def __init__(
        self, publish: Callable[[PeerUpdate], Any], cache_size: int = 10_000, backlog_bound: int = 10_000
    ) -> None:
        self.publish_fn = publish
        self.cache_size = cache_size
        # UPDATEs waiting for verdicts: at the bound on_backlog(True) (the speaker stops reading,
        # as for a full hub queue), under half of it on_backlog(False)
        self.backlog_bound = backlog_bound
        self.on_backlog: Callable[[bool], Any] = lambda paused: None
        self.waiting = 0
        self.backlogged = False
        self.recent: OrderedDict[int, PeerUpdate] = OrderedDict()
        self.filter: Filter | None = None
        self.filtering: Callable[[], bool] = lambda: False
        self._queues: dict[str, deque[tuple[PeerUpdate, asyncio.Future]]] = {}
        self._pumps: dict[str, asyncio.Task] = {}
        self.counts = {"accepted": 0, "rejected": 0, "modified": 0}

    def received(self, pu: PeerUpdate) -> None:
        name = pu.peer.name
        q = self._queues.get(name)
        if q is None and (self.filter is None or not self.filtering()):
            self._publish(pu)
            return
        if q is None:
            q = self._queues[name] = deque()
        if self.filter is not None and self.filtering():
            peer = {"name": pu.peer.name, "address": pu.peer.address, "remote-as": pu.peer.remote_as}
            verdict = asyncio.ensure_future(self.filter(peer, bytes(pu.update.view), pu.msg_id))
        else:  # the filters went while earlier UPDATEs of this peer wait: keep the order
            verdict = asyncio.get_running_loop().create_future()
            verdict.set_result({"verdict": "accept"})
        q.append((pu, verdict))
        self.waiting += 1
        if self.waiting >= self.backlog_bound and not self.backlogged:
            self.backlogged = True
            self.on_backlog(True)
        pump = self._pumps.get(name)
        if pump is None or pump.done():
            self._pumps[name] = asyncio.get_running_loop().create_task(
                self._pump(name), name=f"bgp-filter-{name}"
            )

    async def _pump(self, name: str) -> None:
        q = self._queues.get(name)
        while q:
            pu, fut = q[0]
            try:
                v = await fut
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the filter itself failed: say so, let it through
                log.error("update filter failed; accepting", peer=name, error=repr(e))
                v = {"verdict": "accept"}
            q.popleft()
            self.waiting -= 1
            if self.backlogged and self.waiting <= self.backlog_bound // 2:
                self.backlogged = False
                self.on_backlog(False)
            self._apply(pu, v)
        self._queues.pop(name, None)

    def _apply(self, pu: PeerUpdate, v: dict[str, Any]) -> None:
        verdict = v.get("verdict")
        if verdict == "reject":
            self.counts["rejected"] += 1
            log.debug(
                "update rejected by a filter", peer=pu.peer.name, id=pu.msg_id, reason=v.get("reason", "")
            )
            return
        body = v.get("update")
        if verdict == "modify" and isinstance(body, (bytes, bytearray)):
            self.counts["modified"] += 1
            old = pu.update
            new = WireUpdate(bytes(body), old.ctx, old.codecs, peer=old.peer, msg_id=pu.msg_id)
            pu = replace(pu, update=new)
        else:
            self.counts["accepted"] += 1
        self._publish(pu)

    def _publish(self, pu: PeerUpdate) -> None:
        recent = self.recent
        recent[pu.msg_id] = pu
        if len(recent) > self.cache_size:
            recent.popitem(last=False)
        self.publish_fn(pu)

    def cached(self, msg_id: int) -> PeerUpdate:
        pu = self.recent.get(msg_id)
        if pu is None:
            oldest = next(iter(self.recent), None)
            held = f"ids {oldest}..{next(reversed(self.recent))}" if oldest is not None else "none"
            raise Evicted(
                f"UPDATE id {msg_id} is not in the cache of the last {self.cache_size} UPDATEs received "
                f"(held now: {held})"
            )
        return pu

    def cancel(self) -> None:
        for t in self._pumps.values():
            t.cancel()
        for q in self._queues.values():
            for _, fut in q:
                fut.cancel()
        self._queues.clear()
        self.waiting = 0
        if self.backlogged:
            self.backlogged = False
            self.on_backlog(False)

    def status(self) -> dict[str, Any]:
        return {
            "cached": len(self.recent),
            "cache-size": self.cache_size,
            "waiting-for-verdicts": self.waiting,
            "backlogged": self.backlogged,
            **self.counts,
        }
