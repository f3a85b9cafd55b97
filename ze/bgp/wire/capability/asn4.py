"""Support for 4-octet AS numbers (capability code 65, RFC 6793 section 3).

Value: the speaker's AS number, 4 octets. JSON: the number.
"""

from __future__ import annotations

import struct
from typing import Any

from ze.bgp.wire.capability._fields import check_u, need_len
from ze.bgp.wire.capability.base import Capability, CapSpec

_U32 = struct.Struct("!I")


class ASN4(Capability):
    CODE = 65
    NAME = "asn4"
    __slots__ = ()

    @classmethod
    def from_wire(cls, view: memoryview, base: int = 0) -> ASN4:
        need_len(cls.NAME, view, 4, base)
        return cls(view)

    @classmethod
    def from_value(cls, asn: int) -> ASN4:
        return cls(_U32.pack(check_u(asn, 32, "asn")))

    @property
    def asn(self) -> int:
        return _U32.unpack_from(self.raw)[0]

    def to_json(self) -> int:
        return self.asn

    @classmethod
    def from_json(cls, value: Any) -> ASN4:
        return cls.from_value(value)


SPEC = CapSpec(ASN4.CODE, ASN4.NAME, ASN4)
