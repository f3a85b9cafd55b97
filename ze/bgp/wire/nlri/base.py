"""FamilySpec: the contract an NLRI codec fulfils, written once. The core ships the IP unicast and
multicast families; NLRI plugins (vpn, evpn, flowspec ...) add theirs at start-up.

An NLRI item is any object with `text()` (its JSON/text form) and a `path_id` attribute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ze.bgp.wire.nlri import prefix
from ze.core.family import IPV4_MULTICAST, IPV4_UNICAST, IPV6_MULTICAST, IPV6_UNICAST, Family


@dataclass(frozen=True, slots=True)
class FamilySpec:
    family: Family
    # (data, start, end, addpath, base) -> items; raises WireError on malformed input.
    decode: Callable[[Any, int, int, bool, int], Iterator[Any]]
    # (items, addpath) -> packed bytes
    encode: Callable[[Iterable[Any], bool], bytes]
    # "10.0.0.0/24" (optionally with a path id) -> item
    parse: Callable[[str, int | None], Any]
    owner: str = "core"

    @property
    def name(self) -> str:
        return self.family.name


def _ip_spec(family: Family) -> FamilySpec:
    afi = family.afi

    def decode(data, start: int, end: int, addpath: bool, base: int = 0) -> Iterator[prefix.Prefix]:
        return prefix.walk(data, start, end, afi, addpath, base)

    def parse(text: str, path_id: int | None = None) -> prefix.Prefix:
        p = prefix.Prefix.parse(text, path_id)
        if p.afi != afi:
            raise ValueError(f"prefix {text} is not {family.name}")
        return p

    return FamilySpec(family, decode, prefix.encode, parse)


CORE_FAMILIES = tuple(_ip_spec(f) for f in (IPV4_UNICAST, IPV6_UNICAST, IPV4_MULTICAST, IPV6_MULTICAST))
