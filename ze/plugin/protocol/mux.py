"""MuxConn semantics over one line connection, without owning the I/O (L1, no asyncio import).

Either side numbers its own requests; a response (`ok`/`error`) echoes the request's id, so
one reader routes responses to the waiting request and hands requests to the handler. Many
requests may be in flight both ways. The event loop is injected (`new_future`, `spawn`) so the
same code serves the SDK and the host, over TLS, stdio or the in-memory pipe.

    mux = Mux(send=writer.write, handler=on_request, new_future=loop.create_future,
              spawn=loop.create_task)
    mux.feed(data)                       # bytes read from the connection
    data = await mux.request("ze-plugin-engine:ready", {...})   # RemoteError on `error`

Inbound requests are handled in the order they arrive, one at a time per connection unless
the handler returns quickly (deliver-batch must stay ordered); a handler that raises
RemoteError answers with its code, any other exception with code "internal".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from ze.core.errors import ZeError
from ze.plugin.protocol import line
from ze.plugin.protocol.line import LineDecoder, Message, ProtocolError

Handler = Callable[[Message], Awaitable[Any]]


class RemoteError(ZeError):
    """An `error` response (or an error to answer with): kebab-case `code` and a message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ConnectionLost(ZeError):
    """The connection closed while a request waited for its response."""


class Mux:
    def __init__(
        self,
        send: Callable[[bytes], Any],
        handler: Handler,
        new_future: Callable[[], Any],
        spawn: Callable[[Awaitable[Any]], Any],
        *,
        first_id: int = 1,
        concurrent: frozenset[str] = frozenset(),
    ) -> None:
        self.send = send
        # verbs served at once, beside the ordered queue: stateless calls (decode-nlri ...) that
        # may be asked while a queued request waits for them (a command that decodes an UPDATE)
        self.concurrent = concurrent
        self.handler = handler
        self._new_future = new_future
        self._spawn = spawn
        self._decoder = LineDecoder()
        self._next = first_id
        self._pending: dict[int, Any] = {}
        self._inbox: deque[Message] = deque()
        self._running = False
        self.closed: str | None = None
        self.sent = 0
        self.received = 0

    # --- outbound ------------------------------------------------------------------------
    def next_id(self) -> int:
        n = self._next
        self._next += 1
        return n

    def request(self, method: str, params: Any = None) -> Any:
        """Send a request; returns a future of the `ok` payload (RemoteError on `error`)."""
        return self.request_raw(method, None if params is None else line._encoder.encode(params))

    def request_raw(self, method: str, body: bytes | None) -> Any:
        """Like request() with the JSON payload already encoded (cached event renderings)."""
        fut = self._new_future()
        if self.closed is not None:
            fut.set_exception(ConnectionLost(self.closed))
            return fut
        mid = self.next_id()
        self._pending[mid] = fut
        head = f"#{mid} {method}".encode()
        self._write(head + b" " + body + b"\n" if body is not None else head + b"\n")
        return fut

    def _write(self, data: bytes) -> None:
        self.sent += 1
        self.send(data)

    # --- inbound -------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        for item in self._decoder.feed(data):
            self.received += 1
            if isinstance(item, ProtocolError):
                if item.id is not None:
                    self._write(line.error(item.id, item.code, item.message))
                continue
            if item.is_response:
                fut = self._pending.pop(item.id, None)
                if fut is None or fut.done():
                    continue  # a response to a request that timed out: nothing waits any more
                if item.verb == line.OK:
                    fut.set_result(item.payload)
                else:
                    p = item.payload if isinstance(item.payload, dict) else {}
                    fut.set_exception(RemoteError(str(p.get("code", "error")), str(p.get("message", ""))))
                continue
            if item.verb in self.concurrent:
                self._spawn(self._serve_one(item))
                continue
            self._inbox.append(item)
        if self._inbox and not self._running:
            self._running = True
            self._spawn(self._serve())

    async def _serve(self) -> None:
        try:
            while self._inbox and self.closed is None:
                await self._serve_one(self._inbox.popleft())
        finally:
            self._running = False

    async def _serve_one(self, msg: Message) -> None:
        try:
            result = await self.handler(msg)
        except RemoteError as e:
            reply = line.error(msg.id, e.code, e.message)
        except ProtocolError as e:
            reply = line.error(msg.id, e.code, e.message)
        except Exception as e:
            reply = line.error(msg.id, "internal", f"{msg.verb} failed: {e!r}")
        else:
            try:
                reply = line.ok(msg.id, result)
            except (TypeError, ValueError) as e:
                reply = line.error(msg.id, "internal", f"{msg.verb}: result not encodable: {e}")
        if self.closed is None:
            self._write(reply)

    def close(self, reason: str = "connection closed") -> None:
        """Fail every waiting request with ConnectionLost."""
        if self.closed is not None:
            return
        self.closed = reason
        pending, self._pending = self._pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(ConnectionLost(reason))

    @property
    def in_flight(self) -> int:
        return len(self._pending)


class MemoryEnd:
    """One end of an in-memory line pipe: bytes written here are fed to the other end's
    `on_data`, scheduled (never called re-entrantly). `direct` is the bridge slot: an
    in-process plugin puts its event callable there, and after `ready` the host calls it with
    Python objects instead of writing JSON."""

    def __init__(self, schedule: Callable[..., Any]) -> None:
        self.schedule = schedule
        self.peer: MemoryEnd | None = None
        self.on_data: Callable[[bytes], None] | None = None
        self.on_close: Callable[[str], None] | None = None
        self.direct: Callable[[list[tuple[str, Any]]], Awaitable[None]] | None = None
        # the other bridge slot: the host puts its hub's publish here, so an in-process plugin
        # publishes Python objects (a BestBatch ...) with no JSON
        self.publish: Callable[[str, Any], int] | None = None
        self.closed = False

    def write(self, data: bytes) -> None:
        peer = self.peer
        if self.closed or peer is None or peer.closed:
            return
        self.schedule(peer._receive, data)

    def _receive(self, data: bytes) -> None:
        if self.on_data is not None and not self.closed:
            self.on_data(data)

    def close(self, reason: str = "closed") -> None:
        if self.closed:
            return
        self.closed = True
        peer = self.peer
        if peer is not None and not peer.closed and peer.on_close is not None:
            self.schedule(peer.on_close, reason)


def memory_pipe(schedule: Callable[..., Any]) -> tuple[MemoryEnd, MemoryEnd]:
    """Two connected ends (host side, plugin side); `schedule` is loop.call_soon."""
    a, b = MemoryEnd(schedule), MemoryEnd(schedule)
    a.peer, b.peer = b, a
    return a, b
