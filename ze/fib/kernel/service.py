"""fib-kernel: the best routes (BestBatch from the cross-protocol RIB) into a kernel routing table.

State kept here, all keyed by ints: per address family `routes` maps a route key (netlink.route_key) to the
id of the nexthop group the route points at. Every route points at a group (an ECMP set of one
or more next hops); every next hop is one kernel nexthop object. So:

- a changed best route is one RTM_NEWROUTE (replace) or RTM_DELROUTE in a batched sendmsg;
- a peer going down deletes that peer's nexthop objects: the kernel drops them from every group
  (re-pointing all routes of the group at once) and removes the routes of groups left empty, so a
  full table moves with one message;
- at start the routes of our protocol already in the table (a previous ze) are kept as stale and
  swept after `stale-time` unless re-announced; their old nexthop objects are dropped with them.

A monitor socket (filtered in the kernel so the echoes of our own writes never reach us) notices
routes deleted or overwritten by someone else and re-asserts them; a lost monitor event (ENOBUFS)
or a nexthop object deleted behind our back triggers a full resync. Netlink errors are counted per
route and errno, never raised.
"""

from __future__ import annotations

import errno as errno_mod
import ipaddress
import select
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ze.bgp.wire.nlri.prefix import Prefix
from ze.core.log import get_logger
from ze.fib.kernel import netlink as nl

log = get_logger("ze.fib.kernel")

FAMILIES = {"ipv4/unicast": 1, "ipv6/unicast": 2}
AFI_NAME = {1: "ipv4/unicast", 2: "ipv6/unicast"}
TABLE_NAMES = {"main": 254, "local": 255, "default": 253}
# A peer going down empties at most this many groups by deleting nexthop objects alone (the kernel
# removes their routes with one walk of the whole FIB per group, ~1 s per 1M routes); past it, the
# routes of the emptied groups are deleted first, in batches, so no walk is needed.
FLUSH_GROUPS_MAX = 4
# IPv4 deletes: a batch of at least BULK_DELETE_MIN routes leaves the kernel by a flush (in each
# chunk of BULK_DELETE_CHUNK routes, every route is re-pointed at a throwaway clone of the nexthop
# object it uses, so it still forwards the same way, and the clones are then deleted) instead of
# one RTM_DELROUTE per route. Why: the kernel's IPv4 trie rescans a node from
# its first slot on each route delete (update_suffix), so once the low part of a node is empty,
# every further delete in it scans that empty part; a table withdrawn in ascending order (BGP
# speakers send withdrawals that way) then costs time quadratic in the node size (1M /24s: ~170 s,
# against ~5 s in descending order). Sorting each batch descending does not help when the batches
# themselves go up. The flush walk removes the routes node by node with one rescan per node, in any
# order (bench/fib_delete.py). Smaller batches are deleted route by route, at once.
BULK_DELETE_MIN = 2048
BULK_DELETE_CHUNK = 32768
# Deleting a clone costs one walk of the whole FIB: a chunk clones at most this many of the nexthop
# objects its routes use (the most used ones); routes through the others are deleted one by one.
FLUSH_CLONES_MAX = 8
# When IPv4 withdrawals stream in (BULK_DELETE_MIN routes deleted in batches that each came within
# STREAM_GAP seconds of the previous delete write), delete batches of any size are held up to
# HOLD_DELETES seconds (or BULK_DELETE_CHUNK routes) and written together, by a flush once they are
# BULK_DELETE_MIN: a table withdrawn in many small ascending batches is not deleted one route at a
# time, and fewer, bigger flushes mean fewer FIB walks (1M in 4096-route batches: 7.2 s instead of
# 11.9 s). A withdrawal outside such a stream is written at once. A held route announced again is
# dropped from the held deletes (its replace is written at once).
STREAM_GAP = 0.05
HOLD_DELETES = 0.05


@dataclass
class KernelConfig:
    """The `fib { kernel { ... } }` section."""

    table: int = 254
    vrf: str = ""  # a VRF device: its table is used (overrides table)
    protocol: int = 186  # rtm_protocol of our routes and nexthop objects ("bgp" in rt_protos)
    metric: int | None = None
    stale_time: float = 60.0  # seconds routes of a previous run are kept unless re-announced
    flush_on_stop: bool = False
    nexthop_id_base: int = 186_000_000  # our nexthop object ids start here

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KernelConfig:
        """From the `fib` section as JSON ({"kernel": {...}}) or its kernel subtree."""
        k = data.get("kernel", data)
        table = k.get("table", "main")
        if isinstance(table, str):
            if table in TABLE_NAMES:
                table = TABLE_NAMES[table]
            elif table.isdigit():
                table = int(table)
            else:
                raise ValueError(f"fib kernel table {table!r}: 'main' or a number")
        if not 1 <= int(table) <= 0xFFFFFFFF:
            raise ValueError(f"fib kernel table {table}: out of range")
        proto = int(k.get("protocol", 186))
        if not 1 <= proto <= 255:
            raise ValueError(f"fib kernel protocol {proto}: 1..255")
        metric = k.get("metric")
        return cls(
            table=int(table),
            vrf=str(k.get("vrf", "")),
            protocol=proto,
            metric=None if metric is None else int(metric),
            stale_time=float(k.get("stale-time", 60)),
            flush_on_stop=bool(k.get("flush-on-stop", False)),
            nexthop_id_base=int(k.get("nexthop-id-base", 186_000_000)),
        )


@dataclass(slots=True)
class Hop:
    id: int
    afi: int
    address: str
    ifname: str
    gateway: bytes
    oif: int
    peers: set[str] = field(default_factory=set)
    groups: set[int] = field(default_factory=set)


@dataclass(slots=True)
class Group:
    id: int
    afi: int
    key: tuple  # (afi, ((hop afi, address, ifname), ...)) what it holds now
    members: list[int]  # hop ids
    routes: int = 0


route_key = nl.route_key
split_key = nl.split_key


def prefix_text(afi: int, key: int) -> str:
    value, length = split_key(afi, key)
    addr = ipaddress.IPv4Address(value) if afi == 1 else ipaddress.IPv6Address(value)
    return f"{addr}/{length}"


def _hop_afi(address: str) -> int:
    return 2 if ":" in address else 1


def errname(e: int) -> str:
    return errno_mod.errorcode.get(e, str(e))


class Service:
    def __init__(
        self,
        config: KernelConfig | None = None,
        *,
        netns: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or KernelConfig()
        self.netns = netns
        self.clock = clock
        self.lock = threading.RLock()
        self.state = "stopped"
        self.reason = ""
        self.writer: nl.Writer | None = None
        self.resolver: Any = None
        self.monitor: Any = None
        self.table = self.config.table
        self.routes: dict[int, dict[int, int]] = {1: {}, 2: {}}
        self.hops: dict[int, Hop] = {}
        self.hop_by_key: dict[tuple[int, str, str], int] = {}
        self.groups: dict[int, Group] = {}
        self.group_by_key: dict[tuple, int] = {}
        self.pending: dict[tuple[int, int], Any] = {}  # (afi, key) -> NextHopSet (next hop unresolved)
        self.failed: dict[tuple[int, int], tuple[int, str]] = {}  # (afi, key) -> (errno, message)
        self.stale: dict[int, dict[int, int]] = {1: {}, 2: {}}
        self.stale_nh: set[int] = set()
        self.stale_since = 0.0
        self.next_id = self.config.nexthop_id_base
        self.errors: Counter[str] = Counter()
        self.counters: Counter[str] = Counter()
        self.held: dict[int, int] = {}  # IPv4 route keys withdrawn, delete not written yet -> nexthop id
        self.held_since = 0.0
        self.window = (0.0, 0)  # (last IPv4 delete write, routes in the run of close ones): a stream?

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> dict:
        with self.lock:
            cfg = self.config
            try:
                from ze.fib.kernel.resolve import Resolver

                self.resolver = Resolver(self.netns)
                if cfg.vrf:
                    self.table = self.resolver.vrf_table(cfg.vrf)
                self.writer = nl.Writer(
                    self.netns, table=self.table, protocol=cfg.protocol, metric=cfg.metric
                )
                self.resolver.route_get = self.writer.route_get
                self.monitor = nl.open_socket(
                    self.netns,
                    groups=(nl.RTNLGRP_IPV4_ROUTE, nl.RTNLGRP_IPV6_ROUTE, nl.RTNLGRP_NEXTHOP),
                    bufsize=4 << 20,
                )
                nl.drop_from_portid(self.monitor, self.writer.portid)
                self.monitor.setblocking(False)
            except (OSError, LookupError, ImportError) as e:
                self.close()
                self.state, self.reason = "unavailable", str(e)
                log.warning("fib-kernel unavailable", error=str(e))
                return self.status()
            self._adopt()
            self.state = "running"
            log.info("fib-kernel running", table=self.table, protocol=cfg.protocol, stale=self.stale_count())
            return self.status()

    def _adopt(self) -> None:
        """Routes and nexthop objects of our protocol left by a previous run become stale."""
        assert self.writer is not None
        top = self.config.nexthop_id_base
        for e in nl.dump_nexthops(self.writer):
            if e.protocol == self.config.protocol:
                self.stale_nh.add(e.id)
                top = max(top, e.id + 1)
        self.next_id = top
        for afi in (1, 2):
            st = self.stale[afi]
            for value, length, nhid, _p in nl.dump_routes(self.writer, afi, self.config.protocol):
                st[route_key(afi, value, length)] = nhid
        self.stale_since = self.clock()

    def close(self) -> None:
        for attr in ("writer", "resolver", "monitor"):
            obj = getattr(self, attr)
            if obj is not None:
                try:
                    obj.close()
                except OSError:
                    pass
                setattr(self, attr, None)

    def stop(self) -> None:
        with self.lock:
            if self.writer is not None and self.config.flush_on_stop:
                self.flush()
            self.close()
            self.state = "stopped"

    def flush(self) -> dict:
        """Remove every route of our protocol (batched deletes, descending), then our nexthop
        objects. Routes first: the kernel walks the whole FIB (fib_flush) for every nexthop object
        removed while routes still use it, so with thousands of next hops (a full table from a route
        reflector has ~3,800) deleting the objects first takes minutes of kernel time under the RTNL
        lock, which also stalls every `ip netns add` on the machine."""
        assert self.writer is not None
        with self.lock:
            removed = 0
            self.held.clear()
            for afi in (1, 2):
                left = sorted(
                    (
                        route_key(afi, v, ln)
                        for v, ln, _n, _p in nl.dump_routes(self.writer, afi, self.config.protocol)
                    ),
                    reverse=True,
                )
                removed += self.writer.delete_routes(afi, left).ok
                self.routes[afi].clear()
                self.stale[afi].clear()
            self._delete_nh(list(self.groups) + list(self.hops) + sorted(self.stale_nh))
            self.groups.clear()
            self.group_by_key.clear()
            self.hops.clear()
            self.hop_by_key.clear()
            self.stale_nh.clear()
            self.failed.clear()
            self.pending.clear()
            return {"removed": removed}

    # --- nexthop objects -------------------------------------------------------------------------
    def _alloc(self) -> int:
        i = self.next_id
        self.next_id += 1
        return i

    def _delete_nh(self, ids: Iterable[int]) -> None:
        assert self.writer is not None
        msgs = [(nl.RTM_DELNEXTHOP, 0, nl.nh_id_only(i)) for i in ids]
        res = self.writer.request(msgs)
        for _i, e, _m in res.errors:
            if e != errno_mod.ENOENT:  # already gone with its last member
                self.errors[errname(e)] += 1

    def _hop(self, hkey: tuple[int, str, str]) -> Hop:
        hid = self.hop_by_key.get(hkey)
        if hid is not None:
            return self.hops[hid]
        assert self.writer is not None
        afi, address, ifname = hkey
        gateway, oif = self.resolver.resolve(afi, address, ifname)
        hop = Hop(self._alloc(), afi, address, ifname, gateway, oif)
        self._send_hop(hop)
        self.hops[hop.id] = hop
        self.hop_by_key[hkey] = hop.id
        return hop

    def _send_hop(self, hop: Hop) -> None:
        assert self.writer is not None
        res = self.writer.request(
            [
                (
                    nl.RTM_NEWNEXTHOP,
                    nl.NLM_F_CREATE | nl.NLM_F_REPLACE,
                    nl.nh_single(hop.id, hop.afi, hop.gateway, hop.oif, self.config.protocol),
                )
            ]
        )
        if res.errors:
            _i, e, msg = res.errors[0]
            self.errors[errname(e)] += 1
            raise nl.NetlinkError(e, f"nexthop {hop.address}: {msg or errname(e)}")

    def _send_group(self, g: Group) -> None:
        assert self.writer is not None
        res = self.writer.request(
            [
                (
                    nl.RTM_NEWNEXTHOP,
                    nl.NLM_F_CREATE | nl.NLM_F_REPLACE,
                    nl.nh_group(g.id, g.members, self.config.protocol),
                )
            ]
        )
        if res.errors:
            _i, e, msg = res.errors[0]
            self.errors[errname(e)] += 1
            raise nl.NetlinkError(e, f"nexthop group {g.id}: {msg or errname(e)}")

    def _group_for(self, afi: int, nhs: Any) -> int:
        """The group for a NextHopSet, made (with its next hops) if new. Raises on a next hop that
        does not resolve or that the kernel refuses."""
        hkeys = tuple(sorted({(_hop_afi(a), a, i) for a, _peer, i in nhs.hops}))
        gkey = (afi, hkeys)
        gid = self.group_by_key.get(gkey)
        if gid is None:
            hops = [self._hop(h) for h in hkeys]
            g = Group(self._alloc(), afi, gkey, [h.id for h in hops])
            self._send_group(g)
            self.groups[g.id] = g
            self.group_by_key[gkey] = g.id
            for h in hops:
                h.groups.add(g.id)
            gid = g.id
        for a, peer, i in nhs.hops:
            hid = self.hop_by_key.get((_hop_afi(a), a, i))
            if hid is not None and peer:
                self.hops[hid].peers.add(peer)
        return gid

    def _gc(self) -> None:
        """Drop groups no route uses any more, then next hops in no group."""
        if self.held:  # held deletes still point at their groups: after they are written
            return
        dead = [g for g in self.groups.values() if g.routes <= 0]
        if not dead:
            return
        for g in dead:
            del self.groups[g.id]
            if self.group_by_key.get(g.key) == g.id:
                del self.group_by_key[g.key]
            for hid in g.members:
                if hid in self.hops:
                    self.hops[hid].groups.discard(g.id)
        lonely = [h for h in self.hops.values() if not h.groups]
        for h in lonely:
            del self.hops[h.id]
            self.hop_by_key.pop((h.afi, h.address, h.ifname), None)
        self._delete_nh([g.id for g in dead] + [h.id for h in lonely])

    # --- the feed --------------------------------------------------------------------------------
    def on_best(self, batch: Any) -> dict:
        """Apply a BestBatch: replace announced routes, delete withdrawn ones. Returns counts."""
        afi = FAMILIES.get(batch.family)
        if afi is None or self.writer is None:
            return {"ignored": True}
        width = 32 if afi == 1 else 128
        with self.lock:
            table = self.routes[afi]
            stale = self.stale[afi]
            groups = self.groups
            add_p: list[Any] = []  # Prefix-like (afi, length, value, path id)
            add_g: list[int] = []  # nexthop group per route
            dels: dict[int, int] = {}  # route key -> the nexthop id it points at now (0: unknown)
            cache: dict[int, int] = {}
            if batch.resync:
                keep = {route_key(afi, p.value, p.length) for p, _n in batch.announce}
                for k in [k for k in table if k not in keep]:
                    g0 = dels[k] = table.pop(k)
                    groups[g0].routes -= 1
                    self.failed.pop((afi, k), None)
            pending, failed = self.pending, self.failed
            removed: Counter[int] = Counter()
            last_cur, run = -1, 0
            pop = table.pop
            for p in batch.withdraw:
                _afi, length, value, _pid = p
                k = (length << width) | (value >> (width - length))
                if pending:
                    pending.pop((afi, k), None)
                if failed:
                    failed.pop((afi, k), None)
                cur = pop(k, None)
                if cur is None:
                    if not stale:
                        continue
                    cur = stale.pop(k, None)
                    if cur is None:
                        continue
                    dels[k] = cur
                    continue
                else:
                    if cur == last_cur:
                        run += 1
                    else:
                        if run:
                            removed[last_cur] += run
                        last_cur, run = cur, 1
                    if stale:
                        stale.pop(k, None)
                dels[k] = cur
            if run:
                removed[last_cur] += run
            for g, c in removed.items():
                groups[g].routes -= c
            last_nhs: Any = None
            gid = -1
            added: Counter[int] = Counter()
            run = 0  # routes added to `gid` since it last changed (a Counter per route costs 30%)
            aps, ags = add_p.append, add_g.append
            get = table.get
            for p, nhs in batch.announce:
                _afi, length, value, _pid = p
                k = (length << width) | (value >> (width - length))
                if nhs is not last_nhs:  # a batch mostly repeats one interned NextHopSet
                    last_nhs = nhs
                    if run:
                        added[gid] += run
                        run = 0
                    gid = cache.get(id(nhs), 0)
                    if not gid:
                        try:
                            gid = self._group_for(afi, nhs)
                        except (LookupError, OSError) as e:
                            gid = -1
                            log.warning("next hop unusable, routes pending", error=str(e))
                        cache[id(nhs)] = gid
                if pending:
                    pending.pop((afi, k), None)
                if gid < 0:
                    pending[(afi, k)] = nhs
                    continue
                if stale:
                    stale.pop(k, None)
                cur = get(k)
                if cur is not None:
                    if cur == gid or groups[cur].key == groups[gid].key:
                        continue
                    groups[cur].routes -= 1
                table[k] = gid
                run += 1
                aps(p)
                ags(gid)
            if run:
                added[gid] += run
            for g, c in added.items():
                groups[g].routes += c
            out = self._write(afi, add_p, add_g, dels)
            self._gc()
            return out

    @staticmethod
    def _columns(afi: int, triples: list[tuple[int, int, int]]) -> tuple[list[Any], list[int]]:
        """(value, length, group) triples as the prefix and group columns _write takes."""
        return [(afi, ln, v, None) for v, ln, _g in triples], [g for _v, _ln, g in triples]

    def _write(
        self, afi: int, add_p: list[Any], add_g: list[int], dels: dict[int, int], hold: bool = True
    ) -> dict:
        """Write replaces (prefix and group columns) and deletes (route key -> the nexthop id the
        route points at now, 0 if unknown: a flush re-points the route at a clone of it)."""
        assert self.writer is not None
        out = {"replaced": 0, "deleted": 0, "errors": 0}
        if afi == 1 and self.held and add_p:  # announced again: its delete must not follow the replace
            held = self.held
            for q in add_p:
                held.pop((q[1] << 32) | (q[2] >> (32 - q[1])), None)
        if dels and afi == 1 and hold:
            dels = self._hold(dels, add_p)
        if dels:
            if afi == 1 and len(dels) >= BULK_DELETE_MIN:
                res = self._flush_routes(afi, dels)
            else:
                res = self.writer.delete_routes(afi, sorted(dels, reverse=True))
            bad = 0
            for _i, e, _m in res.errors:
                if e not in (errno_mod.ESRCH, errno_mod.ENOENT):  # already gone is fine
                    self.errors[errname(e)] += 1
                    bad += 1
            out["deleted"] = res.sent - len(res.errors)
            if afi == 1:  # the gap to the next batch counts from the end of this write
                self.window = (time.monotonic(), self.window[1])
            out["errors"] += bad
            self.counters["deleted"] += out["deleted"]
            if res.lost:
                self._lost()
        if add_p:
            res = self.writer.replace_routes(afi, add_p, add_g)
            for i, e, m in res.errors:
                _a, ln, v = add_p[i][:3]
                self.failed[(afi, route_key(afi, v, ln))] = (e, m)
                self.errors[errname(e)] += 1
            if res.errors:
                i, e, m = res.errors[0]
                log.warning(
                    "routes refused by the kernel",
                    count=len(res.errors),
                    first=prefix_text(afi, route_key(afi, add_p[i][2], add_p[i][1])),
                    error=m or errname(e),
                )
            failed_now = {route_key(afi, add_p[i][2], add_p[i][1]) for i, _e, _m in res.errors}
            if self.failed:
                for q in add_p:
                    k = route_key(afi, q[2], q[1])
                    if k not in failed_now:
                        self.failed.pop((afi, k), None)
            out["replaced"] = res.sent - len(res.errors)
            out["errors"] += len(res.errors)
            self.counters["replaced"] += out["replaced"]
            if res.lost:
                self._lost()
        return out

    def _hold(self, dels: dict[int, int], add_p: list[Any]) -> dict[int, int]:
        """IPv4 deletes: those to write now (with the held ones that are due), holding them while a
        withdrawal stream is on (see STREAM_GAP)."""
        now = time.monotonic()
        last, count = self.window
        if now - last > STREAM_GAP:
            count = 0
        self.window = (now, count + len(dels))
        if not self.held and count < BULK_DELETE_MIN:
            return dels  # no stream: at once
        if not self.held:
            self.held_since = now
        held = self.held
        held.update(dels)
        if add_p:  # a prefix withdrawn and announced in this batch: the replace is the last word
            for q in add_p:
                held.pop((q[1] << 32) | (q[2] >> (32 - q[1])), None)
        if len(held) >= BULK_DELETE_CHUNK or now - self.held_since >= HOLD_DELETES:
            out = dict(held)
            held.clear()
            return out
        return {}

    def flush_withdrawn(self, due_only: bool = False) -> dict:
        """Write the held IPv4 deletes (all, or only once HOLD_DELETES is up)."""
        with self.lock:
            if not self.held or self.writer is None:
                return {"deleted": 0}
            if due_only and time.monotonic() - self.held_since < HOLD_DELETES:
                return {"deleted": 0}
            dels = dict(self.held)
            self.held.clear()
            out = self._write(1, [], [], dels, hold=False)
            self._gc()
            return {"deleted": out["deleted"]}

    def _clone(self, nhid: int, new: int, dumped: dict[int, nl.NexthopEntry]) -> bytes | None:
        """The body of a nexthop object `new` forwarding like `nhid` (same gateway and device, or a
        group of the same members), or None when that is not known."""
        proto = self.config.protocol
        h = self.hops.get(nhid)
        if h is not None:
            return nl.nh_single(new, h.afi, h.gateway, h.oif, proto)
        g = self.groups.get(nhid)
        if g is not None:
            return nl.nh_group(new, g.members, proto) if g.members else None
        e = dumped.get(nhid)  # a previous run's object (stale) or a stray: as the kernel has it
        if e is None or e.blackhole:
            return None
        if e.group:
            return nl.nh_group(new, e.group, proto)
        if e.gateway and e.oif:
            return nl.nh_single(new, 1 if len(e.gateway) == 4 else 2, e.gateway, e.oif, proto)
        return None

    def _flush_routes(self, afi: int, dels: dict[int, int]) -> nl.Result:
        """Delete routes (route key -> the nexthop id it points at) a chunk at a time: each route is
        re-pointed at a new clone of its nexthop object (one clone per object, for the
        FLUSH_CLONES_MAX most used in the chunk), then the clones are deleted: the kernel flushes the
        routes using them in one walk of the FIB per clone (7-19 ms with 200k routes installed)
        without the per-route rescan that makes ascending deletes slow. A route forwards as before
        until it leaves. Routes through other objects, or whose clone the kernel refuses, are
        deleted one by one (descending). Result.sent and errors are as delete_routes would give
        them."""
        assert self.writer is not None
        w = self.writer
        keys = sorted(dels, reverse=True)
        res = nl.Result(sent=len(keys))
        dumped: dict[int, nl.NexthopEntry] | None = None
        for start in range(0, len(keys), BULK_DELETE_CHUNK):
            part = keys[start : start + BULK_DELETE_CHUNK]
            uses = Counter(dels[k] for k in part)
            olds: list[int] = []
            news: list[int] = []
            msgs: list[tuple[int, int, bytes]] = []
            for old, _n in uses.most_common():
                if len(olds) >= FLUSH_CLONES_MAX:
                    break
                if not old:
                    continue
                if dumped is None and old not in self.hops and old not in self.groups:
                    dumped = {e.id: e for e in nl.dump_nexthops(w)}
                body = self._clone(old, self.next_id, dumped or {})
                if body is not None:
                    olds.append(old)
                    news.append(self._alloc())
                    msgs.append((nl.RTM_NEWNEXTHOP, nl.NLM_F_CREATE, body))
            clones: dict[int, int] = {}  # old id -> its clone
            if msgs:
                made = w.request(msgs)
                refused = {i for i, _e, _m in made.errors}
                clones = {old: news[i] for i, old in enumerate(olds) if i not in refused}
            moving = [i for i, k in enumerate(part) if dels[k] in clones]
            direct = [i for i, k in enumerate(part) if dels[k] not in clones]
            errors: list[tuple[int, int, str]] = []
            lost = False
            if clones:
                r = w.replace_routes(
                    afi,
                    [(afi, *split_key(afi, part[i])[::-1], None) for i in moving],
                    [clones[dels[part[i]]] for i in moving],
                )
                lost = r.lost
                ids = list(clones.values())
                gone = w.request([(nl.RTM_DELNEXTHOP, 0, nl.nh_id_only(c)) for c in ids])
                stuck = {ids[i] for i, _e, _m in gone.errors}
                # routes the kernel refused to re-point, and those of a clone that stays: one by one
                again = [moving[j] for j, _e, _m in r.errors]
                again_set = set(again)
                again += [i for i in moving if clones[dels[part[i]]] in stuck and i not in again_set]
                if again:
                    r2 = w.delete_routes(afi, [part[i] for i in again])
                    errors += [(again[j], e, m) for j, e, m in r2.errors]
                    lost = lost or r2.lost
                if stuck:
                    self._delete_nh(sorted(stuck))
                self.counters["delete-flushes"] += 1
            if direct:
                r3 = w.delete_routes(afi, [part[i] for i in direct])
                errors += [(direct[j], e, m) for j, e, m in r3.errors]
                lost = lost or r3.lost
            res.errors.extend((start + i, e, m) for i, e, m in sorted(errors))
            res.lost = res.lost or lost
        return res

    def _lost(self) -> None:
        self.errors["ENOBUFS"] += 1
        log.warning("netlink replies lost (ENOBUFS): full resync")
        self.resync()

    def retry(self) -> dict:
        """Routes pending on a next hop or refused by the kernel: try them again."""
        with self.lock:
            out: dict[str, int] = Counter()
            pend, self.pending = self.pending, {}
            by_afi: dict[int, list] = {1: [], 2: []}
            for (afi, k), nhs in pend.items():
                v, ln = split_key(afi, k)
                by_afi[afi].append((Prefix(afi, ln, v), nhs))
            for afi, ann in by_afi.items():
                if ann:
                    out.update(self.on_best(_Batch(AFI_NAME[afi], tuple(ann))))
            fails = list(self.failed)
            for afi in (1, 2):
                adds = [
                    (*split_key(afi, k), self.routes[afi][k])
                    for a, k in fails
                    if a == afi and k in self.routes[afi]
                ]
                out.update(self._write(afi, *self._columns(afi, adds), {}))  # type: ignore[arg-type]
            return dict(out)

    # --- peers and next hops ------------------------------------------------------------------
    def on_peer_state(self, event: Any) -> dict | None:
        """PeerStateChanged: a session leaving Established re-points its routes at once."""
        if getattr(event, "state", "") == "down":
            return self.peer_down(event.peer.name)
        return None

    def peer_down(self, peer: str) -> dict:
        """Delete the nexthop objects only `peer` used: the kernel takes them out of every group
        (one message re-points every route of a group) and removes routes of groups left empty."""
        t0 = time.monotonic()
        with self.lock:
            gone = []
            for h in self.hops.values():
                if peer in h.peers:
                    h.peers.discard(peer)
                    if not h.peers:
                        gone.append(h)
            repointed = emptied = removed = 0
            dead_groups = set()
            for h in gone:
                for gid in h.groups:
                    g = self.groups[gid]
                    g.members.remove(h.id)
                    if self.group_by_key.get(g.key) == gid:
                        del self.group_by_key[g.key]
                    g.key = (g.afi, tuple(k for k in g.key[1] if k != (h.afi, h.address, h.ifname)))
                    if g.members:
                        self.group_by_key.setdefault(g.key, gid)
                    else:
                        dead_groups.add(gid)
            dead_routes: dict[int, list[int]] = {1: [], 2: []}
            dead_afis = set()
            for gid in dead_groups:
                dead_afis.add(self.groups.pop(gid).afi)
                emptied += 1
            for afi in dead_afis:  # one pass per table, not one per group (3,800 x 580k)
                table = self.routes[afi]
                keys = [k for k, v in table.items() if v in dead_groups]
                for k in keys:
                    del table[k]
                if self.failed:
                    for k in keys:
                        self.failed.pop((afi, k), None)
                dead_routes[afi] = keys
                removed += len(keys)
            if len(dead_groups) > FLUSH_GROUPS_MAX and self.writer is not None:
                # the kernel walks the whole FIB once per emptied group that routes still use:
                # past a few groups, deleting their routes first (batched) is far cheaper
                for afi, keys in dead_routes.items():
                    if keys:
                        keys.sort(reverse=True)
                        self.counters["deleted"] += self.writer.delete_routes(afi, keys).ok
            repointed = len({gid for h in gone for gid in h.groups} - dead_groups)
            for h in gone:
                del self.hops[h.id]
                self.hop_by_key.pop((h.afi, h.address, h.ifname), None)
            if gone:
                self._delete_nh([h.id for h in gone])
            out = {
                "peer": peer,
                "nexthops-removed": len(gone),
                "groups-repointed": repointed,
                "groups-removed": emptied,
                "routes-removed": removed,
                "seconds": round(time.monotonic() - t0, 6),
            }
            log.info("peer down: next hops removed", **out)
            return out

    def refresh_nexthops(self) -> dict:
        """Resolve every next hop again; one that moved (other gateway or interface) is replaced in
        place, which re-points every route using it."""
        with self.lock:
            moved = failed = 0
            for h in list(self.hops.values()):
                try:
                    gw, oif = self.resolver.resolve(h.afi, h.address, h.ifname)
                except LookupError:
                    failed += 1
                    continue
                if (gw, oif) != (h.gateway, h.oif):
                    h.gateway, h.oif = gw, oif
                    try:
                        self._send_hop(h)
                        moved += 1
                    except OSError:
                        failed += 1
            return {"moved": moved, "failed": failed}

    # --- stale routes ----------------------------------------------------------------------------
    def stale_count(self) -> int:
        return len(self.stale[1]) + len(self.stale[2])

    def tick(self, now: float | None = None) -> dict | None:
        """Called periodically: sweep stale routes once their time is up."""
        if self.held:
            self.flush_withdrawn(due_only=True)
        now = self.clock() if now is None else now
        if (self.stale_nh or self.stale_count()) and now - self.stale_since >= self.config.stale_time:
            return self.sweep()
        return None

    def sweep(self) -> dict:
        """Remove what is still stale: the old nexthop objects (the kernel drops the routes that
        still use them), then stale routes of our protocol without one."""
        assert self.writer is not None
        with self.lock:
            n = self.stale_count()
            self._delete_nh(sorted(self.stale_nh))
            self.stale_nh.clear()
            removed = 0
            for afi in (1, 2):
                st = self.stale[afi]
                if not st:
                    continue
                left = [
                    k
                    for k in (
                        route_key(afi, v, ln)
                        for v, ln, _n, _p in nl.dump_routes(self.writer, afi, self.config.protocol)
                    )
                    if k in st and k not in self.routes[afi]
                ]
                left.sort(reverse=True)
                removed += self.writer.delete_routes(afi, left).ok
                st.clear()
            self.counters["deleted"] += removed
            log.info("stale routes swept", stale=n, deleted_one_by_one=removed)
            return {"swept": n}

    # --- monitor and resync ---------------------------------------------------------------------
    def poll_monitor(self, timeout: float = 0.0, max_reads: int = 1000) -> dict:
        """Read monitor events (bounded); re-assert our routes that someone deleted or overwrote."""
        if self.monitor is None:
            return {}
        out = {"reasserted": 0, "resync": 0}
        if timeout and not select.select([self.monitor], [], [], timeout)[0]:
            return out
        redo: dict[int, dict[int, int]] = {1: {}, 2: {}}
        nh_lost = False
        proto = self.config.protocol
        with self.lock:
            for _ in range(max_reads):
                try:
                    data = self.monitor.recv(1 << 20)
                except BlockingIOError:
                    break
                except OSError as e:
                    if e.errno == errno_mod.ENOBUFS:
                        nh_lost = True
                        self.errors["ENOBUFS"] += 1
                        continue
                    raise
                for ev in nl.parse_route_events(data):
                    if isinstance(ev, tuple):
                        ty, nhid = ev
                        if ty == nl.RTM_DELNEXTHOP and (nhid in self.hops or nhid in self.groups):
                            log.warning("nexthop object deleted behind ze's back", id=nhid)
                            nh_lost = True
                        continue
                    if ev.table != self.table:
                        continue
                    k = route_key(ev.afi, ev.value, ev.length)
                    gid = self.routes[ev.afi].get(k)
                    if gid is None:
                        continue
                    if ev.type == nl.RTM_DELROUTE and ev.protocol == proto:
                        redo[ev.afi][k] = gid
                        log.warning(
                            "route deleted behind ze's back: re-asserted", prefix=prefix_text(ev.afi, k)
                        )
                    elif ev.type == nl.RTM_NEWROUTE and (ev.protocol != proto or ev.nhid != gid):
                        redo[ev.afi][k] = gid
                        log.warning(
                            "route overwritten behind ze's back: re-asserted",
                            prefix=prefix_text(ev.afi, k),
                            protocol=ev.protocol,
                        )
            if nh_lost:
                self.resync()
                out["resync"] = 1
            else:
                for afi, ks in redo.items():
                    if ks:
                        adds = [(*split_key(afi, k), g) for k, g in ks.items()]
                        self._write(afi, *self._columns(afi, adds), {})
                        out["reasserted"] += len(adds)
            self.counters["reasserted"] += out["reasserted"]
        return out

    def resync(self) -> dict:
        """Make the kernel match our state: recreate missing nexthop objects, rewrite routes that
        differ, delete routes of our protocol we do not want (stale ones stay until the sweep)."""
        assert self.writer is not None
        with self.lock:
            self.counters["resyncs"] += 1
            self.flush_withdrawn()
            present = {e.id for e in nl.dump_nexthops(self.writer)}
            for h in self.hops.values():
                if h.id not in present:
                    try:
                        self._send_hop(h)
                    except OSError:
                        pass
            for g in self.groups.values():
                if g.id not in present:
                    try:
                        self._send_group(g)
                    except OSError:
                        pass
            out = {"rewritten": 0, "deleted": 0}
            for afi in (1, 2):
                want = self.routes[afi]
                stale = self.stale[afi]
                have = {
                    route_key(afi, v, ln): n
                    for v, ln, n, _p in nl.dump_routes(self.writer, afi, self.config.protocol)
                }
                adds = [(*split_key(afi, k), g) for k, g in want.items() if have.get(k) != g]
                dels = {k: n for k, n in have.items() if k not in want and k not in stale}
                r = self._write(afi, *self._columns(afi, adds), dels, hold=False)
                out["rewritten"] += r["replaced"]
                out["deleted"] += r["deleted"]
            log.info("fib resync", **out)
            return out

    def run_monitor(self, stop: threading.Event, interval: float = 0.2) -> threading.Thread:
        """A thread that polls the monitor and ticks the stale timer until `stop` is set."""

        def loop() -> None:
            while not stop.is_set():
                try:
                    self.poll_monitor(timeout=HOLD_DELETES if self.held else interval)
                    if self.held:
                        self.flush_withdrawn(due_only=True)
                    self.tick()
                except Exception as e:  # never fatal: log, count, keep going
                    self.errors["monitor"] += 1
                    log.error("fib monitor failed", error=repr(e))
                    stop.wait(interval)

        t = threading.Thread(target=loop, name="ze-fib-monitor", daemon=True)
        t.start()
        return t

    # --- status ------------------------------------------------------------------------------
    def status(self) -> dict:
        with self.lock:
            failed = len(self.failed)
            installed = len(self.routes[1]) + len(self.routes[2]) - failed
            out: dict[str, Any] = {
                "state": self.state,
                "table": self.table,
                "protocol": self.config.protocol,
                "installed": installed,
                "pending": len(self.pending),
                "failed": failed,
                "stale": self.stale_count(),
                "nexthops": len(self.hops),
                "groups": len(self.groups),
                "families": {
                    AFI_NAME[a]: {
                        "installed": len(self.routes[a]) - sum(1 for f in self.failed if f[0] == a),
                        "stale": len(self.stale[a]),
                    }
                    for a in (1, 2)
                },
                "errors": dict(self.errors),
                "reasserted": self.counters["reasserted"],
                "resyncs": self.counters["resyncs"],
                # route messages written since start (a peer going down should add none)
                "routes-replaced": self.counters["replaced"],
                "routes-deleted": self.counters["deleted"],
                # IPv4 delete batches that left by a flush (see BULK_DELETE_MIN)
                "delete-flushes": self.counters["delete-flushes"],
                "deletes-held": len(self.held),
            }
            if self.reason:
                out["reason"] = self.reason
            return out


@dataclass(frozen=True, slots=True)
class _Batch:
    family: str
    announce: tuple = ()
    withdraw: tuple = ()
    resync: bool = False
