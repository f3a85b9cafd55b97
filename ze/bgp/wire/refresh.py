"""ROUTE-REFRESH (type 5): AFI, message subtype, SAFI (RFC 2918 3, RFC 7313 3 and 5).

Subtype 0 is a normal request, 1 the beginning (BoRR) and 2 the end (EoRR) of a re-advertisement
(enhanced route refresh). RFC 7313 5: a body that is not exactly 4 bytes is an error 7/1 whose data
is the whole message; a subtype other than 0-2 is not an error, the message is to be ignored
(`known` is False).
"""

from __future__ import annotations

import struct
from typing import Any

from ze.bgp.wire.header import HEADER_LEN, MessageType, frame
from ze.core.errors import WireError
from ze.core.family import Family

NORMAL = 0
BORR = 1
EORR = 2
SUBTYPES = {NORMAL: "normal", BORR: "borr", EORR: "eorr"}
SUBTYPE_BY_NAME = {v: k for k, v in SUBTYPES.items()}

ROUTE_REFRESH_MESSAGE_ERROR = 7
INVALID_MESSAGE_LENGTH = 1
_BODY = struct.Struct("!HBB")


def subtype_name(subtype: int) -> str:
    return SUBTYPES.get(subtype, f"subtype-{subtype}")


class RouteRefresh:
    TYPE = MessageType.ROUTE_REFRESH
    __slots__ = ("afi", "safi", "subtype")

    def __init__(self, afi: int, safi: int, subtype: int = NORMAL) -> None:
        self.afi = afi
        self.safi = safi
        self.subtype = subtype

    @classmethod
    def from_wire(cls, view: bytes | bytearray | memoryview, base: int = HEADER_LEN) -> RouteRefresh:
        if len(view) != _BODY.size:
            raise WireError(
                f"ROUTE-REFRESH body is {len(view)} bytes, must be 4",
                base,
                ROUTE_REFRESH_MESSAGE_ERROR,
                INVALID_MESSAGE_LENGTH,
                frame(MessageType.ROUTE_REFRESH, view[: 65535 - HEADER_LEN]),  # the whole message
            )
        afi, subtype, safi = _BODY.unpack_from(view, 0)
        return cls(afi, safi, subtype)

    @classmethod
    def from_value(cls, family: Family | str, subtype: int | str = NORMAL) -> RouteRefresh:
        fam = Family.parse(family) if isinstance(family, str) else family
        if isinstance(subtype, str):
            if subtype not in SUBTYPE_BY_NAME:
                raise ValueError(f"route-refresh subtype {subtype!r}: expected normal, borr or eorr")
            subtype = SUBTYPE_BY_NAME[subtype]
        if not 0 <= fam.afi <= 0xFFFF or not 0 <= fam.safi <= 255 or not 0 <= subtype <= 255:
            raise ValueError(f"route-refresh {fam.afi}/{fam.safi} subtype {subtype} out of range")
        return cls(fam.afi, fam.safi, subtype)

    @property
    def family(self) -> Family:
        return Family(self.afi, self.safi)

    @property
    def known(self) -> bool:
        """False for a subtype RFC 7313 does not define: such a message must be ignored."""
        return self.subtype in SUBTYPES

    def body(self) -> bytes:
        return _BODY.pack(self.afi, self.subtype, self.safi)

    def to_bytes(self) -> bytes:
        return frame(MessageType.ROUTE_REFRESH, self.body())

    def to_json(self) -> dict[str, Any]:
        return {"family": self.family.name, "subtype": subtype_name(self.subtype)}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> RouteRefresh:
        if not isinstance(obj, dict) or "family" not in obj:
            raise ValueError('route-refresh JSON needs a "family"')
        sub = obj.get("subtype", "normal")
        if isinstance(sub, str) and sub.startswith("subtype-") and sub[8:].isdigit():
            sub = int(sub[8:])
        return cls.from_value(obj["family"], sub)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RouteRefresh) and (self.afi, self.safi, self.subtype) == (
            other.afi,
            other.safi,
            other.subtype,
        )

    def __hash__(self) -> int:
        return hash((self.afi, self.safi, self.subtype))

    def __repr__(self) -> str:
        return f"RouteRefresh({self.family.name}, {subtype_name(self.subtype)})"
