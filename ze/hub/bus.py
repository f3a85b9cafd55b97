"""The content-agnostic bus: publish a payload on a topic, subscribers get it.

Topics are slash-separated ("bgp/update", "config/applied"). A subscription names a topic
exactly, a prefix ending with "/" ("bgp/" gets every bgp topic), or "*" (everything). The hub
never looks inside a payload.

Two kinds of subscriber:

- `subscribe(pattern, callback)`: synchronous, called inside `publish`, in subscription order;
  a subscriber that raises is logged and skipped, the others still get the payload.
- `subscribe_queue(pattern, sink, bound=, batch=)`: an ordered queue per subscriber drained by
  its own task, which awaits `sink([(topic, payload), ...])` with up to `batch` events at a
  time. `publish` only appends, so a slow subscriber never slows the others and never loses
  an event. When a queue holds `bound` events the hub is *under pressure*: pause listeners
  (`on_pressure`) are told True, and `await hub.drain()` waits until every queue is back
  under half its bound (then listeners are told False). A publisher that can wait (a BGP
  session's read loop between two reads) awaits `drain()`; one that must not wait (the
  session's keepalives) just keeps publishing; the queue grows past its bound and nothing is
  dropped. The bound, the depth, the high-water mark and the pauses are in `status()`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ze.core.log import get_logger
from ze.core.registry import Registry

Callback = Callable[[str, Any], None]
Sink = Callable[[list[tuple[str, Any]]], Awaitable[None]]
PressureListener = Callable[[bool], None]

log = get_logger("ze.hub")

DEFAULT_BOUND = 10_000
DEFAULT_BATCH = 256


def _check_pattern(pattern: str) -> None:
    if not pattern or (pattern != "*" and pattern.startswith("/")):
        raise ValueError(f"bad topic pattern {pattern!r}")


def matches(pattern: str, topic: str) -> bool:
    return pattern in ("*", topic) or (pattern.endswith("/") and topic.startswith(pattern))


@dataclass(eq=False, slots=True)
class Subscription:
    pattern: str
    callback: Callback
    owner: str
    delivered: int = 0

    def matches(self, topic: str) -> bool:
        return matches(self.pattern, topic)


@dataclass(eq=False)
class QueueSubscription:
    """An ordered queue of (topic, payload) drained in batches by its own task."""

    patterns: list[str]
    sink: Sink
    owner: str
    bound: int = DEFAULT_BOUND
    batch: int = DEFAULT_BATCH
    queue: deque = field(default_factory=deque)
    delivered: int = 0
    batches: int = 0
    errors: int = 0
    high_water: int = 0
    pauses: int = 0
    over: bool = False  # at or past its bound, not yet back under bound // 2
    last_error: str = ""
    busy: bool = False  # a batch is in the sink
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task | None = None
    _hub: Hub | None = None

    def matches(self, topic: str) -> bool:
        return any(matches(p, topic) for p in self.patterns)

    @property
    def depth(self) -> int:
        return len(self.queue)

    def add_pattern(self, pattern: str) -> None:
        _check_pattern(pattern)
        if pattern not in self.patterns:
            self.patterns.append(pattern)

    def remove_pattern(self, pattern: str) -> None:
        if pattern in self.patterns:
            self.patterns.remove(pattern)

    def put(self, topic: str, payload: Any) -> None:
        q = self.queue
        q.append((topic, payload))
        n = len(q)
        self.high_water = max(self.high_water, n)
        if n >= self.bound and not self.over:
            self.over = True
            self.pauses += 1
            if self._hub is not None:
                self._hub._pressure_on(self)
        self._wake.set()

    async def _run(self) -> None:
        q = self.queue
        while True:
            if not q:
                self._wake.clear()
                await self._wake.wait()
                continue
            n = min(self.batch, len(q))
            items = [q.popleft() for _ in range(n)]
            self.busy = True
            try:
                await self.sink(items)
            except asyncio.CancelledError:
                # put them back in order: a cancelled sink delivered nothing we can count on
                q.extendleft(reversed(items))
                raise
            except Exception as e:
                self.errors += 1
                self.last_error = repr(e)
                log.error("queued subscriber failed", owner=self.owner, events=n, error=repr(e))
            finally:
                self.busy = False
            self.delivered += n
            self.batches += 1
            if self.over and len(q) <= self.bound // 2:
                self.over = False
                if self._hub is not None:
                    self._hub._pressure_off(self)

    async def flush(self, timeout: float = 10.0) -> None:
        """Wait until the queue is empty and the last batch handed over (tests, shutdown)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while self.queue or self.busy:
            if loop.time() > end:
                raise TimeoutError(f"{self.owner}: {len(self.queue)} events still queued")
            await asyncio.sleep(0.001)

    def status(self) -> dict[str, Any]:
        return {
            "patterns": list(self.patterns),
            "owner": self.owner,
            "depth": len(self.queue),
            "bound": self.bound,
            "batch": self.batch,
            "delivered": self.delivered,
            "batches": self.batches,
            "high-water": self.high_water,
            "pauses": self.pauses,
            "over-bound": self.over,
            "errors": self.errors,
            "last-error": self.last_error,
        }


@dataclass(slots=True)
class Hub:
    subscriptions: list[Subscription] = field(default_factory=list)
    components: Registry[str, Any] = field(default_factory=lambda: Registry("components"))
    published: int = 0
    queues: list[QueueSubscription] = field(default_factory=list)
    default_bound: int = DEFAULT_BOUND
    _over: set = field(default_factory=set)
    _listeners: list[PressureListener] = field(default_factory=list)
    _calm: asyncio.Event | None = None

    # --- synchronous subscribers ---------------------------------------------------------
    def subscribe(self, pattern: str, callback: Callback, owner: str = "core") -> Subscription:
        _check_pattern(pattern)
        sub = Subscription(pattern, callback, owner)
        self.subscriptions.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription | QueueSubscription) -> None:
        if isinstance(sub, QueueSubscription):
            self._remove_queue(sub)
        elif sub in self.subscriptions:
            self.subscriptions.remove(sub)

    # --- queued subscribers --------------------------------------------------------------
    def subscribe_queue(
        self,
        patterns: str | list[str],
        sink: Sink,
        owner: str = "core",
        *,
        bound: int | None = None,
        batch: int = DEFAULT_BATCH,
    ) -> QueueSubscription:
        """An ordered, batched queue; needs a running event loop (its task starts now)."""
        pats = [patterns] if isinstance(patterns, str) else list(patterns)
        for p in pats:
            _check_pattern(p)
        bound = self.default_bound if bound is None else bound
        if bound < 1 or batch < 1:
            raise ValueError(f"queue bound {bound} and batch {batch} must be >= 1")
        sub = QueueSubscription(pats, sink, owner, bound=bound, batch=batch)
        sub._hub = self
        sub._task = asyncio.get_running_loop().create_task(sub._run(), name=f"hub-queue-{owner}")
        self.queues.append(sub)
        return sub

    def _remove_queue(self, sub: QueueSubscription) -> None:
        if sub in self.queues:
            self.queues.remove(sub)
        if sub._task is not None:
            sub._task.cancel()
            sub._task = None
        if sub.over:
            sub.over = False
            self._pressure_off(sub)

    async def close(self) -> None:
        for sub in list(self.queues):
            task = sub._task
            self._remove_queue(sub)
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # --- publishing ----------------------------------------------------------------------
    def publish(self, topic: str, payload: Any) -> int:
        """Deliver to every matching subscriber; returns how many got (or queued) it."""
        self.published += 1
        n = 0
        for sub in tuple(self.subscriptions):
            if not sub.matches(topic):
                continue
            try:
                sub.callback(topic, payload)
            except Exception as e:
                log.error("subscriber failed", topic=topic, owner=sub.owner, error=repr(e))
                continue
            sub.delivered += 1
            n += 1
        for q in self.queues:
            if q.matches(topic):
                q.put(topic, payload)
                n += 1
        return n

    # --- back-pressure -------------------------------------------------------------------
    @property
    def under_pressure(self) -> bool:
        return bool(self._over)

    def on_pressure(self, listener: PressureListener) -> Callable[[], None]:
        """`listener(True)` when a queue reaches its bound, `listener(False)` when every queue
        is back under half its bound. Returns a function that removes the listener."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def drain(self) -> None:
        """Return at once when no queue is at its bound; otherwise when all are back under half."""
        while self._over:
            if self._calm is None:
                self._calm = asyncio.Event()
            await self._calm.wait()

    def _pressure_on(self, sub: QueueSubscription) -> None:
        first = not self._over
        self._over.add(sub)
        log.info("hub queue at its bound", owner=sub.owner, depth=len(sub.queue), bound=sub.bound)
        if first:
            if self._calm is not None:
                self._calm.clear()
            self._tell(True)

    def _pressure_off(self, sub: QueueSubscription) -> None:
        self._over.discard(sub)
        if not self._over:
            if self._calm is not None:
                self._calm.set()
                self._calm = None
            self._tell(False)

    def _tell(self, on: bool) -> None:
        for fn in tuple(self._listeners):
            try:
                fn(on)
            except Exception as e:
                log.error("pressure listener failed", error=repr(e))

    # --- components and status -----------------------------------------------------------
    def register(self, name: str, component: Any, owner: str = "core") -> None:
        """A named component (a subsystem or plugin); names are unique."""
        self.components.register(name, component, owner)

    def status(self) -> dict[str, Any]:
        return {
            "published": self.published,
            "subscriptions": [
                {"pattern": s.pattern, "owner": s.owner, "delivered": s.delivered} for s in self.subscriptions
            ],
            "queues": [q.status() for q in self.queues],
            "under-pressure": self.under_pressure,
            "components": list(self.components),
        }
