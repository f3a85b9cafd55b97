"""The control socket: a unix stream socket speaking the plugin line protocol (L3).

Each request `#<id> <method> [<json>]` is dispatched to the handler registered for the
method (the daemon registers one per RPC of ze-api.yang) and answered `#<id> ok <json>`
or `#<id> error {"code","message"}`. A bad line, an unknown method, a handler that fails:
each gets an error response; the connection stays open and the server never crashes.

Only one ze may own a socket path: a path that answers a connection belongs to a live ze
and is refused; a path nobody answers is a stale file from a dead ze and is taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import errno
import os
import socket
import stat
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from ze.core.errors import ZeError
from ze.core.log import get_logger
from ze.plugin.protocol import line

Handler = Callable[[Any], Awaitable[Any]]

log = get_logger("ze.api")


class ApiError(ZeError):
    """A request the API refuses: `code` is kebab-case (unknown-method, bad-params, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SocketInUse(ZeError):
    """Another live process answers on the control socket path."""


def claim(path: str | Path) -> None:
    """Make `path` free for our socket: refuse a live owner, remove a stale socket file."""
    p = Path(path)
    try:
        st = p.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise SocketInUse(f"{p} exists and is not a socket; remove it or configure another path")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(p))
    except (ConnectionRefusedError, FileNotFoundError):
        p.unlink(missing_ok=True)  # stale: its owner is gone
        return
    except OSError as e:
        if e.errno in (errno.ECONNREFUSED, errno.ENOENT):
            p.unlink(missing_ok=True)
            return
        raise SocketInUse(f"{p}: cannot check who owns it: {e.strerror}") from None
    finally:
        probe.close()
    raise SocketInUse(
        f"{p} is in use: another ze is running and answers on it; "
        "stop it (ze signal stop) or give this one another socket (--socket or environment api socket)"
    )


class ControlServer:
    def __init__(self, path: str | Path, handlers: Mapping[str, Handler], mode: int = 0o660) -> None:
        self.path = Path(path)
        self.handlers = dict(handlers)
        self.mode = mode
        self._server: asyncio.AbstractServer | None = None
        self._conns: set[asyncio.Task] = set()
        self.requests = 0

    async def start(self) -> None:
        claim(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        old = os.umask(0o777 & ~self.mode)  # never world-accessible, even for an instant
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, self.mode)
        log.info("control socket listening", socket=str(self.path), mode=f"{self.mode:04o}")

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for t in list(self._conns):
                t.cancel()
            for t in list(self._conns):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conns.add(task)
        decoder = line.LineDecoder()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for item in decoder.feed(data):
                    writer.write(await self.answer(item))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if task is not None:
                self._conns.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def answer(self, item: line.Message | line.ProtocolError) -> bytes:
        """The response line for one decoded request (or bad line)."""
        self.requests += 1
        if isinstance(item, line.ProtocolError):
            return line.error(item.id or 0, item.code, item.message)
        msg = item
        if msg.is_response:
            return line.error(
                msg.id, "unexpected-response", f"no request #{msg.id} is waiting for a response"
            )
        log.debug("api request", id=msg.id, method=msg.verb)
        handler = self.handlers.get(msg.verb)
        if handler is None:
            close = difflib.get_close_matches(msg.verb, list(self.handlers), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            return line.error(msg.id, "unknown-method", f"no method {msg.verb}{hint}")
        if msg.payload is not None and not isinstance(msg.payload, dict):
            return line.error(msg.id, "bad-params", "the payload of a request is a JSON object")
        try:
            result = await handler(msg.payload or {})
        except ApiError as e:
            return line.error(msg.id, e.code, e.message)
        except Exception as e:
            log.error("api handler failed", method=msg.verb, error=repr(e))
            return line.error(msg.id, "internal", f"{msg.verb} failed: {e}")
        try:
            return line.ok(msg.id, result)
        except (TypeError, ValueError) as e:
            return line.error(msg.id, "internal", f"{msg.verb}: result not encodable: {e}")
