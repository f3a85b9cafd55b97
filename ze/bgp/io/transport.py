"""One BGP TCP connection on the event loop: socket set-up, framed reads, buffered writes.

Sockets are made here and prepared before connect() by ze._native: TCP-MD5 (RFC 2385,
`set_tcp_md5`), GTSM (RFC 5082, `set_gtsm`: send with TTL 255, accept TTL >= 256 - hops) and the
local-address bind. The loop only watches the file descriptor (add_reader/add_writer): a read
is one call of the C helper's `read_frames` into a reused buffer of the pool, which returns the
offsets of every whole message; the bytes of those messages are copied once per read (one
`bytes` per read, not per message) so the memoryviews handed on stay valid after the buffer is
reused. A read takes at most one buffer (256 KiB), then control goes back to the loop: timers
(keepalive, hold) run between reads even under a flood.

Writes go straight to the socket; what the kernel does not take waits in an out buffer watched
with add_writer. `drain()` waits while that buffer is above the high-water mark (back-pressure
for whoever sends many UPDATEs).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from collections.abc import Callable
from typing import Any

from ze import _native
from ze.core import log as zlog
from ze.core.errors import WireError

log = zlog.get_logger("ze.bgp.io")

HIGH_WATER = 1 << 20
LOW_WATER = 256 * 1024
_POOL: _native.BufferPool | None = None
FLUSHING: set[Connection] = set()  # closing once their buffered bytes are written


def pool() -> _native.BufferPool:
    """The process's receive buffer pool (made on first use)."""
    global _POOL
    if _POOL is None:
        _POOL = _native.BufferPool(256 * 1024, 8)
    return _POOL


def family_of(address: str) -> int:
    return socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET


def normalize(address: str) -> str:
    """An IPv4-mapped IPv6 address (from a dual-stack listener) as plain IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def prepare_socket(
    remote: str,
    *,
    local: str | None = None,
    md5: str | None = None,
    ttl_security: int | None = None,
) -> socket.socket:
    """A non-blocking TCP socket towards `remote`, secured and bound before connect()."""
    sock = socket.socket(family_of(remote), socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        if md5:
            _native.set_tcp_md5(sock, remote, md5)
        if ttl_security:
            _native.set_gtsm(sock, ttl_security)
        if local:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((local, 0))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


async def connect(
    remote: str,
    port: int,
    *,
    local: str | None = None,
    md5: str | None = None,
    ttl_security: int | None = None,
    timeout: float = 10.0,
) -> socket.socket:
    """Connect out; OSError (or TimeoutError) when the connection cannot be made."""
    sock = prepare_socket(remote, local=local, md5=md5, ttl_security=ttl_security)
    try:
        async with asyncio.timeout(timeout):
            await asyncio.get_running_loop().sock_connect(sock, (remote, port))
    except BaseException:
        sock.close()
        raise
    return sock


class Connection:
    """One connected socket: `on_frames(data, frames)` gets each read's whole messages (data is a
    bytes object, frames flat (offset, length, type) triples into it), `on_error(WireError)` a bad
    header, `on_close(reason)` the end (once). `extended()` says whether 65535-byte messages are
    allowed (asked before each read)."""

    def __init__(
        self,
        sock: socket.socket,
        on_frames: Callable[[bytes, list[int]], None],
        on_error: Callable[[WireError], None],
        on_close: Callable[[str], None],
        extended: Callable[[], bool] = lambda: False,
        *,
        outgoing: bool,
    ) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.loop = asyncio.get_running_loop()
        self.on_frames = on_frames
        self.on_error = on_error
        self.on_close = on_close
        self.extended = extended
        self.outgoing = outgoing
        peer = sock.getpeername()
        local = sock.getsockname()
        self.remote = normalize(peer[0])
        self.remote_port = peer[1]
        self.local = normalize(local[0])
        self.local_port = local[1]
        self.closed = False
        self.bytes_in = 0
        self.bytes_out = 0
        self._buf: Any = pool().acquire()
        self._out = bytearray()
        self._writing = False
        self._paused = False
        self._drain: asyncio.Future | None = None
        self._close_after_write = False
        self.loop.add_reader(self.fd, self._readable)

    # -- reading ------------------------------------------------------------------------------

    def pause_reading(self) -> None:
        if not self._paused and not self.closed:
            self._paused = True
            self.loop.remove_reader(self.fd)

    def resume_reading(self) -> None:
        if self._paused and not self.closed:
            self._paused = False
            self.loop.add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        if self.closed:
            return
        buf = self._buf
        try:
            res = _native.read_frames(self.fd, buf, self.extended())
        except OSError as e:
            self._lost(f"read: {e.strerror or e}")
            return
        self.bytes_in += res.nread
        frames = res.frames
        if frames:
            first = frames[0]
            last = len(frames) - 3
            end = frames[last] + frames[last + 1]
            data = bytes(buf.view[first:end])
            if first:
                frames = [v - first if i % 3 == 0 else v for i, v in enumerate(frames)]
            self.on_frames(data, frames)
        if self.closed:
            return
        if res.error is not None:
            self.on_error(res.error)
            return
        if res.status == _native.EOF:
            self._lost("connection closed by the peer")

    # -- writing ------------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.closed or not data:
            return
        if self._out:
            self._out += data
            return
        try:
            n = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError as e:
            self._lost(f"write: {e.strerror or e}")
            return
        self.bytes_out += n
        if n < len(data):
            self._out += memoryview(data)[n:]
            if not self._writing:
                self._writing = True
                self.loop.add_writer(self.fd, self._writable)

    def _writable(self) -> None:
        if self.closed:
            return
        try:
            n = self.sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self._lost(f"write: {e.strerror or e}")
            return
        self.bytes_out += n
        del self._out[:n]
        if len(self._out) <= LOW_WATER and self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        if not self._out:
            self._writing = False
            self.loop.remove_writer(self.fd)
            if self._close_after_write:
                self._lost("closed")

    @property
    def buffered(self) -> int:
        return len(self._out)

    async def drain(self) -> None:
        """Wait while more than HIGH_WATER bytes wait for the kernel (back-pressure)."""
        while not self.closed and len(self._out) > HIGH_WATER:
            if self._drain is None or self._drain.done():
                self._drain = self.loop.create_future()
            await self._drain

    # -- closing ------------------------------------------------------------------------------

    def close(self, flush: bool = True) -> None:
        """Close; with flush, after what is buffered is written (a NOTIFICATION, typically).
        Flushing waits at most 2 seconds."""
        if self.closed:
            return
        if flush and self._out:
            self._close_after_write = True
            FLUSHING.add(self)
            self.pause_reading()
            self.loop.call_later(2.0, self._lost, "closed")
            return
        self._lost("closed")

    def _lost(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        FLUSHING.discard(self)
        if not self._paused:
            self.loop.remove_reader(self.fd)
        if self._writing:
            self.loop.remove_writer(self.fd)
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        try:
            self.sock.close()
        except OSError:
            pass
        pool().release(self._buf)
        self._buf = None
        self._out = bytearray()
        self.on_close(reason)


def is_refused(e: OSError) -> bool:
    return e.errno in (errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH)
