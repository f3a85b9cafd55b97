"""The pure-Python twin of the C helper: same signatures, same results (tests compare the two).

Used only when the compiled module is absent, or when ZE_NATIVE=pure is set.
"""

from __future__ import annotations

import errno
import mmap
import os
import socket
import struct

from ze._native import common
from ze._native.common import AGAIN, DATA, EOF, HEADER_LEN, MAX_EXTENDED_LEN, MAX_LEN, ReadResult
from ze.core.errors import WireError

BACKEND = "pure"
_MARKER = b"\xff" * 16
_MAP_HUGETLB = getattr(mmap, "MAP_HUGETLB", 0x40000)


class Buffer:
    """One receive buffer from a pool: bytes [start, end) of `view` are read but not yet framed."""

    def __init__(self, view: memoryview) -> None:
        self.view = view
        self.capacity = len(view)
        self.start = 0
        self.end = 0
        self.consumed = 0  # stream bytes dropped before view[0]
        self._pending_errno = 0

    @property
    def pending(self) -> int:
        return self.end - self.start

    def reset(self) -> None:
        self.start = self.end = self.consumed = 0
        self._pending_errno = 0


class BufferPool:
    """Receive buffers carved from large mappings: hugetlb pages when reserved, else anonymous
    memory advised MADV_HUGEPAGE, else plain pages. `kind` says which ("hugetlb", "thp", "plain").
    Buffers are reused: release() puts one back; the pool grows by whole chunks when empty."""

    def __init__(self, buffer_size: int = 256 * 1024, count: int = 8, hugepages: bool = True) -> None:
        common.check_buffer_size(buffer_size)
        self.buffer_size = buffer_size
        self.count = count
        self.hugepages = hugepages
        self.kind = ""
        self._free: list[Buffer] = []
        self._maps: list[mmap.mmap] = []
        self._chunk()

    def _chunk(self) -> None:
        total = common.round_up(self.buffer_size * self.count, common.hugepage_size())
        mm = None
        kind = "plain"
        if self.hugepages:
            try:
                mm = mmap.mmap(
                    -1,
                    total,
                    flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _MAP_HUGETLB,
                    prot=mmap.PROT_READ | mmap.PROT_WRITE,
                )
                kind = "hugetlb"
            except OSError:
                mm = None
        if mm is None:
            mm = mmap.mmap(-1, total, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
            try:
                mm.madvise(mmap.MADV_HUGEPAGE)
                kind = "thp" if common.thp_enabled() else "plain"
            except (OSError, AttributeError):
                kind = "plain"
        if not self.kind or self.kind == kind:
            self.kind = kind
        else:
            self.kind = "mixed"
        self._maps.append(mm)
        view = memoryview(mm)
        for i in range(self.count - 1, -1, -1):
            self._free.append(Buffer(view[i * self.buffer_size : (i + 1) * self.buffer_size]))

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


def _make_room(b: Buffer, extended: bool) -> None:
    if b.start == b.end:
        b.consumed += b.start
        b.start = b.end = 0
        return
    limit = MAX_EXTENDED_LEN if extended else MAX_LEN
    if b.start > 0 and (b.capacity - b.end < b.capacity // 4 or b.capacity - b.start < limit):
        n = b.end - b.start
        b.view[:n] = b.view[b.start : b.end]
        b.consumed += b.start
        b.start, b.end = 0, n


def _frame(b: Buffer, extended: bool) -> tuple[list[int], WireError | None]:
    view = b.view
    pos, end = b.start, b.end
    out: list[int] = []
    error = None
    while end - pos >= HEADER_LEN:
        if view[pos : pos + 16] != _MARKER:
            error = common.header_error(1, b.consumed + pos, 0, 0, extended)
            break
        length = (view[pos + 16] << 8) | view[pos + 17]
        mtype = view[pos + 18]
        if not 1 <= mtype <= 5:
            error = common.header_error(3, b.consumed + pos + 18, mtype, mtype, extended)
            break
        limit = MAX_EXTENDED_LEN if extended and mtype not in (1, 4) else MAX_LEN
        if length < common.MIN_LEN[mtype] or length > limit or (mtype == 4 and length != HEADER_LEN):
            error = common.header_error(2, b.consumed + pos + 16, length, mtype, extended)
            break
        if end - pos < length:
            break
        out += (pos, length, mtype)
        pos += length
    b.start = pos
    return out, error


def read_frames(fd, buffer: Buffer, extended: bool = False) -> ReadResult:
    """Read what the socket has (without blocking) into `buffer` and frame every whole message.
    A partial message stays in the buffer for the next call. Raises OSError for a socket error."""
    if buffer._pending_errno:
        err, buffer._pending_errno = buffer._pending_errno, 0
        raise OSError(err, f"recv: {os.strerror(err)}")
    _make_room(buffer, extended)
    # a fresh object over the same fd: recv_into on a socket object with a timeout would poll first
    sock = socket.socket(fileno=common.fileno(fd))
    nread = 0
    status = DATA
    try:
        while True:
            room = buffer.capacity - buffer.end
            if room == 0:
                break
            try:
                r = sock.recv_into(buffer.view[buffer.end :], room, socket.MSG_DONTWAIT)
            except InterruptedError:
                continue
            except BlockingIOError:
                if nread == 0:
                    status = AGAIN
                break
            except OSError as e:
                if nread == 0:
                    raise
                buffer._pending_errno = e.errno or 0
                break
            if r == 0:
                status = EOF
                break
            buffer.end += r
            nread += r
            if r < room:
                break
    finally:
        sock.detach()
    frames, error = _frame(buffer, extended)
    return ReadResult(frames, status, nread, error)


def feed_frames(buffer: Buffer, data, extended: bool = False) -> ReadResult:
    """Copy `data` into the buffer (as if read from a socket) and frame every whole message."""
    _make_room(buffer, extended)
    n = len(data)
    if n > buffer.capacity - buffer.end:
        raise ValueError(f"{n} bytes do not fit ({buffer.capacity - buffer.end} free)")
    buffer.view[buffer.end : buffer.end + n] = data
    buffer.end += n
    frames, error = _frame(buffer, extended)
    return ReadResult(frames, DATA if n else AGAIN, n, error)


def count_nlri(data, start: int, end: int, afi: int, addpath: bool, base: int = 0) -> int:
    """How many prefixes data[start:end] packs (walk_nlri's checks and errors)."""
    return len(walk_nlri(data, start, end, afi, addpath, base)) // (3 if afi == 1 else 4)


def walk_nlri(data, start: int, end: int, afi: int, addpath: bool, base: int = 0) -> list[int]:
    """The prefixes packed in data[start:end] as a flat list: ipv4 (afi 1) (path_id, length, value)
    triples; otherwise ipv6 (path_id, length, hi, lo) with the address split in two 64-bit halves.
    path_id is 0 without ADD-PATH. Raises WireError (UPDATE 3/10) on an overrun; `base` shifts offsets."""
    common.check_region(data, start, end)
    v4 = afi == 1
    width = 32 if v4 else 128
    out: list[int] = []
    pos = start
    while pos < end:
        path_id = 0
        if addpath:
            if pos + 4 > end:
                raise common.nlri_error(common.PATHID_OVERRUN, pos, 0, end, width, base)
            path_id = int.from_bytes(data[pos : pos + 4], "big")
            pos += 4
            if pos >= end:
                raise common.nlri_error(common.END_AFTER_PATHID, pos, 0, end, width, base)
        plen = data[pos]
        if plen > width:
            raise common.nlri_error(common.BAD_LENGTH, pos, plen, end, width, base)
        nbytes = (plen + 7) >> 3
        if pos + 1 + nbytes > end:
            raise common.nlri_error(common.OVERRUN, pos, plen, end, width, base)
        value = int.from_bytes(data[pos + 1 : pos + 1 + nbytes], "big") << (width - (nbytes << 3))
        value &= ((1 << plen) - 1) << (width - plen)
        if v4:
            out += (path_id, plen, value)
        else:
            out += (path_id, plen, value >> 64, value & 0xFFFFFFFFFFFFFFFF)
        pos += 1 + nbytes
    return out


def set_tcp_md5(
    sock, peer_address: str, key: str | bytes, prefix_len: int | None = None, ifindex: int | None = None
) -> None:
    """Install (or, with an empty key, remove) the RFC 2385 TCP-MD5 key for a peer on a listening or
    connecting socket. prefix_len / ifindex use TCP_MD5SIG_EXT. Raises SocketOptionError."""
    fam = _family(sock)
    family, addr = common.peer_bytes(fam, peer_address)
    k = common.key_bytes(key)
    flags = 0
    if prefix_len is not None:
        flags |= common.TCP_MD5SIG_FLAG_PREFIX
    if ifindex is not None:
        flags |= common.TCP_MD5SIG_FLAG_IFINDEX
    if family == socket.AF_INET:
        sa = struct.pack("=H2x4s", family, addr)
    else:
        sa = struct.pack("=H6x16s", family, addr)
    sa = sa.ljust(128, b"\0")
    sig = sa + struct.pack("=BBHi", flags, prefix_len or 0, len(k), ifindex or 0) + k.ljust(80, b"\0")
    opt = common.TCP_MD5SIG_EXT if flags else common.TCP_MD5SIG
    name = "TCP_MD5SIG_EXT" if flags else "TCP_MD5SIG"
    _setsockopt(sock, socket.IPPROTO_TCP, opt, sig, name)


def set_gtsm(sock, hops: int = 1) -> None:
    """RFC 5082: send with TTL / hop limit 255 and accept only packets with TTL >= 256 - hops
    (IP_MINTTL / IPV6_MINHOPCOUNT); hops=0 turns it off. On a shared listening socket the minimum
    applies to every peer: set it per accepted connection after checking the peer, and on a
    connecting socket before connect(). Raises SocketOptionError."""
    if not 0 <= hops <= 255:
        raise SocketOptionError("IP_MINTTL", errno.EINVAL)
    ttl = 255 if hops else -1
    low = 256 - hops if hops else 0
    if _family(sock) == socket.AF_INET6:
        _setsockopt(sock, socket.IPPROTO_IPV6, common.IPV6_UNICAST_HOPS, ttl, "IPV6_UNICAST_HOPS")
        _setsockopt(sock, socket.IPPROTO_IPV6, common.IPV6_MINHOPCOUNT, low, "IPV6_MINHOPCOUNT")
    _setsockopt(sock, socket.IPPROTO_IP, socket.IP_TTL, ttl, "IP_TTL")
    _setsockopt(sock, socket.IPPROTO_IP, common.IP_MINTTL, low, "IP_MINTTL")


SocketOptionError = common.SocketOptionError


def _family(sock) -> int:
    if isinstance(sock, socket.socket):
        return sock.family
    s = socket.socket(fileno=sock)
    try:
        return s.family
    finally:
        s.detach()


def _setsockopt(sock, level: int, opt: int, value, name: str) -> None:
    s = sock if isinstance(sock, socket.socket) else socket.socket(fileno=sock)
    try:
        s.setsockopt(level, opt, value)
    except OSError as e:
        raise SocketOptionError(name, e.errno or 0) from None
    finally:
        if s is not sock:
            s.detach()
