"""The bgp-rib service: Adj-RIB-In per peer, Loc-RIB, Adj-RIB-Out per peer (RFC 4271 3.2, 9).

No hub, no SDK, no I/O: the plugin wiring feeds it the speaker's events and publishes what it
returns.

    rib = RibService(RibConfig(...), resolver=StaticResolver())
    rib.on_peer_up(info, send_ctx)      -> None    (a session is Established)
    rib.on_update(peer_update)          -> [BestBatch]   ("bgp/update" in, "rib/best" out)
    rib.on_peer_down(info)              -> [BestBatch]   (all its routes withdrawn, in batch)
    rib.on_next_hops_changed()          -> [BestBatch]   (the resolver saw the IGP change)
    rib.full_table(family)              -> BestBatch     (resync=True: the whole Loc-RIB)
    rib.pending_peers()                 -> [peer names with Adj-RIB-Out changes to send]
    rib.updates_for(peer_name)          -> iterator of whole UPDATE messages for that peer
    rib.pending_peers()                 -> names of peers with something to send
    rib.on_refresh(peer_name, family)   -> the family's whole Adj-RIB-Out pending again

An UPDATE is taken apart by offsets: the attribute headers are walked once, the attribute set
is interned (AttrStore) by its bytes, and the NLRI regions go through the C walk
(ze.flat.walk_nlri) into flat int lists; prefixes are stored as int keys. Best-path
selection (best.py) runs once per touched prefix, after the whole UPDATE is applied; a change
of a prefix's NextHopSet is published, and the export policy (export.py) refreshes each up
peer's Adj-RIB-Out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ze.bgp.events import BestBatch, NextHopSet, PeerInfo, PeerUpdate
from ze.bgp.wire.attr.mpreach import decode_next_hops
from ze.bgp.wire.attr.walk import walk as walk_attrs
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.nlri.flat import walk_nlri
from ze.bgp.wire.nlri.prefix import Prefix
from ze.core.errors import WireError
from ze.core.family import IPV4_UNICAST, Family
from ze.core.log import get_logger
from ze.plugins.rib import best, export
from ze.plugins.rib.attrs import MP_REACH, MP_UNREACH, NEXT_HOP, AttrStore, PathAttrs
from ze.plugins.rib.resolver import KernelResolver, StaticResolver, kernel_available
from ze.plugins.rib.table import FAMILIES, Counters, PeerState, RibConfig, Selection, selection_key

log = get_logger("ze.rib")
_KNOWN = frozenset(FAMILIES)


class RibService:
    fast_single = True  # _reselect_single when one peer is the only source (False: the general loop)

    def __init__(self, config: RibConfig | None = None, resolver: Any = None) -> None:
        self.config = config or RibConfig()
        self.resolver = resolver if resolver is not None else StaticResolver()
        self.options = best.Options(
            self.config.always_compare_med, self.config.maximum_paths, self.config.default_local_pref
        )
        self.store = AttrStore()
        self.peers: dict[str, PeerState] = {}
        self._next_idx = 0
        # family -> [(peer, table, addpath)] of peers holding routes in it (the candidate sources)
        self._sources: dict[Family, list[tuple[PeerState, dict, bool]]] = {}
        self.loc: dict[Family, dict[int, Selection]] = {f: {} for f in FAMILIES}
        self._selections: dict[Any, Selection] = {}
        self._nhsets: dict[Any, NextHopSet] = {}
        self.counters = Counters()
        self.exporter = export.Exporter(self.config, self.store)
        self._nh_text: dict[bytes, str] = {}  # NEXT_HOP bytes -> dotted quad, made once per address

    @classmethod
    def from_config(cls, section: dict, router_id: str = "") -> RibService:
        """From the `rib` config section as JSON; the IGP cost comes from the kernel unless
        `igp-cost none` (or netlink is unavailable here: then every next hop costs 0)."""
        config = RibConfig.from_json(section, router_id)
        resolver: Any = None
        if section.get("igp-cost", "kernel") == "kernel":
            reason = kernel_available()
            if reason:
                log.warning("IGP cost from the kernel unavailable, using 0", error=reason)
            else:
                resolver = KernelResolver()
        return cls(config, resolver)

    def reconfigure(self, config: RibConfig) -> bool:
        """A reload's `rib` section. Best-path options apply to the selections made from now on;
        changed export rules apply at once: each up peer's Adj-RIB-Out is rebuilt and sent again
        whole (as after a ROUTE-REFRESH). True when export rules changed. The IGP cost source
        (igp-cost) is kept until a restart."""
        old = self.config
        if config.igp_cost != old.igp_cost:
            log.warning(
                "rib igp-cost changes at the next restart", running=old.igp_cost, configured=config.igp_cost
            )
        self.config = config
        self.options = best.Options(
            config.always_compare_med, config.maximum_paths, config.default_local_pref
        )
        self.exporter.reconfigure(config)
        if export.rules(config) == export.rules(old):
            return False
        for peer in self.peers.values():
            if peer.exports:
                self._export_all(peer)
        return True

    # -- peers ---------------------------------------------------------------------------------

    def _peer(self, info: PeerInfo) -> PeerState:
        p = self.peers.get(info.name)
        if p is None:
            self._next_idx += 1
            p = self.peers[info.name] = PeerState(self._next_idx, info)
        elif p.info is not info:
            p.update(info)
        return p

    def _table(self, peer: PeerState, fam: Family) -> dict:
        t = peer.tables.get(fam)
        if t is None:
            t = peer.tables[fam] = {}
            peer.counts[fam] = 0
            self._sources.setdefault(fam, []).append((peer, t, fam in peer.addpath))
        return t

    def on_peer_up(self, info: PeerInfo, send_ctx: EncodingContext | None = None) -> None:
        """A session is Established. With a send context (or info.send_ctx) the peer gets an
        Adj-RIB-Out filled from the Loc-RIB; `updates_for(name)` then yields the whole table."""
        peer = self._peer(info)
        ctx = send_ctx if send_ctx is not None else info.send_ctx
        if ctx is None:
            return
        peer.send_ctx = ctx
        peer.exports = True
        self._export_all(peer)

    def _export_all(self, peer: PeerState) -> None:
        """Build the peer's whole Adj-RIB-Out anew from the Loc-RIB (by the exporter's rules of now),
        all of it pending."""
        for table in peer.out.values():
            for r in table.values():
                self.exporter.release(r)
        peer.out_cache.clear()
        for fam, loc in self.loc.items():
            out = peer.out[fam] = {}
            for key, sel in loc.items():
                r = self.exporter.route(sel, peer)
                if r is not None:
                    out[key] = r
            peer.pending[fam] = None  # the whole table

    def on_peer_down(self, info: PeerInfo) -> list[BestBatch]:
        """The session left Established: withdraw every route it sent, in batch, and forget
        its Adj-RIB-Out."""
        peer = self.peers.get(info.name)
        if peer is None:
            return []
        batches: list[BestBatch] = []
        peer.exports = False
        for fam in list(peer.out):
            for r in peer.out[fam].values():
                self.exporter.release(r)
        peer.out.clear()
        peer.pending.clear()
        peer.out_cache.clear()
        for fam, table in list(peer.tables.items()):
            self._sources[fam] = [s for s in self._sources.get(fam, []) if s[0] is not peer]
            release = self.store.release
            for v in table.values():
                if type(v) is dict:
                    for pa in v.values():
                        release(pa)
                else:
                    release(v)
            self.counters.withdrawn += peer.counts.get(fam, 0)
            batches += self._reselect(fam, table.keys())
            table.clear()
        peer.tables.clear()
        peer.counts.clear()
        del self.peers[info.name]
        return batches

    # -- UPDATE ------------------------------------------------------------------------------

    def on_update(self, event: PeerUpdate) -> list[BestBatch]:
        """Apply one received UPDATE to the peer's Adj-RIB-In and re-run selection for every
        prefix it touched. Returns the best-path changes (BestBatch per family, batched)."""
        peer = self._peer(event.peer)
        u = event.update
        try:
            touched = self._apply(peer, u)
        except WireError as e:
            # The speaker validated the UPDATE (RFC 7606) before publishing it: this is a bug or a
            # family we cannot parse. Count it and keep what was applied.
            self.counters.errors += 1
            log.warning("UPDATE not applied", peer=peer.name, error=str(e))
            return []
        self.counters.updates += 1
        batches: list[BestBatch] = []
        for fam, keys in touched.items():
            batches += self._reselect(fam, keys)
        return batches

    def _apply(self, peer: PeerState, u: Any) -> dict[Family, list[int]]:
        view = u.view
        ctx: EncodingContext = u.ctx
        wlen = view[0] << 8 | view[1]
        astart = 4 + wlen
        aend = astart + (view[astart - 2] << 8 | view[astart - 1])
        touched: dict[Family, list[int]] = {}
        if wlen:
            self._withdraw(peer, IPV4_UNICAST, view, 2, 2 + wlen, touched)
        region = None
        if aend < len(view):
            # Fast path: an attribute block seen before with no MP attribute is keyed by its bytes
            # alone (MP sets are keyed by tuples), so a hit needs no attribute walk at all.
            region = bytes(view[astart:aend])
            pa = self.store.lookup(region if ctx.asn4 else b"\x00asn2" + region)
            if pa is not None:
                self._announce(peer, IPV4_UNICAST, view, aend, len(view), pa, touched)
                return touched
        reach = unreach = nh4 = None
        heads = []
        pieces: list[tuple[int, int]] = []  # attribute bytes that identify the set (MP NLRI excluded)
        run = prev = astart  # run: start of the bytes kept since the last MP attribute
        for head in walk_attrs(view, astart, aend):
            heads.append(head)
            _flags, code, vs, ve = head
            if code == MP_REACH:
                reach = (vs, ve)
                pieces.append((run, prev))
                pieces.append((vs, vs + 4 + view[vs + 3]))  # afi, safi, next hop: not the NLRI
                run = ve
            elif code == MP_UNREACH:
                unreach = (vs, ve)
                pieces.append((run, prev))
                run = ve
            elif code == NEXT_HOP:
                nh4 = (vs, ve)
            prev = ve
        pos = run
        pieces.append((pos, aend))
        if unreach is not None:
            vs, ve = unreach
            fam = Family(view[vs] << 8 | view[vs + 1], view[vs + 2])
            self._withdraw(peer, fam, view, vs + 3, ve, touched)
        if aend == len(view) and reach is None:
            return touched
        if region is not None and len(pieces) == 1:  # no MP attribute: the whole block, as looked up
            key: Any = region
        else:
            key = b"".join([view[a:b] for a, b in pieces if b > a])
        if not ctx.asn4:  # the same bytes mean another path from an ASN2 speaker
            key = b"\x00asn2" + key
        store = self.store
        if aend < len(view):
            nh = ""
            if nh4 is not None:
                raw = bytes(view[nh4[0] : nh4[1]])
                nh = self._nh_text.get(raw, "")
                if not nh:
                    if len(self._nh_text) > 100_000:
                        self._nh_text.clear()
                    nh = self._nh_text[raw] = ".".join(map(str, raw))
            ckey = key if reach is None and unreach is None else ("classic", key)
            pa = store.lookup(ckey) or store.intern(ckey, view, heads, ctx, nh)
            self._announce(peer, IPV4_UNICAST, view, aend, len(view), pa, touched)
        if reach is not None:
            vs, ve = reach
            fam = Family(view[vs] << 8 | view[vs + 1], view[vs + 2])
            nhlen = view[vs + 3]
            mkey = ("mp", key)
            pa = store.lookup(mkey)
            if pa is None:
                hops = decode_next_hops(view[vs + 4 : vs + 4 + nhlen], fam)
                if len(hops) > 1 and hops[0] == "::":  # no global address: the link-local one (RFC 2545)
                    hops = hops[1:]
                pa = store.intern(mkey, view, heads, ctx, hops[0] if hops else "")
            self._announce(peer, fam, view, vs + 5 + nhlen, ve, pa, touched)
        return touched

    def _walk(self, view: memoryview, start: int, end: int, afi: int, addpath: bool) -> Iterator[tuple]:
        """(path_id, key) per prefix in view[start:end], through the C walk."""
        flat = walk_nlri(view, start, end, afi, addpath)
        if afi == 1:
            for pid, plen, value in zip(flat[0::3], flat[1::3], flat[2::3]):
                yield pid, value << 8 | plen
        else:
            for pid, plen, hi, lo in zip(flat[0::4], flat[1::4], flat[2::4], flat[3::4]):
                yield pid, (hi << 64 | lo) << 8 | plen

    def _announce(
        self,
        peer: PeerState,
        fam: Family,
        view: memoryview,
        start: int,
        end: int,
        pa: PathAttrs,
        touched: dict[Family, list[int]],
    ) -> None:
        if fam not in _KNOWN or start >= end:
            return
        table = self._table(peer, fam)
        addpath = fam in peer.addpath
        keys = touched.setdefault(fam, [])
        release = self.store.release
        added = 0
        n = 0
        if not addpath:
            flat = walk_nlri(view, start, end, fam.afi, False)
            if fam.afi == 1:
                pkeys = [v << 8 | p for p, v in zip(flat[1::3], flat[2::3])]
            else:
                pkeys = [(hi << 64 | lo) << 8 | p for p, hi, lo in zip(flat[1::4], flat[2::4], flat[3::4])]
            n = len(pkeys)
            get, append = table.get, keys.append
            held = 0
            for k in pkeys:
                old = get(k)
                if old is pa:
                    continue
                table[k] = pa
                held += 1
                append(k)
                if old is None:
                    added += 1
                else:
                    release(old)
            pa.refs += held
        else:
            for pid, k in self._walk(view, start, end, fam.afi, True):
                n += 1
                paths = table.get(k)
                if paths is None:
                    paths = table[k] = {}
                old = paths.get(pid)
                if old is pa:
                    continue
                paths[pid] = pa
                pa.refs += 1
                keys.append(k)
                if old is None:
                    added += 1
                else:
                    release(old)
        peer.counts[fam] += added
        self.counters.announced += n
        if pa.refs == 0:  # every prefix already had it (a repeat): nothing holds the set
            release(pa, 0)

    def _withdraw(
        self, peer: PeerState, fam: Family, view: memoryview, start: int, end: int, touched: dict
    ) -> None:
        if fam not in _KNOWN or start >= end:
            return
        table = peer.tables.get(fam)
        addpath = fam in peer.addpath
        n = 0
        if table is None:
            for _ in self._walk(view, start, end, fam.afi, addpath):
                n += 1
            self.counters.withdrawn += n
            return
        keys = touched.setdefault(fam, [])
        removed = 0
        release = self.store.release
        for pid, k in self._walk(view, start, end, fam.afi, addpath):
            n += 1
            if addpath:
                paths = table.get(k)
                old = paths.pop(pid, None) if paths else None
                if paths is not None and not paths:
                    del table[k]
            else:
                old = table.pop(k, None)
            if old is not None:
                release(old)
                removed += 1
                keys.append(k)
        peer.counts[fam] -= removed
        self.counters.withdrawn += n

    # -- selection -------------------------------------------------------------------------------

    def sources(self, fam: Family) -> list[tuple[PeerState, dict, bool]]:
        """(peer, Adj-RIB-In table, add-path) of every peer holding routes of `fam`."""
        return self._sources.get(fam, [])

    def candidates(self, fam: Family, key: int) -> list[tuple[PeerState, int, PathAttrs]]:
        out: list[tuple[PeerState, int, PathAttrs]] = []
        for peer, table, addpath in self._sources.get(fam, ()):
            v = table.get(key)
            if v is None:
                continue
            if addpath:
                out.extend((peer, pid, pa) for pid, pa in v.items())
            else:
                out.append((peer, 0, v))
        return out

    def _selection(self, paths: tuple) -> Selection:
        skey = selection_key(paths)
        sel = self._selections.get(skey)
        if sel is None:
            sel = self._selections[skey] = Selection(paths, self._nhs(paths))
        return sel

    def _nhs(self, paths: tuple) -> NextHopSet:
        hops: list[tuple[str, str, str]] = []
        seen = set()
        for peer, _pid, pa in paths:
            if pa.next_hop not in seen:
                seen.add(pa.next_hop)
                hops.append((pa.next_hop, peer.name, ""))
        nkey = ("ibgp" if paths[0][0].ibgp else "ebgp", tuple(hops))
        nhs = self._nhsets.get(nkey)
        if nhs is None:
            nhs = self._nhsets[nkey] = NextHopSet(nkey[0], nkey[1])
        return nhs

    def _reselect(self, fam: Family, keys: Any) -> list[BestBatch]:
        loc = self.loc[fam]
        sources = self._sources.get(fam, [])
        cost = self.resolver.cost
        options = self.options
        exporters = [p for p in self.peers.values() if p.exports and fam in p.out]
        afi = int(fam.afi)
        announce: list[tuple[Prefix, NextHopSet]] = []
        withdraw: list[Prefix] = []
        batches: list[BestBatch] = []
        size = self.config.batch_size
        single = len(sources) == 1 and not sources[0][2]
        src, src_table = (sources[0][0], sources[0][1]) if single else (None, None)
        last_pa: Any = None  # one UPDATE's prefixes share a set: its selection is looked up once
        last_paths: tuple = ()
        changes = 0
        if single and self.fast_single:
            return self._reselect_single(fam, keys, src, src_table, exporters)
        for key in keys:
            if single:
                pa = src_table.get(key)  # type: ignore[union-attr]
                if pa is None:
                    paths: tuple = ()
                elif pa is last_pa:
                    paths = last_paths
                else:
                    paths = () if cost(pa.next_hop) is None else ((src, 0, pa),)
                    last_pa, last_paths = pa, paths
            else:
                cands = self.candidates(fam, key)
                paths = best.select(cands, cost, options) if cands else ()
            old = loc.get(key)
            if not paths:
                if old is None:
                    continue
                del loc[key]
                self._drop_selection(old)
                withdraw.append(Prefix(afi, key & 0xFF, key >> 8))
                self.counters.best_withdrawn += 1
                new = None
            else:
                if old is not None and old.paths == paths:
                    continue
                new = self._selection(paths)
                if new is old:
                    continue
                loc[key] = new
                new.refs += 1
                if old is not None:
                    self._drop_selection(old)
                if old is None or old.nhs is not new.nhs:
                    announce.append((Prefix(afi, key & 0xFF, key >> 8), new.nhs))
            changes += 1
            for dest in exporters:
                self.exporter.refresh(dest, fam, key, new)
            if len(announce) + len(withdraw) >= size:
                batches.append(BestBatch(fam.name, tuple(announce), tuple(withdraw)))
                announce, withdraw = [], []
        self.counters.best_changes += changes
        if announce or withdraw:
            batches.append(BestBatch(fam.name, tuple(announce), tuple(withdraw)))
        return batches

    def _reselect_single(
        self, fam: Family, keys: Any, src: Any, table: dict, exporters: list
    ) -> list[BestBatch]:
        """_reselect when one peer (without ADD-PATH) is the only source: its path is the best one
        when its next hop resolves. An UPDATE's keys share one attribute set, so the Selection and
        what each exporting peer gets are looked up once per run of keys, not once per key."""
        loc = self.loc[fam]
        cost = self.resolver.cost
        afi = int(fam.afi)
        size = self.config.batch_size
        announce: list[tuple[Prefix, NextHopSet]] = []
        withdraw: list[Prefix] = []
        batches: list[BestBatch] = []
        tnew = tuple.__new__  # Prefix(afi, length, value) without the namedtuple's Python __new__
        get, lget = table.get, loc.get
        drop = self._drop_selection
        peek, put = self.exporter.peek, self.exporter.put
        outs = [dest.out[fam] for dest in exporters]
        last_pa: Any = False
        cur: Any = None  # the Selection of last_pa (None: no best path)
        active: list[Any] = []  # (peer, its Adj-RIB-Out, what it gets for cur), when that can change it
        changes = withdrawn = 0
        for key in keys:
            pa = get(key)
            if pa is not last_pa or (cur is not None and cur.refs <= 0):
                last_pa = pa
                cur = None if pa is None or cost(pa.next_hop) is None else self._selection(((src, 0, pa),))
                # a peer that gets nothing for cur and holds nothing cannot change in this run
                active = [(d, o, r) for d, o in zip(exporters, outs) if (r := peek(cur, d)) is not None or o]
            old = lget(key)
            if old is cur:
                continue
            if cur is None:
                del loc[key]
                drop(old)
                withdraw.append(tnew(Prefix, (afi, key & 0xFF, key >> 8, None)))
                withdrawn += 1
            else:
                loc[key] = cur
                cur.refs += 1
                if old is not None:
                    drop(old)
                if old is None or old.nhs is not cur.nhs:
                    announce.append((tnew(Prefix, (afi, key & 0xFF, key >> 8, None)), cur.nhs))
            changes += 1
            for dest, out, r in active:
                o = out.get(key)
                if r is not o:
                    put(dest, fam, out, key, r, o)
            if len(announce) + len(withdraw) >= size:
                batches.append(BestBatch(fam.name, tuple(announce), tuple(withdraw)))
                announce, withdraw = [], []
        self.counters.best_changes += changes
        self.counters.best_withdrawn += withdrawn
        if announce or withdraw:
            batches.append(BestBatch(fam.name, tuple(announce), tuple(withdraw)))
        return batches

    def _drop_selection(self, sel: Selection) -> None:
        sel.refs -= 1
        if sel.refs <= 0:
            self._selections.pop(sel.key, None)

    def on_next_hops_changed(self, changed: set[str] | None = None) -> list[BestBatch]:
        """Re-run selection for every prefix with a candidate whose next hop's IGP cost changed
        (`changed`, or what the resolver reports). A scan of the Adj-RIBs-In: IGP changes are rare."""
        if changed is None:
            changed = self.resolver.changed()
        if not changed:
            return []
        batches: list[BestBatch] = []
        for fam, sources in self._sources.items():
            keys: set[int] = set()
            for _peer, table, addpath in sources:
                for k, v in table.items():
                    if addpath:
                        if any(pa.next_hop in changed for pa in v.values()):
                            keys.add(k)
                    elif v.next_hop in changed:
                        keys.add(k)
            if keys:
                batches += self._reselect(fam, keys)
        return batches

    def full_table(self, family: Family) -> BestBatch:
        """The whole Loc-RIB of a family as one resync batch (for a consumer that starts late or
        lost track: it replaces everything it had)."""
        afi = int(family.afi)
        announce = tuple(
            (Prefix(afi, k & 0xFF, k >> 8), sel.nhs) for k, sel in self.loc.get(family, {}).items()
        )
        return BestBatch(family.name, announce, (), resync=True)

    # -- export ----------------------------------------------------------------------------------

    def pending_peers(self) -> list[str]:
        """Names of the peers whose Adj-RIB-Out changed since their last updates_for()."""
        return [
            p.name
            for p in self.peers.values()
            if p.exports and any(v is None or v for v in p.pending.values())
        ]

    def updates_for(self, name: str, max_prefixes: int = 20000) -> Iterator[bytes]:
        """Whole UPDATE messages (header included) that bring peer `name` in line with its
        Adj-RIB-Out, encoded in its send context; what was pending is then cleared."""
        peer = self.peers.get(name)
        if peer is None or not peer.exports:
            return iter(())
        return self.exporter.updates(peer, max_prefixes)

    def on_refresh(self, name: str, family: str) -> bool:
        """The peer asked for `family` again (ROUTE-REFRESH): its whole Adj-RIB-Out of that family
        is pending again. False when the peer gets no routes from the RIB."""
        peer = self.peers.get(name)
        if peer is None or not peer.exports:
            return False
        fam = Family.parse(family)
        if fam not in peer.out:
            return False
        peer.pending[fam] = None
        return True

    # -- counts ----------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        return {
            "peers": {
                p.name: {"received": p.route_count(), "advertised": sum(len(t) for t in p.out.values())}
                for p in self.peers.values()
            },
            "loc-rib": {f.name: len(t) for f, t in self.loc.items() if t},
            "selections": len(self._selections),
            "next-hop-sets": len(self._nhsets),
            **self.store.stats(),
            **self.counters.to_json(),
        }
