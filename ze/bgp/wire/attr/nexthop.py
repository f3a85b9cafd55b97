"""NEXT_HOP (type 3, well-known mandatory; RFC 4271 4.3 and 5.1.3, error handling 6.3).

Syntactic check: the value must be a valid IPv4 host address, so 0.0.0.0/8, multicast
(224/4) and the reserved/broadcast block (240/4) are Invalid NEXT_HOP (3/8). Whether it is
reachable or the receiver's own address is the session's concern. The route text sets it
with `nhop set`, handled by the UPDATE builder, hence no text keyword here.
"""

from __future__ import annotations

from ze.bgp.wire.attr.base import TRANSITIVE, AttrSpec
from ze.bgp.wire.attr.common import INVALID_NEXT_HOP, Address4, fail, ip4
from ze.bgp.wire.context import EncodingContext


class NextHop(Address4):
    CODE = 3
    NAME = "next-hop"
    WIRE_NAME = "NEXT_HOP"
    FLAGS = TRANSITIVE
    __slots__ = ()

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> NextHop:
        attr = super().from_wire(flags, view, ctx, base)  # 4 bytes
        first = view[0]
        if first == 0 or first >= 224:
            raise fail(
                cls.CODE, flags, view, INVALID_NEXT_HOP, f"NEXT_HOP {ip4(view)} is not a host address", base
            )
        return attr


SPEC = AttrSpec(NextHop.CODE, NextHop.NAME, NextHop)
