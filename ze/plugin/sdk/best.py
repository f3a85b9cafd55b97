"""Coalescing best-route changes into few, large batches before they cross the hub.

A RIB produces a few changes per UPDATE; the FIB and the eBPF map sync want thousands per batch
(one sendmsg, one map-update syscall). `BestCoalescer` folds changes per family (the last change
of a prefix wins, so an announce followed by a withdraw is a withdraw) and hands a `BestBatch` to
`flush` when a family holds `size` prefixes or `delay` seconds after the first pending change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ze.bgp.events import BestBatch, NextHopSet

Flush = Callable[[BestBatch], Awaitable[Any]]


class BestCoalescer:
    def __init__(self, flush: Flush, size: int = 8192, delay: float = 0.02) -> None:
        self.flush = flush
        self.size = size
        self.delay = delay
        self.pending: dict[str, dict[Any, NextHopSet | None]] = {}
        self.batches = 0
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Lock | None = None

    async def add(self, batch: BestBatch) -> None:
        """Fold one batch in; flushes the family now if it reached `size`."""
        if batch.resync:
            # a whole table replaces what is pending and goes out as one resync batch
            self.pending.pop(batch.family, None)
            await self._send(batch)
            return
        fam = self.pending.setdefault(batch.family, {})
        for p, nhs in batch.announce:
            fam[p] = nhs
        for p in batch.withdraw:
            fam[p] = None
        if len(fam) >= self.size:
            await self.flush_family(batch.family)
        elif self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.delay, lambda: loop.create_task(self.flush_all()))

    async def flush_family(self, family: str) -> None:
        changes = self.pending.pop(family, None)
        if not changes:
            return
        ann = tuple((p, n) for p, n in changes.items() if n is not None)
        wd = tuple(p for p, n in changes.items() if n is None)
        await self._send(BestBatch(family, ann, wd))

    async def flush_all(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for family in list(self.pending):
            await self.flush_family(family)

    async def _send(self, batch: BestBatch) -> None:
        if self._flushing is None:
            self._flushing = asyncio.Lock()
        async with self._flushing:  # batches leave in the order they were made
            self.batches += 1
            await self.flush(batch)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
