"""RFC 2918 Route Refresh: capability code 2, empty value; JSON value {}."""

from __future__ import annotations

from ze.bgp.wire.capability._fields import Empty
from ze.bgp.wire.capability.base import CapSpec


class RouteRefresh(Empty):
    CODE = 2
    NAME = "route-refresh"
    __slots__ = ()


SPEC = CapSpec(RouteRefresh.CODE, RouteRefresh.NAME, RouteRefresh)
