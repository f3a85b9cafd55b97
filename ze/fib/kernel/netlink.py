"""Raw rtnetlink for the bulk work: batched route writes, nexthop objects, filtered dumps, the monitor
socket.

Why raw and not pyroute2 here: a route is one `struct.pack_into` into a preallocated buffer and a
few thousand of them go out in one sendmsg; pyroute2 builds a message object per route (about
2,000 routes/s one by one, its batch mode spends ~40 s encoding 100k). pyroute2 0.9 also has no
nexthop-object API. What pyroute2 does in this feature: links (name <-> index, VRF tables) and
next-hop resolution (`route get`), see ze.fib.kernel.resolve.

Everything here is synchronous and bounded: a write sends, then reads whatever errors the kernel
queued (rtnetlink handles a sendmsg's messages before the call returns, so the errors of a chunk are
in the socket when sendmsg returns); no ACK per success unless asked.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import socket
import struct
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# message types
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
RTM_NEWNEXTHOP, RTM_DELNEXTHOP, RTM_GETNEXTHOP = 104, 105, 106
NLMSG_ERROR, NLMSG_DONE = 2, 3
# flags
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 1, 2, 4
NLM_F_DUMP = 0x300
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 0x100, 0x200, 0x400
NLM_F_ACK_TLVS = 0x200
NLM_F_CAPPED = 0x100
# socket options
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK = 10, 11, 12
SO_SNDBUFFORCE, SO_RCVBUFFORCE, SO_ATTACH_FILTER = 32, 33, 26
# route attributes
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_TABLE, RTA_NH_ID = 1, 4, 5, 6, 15, 30
# nexthop attributes
NHA_ID, NHA_GROUP, NHA_GROUP_TYPE, NHA_BLACKHOLE, NHA_OIF, NHA_GATEWAY = 1, 2, 3, 4, 5, 6
NLMSGERR_ATTR_MSG = 1
# multicast groups
RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_NEXTHOP = 7, 11, 32
RT_TABLE_COMPAT, RT_TABLE_MAIN = 252, 254
RTN_UNICAST = 1

_HDR = struct.Struct("=IHHII")
_RTMSG = struct.Struct("=BBBBBBBBI")
_NHMSG = struct.Struct("=BBBBI")
_RTA = struct.Struct("=HH")
_U32 = struct.Struct("=I")
_I32 = struct.Struct("=i")
CHUNK = 256 << 10  # bytes per sendmsg
BUFSIZE = 32 << 20  # socket buffers (forced when we are root)

# route messages, all fields in one pack: nlmsghdr rtmsg RTA_DST RTA_TABLE [RTA_PRIORITY] [RTA_NH_ID]
_V4_NEW = struct.Struct("=IHHII BBBBBBBBI HHI HHI HHI")  # 52 bytes, dst as a native int of the BE bytes
_V4_NEW_M = struct.Struct("=IHHII BBBBBBBBI HHI HHI HHI HHI")  # 60, with RTA_PRIORITY
_V4_DEL = struct.Struct("=IHHII BBBBBBBBI HHI HHI")  # 44
_V6_NEW = struct.Struct("=IHHII BBBBBBBBI HH16s HHI HHI")  # 64
_V6_NEW_M = struct.Struct("=IHHII BBBBBBBBI HH16s HHI HHI HHI")  # 72
_V6_DEL = struct.Struct("=IHHII BBBBBBBBI HH16s HHI")  # 56


class NetlinkError(OSError):
    pass


def route_key(afi: int, value: int, length: int) -> int:
    """One int per route: the network number (host bits dropped) in the low bits, so a dict of a
    million /24s hashes well (value << 8 | length would leave the low 16 bits constant), and the
    length above the address width (an IPv4 key stays a small int)."""
    w = 32 if afi == 1 else 128
    return (length << w) | (value >> (w - length))


def split_key(afi: int, key: int) -> tuple[int, int]:
    """(value, length) of a route_key()."""
    w = 32 if afi == 1 else 128
    length = key >> w
    return (key & ((1 << w) - 1)) << (w - length), length


# --- network namespaces ---------------------------------------------------------------------------
_libc = None


def _setns(fd: int) -> None:
    global _libc
    if hasattr(os, "setns"):
        os.setns(fd, 0x40000000)  # CLONE_NEWNET
        return
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if _libc.setns(fd, 0x40000000) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns: {os.strerror(e)}")


@contextmanager
def in_netns(name: str | None) -> Iterator[None]:
    """Run the body (in this thread) inside network namespace `name` (ip netns); sockets made there
    stay there. None: no change."""
    if not name:
        yield
        return
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(own)
    finally:
        os.close(own)


def open_socket(
    netns: str | None = None, *, groups: Sequence[int] = (), bufsize: int = BUFSIZE
) -> socket.socket:
    """A NETLINK_ROUTE socket with big buffers, capped + extended acks and strict dump checks."""
    with in_netns(netns):
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE)
    for opt, force in ((socket.SO_SNDBUF, SO_SNDBUFFORCE), (socket.SO_RCVBUF, SO_RCVBUFFORCE)):
        try:
            s.setsockopt(socket.SOL_SOCKET, force, bufsize)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, opt, bufsize)
    for opt in (NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK):
        try:
            s.setsockopt(SOL_NETLINK, opt, 1)
        except OSError:
            pass  # old kernels: plain acks, unfiltered dumps (filtered again here)
    s.bind((0, 0))
    for g in groups:
        s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g)
    return s


def drop_from_portid(sock: socket.socket, portid: int) -> None:
    """Attach a classic BPF filter: drop notifications whose nlmsg_pid is `portid` (the echoes of our
    own writes, which would otherwise be a million messages to read during a full table)."""
    be = int.from_bytes(_U32.pack(portid), "big")  # BPF_ABS loads are big-endian
    prog = [
        (0x20, 0, 0, 12),  # ld [12]        nlmsg_pid
        (0x15, 0, 1, be),  # jeq #pid ? next : skip 1
        (0x06, 0, 0, 0),  # ret #0          drop
        (0x06, 0, 0, 0xFFFFFFFF),  # ret #-1    keep
    ]
    raw = b"".join(struct.pack("=HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw)
    fprog = struct.pack("=HxxxxxxQ", len(prog), ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


# --- parsing ----------------------------------------------------------------------------------------
def attrs(data: bytes | memoryview, off: int, end: int) -> dict[int, memoryview]:
    out: dict[int, memoryview] = {}
    mv = memoryview(data)
    while off + 4 <= end:
        ln, ty = _RTA.unpack_from(data, off)
        if ln < 4:
            break
        out[ty & 0x7FFF] = mv[off + 4 : off + ln]
        off += (ln + 3) & ~3
    return out


def messages(data: bytes) -> Iterator[tuple[int, int, int, int, int, int]]:
    """(type, flags, seq, pid, payload offset, end) for each message in a datagram."""
    off, n = 0, len(data)
    while off + 16 <= n:
        ln, ty, fl, seq, pid = _HDR.unpack_from(data, off)
        if ln < 16:
            break
        yield ty, fl, seq, pid, off + 16, off + ln
        off += (ln + 3) & ~3


def parse_error(data: bytes, off: int, end: int, flags: int) -> tuple[int, int, str]:
    """An NLMSG_ERROR: (errno, seq of the request, extended-ack message)."""
    err = -_I32.unpack_from(data, off)[0]
    seq = _HDR.unpack_from(data, off + 4)[3]
    msg = ""
    if flags & NLM_F_ACK_TLVS:
        olen = _HDR.unpack_from(data, off + 4)[0]
        start = off + 4 + (16 if flags & NLM_F_CAPPED else ((olen + 3) & ~3))
        a = attrs(data, start, end)
        if NLMSGERR_ATTR_MSG in a:
            msg = bytes(a[NLMSGERR_ATTR_MSG]).rstrip(b"\0").decode(errors="replace")
    return err, seq, msg


# --- results ----------------------------------------------------------------------------------------
@dataclass(slots=True)
class Result:
    sent: int = 0
    errors: list[tuple[int, int, str]] = field(default_factory=list)  # (index in the request, errno, msg)
    lost: bool = False  # ENOBUFS on our socket: some errors were not seen; the caller resyncs

    @property
    def ok(self) -> int:
        return self.sent - len(self.errors)


class Writer:
    """Bulk route writes and nexthop objects into one table, over one socket."""

    def __init__(
        self,
        netns: str | None = None,
        *,
        table: int = RT_TABLE_MAIN,
        protocol: int = 186,
        metric: int | None = None,
        chunk: int = CHUNK,
        ack: bool = False,
    ) -> None:
        self.sock = open_socket(netns)
        self.portid = self.sock.getsockname()[0]
        self.table = table
        self.protocol = protocol
        self.metric = metric
        self.chunk = chunk
        self.ack = ack  # ask an ACK for every message (the reference behaviour); default: errors only
        self.buf = bytearray(chunk + 4096)
        self.seq = 0
        self.sendmsgs = 0

    def close(self) -> None:
        self.sock.close()

    # the pump: send buf[:off], read errors (and acks) for seq range
    def _flush(self, off: int, count: int, first_seq: int, base: int, res: Result) -> None:
        if not off:
            return
        self.sock.send(memoryview(self.buf)[:off])
        self.sendmsgs += 1
        self._read(count if self.ack else 0, first_seq, base, res)

    def _read(self, expect: int, first_seq: int, base: int, res: Result) -> None:
        """Read queued replies: block until `expect` acks arrived, then drain without blocking."""
        got = 0
        while True:
            try:
                data = self.sock.recv(1 << 20, 0 if got < expect else socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno == errno.ENOBUFS:
                    res.lost = True
                    continue
                raise
            for ty, fl, _seq, _pid, off, end in messages(data):
                if ty != NLMSG_ERROR:
                    continue
                err, seq, msg = parse_error(data, off, end, fl)
                got += 1
                if err:
                    res.errors.append((seq - first_seq + base, err, msg))

    def _next_seq(self, n: int) -> int:
        s = self.seq + 1
        self.seq = (self.seq + n) & 0x7FFFFFFF
        if self.seq < s:  # wrapped: restart the numbering for this request
            s, self.seq = 1, n
        return s

    def _flags(self, base: int) -> int:
        return base | NLM_F_REQUEST | (NLM_F_ACK if self.ack else 0)

    def replace_routes(self, afi: int, prefixes: Sequence[Any], nhids: Sequence[int]) -> Result:
        """RTM_NEWROUTE with NLM_F_REPLACE for each prefix (a Prefix or any (afi, length, value,
        path id) tuple) through the nexthop id beside it; error indexes point into `prefixes`."""
        items = prefixes
        res = Result(sent=len(items))
        if not items:
            return res
        first = self._next_seq(len(items))
        flags = self._flags(NLM_F_CREATE | NLM_F_REPLACE)
        tbl8 = self.table if self.table < 256 else RT_TABLE_COMPAT
        pid, proto, table, metric = 0, self.protocol, self.table, self.metric
        buf, limit = self.buf, self.chunk
        pack = None
        if afi == 1:
            fam = socket.AF_INET
            htonl = socket.htonl
            if metric is None:
                pack, size = _V4_NEW.pack_into, _V4_NEW.size
            else:
                pack, size = _V4_NEW_M.pack_into, _V4_NEW_M.size
        else:
            fam = socket.AF_INET6
            if metric is None:
                pack, size = _V6_NEW.pack_into, _V6_NEW.size
            else:
                pack, size = _V6_NEW_M.pack_into, _V6_NEW_M.size
        off = count = 0
        seq = first
        start_idx = 0
        if afi == 1 and metric is None:  # the common case, without a branch per route
            for i, ((_a, length, value, _p), nhid) in enumerate(zip(items, nhids)):
                pack(buf, off, size, RTM_NEWROUTE, flags, first + i, 0, fam, length, 0, 0, tbl8, proto, 0,
                     RTN_UNICAST, 0, 8, RTA_DST, htonl(value), 8, RTA_TABLE, table, 8, RTA_NH_ID, nhid)  # fmt: skip
                off += size
                if off >= limit:
                    self._flush(off, i + 1 - start_idx, first + start_idx, start_idx, res)
                    start_idx, off = i + 1, 0
            self._flush(off, len(items) - start_idx, first + start_idx, start_idx, res)
            return res
        for i, ((_a, length, value, _p), nhid) in enumerate(zip(items, nhids)):
            if afi == 1:
                dst = htonl(value)
                if metric is None:
                    pack(buf, off, size, RTM_NEWROUTE, flags, seq, pid, fam, length, 0, 0, tbl8, proto, 0,
                         RTN_UNICAST, 0, 8, RTA_DST, dst, 8, RTA_TABLE, table, 8, RTA_NH_ID, nhid)  # fmt: skip
                else:
                    pack(buf, off, size, RTM_NEWROUTE, flags, seq, pid, fam, length, 0, 0, tbl8, proto, 0,
                         RTN_UNICAST, 0, 8, RTA_DST, dst, 8, RTA_TABLE, table, 8, RTA_PRIORITY, metric,
                         8, RTA_NH_ID, nhid)  # fmt: skip
            else:
                dst = value.to_bytes(16, "big")
                if metric is None:
                    pack(buf, off, size, RTM_NEWROUTE, flags, seq, pid, fam, length, 0, 0, tbl8, proto, 0,
                         RTN_UNICAST, 0, 20, RTA_DST, dst, 8, RTA_TABLE, table, 8, RTA_NH_ID, nhid)  # fmt: skip
                else:
                    pack(buf, off, size, RTM_NEWROUTE, flags, seq, pid, fam, length, 0, 0, tbl8, proto, 0,
                         RTN_UNICAST, 0, 20, RTA_DST, dst, 8, RTA_TABLE, table, 8, RTA_PRIORITY, metric,
                         8, RTA_NH_ID, nhid)  # fmt: skip
            off += size
            count += 1
            seq += 1
            if off >= limit:
                self._flush(off, count, first + start_idx, start_idx, res)
                start_idx, off, count = i + 1, 0, 0
        self._flush(off, count, first + start_idx, start_idx, res)
        return res

    def delete_routes(self, afi: int, keys: Sequence[int]) -> Result:
        """RTM_DELROUTE of our protocol for each route_key(), in the order given
        (callers sort descending: ascending IPv4 deletes from a non-main table are ~20x slower)."""
        items = keys
        res = Result(sent=len(items))
        if not items:
            return res
        first = self._next_seq(len(items))
        flags = self._flags(0)
        tbl8 = self.table if self.table < 256 else RT_TABLE_COMPAT
        proto, table = self.protocol, self.table
        buf, limit = self.buf, self.chunk
        if afi == 1:
            fam, pack, size, htonl = socket.AF_INET, _V4_DEL.pack_into, _V4_DEL.size, socket.htonl
        else:
            fam, pack, size = socket.AF_INET6, _V6_DEL.pack_into, _V6_DEL.size
        width = 32 if afi == 1 else 128
        mask = (1 << width) - 1
        off = count = start_idx = 0
        seq = first
        for i, k in enumerate(items):
            length = k >> width
            value = (k & mask) << (width - length)
            if afi == 1:
                pack(buf, off, size, RTM_DELROUTE, flags, seq, 0, fam, length, 0, 0, tbl8, proto, 0, RTN_UNICAST,
                     0, 8, RTA_DST, htonl(value), 8, RTA_TABLE, table)  # fmt: skip
            else:
                pack(buf, off, size, RTM_DELROUTE, flags, seq, 0, fam, length, 0, 0, tbl8, proto, 0, RTN_UNICAST,
                     0, 20, RTA_DST, value.to_bytes(16, "big"), 8, RTA_TABLE, table)  # fmt: skip
            off += size
            count += 1
            seq += 1
            if off >= limit:
                self._flush(off, count, first + start_idx, start_idx, res)
                start_idx, off, count = i + 1, 0, 0
        self._flush(off, count, first + start_idx, start_idx, res)
        return res

    # --- small requests (nexthop objects): always acked, one result per message --------------------
    def request(self, msgs: Sequence[tuple[int, int, bytes]]) -> Result:
        """Send (type, flags, payload) messages in one sendmsg, each acked; Result.errors per index."""
        res = Result(sent=len(msgs))
        if not msgs:
            return res
        first = self._next_seq(len(msgs))
        out = bytearray()
        for i, (ty, fl, payload) in enumerate(msgs):
            out += _HDR.pack(16 + len(payload), ty, fl | NLM_F_REQUEST | NLM_F_ACK, first + i, 0) + payload
            out += b"\0" * (-len(out) % 4)
        self.sock.send(out)
        self.sendmsgs += 1
        self._read(len(msgs), first, 0, res)
        return res

    def route_get(self, afi: int, address: bytes) -> tuple[int, bytes | None, int | None]:
        """The kernel's route lookup for one address (`ip route get`): (route type, gateway or None,
        outgoing interface or None). One small round trip; pyroute2's costs ~1.5 ms of CPU, which a
        full table's ~3,800 next hops turn into seconds. Raises NetlinkError."""
        seq = self._next_seq(1)
        family = socket.AF_INET if afi == 1 else socket.AF_INET6
        payload = _RTMSG.pack(family, len(address) * 8, 0, 0, 0, 0, 0, 0, 0)
        payload += _RTA.pack(4 + len(address), RTA_DST) + address
        self.sock.send(_HDR.pack(16 + len(payload), RTM_GETROUTE, NLM_F_REQUEST, seq, 0) + payload)
        for _ in range(64):  # bounded: stray replies of earlier requests are skipped
            data = self.sock.recv(1 << 16)
            for mty, fl, mseq, _pid, off, end in messages(data):
                if mseq != seq:
                    continue
                if mty == NLMSG_ERROR:
                    err, _, msg = parse_error(data, off, end, fl)
                    raise NetlinkError(err, f"route get: {os.strerror(err)} {msg}".strip())
                rtype = _RTMSG.unpack_from(data, off)[7]
                a = attrs(data, off + _RTMSG.size, end)
                gw = bytes(a[RTA_GATEWAY]) if RTA_GATEWAY in a else None
                oif = _U32.unpack_from(a[RTA_OIF])[0] if RTA_OIF in a else None
                return rtype, gw, oif
        raise NetlinkError(0, "route get: no reply")

    def dump(self, ty: int, payload: bytes) -> Iterator[tuple[int, bytes, int, int]]:
        """A dump request; yields (type, datagram, payload offset, end) per message."""
        seq = self._next_seq(1)
        self.sock.send(_HDR.pack(16 + len(payload), ty, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + payload)
        while True:
            data = self.sock.recv(1 << 20)
            for mty, fl, mseq, _pid, off, end in messages(data):
                if mseq != seq:
                    continue
                if mty == NLMSG_DONE:
                    return
                if mty == NLMSG_ERROR:
                    err, _, msg = parse_error(data, off, end, fl)
                    if err:
                        raise NetlinkError(err, f"dump: {os.strerror(err)} {msg}".strip())
                    return
                yield mty, data, off, end


# --- message bodies -----------------------------------------------------------------------------
def nh_single(nhid: int, afi: int, gateway: bytes, oif: int, protocol: int) -> bytes:
    fam = socket.AF_INET if afi == 1 else socket.AF_INET6
    out = _NHMSG.pack(fam, 0, protocol, 0, 0)
    out += _RTA.pack(8, NHA_ID) + _U32.pack(nhid)
    out += _RTA.pack(4 + len(gateway), NHA_GATEWAY) + gateway
    out += _RTA.pack(8, NHA_OIF) + _U32.pack(oif)
    return out


def nh_group(nhid: int, members: Iterable[int], protocol: int) -> bytes:
    grp = b"".join(struct.pack("=IBBH", m, 0, 0, 0) for m in members)
    out = _NHMSG.pack(socket.AF_UNSPEC, 0, protocol, 0, 0)
    out += _RTA.pack(8, NHA_ID) + _U32.pack(nhid)
    out += _RTA.pack(4 + len(grp), NHA_GROUP) + grp
    return out


def nh_id_only(nhid: int) -> bytes:
    return _NHMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + _RTA.pack(8, NHA_ID) + _U32.pack(nhid)


@dataclass(frozen=True, slots=True)
class NexthopEntry:
    id: int
    family: int  # AF_INET / AF_INET6 / AF_UNSPEC (group)
    protocol: int
    gateway: bytes = b""
    oif: int = 0
    group: tuple[int, ...] = ()
    blackhole: bool = False


def dump_nexthops(w: Writer) -> list[NexthopEntry]:
    out = []
    for _ty, data, off, end in w.dump(RTM_GETNEXTHOP, _NHMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)):
        fam, _scope, proto, _r, _fl = _NHMSG.unpack_from(data, off)
        a = attrs(data, off + _NHMSG.size, end)
        if NHA_ID not in a:
            continue
        grp: tuple[int, ...] = ()
        if NHA_GROUP in a:
            g = bytes(a[NHA_GROUP])
            grp = tuple(_U32.unpack_from(g, i)[0] for i in range(0, len(g), 8))
        out.append(
            NexthopEntry(
                id=_U32.unpack_from(a[NHA_ID])[0],
                family=fam,
                protocol=proto,
                gateway=bytes(a.get(NHA_GATEWAY, b"")),
                oif=_U32.unpack_from(a[NHA_OIF])[0] if NHA_OIF in a else 0,
                group=grp,
                blackhole=NHA_BLACKHOLE in a,
            )
        )
    return out


def dump_routes(w: Writer, afi: int, protocol: int | None = None) -> Iterator[tuple[int, int, int, int]]:
    """(value, length, nexthop id or 0, protocol) of the unicast routes in w.table, filtered in the
    kernel (strict checking) by table and protocol, and filtered again here."""
    fam = socket.AF_INET if afi == 1 else socket.AF_INET6
    tbl8 = w.table if w.table < 256 else RT_TABLE_COMPAT
    proto = protocol or 0
    req = _RTMSG.pack(fam, 0, 0, 0, tbl8, proto, 0, 0, 0) + _RTA.pack(8, RTA_TABLE) + _U32.pack(w.table)
    width = 4 if afi == 1 else 16
    unpack_rt = _RTMSG.unpack_from
    for _ty, data, off, end in w.dump(RTM_GETROUTE, req):
        rfam, dlen, _sl, _tos, tb, rproto, _sc, rtype, _fl = unpack_rt(data, off)
        if rfam != fam or rtype != RTN_UNICAST or (protocol is not None and rproto != protocol):
            continue
        # walk the attributes by hand (this runs a million times for a full table)
        p = off + 12
        value = nhid = 0
        table = tb
        while p + 4 <= end:
            ln, at = _RTA.unpack_from(data, p)
            if ln < 4:
                break
            if at == RTA_DST:
                value = int.from_bytes(data[p + 4 : p + 4 + width], "big")
            elif at == RTA_TABLE:
                table = _U32.unpack_from(data, p + 4)[0]
            elif at == RTA_NH_ID:
                nhid = _U32.unpack_from(data, p + 4)[0]
            p += (ln + 3) & ~3
        if table != w.table:
            continue
        yield value, dlen, nhid, rproto


def count_routes(w: Writer, afi: int, protocol: int | None = None) -> int:
    return sum(1 for _ in dump_routes(w, afi, protocol))


@dataclass(frozen=True, slots=True)
class RouteEvent:
    """A monitor notification about a route: type RTM_NEWROUTE / RTM_DELROUTE."""

    type: int
    afi: int
    value: int
    length: int
    table: int
    protocol: int
    nhid: int


def parse_route_events(data: bytes) -> Iterator[RouteEvent | tuple[int, int]]:
    """Route events, and (type, nexthop id) for nexthop events, from a monitor datagram."""
    for ty, _fl, _seq, _pid, off, end in messages(data):
        if ty in (RTM_NEWROUTE, RTM_DELROUTE):
            fam, dlen, _sl, _tos, tb, proto, _sc, rtype, _f = _RTMSG.unpack_from(data, off)
            if rtype != RTN_UNICAST or fam not in (socket.AF_INET, socket.AF_INET6):
                continue
            a = attrs(data, off + 12, end)
            afi = 1 if fam == socket.AF_INET else 2
            value = int.from_bytes(bytes(a[RTA_DST]), "big") if RTA_DST in a else 0
            table = _U32.unpack_from(a[RTA_TABLE])[0] if RTA_TABLE in a else tb
            nhid = _U32.unpack_from(a[RTA_NH_ID])[0] if RTA_NH_ID in a else 0
            yield RouteEvent(ty, afi, value, dlen, table, proto, nhid)
        elif ty in (RTM_NEWNEXTHOP, RTM_DELNEXTHOP):
            a = attrs(data, off + _NHMSG.size, end)
            if NHA_ID in a:
                yield ty, _U32.unpack_from(a[NHA_ID])[0]
