"""What both backends of ze._native share: result types, status codes, error builders, option names.

Header errors are *returned* (ReadResult.error, a WireError carrying the RFC 4271 section 6.1
NOTIFICATION: code 1, subcode 1 bad marker / 2 bad length (data: the 2-byte length) / 3 bad type
(data: the type byte)), so the whole messages before the bad one are still delivered. NLRI walks
*raise* WireError (UPDATE 3/10, RFC 4271 6.3) with the byte offset. Kernel refusals of socket options
raise SocketOptionError, which names the option and the errno.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from typing import NamedTuple

from ze.core.errors import WireError, ZeError

# ReadResult.status
DATA = 0  # read some bytes (the socket was drained or the buffer filled)
AGAIN = 1  # nothing to read (EAGAIN)
EOF = 2  # the peer closed (after any bytes this call returned)

HEADER_LEN = 19
MAX_LEN = 4096
MAX_EXTENDED_LEN = 65535
MIN_BUFFER = 65536 + HEADER_LEN  # room for a partial extended message plus a header
MAX_BUFFER = 1 << 31  # offsets are u32 in C
_TYPE_NAMES = {1: "OPEN", 2: "UPDATE", 3: "NOTIFICATION", 4: "KEEPALIVE", 5: "ROUTE_REFRESH"}
MIN_LEN = {1: 29, 2: 23, 3: 21, 4: 19, 5: 19}  # RR: a bad length is 7/1 (RFC 7313), decided by its codec

# What a pool's memory is backed by.
KIND_NAMES = ("plain", "thp", "hugetlb")

# Option codes the C helper reports, and their names.
OPTION_NAMES = {
    1: "TCP_MD5SIG",
    2: "TCP_MD5SIG_EXT",
    3: "IP_TTL",
    4: "IP_MINTTL",
    5: "IPV6_UNICAST_HOPS",
    6: "IPV6_MINHOPCOUNT",
}
TCP_MD5SIG = 14
TCP_MD5SIG_EXT = 32
TCP_MD5SIG_FLAG_PREFIX = 1
TCP_MD5SIG_FLAG_IFINDEX = 2
TCP_MD5SIG_MAXKEYLEN = 80
IP_MINTTL = 21
IPV6_MINHOPCOUNT = 73
IPV6_UNICAST_HOPS = 16

INVALID_NETWORK_FIELD = 10


class ReadResult(NamedTuple):
    """What one read_frames / feed_frames call found.

    frames: flat (offset, length, type) triples, one per whole message, offsets into buffer.view;
    valid until the next call on the same buffer (which may move the partial tail to the start).
    """

    frames: list[int]
    status: int  # DATA, AGAIN or EOF
    nread: int  # bytes taken in by this call
    error: WireError | None  # first bad header; framing stops there, the messages before it are in frames


class SocketOptionError(ZeError, OSError):
    """The kernel refused a socket option; `option` names it, `errno` says why."""

    def __init__(self, option: str, err: int) -> None:
        OSError.__init__(self, err, f"{option}: {os.strerror(err)}")
        self.option = option

    def __str__(self) -> str:
        return f"setsockopt {self.option} failed: [Errno {self.errno}] {os.strerror(self.errno)}"


def header_error(subcode: int, offset: int, value: int, mtype: int, extended: bool) -> WireError:
    """The NOTIFICATION for a bad header (same text from both backends); offset is in the stream."""
    if subcode == 1:
        return WireError("bad marker (not all ones)", offset, 1, 1, b"")
    if subcode == 3:
        return WireError(f"unknown message type {value}", offset, 1, 3, bytes([value]))
    limit = MAX_EXTENDED_LEN if extended and mtype not in (1, 4) else MAX_LEN
    return WireError(
        f"bad length {value} for {_TYPE_NAMES[mtype]} (allowed {MIN_LEN[mtype]}..{limit})",
        offset,
        1,
        2,
        struct.pack("!H", value),
    )


# NLRI walk error kinds (as csrc/zec.h)
PATHID_OVERRUN = 1
END_AFTER_PATHID = 2
BAD_LENGTH = 3
OVERRUN = 4


def nlri_error(kind: int, pos: int, plen: int, end: int, width: int, base: int) -> WireError:
    if kind == PATHID_OVERRUN:
        msg = "NLRI path id runs past the end"
    elif kind == END_AFTER_PATHID:
        msg = "NLRI ends after a path id"
    elif kind == BAD_LENGTH:
        msg = f"prefix length {plen} exceeds {width}"
    else:
        msg = f"prefix /{plen} needs {(plen + 7) >> 3} bytes, {end - pos - 1} left"
    return WireError(msg, base + pos, 3, INVALID_NETWORK_FIELD, b"")


def check_region(data, start: int, end: int) -> None:
    if start < 0 or end > len(data) or start > end:
        raise ValueError(f"region {start}..{end} outside data of {len(data)} bytes")


def check_buffer_size(size: int) -> None:
    if not MIN_BUFFER <= size <= MAX_BUFFER:
        raise ValueError(f"buffer_size {size} outside {MIN_BUFFER}..{MAX_BUFFER}")


def thp_enabled() -> bool:
    """Whether madvise(MADV_HUGEPAGE) can have an effect (THP not set to 'never')."""
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled", encoding="ascii") as f:
            return "[never]" not in f.read()
    except OSError:
        return False


def hugepage_size() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("Hugepagesize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 2 * 1024 * 1024


def round_up(n: int, unit: int) -> int:
    return (n + unit - 1) // unit * unit


def peer_bytes(sock_family: int, peer_address: str) -> tuple[int, bytes]:
    """(family, packed address) for a TCP-MD5 key; an IPv4 peer on an IPv6 socket is v4-mapped."""
    addr = ipaddress.ip_address(peer_address)
    if addr.version == 4:
        if sock_family == socket.AF_INET6:
            return socket.AF_INET6, ipaddress.IPv6Address(f"::ffff:{addr}").packed
        return socket.AF_INET, addr.packed
    return socket.AF_INET6, addr.packed


def key_bytes(key: str | bytes) -> bytes:
    k = key.encode() if isinstance(key, str) else bytes(key)
    if len(k) > TCP_MD5SIG_MAXKEYLEN:
        raise ValueError(f"TCP-MD5 key of {len(k)} bytes (at most {TCP_MD5SIG_MAXKEYLEN})")
    return k


def fileno(sock) -> int:
    return sock if isinstance(sock, int) else sock.fileno()
