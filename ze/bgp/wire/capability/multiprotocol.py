"""Multiprotocol Extensions (capability code 1, RFC 4760 section 8).

Value: AFI (2 octets), reserved (1 octet, sent as 0, ignored on receipt), SAFI (1 octet).
JSON: the family name, "ipv4/unicast"; when the reserved octet is not zero,
{"family": "ipv4/unicast", "reserved": N} so that the JSON still gives back the exact bytes.
"""

from __future__ import annotations

import struct
from typing import Any

from ze.bgp.wire.capability._fields import check_u, need_len, parse_family
from ze.bgp.wire.capability.base import Capability, CapSpec
from ze.core.family import Family

_MP = struct.Struct("!HBB")


class Multiprotocol(Capability):
    CODE = 1
    NAME = "multiprotocol"
    __slots__ = ()

    @classmethod
    def from_wire(cls, view: memoryview, base: int = 0) -> Multiprotocol:
        need_len(cls.NAME, view, 4, base)
        return cls(view)

    @classmethod
    def from_value(cls, family: Family | str, reserved: int = 0) -> Multiprotocol:
        fam = parse_family(family) if isinstance(family, str) else family
        check_u(fam.afi, 16, "afi")
        check_u(fam.safi, 8, "safi")
        return cls(_MP.pack(fam.afi, check_u(reserved, 8, "reserved"), fam.safi))

    @property
    def afi(self) -> int:
        return _MP.unpack_from(self.raw)[0]

    @property
    def safi(self) -> int:
        return self.raw[3]

    @property
    def reserved(self) -> int:
        return self.raw[2]

    @property
    def family(self) -> Family:
        return Family(self.afi, self.safi)

    def to_json(self) -> Any:
        if self.reserved:
            return {"family": self.family.name, "reserved": self.reserved}
        return self.family.name

    @classmethod
    def from_json(cls, value: Any) -> Multiprotocol:
        if isinstance(value, str):
            return cls.from_value(value)
        if isinstance(value, dict) and set(value) <= {"family", "reserved"} and "family" in value:
            return cls.from_value(value["family"], value.get("reserved", 0))
        raise ValueError(f"multiprotocol: expected a family name, got {value!r}")


SPEC = CapSpec(Multiprotocol.CODE, Multiprotocol.NAME, Multiprotocol)
