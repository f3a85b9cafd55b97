"""Extended Next Hop Encoding (capability code 5, RFC 8950 section 3).

Value: a list of (NLRI AFI 2 octets, NLRI SAFI 2 octets, Nexthop AFI 2 octets) triples; the
length must be a multiple of 6. JSON: a list of
{"family": "ipv4/unicast", "nexthop-afi": "ipv6"} in wire order.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

from ze.bgp.wire.capability._fields import check_u, need_multiple, parse_afi, parse_family
from ze.bgp.wire.capability.base import Capability, CapSpec
from ze.core.family import Family, afi_name

_ENTRY = struct.Struct("!HHH")


class ExtendedNexthop(Capability):
    CODE = 5
    NAME = "extended-nexthop"
    __slots__ = ()

    @classmethod
    def from_wire(cls, view: memoryview, base: int = 0) -> ExtendedNexthop:
        need_multiple(cls.NAME, view, 6, base)
        return cls(view)

    @classmethod
    def from_value(cls, entries: Iterable[tuple[Family, int]]) -> ExtendedNexthop:
        """entries: (NLRI family, next-hop AFI) pairs, e.g. [(Family(1, 1), 2)]."""
        buf = bytearray()
        for fam, nh_afi in entries:
            buf += _ENTRY.pack(
                check_u(fam.afi, 16, "afi"), check_u(fam.safi, 16, "safi"), check_u(nh_afi, 16, "nexthop afi")
            )
        return cls(bytes(buf))

    def entries(self) -> Iterator[tuple[Family, int]]:
        """(NLRI family, next-hop AFI) pairs in wire order."""
        for afi, safi, nh in _ENTRY.iter_unpack(self.raw):
            yield Family(afi, safi), nh

    def to_json(self) -> list[dict[str, str]]:
        return [{"family": fam.name, "nexthop-afi": afi_name(nh)} for fam, nh in self.entries()]

    @classmethod
    def from_json(cls, value: Any) -> ExtendedNexthop:
        if not isinstance(value, list):
            raise ValueError(f"extended-nexthop: expected a list, got {value!r}")
        return cls.from_value((parse_family(e["family"], 0xFFFF), parse_afi(e["nexthop-afi"])) for e in value)


SPEC = CapSpec(ExtendedNexthop.CODE, ExtendedNexthop.NAME, ExtendedNexthop)
