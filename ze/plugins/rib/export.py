"""Export policy (the default rules) and Adj-RIB-Out, and the UPDATEs that carry it to a peer.

What a peer is sent is the Loc-RIB best route, rewritten for that peer (RFC 4271 5.1, 9.1.3,
9.2; RFC 4456 for reflection; RFC 1997 well-known communities):

- never back to the peer it came from;
- NO_ADVERTISE: to nobody; NO_EXPORT and NO_EXPORT_SUBCONFED: not to eBGP peers;
- iBGP-learned to iBGP peers only when reflecting (RFC 4456 6: from a client to every iBGP
  peer, from a non-client to clients only), adding ORIGINATOR_ID (the source's router id) when
  absent and our cluster id in front of CLUSTER_LIST (a route already carrying our cluster id
  is a loop and not sent);
- to eBGP peers: our AS prepended to AS_PATH, NEXT_HOP set to our address on that session
  (next-hop self), LOCAL_PREF, MED, ORIGINATOR_ID and CLUSTER_LIST removed; not sent when the
  path already holds the peer's AS (it would drop it, RFC 4271 9.1.2);
- to iBGP peers: LOCAL_PREF set to the degree of preference, next hop kept (or our address
  with next-hop-self-ibgp).

The rewritten route (next hop + attributes, 4-byte AS wide) is interned per destination
(`OutRoute`), so the Adj-RIB-Out of a full table holds one reference per prefix.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator
from typing import Any

from ze.bgp.wire.attr.aggregator import Aggregator
from ze.bgp.wire.attr.as4_aggregator import As4Aggregator
from ze.bgp.wire.attr.as4_path import As4Path
from ze.bgp.wire.attr.aspath import AS_SEQUENCE, AS_SET, MAX_SEGMENT, AsPath, pack_segments
from ze.bgp.wire.attr.base import OPTIONAL, TRANSITIVE
from ze.bgp.wire.attr.community import NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED
from ze.bgp.wire.header import HEADER_LEN, MARKER
from ze.bgp.wire.update import NlriSection, RawAttribute, build_updates
from ze.core.family import IPV4_UNICAST, Family
from ze.core.log import get_logger
from ze.plugins.rib.attrs import (
    AGGREGATOR,
    AS_PATH,
    CLUSTER_LIST,
    LOCAL_PREF,
    MED,
    ORIGINATOR_ID,
    AttrStore,
)
from ze.plugins.rib.best import preference
from ze.plugins.rib.table import PeerState, RibConfig, Selection, prefix_of

log = get_logger("ze.rib")
_U32 = struct.Struct("!I")
_U16 = struct.Struct("!H")
_LEN_TYPE = struct.Struct("!HB")
UPDATE = 2
NEXT_HOP = 3
_EBGP_DROP = frozenset({LOCAL_PREF, MED, ORIGINATOR_ID, CLUSTER_LIST})


class OutRoute:
    """One rewritten route as sent to one peer: next hop and (code, flags, value) attributes."""

    __slots__ = ("encoded", "items", "key", "next_hop", "refs")

    def __init__(self, key: Any, next_hop: str, items: tuple[tuple[int, int, bytes], ...]) -> None:
        self.key = key
        self.next_hop = next_hop
        self.items = items
        self.refs = 0
        self.encoded: dict[int, bytes] | None = None  # ContextID -> attribute block with NEXT_HOP

    def classic_block(self, ctx: Any) -> bytes:
        """The whole path-attribute block of an IPv4 unicast UPDATE (NEXT_HOP included, sorted by
        type code) as sent under `ctx`, encoded once per context."""
        if self.encoded is None:
            self.encoded = {}
        block = self.encoded.get(ctx.id)
        if block is None:
            attrs = [
                *self.attributes(ctx),
                RawAttribute(ipaddress.IPv4Address(self.next_hop).packed, TRANSITIVE, NEXT_HOP),
            ]
            buf = bytearray()
            for a in sorted(attrs, key=lambda a: a.CODE):
                a.encode_into(buf, ctx)
            block = self.encoded[ctx.id] = bytes(buf)
        return block

    def attributes(self, ctx: Any = None) -> list[Any]:
        """As wire Attribute objects for build_updates. AS_PATH and AGGREGATOR re-encode for an
        ASN2 peer (4-byte ASNs become AS_TRANS), and then carry the real values in AS4_PATH and
        AS4_AGGREGATOR when any ASN needs 4 bytes (RFC 6793 4.2.2; confederation segments are
        left out of AS4_PATH)."""
        out: list[Any] = []
        old = ctx is not None and not ctx.asn4
        for code, flags, value in self.items:
            if code == AS_PATH:
                path = AsPath(value, flags, asn4=True)
                out.append(path)
                segs = [(t, a) for t, a in path.segments() if t in (AS_SEQUENCE, AS_SET)]
                if old and any(x > 0xFFFF for _t, a in segs for x in a):
                    out.append(As4Path.from_value(segs))
            elif code == AGGREGATOR:
                agg = Aggregator(value, flags, asn4=True)
                out.append(agg)
                if old and agg.asn > 0xFFFF:
                    out.append(As4Aggregator.from_value(agg.asn, agg.address))
            else:
                out.append(RawAttribute(value, flags, code))
        return out


def rules(config: RibConfig) -> tuple:
    """The part of the rib config the export rules read (a change of it rewrites what peers get)."""
    return (
        config.route_reflector_clients,
        config.cluster_id or config.router_id,
        config.next_hop_self_ibgp,
        config.default_local_pref,
    )


class Exporter:
    def __init__(self, config: RibConfig, store: AttrStore) -> None:
        self.store = store
        self.routes: dict[Any, OutRoute] = {}
        self.unsendable = 0  # prefixes build_updates refused (counted, logged)
        self.reconfigure(config)

    def reconfigure(self, config: RibConfig) -> None:
        """New rules for the routes rewritten from now on (the caller rebuilds what peers hold)."""
        self.config = config
        self.cluster_id = _ip4(config.cluster_id or config.router_id)

    # -- policy ----------------------------------------------------------------------------------

    def allowed(self, src: PeerState, dest: PeerState, pa: Any) -> bool:
        if src is dest:
            return False
        coms = pa.communities
        if coms:
            if NO_ADVERTISE in coms:
                return False
            if not dest.ibgp and (NO_EXPORT in coms or NO_EXPORT_SUBCONFED in coms):
                return False
        if src.ibgp and dest.ibgp:
            clients = self.config.route_reflector_clients
            if src.name not in clients and dest.name not in clients:
                return False
        if not dest.ibgp:
            for _stype, asns in pa.as_path:
                if dest.remote_as in asns:
                    return False
        return True

    def rewrite(self, src: PeerState, dest: PeerState, pa: Any, pid: int = 0) -> OutRoute | None:
        if not self.allowed(src, dest, pa):
            return None
        items = self.store.items(pa)
        cfg = self.config
        if not dest.ibgp:
            items = [i for i in items if i[0] not in _EBGP_DROP]
            items = _set(items, AS_PATH, TRANSITIVE, _prepend(pa.as_path, dest.local_as))
            next_hop = _self(dest.local_address, pa.next_hop)
        else:
            items = _set(
                items, LOCAL_PREF, TRANSITIVE, _U32.pack(preference((src, pid, pa), cfg.default_local_pref))
            )
            if AS_PATH not in (i[0] for i in items):
                items = _set(items, AS_PATH, TRANSITIVE, b"")
            next_hop = _self(dest.local_address, pa.next_hop) if cfg.next_hop_self_ibgp else pa.next_hop
            if src.ibgp:  # reflected (allowed() let it through)
                if pa.originator_id is None:
                    items = _set(items, ORIGINATOR_ID, OPTIONAL, _U32.pack(src.router_id))
                old = next((v for c, _f, v in items if c == CLUSTER_LIST), b"")
                ids = struct.unpack(f"!{len(old) // 4}I", old[: len(old) // 4 * 4])
                if self.cluster_id in ids:
                    return None
                items = _set(items, CLUSTER_LIST, OPTIONAL, _U32.pack(self.cluster_id) + old)
        key = (next_hop, tuple(items))
        r = self.routes.get(key)
        if r is None:
            r = self.routes[key] = OutRoute(key, next_hop, key[1])
        return r

    # -- Adj-RIB-Out -----------------------------------------------------------------------------

    def peek(self, sel: Selection | None, dest: PeerState) -> OutRoute | None:
        """The route `dest` gets for a selection (cached per source set and peer), not retained."""
        if sel is None:
            return None
        src, pid, pa = sel.paths[0]
        ck = (pa.serial, src.idx, pid)
        r = dest.out_cache.get(ck, False)
        if r is False:
            if len(dest.out_cache) > 200000:
                dest.out_cache.clear()
            r = dest.out_cache[ck] = self.rewrite(src, dest, pa, pid)
        return r

    def route(self, sel: Selection | None, dest: PeerState) -> OutRoute | None:
        """The route `dest` gets for a selection (cached per source set and peer), retained."""
        r = self.peek(sel, dest)
        if r is not None:
            r.refs += 1
        return r

    def release(self, r: OutRoute) -> None:
        r.refs -= 1
        if r.refs <= 0:
            self.routes.pop(r.key, None)

    def refresh(self, dest: PeerState, fam: Family, key: int, sel: Selection | None) -> None:
        out = dest.out.get(fam)
        if out is None:
            return
        new = self.peek(sel, dest)
        old = out.get(key)
        if new is not old:
            self.put(dest, fam, out, key, new, old)

    def put(
        self, dest: PeerState, fam: Family, out: dict, key: int, new: OutRoute | None, old: OutRoute | None
    ) -> None:
        """`dest`'s Adj-RIB-Out `out` (of `fam`) holds `new` for `key` instead of `old` (not `new`),
        pending to be sent. `new` comes from peek(): it is retained here."""
        if new is None:
            del out[key]
        else:
            out[key] = new
            new.refs += 1
        if old is not None:
            self.release(old)
        pending = dest.pending.get(fam, set())
        if pending is not None:
            pending.add(key)
            dest.pending[fam] = pending

    def updates(self, dest: PeerState, max_prefixes: int = 20000) -> Iterator[bytes]:
        """Drain what is pending for `dest` into whole UPDATE messages (its send context)."""
        ctx = dest.send_ctx
        assert ctx is not None
        for fam in list(dest.pending):
            pending = dest.pending.pop(fam)
            out = dest.out.get(fam, {})
            keys = out.keys() if pending is None else list(pending)
            withdraw: list[int] = []
            groups: dict[OutRoute, list[int]] = {}
            n = 0
            for key in keys:
                r = out.get(key)
                if r is None:
                    withdraw.append(key)
                else:
                    groups.setdefault(r, []).append(key)
                n += 1
                if n >= max_prefixes:
                    yield from self._build(fam, withdraw, groups, ctx)
                    withdraw, groups, n = [], {}, 0
            yield from self._build(fam, withdraw, groups, ctx)

    def _build(self, fam: Family, withdraw: list[int], groups: dict, ctx: Any) -> Iterator[bytes]:
        afi = int(fam.afi)
        classic = fam == IPV4_UNICAST
        if withdraw:
            if classic:
                yield from _classic(b"", withdraw, ctx, withdrawn=True)
            else:
                yield from build_updates(
                    [NlriSection(fam, "del", [prefix_of(afi, k) for k in withdraw])], (), ctx
                )
        for r, keys in groups.items():
            if classic and r.next_hop and ":" not in r.next_hop:
                yield from _classic(r.classic_block(ctx), keys, ctx)
                continue
            hops = (r.next_hop,) if r.next_hop else ()
            section = NlriSection(fam, "add", [prefix_of(afi, k) for k in keys], hops)
            try:
                msgs = list(build_updates([section], r.attributes(ctx), ctx))
            except ValueError as e:  # cannot be said in this session (next hop family, size ...)
                self.unsendable += len(keys)
                log.warning("routes not sent", family=fam.name, prefixes=len(keys), error=str(e))
                continue
            yield from msgs


def _classic(block: bytes, keys: list[int], ctx: Any, withdrawn: bool = False) -> Iterator[bytes]:
    """IPv4 unicast UPDATEs for prefix keys: NLRI after `block` (the attributes), or the
    withdrawn-routes field; as many prefixes per message as ctx.max_message allows. Byte for
    byte what build_updates writes, without a Prefix per route."""
    room = ctx.max_message - HEADER_LEN - 4 - len(block)
    pid = b"\x00\x00\x00\x00" if ctx.ipv4_addpath else b""
    field = bytearray()
    for k in keys:
        plen = k & 0xFF
        nb = (plen + 7) >> 3
        piece = pid + bytes((plen,)) + ((k >> 8) >> (32 - (nb << 3))).to_bytes(nb, "big")
        if len(field) + len(piece) > room:
            yield _frame_classic(block, field, withdrawn)
            field = bytearray()
        field += piece
    if field:
        yield _frame_classic(block, field, withdrawn)


def _frame_classic(block: bytes, field: bytearray, withdrawn: bool) -> bytes:
    if withdrawn:
        body = _U16.pack(len(field)) + field + b"\x00\x00"
    else:
        body = b"\x00\x00" + _U16.pack(len(block)) + block + field
    return MARKER + _LEN_TYPE.pack(HEADER_LEN + len(body), UPDATE) + body


def _set(items: list, code: int, flags: int, value: bytes) -> list:
    out = [i for i in items if i[0] != code]
    out.append((code, flags, value))
    out.sort()
    return out


def _prepend(path: tuple, asn: int) -> bytes:
    segs = list(path)
    if segs and segs[0][0] == AS_SEQUENCE and len(segs[0][1]) < MAX_SEGMENT:
        segs[0] = (AS_SEQUENCE, (asn, *segs[0][1]))
    else:
        segs.insert(0, (AS_SEQUENCE, (asn,)))
    return pack_segments(segs, True)


def _self(local: str, original: str) -> str:
    """Our address as the next hop, in the route's address family: an IPv4 session address
    becomes ::ffff:a.b.c.d for IPv6 routes; an IPv6 one cannot stand for IPv4 routes (without
    extended next hop), which keep their next hop."""
    if not local:
        return original
    v6_route = ":" in original
    if ":" in local:
        return local if v6_route or not original else original
    return f"::ffff:{local}" if v6_route else local


def _ip4(text: str) -> int:
    try:
        return int(ipaddress.IPv4Address(text)) if text else 0
    except ValueError:
        return 0
