"""In-memory connections for reactor tests: FakeConn is what Reactor.wrap makes, a Pipe joins two
ends (reactor <-> reactor, or reactor <-> a RawPeer the test drives byte by byte)."""

from __future__ import annotations

import asyncio
from typing import Any

from ze import _native
from ze.bgp.negotiation import LocalConfig, build_open
from ze.bgp.wire.header import HEADER_LEN, MessageType, frame


class FakeSock:
    """Stands for a socket between connector/listener and wrap: just the two addresses."""

    def __init__(self, local: str, remote: str, pipe: Pipe, side: int) -> None:
        self.local = local
        self.remote = remote
        self.pipe = pipe
        self.side = side
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self.pipe.close(self.side)


class FakeConn:
    def __init__(self, sock: FakeSock, on_frames, on_error, on_close, extended, outgoing: bool) -> None:
        self.sock = sock
        self.on_frames = on_frames
        self.on_error = on_error
        self.on_close = on_close
        self.extended = extended
        self.outgoing = outgoing
        self.local, self.local_port = sock.local, 40000 + sock.side
        self.remote, self.remote_port = sock.remote, 179
        self.closed = False
        self.bytes_in = self.bytes_out = 0
        self.buffered = 0
        self.paused = False
        self.held: list[bytes] = []
        self.buf = _native.BufferPool(65536 + 19, 1, hugepages=False).acquire()
        sock.pipe.ends[sock.side] = self

    def write(self, data: bytes) -> None:
        if not self.closed:
            self.bytes_out += len(data)
            self.sock.pipe.send(self.sock.side, bytes(data))

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False
        held, self.held = self.held, []
        for data in held:
            self.deliver(data)

    def deliver(self, data: bytes) -> None:
        if self.closed:
            return
        if self.paused:  # like a socket not read: the bytes wait (in the kernel, for a real one)
            self.held.append(data)
            return
        self.bytes_in += len(data)
        view = memoryview(data)
        while view and not self.closed:
            room = self.buf.capacity - self.buf.end
            chunk, view = view[:room], view[room:]
            res = _native.feed_frames(self.buf, chunk, self.extended())
            if res.frames:
                f = res.frames
                first, last = f[0], len(f) - 3
                blob = bytes(self.buf.view[first : f[last] + f[last + 1]])
                self.on_frames(blob, [v - first if i % 3 == 0 else v for i, v in enumerate(f)])
            if res.error is not None and not self.closed:
                self.on_error(res.error)
                return

    async def drain(self) -> None:
        await asyncio.sleep(0)

    def close(self, flush: bool = True) -> None:
        if not self.closed:
            self.closed = True
            self.sock.pipe.close(self.sock.side)

    def lost(self, reason: str) -> None:
        if not self.closed:
            self.closed = True
            self.on_close(reason)


class Pipe:
    """Two ends; bytes written on one are delivered to the other on the next loop turn."""

    def __init__(self) -> None:
        self.ends: list[Any] = [None, None]
        self.loop = asyncio.get_running_loop()

    def send(self, side: int, data: bytes) -> None:
        self.loop.call_soon(self._deliver, 1 - side, data)

    def _deliver(self, side: int, data: bytes) -> None:
        end = self.ends[side]
        if end is not None:
            end.deliver(data)

    def close(self, side: int) -> None:
        other = self.ends[1 - side]
        if other is not None:
            self.loop.call_soon(other.lost, "connection closed by the peer")


def wrap(sock, on_frames, on_error, on_close, extended, outgoing) -> FakeConn:
    return FakeConn(sock, on_frames, on_error, on_close, extended, outgoing)


class Net:
    """Reactors registered by address; connector(remote, port, local=...) reaches the one there."""

    def __init__(self) -> None:
        self.nodes: dict[str, Any] = {}  # address -> Reactor or RawPeer
        self.refuse: set[str] = set()

    def connector_for(self, me: str):
        async def connector(remote: str, port: int, **kw: Any) -> FakeSock:
            await asyncio.sleep(0)
            node = self.nodes.get(remote)
            if node is None or remote in self.refuse:
                raise ConnectionRefusedError(111, "Connection refused")
            pipe = Pipe()
            theirs = FakeSock(remote, me, pipe, 1)
            node.incoming(theirs, me)
            return FakeSock(me, remote, pipe, 0)

        return connector


class ReactorNode:
    def __init__(self, net: Net, address: str, reactor: Any) -> None:
        self.reactor = reactor
        net.nodes[address] = self

    def incoming(self, sock: FakeSock, remote: str) -> None:
        self.reactor._accept(sock, remote)


class RawPeer:
    """A BGP speaker the test drives: bytes it receives are kept as (type, body) messages."""

    def __init__(self, net: Net, address: str, local: LocalConfig) -> None:
        net.nodes[address] = self
        self.address = address
        self.local = local
        self.messages: list[tuple[int, bytes]] = []
        self.pipe: Pipe | None = None
        self.side = 1
        self._in = b""
        self.closed = False

    def incoming(self, sock: FakeSock, remote: str) -> None:
        self.pipe = sock.pipe
        self.side = sock.side
        self.pipe.ends[self.side] = self

    def connect_to(self, reactor: Any, reactor_address: str) -> None:
        pipe = Pipe()
        self.pipe = pipe
        self.side = 1
        pipe.ends[1] = self
        reactor._accept(FakeSock(reactor_address, self.address, pipe, 0), self.address)

    def deliver(self, data: bytes) -> None:
        self._in += data
        while len(self._in) >= HEADER_LEN:
            n = int.from_bytes(self._in[16:18], "big")
            if len(self._in) < n:
                break
            self.messages.append((self._in[18], self._in[HEADER_LEN:n]))
            self._in = self._in[n:]

    def lost(self, reason: str) -> None:
        self.closed = True

    def send(self, data: bytes) -> None:
        assert self.pipe is not None
        self.pipe.send(self.side, data)

    def send_open(self) -> None:
        self.send(build_open(self.local).to_bytes())

    def send_keepalive(self) -> None:
        self.send(frame(MessageType.KEEPALIVE, b""))

    def send_update(self, body: bytes) -> None:
        self.send(frame(MessageType.UPDATE, body))

    def types(self) -> list[int]:
        return [t for t, _ in self.messages]

    def close(self) -> None:
        assert self.pipe is not None
        self.closed = True
        self.pipe.close(self.side)
