"""sysrib: the best route per prefix across protocols, by administrative distance.

Sources feed it BestBatch changes (bgp-rib's best paths, "rib/best"; static routes from config;
connected routes when something feeds them); each source holds at most one route per prefix. A
route's distance comes from its NextHopSet.protocol ("connected" 0, "static" 10, "ebgp" 20,
"ibgp" 200, configurable) or from the route itself (a static route with its own distance). The
lowest distance wins; on a tie the source fed first keeps it. Changes of the winner go out as a
BestBatch on "sysrib/best" (fib-kernel and the bpf map sync consume it).

Memory: a prefix with one source (nearly all of a full table) costs a dict slot and an int key: its
(source, distance, NextHopSet) tuple is shared.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ze.bgp.events import BestBatch, NextHopSet
from ze.bgp.wire.nlri.prefix import Prefix

TOPIC_IN = "rib/best"
TOPIC_OUT = "sysrib/best"
DEFAULT_DISTANCE = {"connected": 0, "static": 10, "ebgp": 20, "ibgp": 200}
STATIC = "static"


def _family(p: Prefix) -> str:
    return "ipv4/unicast" if p.afi == 1 else "ipv6/unicast"


def _items(node: Any) -> Iterable[dict]:
    """A YANG list as the config gives it: {key: {...}} or [{...}]."""
    if isinstance(node, dict):
        return [{"prefix": k, **(v or {})} for k, v in node.items()]
    return node or []


@dataclass
class SysribConfig:
    """The `fib { distance {...} static { route P { next-hop A; interface I; distance D; } } }` part."""

    distance: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DISTANCE))
    static: list[tuple[Prefix, NextHopSet, int | None]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SysribConfig:
        dist = dict(DEFAULT_DISTANCE)
        for k, v in (data.get("distance") or {}).items():
            if k not in dist:
                raise ValueError(f"fib distance {k}: not one of {', '.join(dist)}")
            dist[k] = int(v)
        routes = []
        for r in _items((data.get("static") or {}).get("route")):
            p = Prefix.parse(r["prefix"])
            hops = r.get("next-hop") or []
            if not hops:
                raise ValueError(f"static route {r['prefix']}: no next-hop")
            iface = r.get("interface", "")
            for h in hops:
                a = ipaddress.ip_address(h)
                if a.version == 6 and a.is_link_local and not iface:
                    raise ValueError(
                        f"static route {r['prefix']}: link-local next hop {h} needs an interface"
                    )
            nhs = NextHopSet(STATIC, tuple((h, STATIC, iface) for h in hops))
            d = r.get("distance")
            routes.append((p, nhs, None if d is None else int(d)))
        return cls(distance=dist, static=routes)


def _key(p: Prefix) -> int:
    """A prefix as one int (value, then length in the low byte), as bgp-rib keys them."""
    return p[2] << 8 | p[1]


def _prefix(afi: int, key: int) -> Prefix:
    return tuple.__new__(Prefix, (afi, key & 0xFF, key >> 8, None))  # type: ignore[return-value]


class BestView(Mapping):
    """The best route per prefix of one family (Prefix -> NextHopSet), read from the entries."""

    def __init__(self, rib: SysRib, family: str) -> None:
        self.rib = rib
        self.family = family
        self.afi = 1 if family == "ipv4/unicast" else 2

    def __getitem__(self, p: Prefix) -> NextHopSet:
        e = self.rib.entries[self.family].get(_key(p))
        if e is None:
            raise KeyError(p)
        return self.rib._pick(e)  # type: ignore[return-value]

    def __iter__(self) -> Iterator[Prefix]:
        afi = self.afi
        return (_prefix(afi, k) for k in self.rib.entries[self.family])

    def __len__(self) -> int:
        return len(self.rib.entries[self.family])


class SysRib:
    def __init__(
        self,
        config: SysribConfig | None = None,
        *,
        publish: Callable[[str, BestBatch], Any] | None = None,
    ) -> None:
        self.config = config or SysribConfig()
        self.publish = publish
        # family -> prefix key (_key) -> (source, distance, nhs) | {source: (distance, nhs)}. The
        # tuples are interned (one per source, distance and NextHopSet), so a full table from one
        # source costs a dict slot and an int per prefix.
        self.entries: dict[str, dict[int, Any]] = {"ipv4/unicast": {}, "ipv6/unicast": {}}
        self.best = {fam: BestView(self, fam) for fam in self.entries}  # Prefix -> NextHopSet views
        self.order: dict[str, int] = {}  # source -> rank (first fed first), the tie-breaker
        self.static_routes: dict[Prefix, tuple[NextHopSet, int | None]] = {}
        self._tuples: dict[tuple[str, int, int], tuple[str, int, NextHopSet]] = {}

    def distance(self, nhs: NextHopSet) -> int:
        return self.config.distance.get(nhs.protocol, 255)

    def _rank(self, source: str) -> int:
        r = self.order.get(source)
        if r is None:
            r = self.order[source] = len(self.order)
        return r

    def _entry(self, source: str, d: int, nhs: NextHopSet) -> tuple[str, int, NextHopSet]:
        """The interned (source, distance, nhs) tuple (keyed by the NextHopSet's identity, which
        the tuple keeps alive)."""
        k = (source, d, id(nhs))
        t = self._tuples.get(k)
        if t is None:
            t = self._tuples[k] = (source, d, nhs)
        return t

    def _pick(self, e: Any) -> NextHopSet | None:
        if type(e) is tuple:
            return e[2]
        best = min(e.items(), key=lambda kv: (kv[1][0], self.order.get(kv[0], 0)))
        return best[1][1]

    def _emit(self, batch: BestBatch | None) -> BestBatch | None:
        if batch is not None and self.publish is not None:
            self.publish(TOPIC_OUT, batch)
        return batch

    def on_best(
        self, batch: BestBatch, source: str = "bgp", distances: dict[Prefix, int] | None = None
    ) -> BestBatch | None:
        """Apply one source's changes; returns (and publishes) the changes of the best routes, or
        None when nothing changed. `distances` overrides the distance of some prefixes."""
        fam = batch.family
        ent = self.entries.get(fam)
        if ent is None:
            return None
        self._rank(source)
        pick = self._pick
        ann: list[tuple[Prefix, NextHopSet]] = []
        wd: list[Prefix] = []
        seen: set[int] | None = set() if batch.resync else None
        dist_of = self.config.distance
        last_nhs: Any = None
        t: Any = None
        for p, nhs in batch.announce:
            if p[3] is not None:
                p = p._replace(path_id=None)
            k = p[2] << 8 | p[1]
            if seen is not None:
                seen.add(k)
            if nhs is not last_nhs:  # a batch mostly repeats one NextHopSet
                last_nhs = nhs
                t = self._entry(source, dist_of.get(nhs.protocol, 255), nhs)
            et = t
            if distances:
                d = distances.get(p)
                if d is not None and d != t[1]:
                    et = self._entry(source, d, nhs)
            e = ent.get(k)
            if e is None:
                ent[k] = et
                ann.append((p, nhs))
                continue
            if type(e) is tuple:
                old = e[2]
                if e[0] == source:
                    ent[k] = et
                    new = nhs
                else:
                    m = ent[k] = {e[0]: (e[1], e[2]), source: (et[1], nhs)}
                    new = pick(m)
            else:
                old = pick(e)
                e[source] = (et[1], nhs)
                new = pick(e)
            if old is not new:
                ann.append((p, new))
        withdraw: Iterable[Prefix] = batch.withdraw
        if seen is not None:
            afi = 1 if fam == "ipv4/unicast" else 2
            gone = [
                _prefix(afi, k)
                for k, e in ent.items()
                if k not in seen and (e[0] == source if type(e) is tuple else source in e)
            ]
            withdraw = [*withdraw, *gone]
        for p in withdraw:
            if p[3] is not None:
                p = p._replace(path_id=None)
            k = p[2] << 8 | p[1]
            e = ent.get(k)
            if e is None:
                continue
            if type(e) is tuple:
                if e[0] != source:
                    continue
                del ent[k]
                wd.append(p)
                continue
            old = pick(e)
            if e.pop(source, None) is None:
                continue
            if len(e) == 1:
                ((s, (d, n)),) = e.items()
                e = ent[k] = self._entry(s, d, n)
            new = pick(e)
            if new is not old:
                ann.append((p, new))
        if not ann and not wd:
            return None
        return self._emit(BestBatch(fam, tuple(ann), tuple(wd)))

    # --- static routes -------------------------------------------------------------------------
    def set_static(self, routes: Iterable[tuple[Prefix, NextHopSet, int | None]]) -> list[BestBatch]:
        """Replace the static routes (config load or reload); returns the batches of best changes."""
        new = {p: (nhs, d) for p, nhs, d in routes}
        old = self.static_routes
        out = []
        for fam, afi in (("ipv4/unicast", 1), ("ipv6/unicast", 2)):
            ann = tuple((p, n) for p, (n, d) in new.items() if p.afi == afi and old.get(p) != (n, d))
            wd = tuple(p for p in old if p.afi == afi and p not in new)
            dist = {p: d for p, (n, d) in new.items() if d is not None}
            b = self.on_best(BestBatch(fam, ann, wd), STATIC, dist)
            if b is not None:
                out.append(b)
        self.static_routes = new
        return out

    def reconfigure(self, config: SysribConfig) -> list[BestBatch]:
        """New distances re-rank every prefix; new statics are diffed."""
        old = self.config
        self.config = config
        out = []
        if old.distance != config.distance:
            for fam, ent in self.entries.items():
                afi = 1 if fam == "ipv4/unicast" else 2
                ann = []
                for k, e in ent.items():
                    if type(e) is dict:
                        was = self._pick(e)
                        p = _prefix(afi, k)
                        for s, (_d, n) in list(e.items()):
                            if not (s == STATIC and self.static_routes.get(p, (None, None))[1] is not None):
                                e[s] = (config.distance.get(n.protocol, 255), n)
                        new = self._pick(e)
                        if was is not new:
                            ann.append((p, new))
                if ann:
                    b = self._emit(BestBatch(fam, tuple(ann)))
                    if b is not None:
                        out.append(b)
        out += self.set_static(config.static)
        return out

    def resync(self) -> list[BestBatch]:
        """The whole best table, one batch per family (for a consumer that (re)starts)."""
        return [BestBatch(fam, tuple(v.items()), (), True) for fam, v in self.best.items()]

    def lookup(self, text: str) -> dict[str, Any]:
        """Every source's route for a prefix and the winner (for `ze show` views and tests)."""
        p = Prefix.parse(text)
        fam = _family(p)
        e = self.entries[fam].get(_key(p))
        cands: dict[str, tuple[int, NextHopSet]] = {}
        if type(e) is tuple:
            cands = {e[0]: (e[1], e[2])}
        elif e:
            cands = dict(e)
        win = self._pick(e) if e else None
        return {
            "prefix": str(p),
            "routes": [
                {
                    "source": s,
                    "protocol": n.protocol,
                    "distance": d,
                    "next-hops": [h[0] for h in n.hops],
                    "best": n is win,
                }
                for s, (d, n) in sorted(cands.items(), key=lambda kv: kv[1][0])
            ],
        }

    def status(self) -> dict[str, Any]:
        return {
            "families": {fam: {"prefixes": len(e)} for fam, e in self.entries.items()},
            "static": len(self.static_routes),
            "distance": dict(self.config.distance),
        }


Service = SysRib


def main(argv: list[str] | None = None) -> int:
    """python -m ze.fib.sysrib.service CONFIG.json: the best table from the `fib` section's statics."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    data = json.load(open(args[0])) if args else {}
    rib = SysRib(SysribConfig.from_json(data.get("fib", data)))
    rib.set_static(rib.config.static)
    print(json.dumps({"status": "ok", "data": rib.status()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
