"""The plugin side of a fast hook: a unix socket answering per-UPDATE verdicts.

Frames are a 4-byte big-endian length and a msgpack map (msgspec). ze sends
`{"peer": {"address","name","as"}, "update": <UPDATE body bytes>, "id": N}` and reads back
`{"verdict": "accept"}`, `{"verdict": "reject", "reason": "..."}` or
`{"verdict": "modify", "update": <new body bytes>}`. One request per connection at a time;
ze keeps a small pool of connections, so several may be open.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import struct
import tempfile
from collections.abc import Callable
from typing import Any

import msgspec

_LEN = struct.Struct(">I")
MAX_FRAME = 16 * 1024 * 1024
_enc = msgspec.msgpack.Encoder()
_dec = msgspec.msgpack.Decoder()


async def read_frame(reader: asyncio.StreamReader) -> Any:
    head = await reader.readexactly(4)
    (n,) = _LEN.unpack(head)
    if n > MAX_FRAME:
        raise ValueError(f"frame of {n} bytes is longer than {MAX_FRAME}")
    return _dec.decode(await reader.readexactly(n))


def frame(obj: Any) -> bytes:
    body = _enc.encode(obj)
    return _LEN.pack(len(body)) + body


async def serve(fn: Callable[[dict], Any], path: str | None, name: str) -> tuple[asyncio.AbstractServer, str]:
    """Start serving fn on a unix socket (a private temp path by default)."""
    if path is None:
        path = os.path.join(tempfile.mkdtemp(prefix=f"ze-{name}-"), "fast-hook.sock")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    is_async = inspect.iscoroutinefunction(fn)

    async def conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                req = await read_frame(reader)
                try:
                    verdict = await fn(req) if is_async else fn(req)
                except Exception as e:
                    verdict = {"verdict": "error", "reason": repr(e)}
                if isinstance(verdict, str):
                    verdict = {"verdict": verdict}
                writer.write(frame(verdict))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_unix_server(conn, path=path)
    os.chmod(path, 0o600)
    return server, path
