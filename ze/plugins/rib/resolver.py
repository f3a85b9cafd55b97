"""Next-hop resolvers: the IGP cost to a BGP next hop (RFC 4271 9.1.2 a and 9.1.2.2 e).

A resolver is `cost(next_hop) -> int | None`: None when the next hop is unreachable (the route
is then not a candidate), else the metric of the route the kernel would use. `changed()`
tells which cached next hops moved since the last call, so the RIB re-runs selection for them.

- StaticResolver: a table given by the caller (tests, or no kernel): every next hop costs
  `default` unless listed; `set()` changes one and records it as changed.
- KernelResolver: asks the kernel over raw rtnetlink, as `ip route get fibmatch ADDRESS` does
  (RTM_GETROUTE with RTM_F_FIB_MATCH, so the answer is the matching FIB entry and carries its
  metric), caches the answers, and listens to the route multicast groups: `fileno()` can be
  added to an event loop, `changed()` drains the notifications and re-resolves the cache.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct

_NLMSG = struct.Struct("=IHHII")
_RTMSG = struct.Struct("=BBBBBBBBI")
_RTA = struct.Struct("=HH")
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
NLM_F_REQUEST = 1
RTM_F_FIB_MATCH = 0x2000
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_TABLE = 1, 4, 5, 6, 15
RTN_UNICAST, RTN_LOCAL, RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT = 1, 2, 6, 7, 8
RTMGRP_IPV4_ROUTE, RTMGRP_IPV6_ROUTE = 0x40, 0x400
_UNUSABLE = frozenset({RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT})


class StaticResolver:
    """Costs from a table; unlisted next hops cost `default` (None: unlisted ones are unreachable)."""

    def __init__(self, costs: dict[str, int | None] | None = None, default: int | None = 0) -> None:
        self.costs: dict[str, int | None] = dict(costs or {})
        self.default = default
        self._changed: set[str] = set()

    def cost(self, next_hop: str) -> int | None:
        return self.costs.get(next_hop, self.default)

    def set(self, next_hop: str, cost: int | None) -> None:
        if self.cost(next_hop) != cost:
            self._changed.add(next_hop)
        self.costs[next_hop] = cost

    def changed(self) -> set[str]:
        out, self._changed = self._changed, set()
        return out

    def fileno(self) -> int | None:
        return None

    def close(self) -> None:
        pass


def _align(n: int) -> int:
    return (n + 3) & ~3


def _attrs(data: bytes, pos: int, end: int) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    while pos + 4 <= end:
        alen, atype = _RTA.unpack_from(data, pos)
        if alen < 4:
            break
        out[atype & 0x3FFF] = data[pos + 4 : pos + alen]
        pos += _align(alen)
    return out


class KernelResolver:
    """IGP cost from the kernel's FIB (the route's metric), re-evaluated on route changes."""

    def __init__(self, table: int | None = None, monitor: bool = True) -> None:
        self.table = table  # restrict to one table (None: whatever the lookup finds)
        self._seq = 0
        self.cache: dict[str, int | None] = {}
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self.monitor: socket.socket | None = None
        if monitor:
            self.monitor = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
            self.monitor.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            self.monitor.bind((0, RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE))
            self.monitor.setblocking(False)

    def close(self) -> None:
        self.sock.close()
        if self.monitor is not None:
            self.monitor.close()

    def fileno(self) -> int | None:
        return self.monitor.fileno() if self.monitor is not None else None

    def cost(self, next_hop: str) -> int | None:
        try:
            return self.cache[next_hop]
        except KeyError:
            pass
        c = self.lookup(next_hop)
        self.cache[next_hop] = c
        return c

    def lookup(self, next_hop: str) -> int | None:
        """One RTM_GETROUTE (fibmatch): the metric of the route to `next_hop`, None if unreachable."""
        try:
            addr = ipaddress.ip_address(next_hop)
        except ValueError:
            return None
        fam = socket.AF_INET if addr.version == 4 else socket.AF_INET6
        packed = addr.packed
        self._seq += 1
        body = _RTMSG.pack(fam, len(packed) * 8, 0, 0, 0, 0, 0, 0, RTM_F_FIB_MATCH)
        rta = _RTA.pack(4 + len(packed), RTA_DST) + packed
        msg = body + rta
        hdr = _NLMSG.pack(_NLMSG.size + len(msg), RTM_GETROUTE, NLM_F_REQUEST, self._seq, 0)
        self.sock.send(hdr + msg)
        for _ in range(64):  # bounded: the answer is one message (or an error)
            data = self.sock.recv(65536)
            pos = 0
            while pos + _NLMSG.size <= len(data):
                mlen, mtype, _flags, seq, _pid = _NLMSG.unpack_from(data, pos)
                if mlen < _NLMSG.size:
                    return None
                if seq == self._seq:
                    if mtype == NLMSG_ERROR:
                        return None  # ENETUNREACH, EHOSTUNREACH ...
                    if mtype == RTM_NEWROUTE:
                        return self._metric(data, pos + _NLMSG.size, pos + mlen)
                    if mtype == NLMSG_DONE:
                        return None
                pos += _align(mlen)
        return None

    def _metric(self, data: bytes, pos: int, end: int) -> int | None:
        _f, _dl, _sl, _tos, table, _proto, _scope, rtype, _flags = _RTMSG.unpack_from(data, pos)
        if rtype in _UNUSABLE:
            return None
        attrs = _attrs(data, pos + _RTMSG.size, end)
        if RTA_TABLE in attrs:
            table = struct.unpack("=I", attrs[RTA_TABLE])[0]
        if self.table is not None and table != self.table:
            return None
        if rtype == RTN_LOCAL:
            return 0
        prio = attrs.get(RTA_PRIORITY)
        return struct.unpack("=I", prio)[0] if prio else 0

    def changed(self) -> set[str]:
        """Drain route notifications; if any came (or the queue overflowed), re-resolve every cached
        next hop and return those whose cost differs."""
        if self.monitor is None:
            return self._refresh()
        seen = False
        for _ in range(10000):  # bounded drain
            try:
                data = self.monitor.recv(1 << 16)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.ENOBUFS:
                    seen = True
                    continue
                raise
            if not data:
                break
            seen = True
        return self._refresh() if seen else set()

    def _refresh(self) -> set[str]:
        out = set()
        for nh, old in list(self.cache.items()):
            new = self.lookup(nh)
            if new != old:
                self.cache[nh] = new
                out.add(nh)
        return out


def kernel_available() -> str:
    """'' when a KernelResolver can be made here, else why not."""
    if not hasattr(socket, "AF_NETLINK"):
        return "no AF_NETLINK on this platform"
    try:
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    except OSError as e:
        return f"netlink socket: {os.strerror(e.errno or 0)}"
    s.close()
    return ""
