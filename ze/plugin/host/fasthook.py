"""The engine side of fast hooks: a small pool of unix-socket connections to a plugin's hook,
one request per connection at a time, a per-call timeout and a fail-open/fail-closed default.

Frames are a 4-byte big-endian length and a msgpack map (msgspec); see ze.plugin.sdk.fasthook
for the request and verdict shapes. A connection that times out or breaks is dropped (the
next call opens a new one), and the call gets the default verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from typing import Any

import msgspec

_LEN = struct.Struct(">I")
MAX_FRAME = 16 * 1024 * 1024
VERDICTS = ("accept", "reject", "modify")


class FastHook:
    def __init__(
        self, path: str, *, pool: int = 4, timeout: float = 0.05, fail_open: bool = True, owner: str = ""
    ) -> None:
        self.path = path
        self.size = pool
        self.timeout = timeout
        self.fail_open = fail_open
        self.owner = owner
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(pool)
        self._enc = msgspec.msgpack.Encoder()
        self._dec = msgspec.msgpack.Decoder()
        self._next = 0
        self.calls = 0
        self.failures = 0
        self.timeouts = 0
        self.last_error = ""

    def default(self, reason: str) -> dict[str, Any]:
        self.failures += 1
        self.last_error = reason
        verdict = "accept" if self.fail_open else "reject"
        return {"verdict": verdict, "reason": f"fast hook {self.owner}: {reason} ({verdict} by default)"}

    async def call(self, request: dict[str, Any]) -> dict[str, Any]:
        """The plugin's verdict for one request, or the default verdict on timeout/error."""
        self.calls += 1
        self._next += 1
        request = {**request, "id": self._next}
        async with self._slots:
            conn = None
            try:
                conn = (
                    self._idle.pop()
                    if self._idle
                    else await asyncio.wait_for(asyncio.open_unix_connection(self.path), self.timeout)
                )
                reader, writer = conn
                body = self._enc.encode(request)
                writer.write(_LEN.pack(len(body)) + body)
                verdict = await asyncio.wait_for(self._read(reader), self.timeout)
            except TimeoutError:
                self.timeouts += 1
                self._drop(conn)
                return self.default(f"no verdict within {self.timeout * 1000:.0f} ms")
            except (OSError, asyncio.IncompleteReadError, msgspec.DecodeError, ValueError) as e:
                self._drop(conn)
                return self.default(f"{type(e).__name__}: {e}")
            self._idle.append(conn)
        if not isinstance(verdict, dict) or verdict.get("verdict") not in VERDICTS:
            return self.default(f"bad verdict {verdict!r:.100}")
        return verdict

    async def _read(self, reader: asyncio.StreamReader) -> Any:
        (n,) = _LEN.unpack(await reader.readexactly(4))
        if n > MAX_FRAME:
            raise ValueError(f"frame of {n} bytes")
        return self._dec.decode(await reader.readexactly(n))

    @staticmethod
    def _drop(conn: Any) -> None:
        if conn is not None:
            with contextlib.suppress(Exception):
                conn[1].close()

    def close(self) -> None:
        for conn in self._idle:
            self._drop(conn)
        self._idle.clear()

    def status(self) -> dict[str, Any]:
        return {
            "socket": self.path,
            "pool": self.size,
            "timeout-ms": round(self.timeout * 1000, 3),
            "default": "accept" if self.fail_open else "reject",
            "calls": self.calls,
            "failures": self.failures,
            "timeouts": self.timeouts,
            "last-error": self.last_error,
        }


def now() -> float:
    return time.monotonic()
