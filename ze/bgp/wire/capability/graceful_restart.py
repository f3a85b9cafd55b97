"""Graceful Restart (capability code 64, RFC 4724 section 3; N bit from RFC 8538).

Value: Restart Flags (4 bits: R 0x8 "restarting", N 0x4 "notification" (RFC 8538), two
reserved) and Restart Time (12 bits, seconds), then per family AFI (2), SAFI (1) and
Flags for Address Family (1; F 0x80: forwarding state preserved). Length: 2 + 4*n.
JSON: {"restart": bool, "notification": bool, "restart-time": int,
       "families": [{"family": "ipv4/unicast", "forwarding": bool}, ...]}
with "reserved-flags" (top level: the two reserved restart-flag bits, 0-3; per family: the
seven reserved AF-flag bits) present only when not zero, so JSON gives back the exact bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

from ze.bgp.wire.capability._fields import check_u, need_multiple, parse_family
from ze.bgp.wire.capability.base import Capability, CapSpec
from ze.core.family import Family

RESTART = 0x8
NOTIFICATION = 0x4
FORWARDING = 0x80
MAX_RESTART_TIME = 0xFFF
_HEAD = struct.Struct("!H")
_ENTRY = struct.Struct("!HBB")


def family_flags(forwarding: bool | int) -> int:
    """AF flags octet: a bool means the F bit alone, an int is the whole octet."""
    if isinstance(forwarding, bool):
        return FORWARDING if forwarding else 0
    return check_u(forwarding, 8, "family flags")


class GracefulRestart(Capability):
    CODE = 64
    NAME = "graceful-restart"
    __slots__ = ()

    @classmethod
    def from_wire(cls, view: memoryview, base: int = 0) -> GracefulRestart:
        need_multiple(cls.NAME, view, 4, base, head=2)
        return cls(view)

    @classmethod
    def from_value(
        cls,
        restart_time: int,
        families: Iterable[tuple[Family, bool | int]] = (),
        restart: bool = False,
        notification: bool = False,
        reserved_flags: int = 0,
    ) -> GracefulRestart:
        """families: (family, forwarding preserved) pairs; an int instead of the bool is the AF flags octet."""
        flags = (RESTART if restart else 0) | (NOTIFICATION if notification else 0)
        flags |= check_u(reserved_flags, 2, "reserved flags")
        buf = bytearray(_HEAD.pack(flags << 12 | check_u(restart_time, 12, "restart time")))
        for fam, fwd in families:
            buf += _ENTRY.pack(check_u(fam.afi, 16, "afi"), check_u(fam.safi, 8, "safi"), family_flags(fwd))
        return cls(bytes(buf))

    @property
    def flags(self) -> int:
        """The 4-bit Restart Flags."""
        return self.raw[0] >> 4

    @property
    def restart(self) -> bool:
        return bool(self.flags & RESTART)

    @property
    def notification(self) -> bool:
        return bool(self.flags & NOTIFICATION)

    @property
    def restart_time(self) -> int:
        return _HEAD.unpack_from(self.raw)[0] & MAX_RESTART_TIME

    def families(self) -> Iterator[tuple[Family, bool]]:
        """(family, forwarding state preserved) in wire order."""
        for afi, safi, flags in _ENTRY.iter_unpack(self.raw[2:]):
            yield Family(afi, safi), bool(flags & FORWARDING)

    def family_flags(self) -> Iterator[tuple[Family, int]]:
        """(family, whole AF flags octet) in wire order."""
        for afi, safi, flags in _ENTRY.iter_unpack(self.raw[2:]):
            yield Family(afi, safi), flags

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "restart": self.restart,
            "notification": self.notification,
            "restart-time": self.restart_time,
        }
        if self.flags & 0x3:
            out["reserved-flags"] = self.flags & 0x3
        fams = []
        for fam, flags in self.family_flags():
            entry: dict[str, Any] = {"family": fam.name, "forwarding": bool(flags & FORWARDING)}
            if flags & ~FORWARDING:
                entry["reserved-flags"] = flags & ~FORWARDING
            fams.append(entry)
        out["families"] = fams
        return out

    @classmethod
    def from_json(cls, value: Any) -> GracefulRestart:
        if not isinstance(value, dict):
            raise ValueError(f"graceful-restart: expected an object, got {value!r}")
        fams = [
            (
                parse_family(e["family"]),
                (FORWARDING if e.get("forwarding") else 0) | check_u(e.get("reserved-flags", 0), 7, "flags"),
            )
            for e in value.get("families", [])
        ]
        return cls.from_value(
            value["restart-time"],
            fams,
            restart=bool(value.get("restart", False)),
            notification=bool(value.get("notification", False)),
            reserved_flags=value.get("reserved-flags", 0),
        )


SPEC = CapSpec(GracefulRestart.CODE, GracefulRestart.NAME, GracefulRestart)
