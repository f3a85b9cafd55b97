"""The shapes the RIBs are made of: prefix keys, peers, selections, configuration.

A prefix is one int, `key = value << 8 | length` (value: the address as an int with host bits
zero); the family is the table it lives in, so no per-prefix object is kept. ADD-PATH peers
keep {path_id: PathAttrs} per key instead of the PathAttrs itself.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from ze.bgp.events import NextHopSet, PeerInfo
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.nlri.prefix import Prefix
from ze.core.family import IPV4_MULTICAST, IPV4_UNICAST, IPV6_MULTICAST, IPV6_UNICAST, Family

FAMILIES = (IPV4_UNICAST, IPV6_UNICAST, IPV4_MULTICAST, IPV6_MULTICAST)


def key_of(p: Prefix) -> int:
    return p.value << 8 | p.length


def prefix_of(afi: int, key: int, path_id: int | None = None) -> Prefix:
    return Prefix(afi, key & 0xFF, key >> 8, path_id)


def ip_int(text: str) -> int:
    try:
        return int(ipaddress.ip_address(text)) if text else 0
    except ValueError:
        return 0


@dataclass
class RibConfig:
    """The `rib { ... }` section (ze-rib.yang), plus the identity export needs."""

    always_compare_med: bool = False
    maximum_paths: int = 1
    default_local_pref: int = 100
    batch_size: int = 4096  # prefixes per BestBatch
    route_reflector_clients: frozenset[str] = frozenset()  # peer names
    cluster_id: str = ""  # "" -> the router id
    router_id: str = ""
    next_hop_self_ibgp: bool = False
    igp_cost: str = "kernel"  # "kernel" | "none"

    @classmethod
    def from_json(cls, data: dict, router_id: str = "") -> RibConfig:
        """From the config section as JSON: {"best-path": {"always-compare-med", "maximum-paths",
        "default-local-preference"}, "batch-size", "route-reflector": {"cluster-id", "client": [...]},
        "next-hop-self-ibgp"}."""
        bp = data.get("best-path", {})
        rr = data.get("route-reflector", {})
        paths = int(bp.get("maximum-paths", 1))
        if not 1 <= paths <= 256:
            raise ValueError(f"rib best-path maximum-paths {paths}: must be 1..256")
        return cls(
            always_compare_med=bool(bp.get("always-compare-med", False)),
            maximum_paths=paths,
            default_local_pref=int(bp.get("default-local-preference", 100)),
            batch_size=int(data.get("batch-size", 4096)),
            route_reflector_clients=frozenset(rr.get("client", [])),
            cluster_id=rr.get("cluster-id", ""),
            router_id=router_id,
            next_hop_self_ibgp=bool(data.get("next-hop-self-ibgp", False)),
            igp_cost=data.get("igp-cost", "kernel"),
        )


class PeerState:
    """One peer as the RIB knows it: its Adj-RIB-In tables and, once up with a send context, its
    Adj-RIB-Out tables and what is waiting to be sent."""

    __slots__ = (
        "addpath",
        "address",
        "address_key",
        "counts",
        "exports",
        "ibgp",
        "idx",
        "info",
        "local_address",
        "local_as",
        "name",
        "out",
        "out_cache",
        "pending",
        "remote_as",
        "router_id",
        "send_ctx",
        "tables",
    )

    def __init__(self, idx: int, info: PeerInfo) -> None:
        self.idx = idx
        self.tables: dict[Family, dict[int, Any]] = {}
        self.counts: dict[Family, int] = {}
        self.addpath: frozenset[Family] = frozenset()
        self.out: dict[Family, dict[int, Any]] = {}
        self.pending: dict[Family, set[int] | None] = {}  # None: the whole table is to be sent
        self.out_cache: dict[Any, Any] = {}
        self.exports = False
        self.send_ctx: EncodingContext | None = None
        self.update(info)

    def update(self, info: PeerInfo) -> None:
        self.info = info
        self.name = info.name
        self.address = info.address
        try:
            a = ipaddress.ip_address(info.address)
            self.address_key = (a.version, int(a))
        except ValueError:
            self.address_key = (9, 0)
        self.remote_as = info.remote_as
        self.local_as = info.local_as
        self.ibgp = info.remote_as == info.local_as
        self.router_id = ip_int(info.router_id)
        self.local_address = info.local_address
        if info.recv_ctx is not None:
            self.addpath = frozenset(info.recv_ctx.addpath)

    def route_count(self, family: Family | None = None) -> int:
        if family is not None:
            return self.counts.get(family, 0)
        return sum(self.counts.values())


class Selection:
    """The outcome of best-path selection for a prefix, interned: `paths` is ((peer, path_id,
    PathAttrs), ...), best first then multipath partners; `nhs` the NextHopSet they point to."""

    __slots__ = ("key", "nhs", "paths", "refs")

    def __init__(self, key: Any, paths: tuple, nhs: NextHopSet) -> None:
        self.key = key
        self.paths = paths
        self.nhs = nhs
        self.refs = 0

    @property
    def best(self) -> tuple:
        return self.paths[0]


@dataclass
class Counters:
    updates: int = 0
    announced: int = 0
    withdrawn: int = 0
    best_changes: int = 0
    best_withdrawn: int = 0
    errors: int = 0
    per_family: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, int]:
        return {
            "updates": self.updates,
            "announced": self.announced,
            "withdrawn": self.withdrawn,
            "best-changes": self.best_changes,
            "best-withdrawn": self.best_withdrawn,
            "errors": self.errors,
        }
