"""The RIB's operator queries, streamed: each yields one row at a time (text lines, or JSON
objects with --json) and a count at the end, so a full table is never built as a list.

    show rib [FAMILY] [PREFIX|ADDRESS] [longer-prefixes] [community X] [as-path REGEX]
             [peer NAME] [best] [--json]
    show peer NAME routes received|advertised [FAMILY] [--json]

`run(rib, "show rib", args)` is what the command wiring calls; rows come in table order (the
order prefixes were learned), not sorted: sorting would need the whole table at once. A
PREFIX shows that prefix; an ADDRESS (no length) its longest match; `longer-prefixes` every
prefix inside PREFIX. Rows of one prefix come together; `*` marks a usable route, `>` the best
and `=` a multipath partner.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from typing import Any

from ze.bgp.wire.attr.aspath import AS_SEQUENCE, AS_SET, AsPath
from ze.bgp.wire.attr.community import community_text, parse_community
from ze.bgp.wire.nlri.prefix import Prefix
from ze.core.family import Family
from ze.plugins.rib.attrs import AS_PATH, COMMUNITY, LOCAL_PREF, MED, ORIGIN, ORIGIN_NAMES
from ze.plugins.rib.table import FAMILIES, prefix_of

HEADER = f"   {'Prefix':<24} {'Next hop':<20} {'Peer':<14} {'LocPrf':>7} {'MED':>7}  Path"
_ORIGIN_CHAR = ("i", "e", "?")


class QueryError(ValueError):
    """Bad arguments; the message says what was expected."""


# -- arguments -------------------------------------------------------------------------------------


class RibQuery:
    __slots__ = ("as_path", "best", "community", "families", "json", "longer", "peer", "prefix")

    def __init__(self) -> None:
        self.families: list[Family] = []
        self.prefix: Prefix | None = None
        self.longer = False
        self.community: int | None = None
        self.as_path: re.Pattern | None = None
        self.peer: str | None = None
        self.best = False
        self.json = False


def parse_rib_args(args: list[str]) -> RibQuery:
    q = RibQuery()
    i = 0
    while i < len(args):
        w = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        if w == "--json":
            q.json = True
        elif w == "best":
            q.best = True
        elif w == "longer-prefixes":
            q.longer = True
        elif w in ("community", "as-path", "peer"):
            if nxt is None:
                raise QueryError(f"{w}: a value is needed")
            if w == "community":
                try:
                    q.community = parse_community(nxt)
                except ValueError as e:
                    raise QueryError(str(e)) from None
            elif w == "as-path":
                try:
                    q.as_path = re.compile(nxt)
                except re.error as e:
                    raise QueryError(f"as-path {nxt!r}: {e}") from None
            else:
                q.peer = nxt
            i += 1
        elif "/" in w and not any(c in w for c in ".:"):
            try:
                q.families.append(Family.parse(w))
            except ValueError as e:
                raise QueryError(str(e)) from None
        else:
            q.prefix = _prefix_arg(w)
        i += 1
    if q.longer and q.prefix is None:
        raise QueryError("longer-prefixes: a PREFIX is needed")
    if q.prefix is not None and not q.families:
        q.families = [f for f in FAMILIES if f.afi == q.prefix.afi and f.safi == 1]
    return q


def _prefix_arg(text: str) -> Prefix:
    """A prefix ("10.0.0.0/8"), or an address as a host route marked with path_id -1 (longest match)."""
    try:
        if "/" in text:
            return Prefix.parse(text)
        a = ipaddress.ip_address(text)
    except ValueError:
        raise QueryError(f"{text!r}: expected a family, a prefix, an address or a keyword") from None
    return Prefix((a.version == 4 and 1) or 2, 32 if a.version == 4 else 128, int(a), -1)


# -- rows ------------------------------------------------------------------------------------------


def route_json(fam: Family, key: int, pid: int | None, peer: Any, pa: Any, flags: str) -> dict:
    out: dict[str, Any] = {"family": fam.name, "prefix": str(prefix_of(int(fam.afi), key))}
    if pid is not None:
        out["path-id"] = pid
    out["peer"] = peer.name
    out["next-hop"] = pa.next_hop
    out["as-path"] = pa.as_path_list()
    out["origin"] = pa.origin_name()
    if pa.local_pref is not None:
        out["local-preference"] = pa.local_pref
    if pa.med is not None:
        out["med"] = pa.med
    if pa.communities:
        out["community"] = pa.community_texts()
    if pa.originator_id is not None:
        out["originator-id"] = str(ipaddress.IPv4Address(pa.originator_id))
    out["best"] = ">" in flags
    out["multipath"] = "=" in flags
    return out


def route_text(fam: Family, key: int, pid: int | None, peer: Any, pa: Any, flags: str) -> str:
    pfx = str(prefix_of(int(fam.afi), key))
    if pid is not None:
        pfx += f" #{pid}"
    lp = "" if pa.local_pref is None else str(pa.local_pref)
    med = "" if pa.med is None else str(pa.med)
    origin = _ORIGIN_CHAR[pa.origin] if pa.origin < 3 else "?"
    path = pa.as_path_text()
    return f"{flags:<3}{pfx:<24} {pa.next_hop:<20} {peer.name:<14} {lp:>7} {med:>7}  {path + ' ' if path else ''}{origin}"


# -- show rib ----------------------------------------------------------------------------------


def _keys(q: RibQuery, table: dict, fam: Family) -> Iterator[int]:
    """The keys of `table` the prefix arguments select."""
    p = q.prefix
    if p is None:
        yield from table
        return
    if p.afi != fam.afi:
        return
    width = 32 if fam.afi == 1 else 128
    if p.path_id == -1:  # an address: longest match
        for length in range(width, -1, -1):
            k = (p.value >> (width - length) << (width - length)) << 8 | length
            if k in table:
                yield k
                return
        return
    if not q.longer:
        k = p.value << 8 | p.length
        if k in table:
            yield k
        return
    shift = width - p.length
    base = p.value >> shift
    for k in table:
        if k & 0xFF >= p.length and (k >> 8) >> shift == base:
            yield k


def _matcher(q: RibQuery) -> Callable[[Any], bool] | None:
    if q.community is None and q.as_path is None:
        return None
    cache: dict[int, bool] = {}
    com, rx = q.community, q.as_path

    def match(pa: Any) -> bool:
        r = cache.get(pa.serial)
        if r is None:
            r = (com is None or com in pa.communities) and (
                rx is None or rx.search(pa.as_path_text()) is not None
            )
            if len(cache) > 100000:
                cache.clear()
            cache[pa.serial] = r
        return r

    return match


def show_rib(rib: Any, args: list[str]) -> Iterator[Any]:
    q = parse_rib_args(args)
    render = route_json if q.json else route_text
    match = _matcher(q)
    routes = prefixes = 0
    if not q.json:
        yield HEADER
    for fam in q.families or FAMILIES:
        loc = rib.loc.get(fam, {})
        if q.best:
            for key in _keys(q, loc, fam):
                sel = loc[key]
                shown = False
                for i, (peer, pid, pa) in enumerate(sel.paths):
                    if q.peer is not None and peer.name != q.peer:
                        continue
                    if match is not None and not match(pa):
                        continue
                    ap = pid if fam in peer.addpath else None
                    yield render(fam, key, ap, peer, pa, "*>" if i == 0 else "*=")
                    routes += 1
                    shown = True
                prefixes += shown
            continue
        sources = [s for s in rib.sources(fam) if q.peer is None or s[0].name == q.peer]
        for n, (_peer, table, _ap) in enumerate(sources):
            earlier = [s[1] for s in sources[:n]]
            for key in _keys(q, table, fam):
                if any(key in t for t in earlier):
                    continue  # shown with the first table that has it
                sel = loc.get(key)
                shown = False
                for peer, pid, pa in rib.candidates(fam, key):
                    if q.peer is not None and peer.name != q.peer:
                        continue
                    if match is not None and not match(pa):
                        continue
                    yield render(
                        fam, key, pid if fam in peer.addpath else None, peer, pa, _flags(sel, peer, pid, pa)
                    )
                    routes += 1
                    shown = True
                prefixes += shown
    if q.json:
        yield {"routes": routes, "prefixes": prefixes}
    else:
        yield f"Total: {routes} routes, {prefixes} prefixes"


def _flags(sel: Any, peer: Any, pid: int, pa: Any) -> str:
    if sel is None:
        return ""
    for i, (p, i_pid, i_pa) in enumerate(sel.paths):
        if p is peer and i_pid == pid and i_pa is pa:
            return "*>" if i == 0 else "*="
    return "*"


# -- show peer NAME routes received|advertised ---------------------------------------------------------


def show_peer(rib: Any, args: list[str]) -> Iterator[Any]:
    want_json = "--json" in args
    words = [a for a in args if a != "--json"]
    if len(words) < 3 or words[1] != "routes" or words[2] not in ("received", "advertised"):
        raise QueryError("expected: show peer NAME routes received|advertised [FAMILY] [--json]")
    name, what = words[0], words[2]
    try:
        fams = [Family.parse(w) for w in words[3:]]
    except ValueError as e:
        raise QueryError(str(e)) from None
    peer = rib.peers.get(name)
    if peer is None:
        raise QueryError(
            f"peer {name!r}: not known to the RIB (known: {', '.join(sorted(rib.peers)) or 'none'})"
        )
    if not want_json:
        yield HEADER
    count = 0
    for fam in fams or FAMILIES:
        if what == "received":
            table = peer.tables.get(fam, {})
            loc = rib.loc.get(fam, {})
            render = route_json if want_json else route_text
            addpath = fam in peer.addpath
            for key, v in table.items():
                sel = loc.get(key)
                for pid, pa in v.items() if addpath else ((0, v),):
                    yield render(fam, key, pid if addpath else None, peer, pa, _flags(sel, peer, pid, pa))
                    count += 1
        else:
            for key, r in peer.out.get(fam, {}).items():
                yield _out_json(fam, key, peer, r) if want_json else _out_text(fam, key, peer, r)
                count += 1
    if want_json:
        yield {"peer": name, what: count}
    else:
        yield f"Total: {count} routes {what}"


def _out_fields(r: Any) -> dict[str, Any]:
    f: dict[str, Any] = {"as-path": [], "origin": "incomplete"}
    for code, flags, value in r.items:
        if code == AS_PATH:
            segs = list(AsPath(value, flags, asn4=True).segments())
            f["as-path"] = segs
        elif code == ORIGIN and value:
            f["origin"] = ORIGIN_NAMES[value[0]] if value[0] < 3 else str(value[0])
        elif code in (LOCAL_PREF, MED) and len(value) == 4:
            f["local-preference" if code == LOCAL_PREF else "med"] = int.from_bytes(value, "big")
        elif code == COMMUNITY:
            f["community"] = [
                community_text(int.from_bytes(value[i : i + 4], "big")) for i in range(0, len(value) - 3, 4)
            ]
    return f


def _path_text(segs: list) -> str:
    out = []
    for stype, asns in segs:
        t = " ".join(map(str, asns))
        out.append(t if stype == AS_SEQUENCE else "{" + t + "}" if stype == AS_SET else f"({t})")
    return " ".join(out)


def _out_json(fam: Family, key: int, peer: Any, r: Any) -> dict:
    f = _out_fields(r)
    segs = f.pop("as-path")
    out: dict[str, Any] = {"family": fam.name, "prefix": str(prefix_of(int(fam.afi), key)), "peer": peer.name}
    out["next-hop"] = r.next_hop
    out["as-path"] = [a for _, asns in segs for a in asns]
    out.update(f)
    return out


def _out_text(fam: Family, key: int, peer: Any, r: Any) -> str:
    f = _out_fields(r)
    pfx = str(prefix_of(int(fam.afi), key))
    lp = str(f.get("local-preference", ""))
    med = str(f.get("med", ""))
    path = _path_text(f["as-path"])
    origin = {"igp": "i", "egp": "e"}.get(f["origin"], "?")
    return f"{'':<3}{pfx:<24} {r.next_hop:<20} {peer.name:<14} {lp:>7} {med:>7}  {path + ' ' if path else ''}{origin}"


COMMANDS: dict[str, Callable[[Any, list[str]], Iterator[Any]]] = {
    "show rib": show_rib,
    "show peer": show_peer,
}


def run(rib: Any, command: str, args: list[str]) -> Iterator[Any]:
    """Command name ("show rib", "show peer") + its words -> rows (str, or dict with --json).
    QueryError (a ValueError) for bad arguments, raised before the first row."""
    fn = COMMANDS.get(command)
    if fn is None:
        raise QueryError(f"unknown command {command!r} (known: {', '.join(COMMANDS)})")
    gen = fn(rib, list(args))
    first = next(gen, None)  # arguments are checked by the first step: fail before streaming
    if first is None:
        return iter(())
    return _chain(first, gen)


def _chain(first: Any, gen: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from gen
