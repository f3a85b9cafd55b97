"""draft-ietf-idr-linklocal-capability Link-Local Next Hop (an IPv6 link-local address alone as next hop): capability code 77, empty value; JSON value {}."""

from __future__ import annotations

from ze.bgp.wire.capability._fields import Empty
from ze.bgp.wire.capability.base import CapSpec


class LinkLocalNexthop(Empty):
    CODE = 77
    NAME = "link-local-nexthop"
    __slots__ = ()


SPEC = CapSpec(LinkLocalNexthop.CODE, LinkLocalNexthop.NAME, LinkLocalNexthop)
