"""IP prefixes as integers: the walk over packed NLRI, and the encoder.

A prefix on the wire is a length in bits then ceil(length/8) bytes, preceded by a 4-byte path
id when ADD-PATH is in effect for the family and direction (RFC 7911 section 3). Bits past the
length are masked off on decode.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator
from typing import NamedTuple

from ze.bgp.wire.errors import update_error
from ze.core.family import AFI

_U32 = struct.Struct("!I")
INVALID_NETWORK_FIELD = 10  # UPDATE error subcode (RFC 4271 6.3)


class Prefix(NamedTuple):
    """An IPv4 or IPv6 prefix: `value` is the address as an int (host bits zero)."""

    afi: int
    length: int
    value: int
    path_id: int | None = None

    @property
    def bits(self) -> int:
        return 32 if self.afi == AFI.IPV4 else 128

    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        if self.afi == AFI.IPV4:
            return ipaddress.IPv4Network((self.value, self.length))
        return ipaddress.IPv6Network((self.value, self.length))

    def __str__(self) -> str:
        addr = (
            ipaddress.IPv4Address(self.value) if self.afi == AFI.IPV4 else ipaddress.IPv6Address(self.value)
        )
        return f"{addr}/{self.length}"

    def text(self) -> str:
        """As in JSON and the route text syntax: "10.0.0.0/24", or "10.0.0.0/24 path-id 7" with ADD-PATH."""
        return str(self) if self.path_id is None else f"{self} path-id {self.path_id}"

    @classmethod
    def parse(cls, text: str, path_id: int | None = None) -> Prefix:
        """Parse "10.0.0.0/24" or "2001:db8::/32" (host bits must be zero)."""
        try:
            net = ipaddress.ip_network(text.strip(), strict=True)
        except ValueError as e:
            raise ValueError(f"bad prefix {text!r}: {e}") from None
        afi = AFI.IPV4 if net.version == 4 else AFI.IPV6
        return cls(afi, net.prefixlen, int(net.network_address), path_id)


def walk(
    data: bytes | bytearray | memoryview,
    start: int,
    end: int,
    afi: int,
    addpath: bool,
    base: int = 0,
) -> Iterator[Prefix]:
    """Yield each prefix packed in data[start:end]. Raises WireError (UPDATE 3/10) on an overrun or a
    length beyond the address width; `base` is added to offsets in errors."""
    width = 32 if afi == AFI.IPV4 else 128
    pos = start
    while pos < end:
        path_id = None
        if addpath:
            if pos + 4 > end:
                raise update_error("NLRI path id runs past the end", INVALID_NETWORK_FIELD, base + pos)
            path_id = _U32.unpack_from(data, pos)[0]
            pos += 4
            if pos >= end:
                raise update_error("NLRI ends after a path id", INVALID_NETWORK_FIELD, base + pos)
        plen = data[pos]
        if plen > width:
            raise update_error(f"prefix length {plen} exceeds {width}", INVALID_NETWORK_FIELD, base + pos)
        nbytes = (plen + 7) >> 3
        if pos + 1 + nbytes > end:
            raise update_error(
                f"prefix /{plen} needs {nbytes} bytes, {end - pos - 1} left",
                INVALID_NETWORK_FIELD,
                base + pos,
            )
        value = int.from_bytes(data[pos + 1 : pos + 1 + nbytes], "big") << (width - (nbytes << 3))
        if plen & 7:
            value &= ~((1 << (width - plen)) - 1)
        yield Prefix(afi, plen, value, path_id)
        pos += 1 + nbytes


def count(data, start: int, end: int, afi: int, addpath: bool, base: int = 0) -> int:
    """How many prefixes data[start:end] packs, walked in C (WireError UPDATE 3/10 when malformed,
    as walk raises it)."""
    from ze import _native

    return _native.count_nlri(data, start, end, afi, addpath, base)


def encode_into(buf: bytearray, prefix: Prefix, addpath: bool) -> None:
    """Append one prefix (with its path id if `addpath`; a missing id is sent as 0)."""
    if addpath:
        buf += _U32.pack(prefix.path_id or 0)
    nbytes = (prefix.length + 7) >> 3
    buf.append(prefix.length)
    if nbytes:
        buf += (prefix.value >> (prefix.bits - (nbytes << 3))).to_bytes(nbytes, "big")


def encode(prefixes, addpath: bool) -> bytes:
    buf = bytearray()
    for p in prefixes:
        encode_into(buf, p, addpath)
    return bytes(buf)
