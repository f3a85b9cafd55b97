"""Long-Lived Graceful Restart (capability code 71, RFC 9494 section 3).

Value: per family AFI (2), SAFI (1), Flags (1; F 0x80: forwarding state preserved) and
Long-Lived Stale Time (3 octets, seconds). Length: a multiple of 7.
JSON: [{"family": "ipv4/unicast", "forwarding": bool, "stale-time": int}, ...] in wire order,
with "reserved-flags" (the seven other flag bits) only when not zero.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

from ze.bgp.wire.capability._fields import check_u, need_multiple, parse_family
from ze.bgp.wire.capability.base import Capability, CapSpec
from ze.core.family import Family

FORWARDING = 0x80
MAX_STALE_TIME = 0xFFFFFF


class LLGR(Capability):
    CODE = 71
    NAME = "llgr"
    __slots__ = ()

    @classmethod
    def from_wire(cls, view: memoryview, base: int = 0) -> LLGR:
        need_multiple(cls.NAME, view, 7, base)
        return cls(view)

    @classmethod
    def from_value(cls, families: Iterable[tuple[Family, bool | int, int]]) -> LLGR:
        """families: (family, forwarding preserved (or the whole flags octet as an int), stale time)."""
        buf = bytearray()
        for fam, fwd, stale in families:
            if isinstance(fwd, bool):
                flags = FORWARDING if fwd else 0
            else:
                flags = check_u(fwd, 8, "flags")
            buf += struct.pack("!HBB", check_u(fam.afi, 16, "afi"), check_u(fam.safi, 8, "safi"), flags)
            buf += check_u(stale, 24, "stale time").to_bytes(3, "big")
        return cls(bytes(buf))

    def entries(self) -> Iterator[tuple[Family, int, int]]:
        """(family, flags octet, long-lived stale time) in wire order."""
        raw = self.raw
        for off in range(0, len(raw), 7):
            afi = raw[off] << 8 | raw[off + 1]
            yield Family(afi, raw[off + 2]), raw[off + 3], int.from_bytes(raw[off + 4 : off + 7], "big")

    def families(self) -> Iterator[tuple[Family, bool, int]]:
        """(family, forwarding state preserved, stale time) in wire order."""
        for fam, flags, stale in self.entries():
            yield fam, bool(flags & FORWARDING), stale

    def to_json(self) -> list[dict[str, Any]]:
        out = []
        for fam, flags, stale in self.entries():
            entry: dict[str, Any] = {
                "family": fam.name,
                "forwarding": bool(flags & FORWARDING),
                "stale-time": stale,
            }
            if flags & ~FORWARDING:
                entry["reserved-flags"] = flags & ~FORWARDING
            out.append(entry)
        return out

    @classmethod
    def from_json(cls, value: Any) -> LLGR:
        if not isinstance(value, list):
            raise ValueError(f"llgr: expected a list, got {value!r}")
        return cls.from_value(
            (
                parse_family(e["family"]),
                (FORWARDING if e.get("forwarding") else 0) | check_u(e.get("reserved-flags", 0), 7, "flags"),
                e["stale-time"],
            )
            for e in value
        )


SPEC = CapSpec(LLGR.CODE, LLGR.NAME, LLGR)
