"""The codec tables (attributes, NLRI families, capabilities): built once, then frozen.

The core's own codecs are listed here by module name (a table, not import side effects);
features add theirs through `Codecs.build(...)` at start-up, and a duplicate code fails
naming both owners.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from ze.bgp.wire.attr.base import AttrSpec
from ze.bgp.wire.capability.base import CapSpec
from ze.bgp.wire.nlri.base import CORE_FAMILIES, FamilySpec
from ze.core.family import Family
from ze.core.registry import Registry

# Modules under ze.bgp.wire.attr, each exporting SPEC.
CORE_ATTRS: tuple[str, ...] = (
    "origin",
    "mpreach",
    "mpunreach",
    "aspath",
    "nexthop",
    "med",
    "localpref",
    "atomic_aggregate",
    "aggregator",
    "community",
    "originator_id",
    "cluster_list",
    "extended_community",
    "as4_path",
    "as4_aggregator",
    "ipv6_extended_community",
    "aigp",
    "large_community",
    "otc",
    "prefix_sid",
)
# Modules under ze.bgp.wire.capability, each exporting SPEC.
CORE_CAPABILITIES: tuple[str, ...] = (
    "multiprotocol",
    "route_refresh",
    "extended_nexthop",
    "extended_message",
    "role",
    "graceful_restart",
    "asn4",
    "addpath",
    "enhanced_route_refresh",
    "llgr",
    "hostname",
    "software_version",
    "link_local_nexthop",
)


class Codecs:
    __slots__ = ("attrs", "by_text", "capabilities", "families")

    def __init__(self) -> None:
        self.attrs: Registry[int, AttrSpec] = Registry("attribute codecs")
        self.families: Registry[Family, FamilySpec] = Registry("family codecs")
        self.capabilities: Registry[int, CapSpec] = Registry("capability codecs")
        self.by_text: dict[str, AttrSpec] = {}

    @classmethod
    def build(
        cls,
        attrs: Iterable[AttrSpec] = (),
        families: Iterable[FamilySpec] = (),
        capabilities: Iterable[CapSpec] = (),
    ) -> Codecs:
        c = cls()
        for name in CORE_ATTRS:
            spec: AttrSpec = importlib.import_module(f"ze.bgp.wire.attr.{name}").SPEC
            c.attrs.register(spec.code, spec, spec.owner)
        for name in CORE_CAPABILITIES:
            cspec: CapSpec = importlib.import_module(f"ze.bgp.wire.capability.{name}").SPEC
            c.capabilities.register(cspec.code, cspec, cspec.owner)
        for fspec in CORE_FAMILIES:
            c.families.register(fspec.family, fspec, fspec.owner)
        for spec in attrs:
            c.attrs.register(spec.code, spec, spec.owner)
        for fspec in families:
            c.families.register(fspec.family, fspec, fspec.owner)
        for cspec in capabilities:
            c.capabilities.register(cspec.code, cspec, cspec.owner)
        c.attrs.freeze()
        c.families.freeze()
        c.capabilities.freeze()
        c.by_text = {s.text: s for s in c.attrs.values() if s.text}
        return c


_core: Codecs | None = None


def core() -> Codecs:
    """The core codecs alone (what `ze bgp decode` and tests use when no feature adds any)."""
    global _core
    if _core is None:
        _core = Codecs.build()
    return _core
