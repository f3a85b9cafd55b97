"""Time as an injectable dependency: the sans-I/O layers take `now`, the I/O layers ask a Clock."""

from __future__ import annotations

import time


class Clock:
    """Monotonic seconds (float) and wall-clock seconds."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


class FakeClock(Clock):
    """A clock tests move by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._wall_offset = 1_700_000_000.0

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._wall_offset + self._now

    def advance(self, seconds: float) -> float:
        self._now += seconds
        return self._now
