"""RFC 7313 Enhanced Route Refresh (BoRR/EoRR demarcation): capability code 70, empty value; JSON value {}."""

from __future__ import annotations

from ze.bgp.wire.capability._fields import Empty
from ze.bgp.wire.capability.base import CapSpec


class EnhancedRouteRefresh(Empty):
    CODE = 70
    NAME = "enhanced-route-refresh"
    __slots__ = ()


SPEC = CapSpec(EnhancedRouteRefresh.CODE, EnhancedRouteRefresh.NAME, EnhancedRouteRefresh)
