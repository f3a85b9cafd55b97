"""The compiled backend: the cffi module ze._native._zec built from csrc/ by `pip install`.

Same signatures and results as ze._native.pure (see there for the contracts). Importing this
module raises ImportError when the build is absent.
"""

from __future__ import annotations

import os
import socket
import threading

from ze._native import common
from ze._native._zec import ffi, lib
from ze._native.common import ReadResult, SocketOptionError

BACKEND = "cffi"
__all__ = ["BACKEND", "Buffer", "BufferPool", "SocketOptionError", "feed_frames", "read_frames", "walk_nlri"]


class Buffer:
    """One receive buffer from a pool: bytes [start, end) of `view` are read but not yet framed."""

    __slots__ = ("_c", "_maxout", "_out", "capacity", "view")

    def __init__(self, ptr, view: memoryview) -> None:
        self.view = view  # a slice of the pool's mapping: keeps it alive
        self.capacity = len(view)
        self._c = ffi.new("zec_buf *")
        self._c.base = ptr
        self._c.cap = self.capacity
        self._maxout = self.capacity // common.HEADER_LEN + 1
        self._out = ffi.new("uint32_t[]", 3 * self._maxout)

    @property
    def start(self) -> int:
        return self._c.start

    @property
    def end(self) -> int:
        return self._c.end

    @property
    def consumed(self) -> int:
        return self._c.consumed

    @property
    def pending(self) -> int:
        return self._c.end - self._c.start

    def reset(self) -> None:
        c = self._c
        c.start = c.end = c.consumed = 0
        c.pending_errno = 0


class BufferPool:
    """Receive buffers carved from large mappings: hugetlb pages when reserved, else anonymous
    memory advised MADV_HUGEPAGE, else plain pages. `kind` says which ("hugetlb", "thp", "plain").
    Buffers are reused: release() puts one back; the pool grows by whole chunks when empty. A
    mapping is unmapped when nothing refers to it any more (no buffer, no view)."""

    def __init__(self, buffer_size: int = 256 * 1024, count: int = 8, hugepages: bool = True) -> None:
        common.check_buffer_size(buffer_size)
        self.buffer_size = buffer_size
        self.count = count
        self.hugepages = hugepages
        self.kind = ""
        self._free: list[Buffer] = []
        self._maps: list[memoryview] = []
        self._chunk()

    def _chunk(self) -> None:
        total = common.round_up(self.buffer_size * self.count, common.hugepage_size())
        kind_p = ffi.new("int *")
        raw = lib.zec_map(total, 1 if self.hugepages else 0, kind_p)
        if raw == ffi.NULL:
            raise MemoryError(f"mmap of {total} bytes failed")
        base = ffi.gc(ffi.cast("uint8_t *", raw), lambda p, n=total: lib.zec_unmap(p, n))
        kind = common.KIND_NAMES[kind_p[0]]
        if kind == "thp" and not common.thp_enabled():
            kind = "plain"
        self.kind = kind if self.kind in ("", kind) else "mixed"
        view = memoryview(ffi.buffer(base, total))
        self._maps.append(view)
        size = self.buffer_size
        for i in range(self.count - 1, -1, -1):
            self._free.append(Buffer(base + i * size, view[i * size : (i + 1) * size]))

    def acquire(self) -> Buffer:
        if not self._free:
            self._chunk()
        return self._free.pop()

    def release(self, buf: Buffer) -> None:
        buf.reset()
        self._free.append(buf)

    @property
    def available(self) -> int:
        return len(self._free)


def _result(buffer: Buffer, n: int, extended: bool) -> ReadResult:
    c = buffer._c
    error = None
    if c.err_code:
        error = common.header_error(c.err_subcode, c.err_offset, c.err_value, c.err_type, extended)
    frames = ffi.unpack(buffer._out, 3 * n) if n else []
    return ReadResult(frames, c.status, c.nread, error)


def read_frames(fd, buffer: Buffer, extended: bool = False) -> ReadResult:
    """Read what the socket has (without blocking) into `buffer` and frame every whole message.
    A partial message stays in the buffer for the next call. Raises OSError for a socket error."""
    n = lib.zec_read_frames(
        fd if isinstance(fd, int) else fd.fileno(), buffer._c, extended, buffer._out, buffer._maxout
    )
    if n < 0:
        raise OSError(-n, f"recv: {os.strerror(-n)}")
    return _result(buffer, n, extended)


def feed_frames(buffer: Buffer, data, extended: bool = False) -> ReadResult:
    """Copy `data` into the buffer (as if read from a socket) and frame every whole message."""
    src = ffi.from_buffer(data)
    n = lib.zec_feed_frames(buffer._c, src, len(src), extended, buffer._out, buffer._maxout)
    if n < 0:
        raise ValueError(f"{len(src)} bytes do not fit ({buffer.capacity - buffer.end} free)")
    return _result(buffer, n, extended)


_local = threading.local()


def _scratch(n: int):
    s = getattr(_local, "scratch", None)
    if s is None or len(s) < n:
        s = _local.scratch = ffi.new("uint64_t[]", max(n, 16384))
        _local.err = ffi.new("zec_nlri_err *")
    return s


def walk_nlri(data, start: int, end: int, afi: int, addpath: bool, base: int = 0) -> list[int]:
    """The prefixes packed in data[start:end] as a flat list: ipv4 (afi 1) (path_id, length, value)
    triples; otherwise ipv6 (path_id, length, hi, lo) with the address split in two 64-bit halves.
    path_id is 0 without ADD-PATH. Raises WireError (UPDATE 3/10) on an overrun; `base` shifts offsets."""
    if start < 0 or end > len(data) or start > end:
        common.check_region(data, start, end)
    if start == end:
        return []
    out = _scratch(4 * (end - start))
    err = _local.err
    n = lib.zec_walk_nlri(ffi.from_buffer(data), start, end, afi != 1, addpath, out, err)
    if n < 0:
        raise common.nlri_error(err.kind, err.offset, err.plen, end, 32 if afi == 1 else 128, base)
    return ffi.unpack(out, n)


def count_nlri(data, start: int, end: int, afi: int, addpath: bool, base: int = 0) -> int:
    """How many prefixes data[start:end] packs: walk_nlri's checks, without building the list."""
    if start < 0 or end > len(data) or start > end:
        common.check_region(data, start, end)
    if start == end:
        return 0
    out = _scratch(4 * (end - start))
    err = _local.err
    n = lib.zec_walk_nlri(ffi.from_buffer(data), start, end, afi != 1, addpath, out, err)
    if n < 0:
        raise common.nlri_error(err.kind, err.offset, err.plen, end, 32 if afi == 1 else 128, base)
    return n // (3 if afi == 1 else 4)


def set_tcp_md5(
    sock, peer_address: str, key: str | bytes, prefix_len: int | None = None, ifindex: int | None = None
) -> None:
    """Install (or, with an empty key, remove) the RFC 2385 TCP-MD5 key for a peer on a listening or
    connecting socket. prefix_len / ifindex use TCP_MD5SIG_EXT. Raises SocketOptionError."""
    fd = common.fileno(sock)
    family, addr = common.peer_bytes(_family(sock), peer_address)
    k = common.key_bytes(key)
    opt = ffi.new("int *")
    r = lib.zec_tcp_md5(
        fd,
        family,
        addr,
        -1 if prefix_len is None else prefix_len,
        -1 if ifindex is None else ifindex,
        k,
        len(k),
        opt,
    )
    if r < 0:
        raise SocketOptionError(common.OPTION_NAMES[opt[0]], -r)


def set_gtsm(sock, hops: int = 1) -> None:
    """RFC 5082: send with TTL / hop limit 255 and accept only packets with TTL >= 256 - hops
    (IP_MINTTL / IPV6_MINHOPCOUNT); hops=0 turns it off. On a shared listening socket the minimum
    applies to every peer: set it per accepted connection after checking the peer, and on a
    connecting socket before connect(). Raises SocketOptionError."""
    opt = ffi.new("int *")
    r = lib.zec_gtsm(common.fileno(sock), _family(sock), hops, opt)
    if r < 0:
        raise SocketOptionError(common.OPTION_NAMES[opt[0]], -r)


def _family(sock) -> int:
    if isinstance(sock, socket.socket):
        return sock.family
    s = socket.socket(fileno=sock)
    try:
        return s.family
    finally:
        s.detach()
