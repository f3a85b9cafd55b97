"""Interned path attributes: per-type pools of value bytes and the attribute sets built on them.

A route in a RIB points at one `PathAttrs`: the attribute set it was received with (next hop
included), interned, so a full table whose prefixes share a few thousand attribute sets holds a
few thousand of these. Each attribute value is itself interned in the pool of its type code
(`Pool`: bytes -> handle, with a reference count), so sets that differ only in, say, MED share
their AS_PATH and COMMUNITY bytes. Handles are small ints; counts drop with the routes that
hold them and a value leaves its pool at zero.

AS_PATH and AGGREGATOR are stored 4-byte wide whatever the session's width (RFC 6793 4.2.3:
an ASN2 speaker's AS4_PATH / AS4_AGGREGATOR are merged in on the way in and not kept). The
fields best-path selection reads (RFC 4271 9.1.2) are decoded once per set.
"""

from __future__ import annotations

import struct
from typing import Any

from ze.bgp.wire.attr.aggregator import Aggregator
from ze.bgp.wire.attr.as4_aggregator import As4Aggregator
from ze.bgp.wire.attr.as4_path import As4Path
from ze.bgp.wire.attr.as4merge import merge
from ze.bgp.wire.attr.aspath import AS_SEQUENCE, AS_SET, AsPath
from ze.bgp.wire.attr.base import EXTENDED_LENGTH
from ze.bgp.wire.attr.community import community_text
from ze.bgp.wire.context import EncodingContext

ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, ATOMIC_AGGREGATE, AGGREGATOR, COMMUNITY = 1, 2, 3, 4, 5, 6, 7, 8
ORIGINATOR_ID, CLUSTER_LIST, MP_REACH, MP_UNREACH, EXT_COMMUNITY = 9, 10, 14, 15, 16
AS4_PATH, AS4_AGGREGATOR, LARGE_COMMUNITY = 17, 18, 32
ORIGIN_NAMES = ("igp", "egp", "incomplete")
DEFAULT_LOCAL_PREF = 100
_U32 = struct.Struct("!I")
_ATTR = struct.Struct("=BBI")
_NOT_KEPT = frozenset({NEXT_HOP, MP_REACH, MP_UNREACH, AS4_PATH, AS4_AGGREGATOR})


class Pool:
    """Values of one attribute type: bytes -> handle (int), reference counted."""

    __slots__ = ("code", "free", "index", "refs", "values")

    def __init__(self, code: int) -> None:
        self.code = code
        self.index: dict[bytes, int] = {}
        self.values: list[bytes | None] = []
        self.refs: list[int] = []
        self.free: list[int] = []

    def intern(self, value: bytes) -> int:
        h = self.index.get(value)
        if h is None:
            if self.free:
                h = self.free.pop()
                self.values[h] = value
                self.refs[h] = 0
            else:
                h = len(self.values)
                self.values.append(value)
                self.refs.append(0)
            self.index[value] = h
        self.refs[h] += 1
        return h

    def release(self, h: int) -> None:
        self.refs[h] -= 1
        if self.refs[h] == 0:
            value = self.values[h]
            del self.index[value]  # type: ignore[arg-type]
            self.values[h] = None
            self.free.append(h)

    def value(self, h: int) -> bytes:
        return self.values[h]  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.index)


class PathAttrs:
    """One interned attribute set, with what best-path selection and the queries read.

    `attrs` packs (code u8, flags u8, handle u32) per kept attribute, in type-code order, for every
    kept attribute (not NEXT_HOP, MP_*, AS4_*: the next hop is `next_hop`, the AS4 ones are merged
    in). AS_PATH and COMMUNITY bytes are referenced from their pools (shared, not copied) and
    decoded when asked; the numbers selection reads are decoded once."""

    __slots__ = (
        "aggregator",
        "as_path_len",
        "as_path_raw",
        "attrs",
        "cluster_len",
        "community_raw",
        "key",
        "local_pref",
        "med",
        "neighbor_as",
        "next_hop",
        "origin",
        "originator_id",
        "refs",
        "serial",
    )

    def __init__(self) -> None:
        self.refs = 0
        self.key: Any = None
        self.serial = 0  # unique per live set, for ordering and interning of selections
        self.attrs = b""  # packed (code u8, flags u8, handle u32) per kept attribute
        self.next_hop = ""  # address text ("" when none); global address for IPv6 (first of two)
        self.origin = 2
        self.as_path_raw = b""  # 4-byte wide
        self.as_path_len = 0
        self.neighbor_as: int | None = None
        self.local_pref: int | None = None
        self.med: int | None = None
        self.originator_id: int | None = None
        self.cluster_len = 0
        self.community_raw = b""
        self.aggregator: bytes | None = None

    @property
    def as_path(self) -> tuple[tuple[int, tuple[int, ...]], ...]:
        """(segment type, ASNs) pairs."""
        return tuple(AsPath(self.as_path_raw, asn4=True).segments()) if self.as_path_raw else ()

    @property
    def communities(self) -> tuple[int, ...]:
        raw = self.community_raw
        return struct.unpack(f"!{len(raw) // 4}I", raw[: len(raw) // 4 * 4]) if raw else ()

    def as_path_text(self) -> str:
        out = []
        for stype, asns in self.as_path:
            text = " ".join(map(str, asns))
            out.append(text if stype == AS_SEQUENCE else "{" + text + "}" if stype == AS_SET else f"({text})")
        return " ".join(out)

    def as_path_list(self) -> list[Any]:
        if all(t == AS_SEQUENCE for t, _ in self.as_path):
            return [a for _, asns in self.as_path for a in asns]
        return [
            {"type": "as-set" if t == AS_SET else "as-sequence", "asns": list(a)} for t, a in self.as_path
        ]

    def community_texts(self) -> list[str]:
        return [community_text(c) for c in self.communities]

    def origin_name(self) -> str:
        return ORIGIN_NAMES[self.origin] if self.origin < 3 else str(self.origin)


class AttrStore:
    """The pools, and the interned attribute sets keyed by what was received.

    `intern(key, view, heads, ctx, next_hop)` returns the PathAttrs for one UPDATE's attributes,
    `heads` being their (flags, code, value_start, value_end) in `view` (ze.bgp.wire.attr.walk;
    MP_REACH/MP_UNREACH are skipped, the next hop is given); the caller's `key` identifies those
    bytes (next hop included) so a repeat costs one dict lookup. `release(pa)` drops one route's
    reference."""

    __slots__ = ("by_key", "ints", "pools", "serial", "sets", "texts")

    def __init__(self) -> None:
        self.pools: dict[int, Pool] = {}
        self.by_key: dict[Any, PathAttrs] = {}
        self.sets = 0
        self.serial = 0
        self.texts: dict[str, str] = {}  # next-hop strings, shared by the sets that use them
        self.ints: dict[int, int] = {}  # originator ids and neighbour ASes, likewise

    def pool(self, code: int) -> Pool:
        p = self.pools.get(code)
        if p is None:
            p = self.pools[code] = Pool(code)
        return p

    def lookup(self, key: Any) -> PathAttrs | None:
        return self.by_key.get(key)

    def intern(
        self, key: Any, data: memoryview, heads: Any, ctx: EncodingContext, next_hop: str
    ) -> PathAttrs:
        pa = self.by_key.get(key)
        if pa is not None:
            return pa
        pa = self._build(data, heads, ctx, next_hop)
        pa.key = key
        self.serial += 1
        pa.serial = self.serial
        self.by_key[key] = pa
        self.sets += 1
        return pa

    def build_from(self, items: list[tuple[int, int, bytes]], next_hop: str, key: Any = None) -> PathAttrs:
        """A set from (code, flags, 4-byte-wide value) triples (locally built routes, export rewrites)."""
        if key is None:
            key = ("local", next_hop, tuple(sorted(items)))
        pa = self.by_key.get(key)
        if pa is not None:
            return pa
        pa = PathAttrs()
        self._fill(pa, {code: (flags, value) for code, flags, value in items}, next_hop)
        pa.key = key
        self.serial += 1
        pa.serial = self.serial
        self.by_key[key] = pa
        self.sets += 1
        return pa

    def _build(self, data: memoryview, heads: Any, ctx: EncodingContext, next_hop: str) -> PathAttrs:
        found: dict[int, tuple[int, bytes]] = {}
        for flags, code, vs, ve in heads:
            if code in (MP_REACH, MP_UNREACH) or code in found:
                continue
            found[code] = (flags, bytes(data[vs:ve]))
        if not ctx.asn4 and (AS_PATH in found or AGGREGATOR in found):
            # RFC 6793 4.2.3: rebuild the 4-byte path and aggregator from the ASN2 speaker's attributes.
            asp = found.get(AS_PATH)
            as4p = found.get(AS4_PATH)
            agg = found.get(AGGREGATOR)
            as4a = found.get(AS4_AGGREGATOR)
            path, aggr = merge(
                AsPath(asp[1], asp[0], asn4=False) if asp else None,
                As4Path(as4p[1], as4p[0]) if as4p else None,
                Aggregator(agg[1], agg[0], asn4=False) if agg else None,
                As4Aggregator(as4a[1], as4a[0]) if as4a else None,
            )
            if path is not None and asp is not None:
                found[AS_PATH] = (asp[0], bytes(path.raw))
            if aggr is not None and agg is not None:
                found[AGGREGATOR] = (agg[0], bytes(aggr.value(EncodingContext())))
        pa = PathAttrs()
        self._fill(pa, found, next_hop)
        return pa

    def _fill(self, pa: PathAttrs, found: dict[int, tuple[int, bytes]], next_hop: str) -> None:
        kept: list[int] = []
        pools = self.pools
        for code in sorted(found):
            if code in _NOT_KEPT:
                continue
            flags, value = found[code]
            pool = pools.get(code)
            if pool is None:
                pool = self.pool(code)
            h = pool.intern(value)
            kept += (code, flags & ~EXTENDED_LENGTH, h)
            if code == AS_PATH:
                pa.as_path_raw = pool.values[h]  # type: ignore[assignment]
            elif code == COMMUNITY:
                pa.community_raw = pool.values[h]  # type: ignore[assignment]
        pa.attrs = struct.pack(_ATTR.format[0] + _ATTR.format[1:] * (len(kept) // 3), *kept)
        pa.next_hop = self.texts.setdefault(next_hop, next_hop)
        ints = self.ints
        origin = found.get(ORIGIN)
        pa.origin = origin[1][0] if origin and origin[1] else 2
        asp = found.get(AS_PATH)
        if asp:
            # RFC 4271 9.1.2.2 length (an AS_SET counts 1, confederation segments 0) and the
            # neighbour AS (first ASN of a leading AS_SEQUENCE), read off the 4-byte-wide bytes
            raw = asp[1]
            n = i = 0
            end = len(raw)
            while i + 2 <= end:
                stype, count = raw[i], raw[i + 1]
                if stype == AS_SEQUENCE:
                    n += count
                elif stype == AS_SET:
                    n += 1
                i += 2 + 4 * count
            pa.as_path_len = n
            if end >= 6 and raw[0] == AS_SEQUENCE and raw[1]:
                first = int.from_bytes(raw[2:6], "big")
                pa.neighbor_as = ints.setdefault(first, first)
            else:
                pa.neighbor_as = None
        med = found.get(MED)
        pa.med = _U32.unpack(med[1])[0] if med and len(med[1]) == 4 else None
        lp = found.get(LOCAL_PREF)
        pa.local_pref = _U32.unpack(lp[1])[0] if lp and len(lp[1]) == 4 else None
        oid = found.get(ORIGINATOR_ID)
        if oid and len(oid[1]) == 4:
            rid = _U32.unpack(oid[1])[0]
            pa.originator_id = ints.setdefault(rid, rid)
        cl = found.get(CLUSTER_LIST)
        pa.cluster_len = len(cl[1]) // 4 if cl else 0
        agg = found.get(AGGREGATOR)
        pa.aggregator = agg[1] if agg else None

    def retain(self, pa: PathAttrs, n: int = 1) -> None:
        pa.refs += n

    def release(self, pa: PathAttrs, n: int = 1) -> None:
        pa.refs -= n
        if pa.refs <= 0:
            self._drop(pa)

    def _drop(self, pa: PathAttrs) -> None:
        if self.by_key.get(pa.key) is pa:
            del self.by_key[pa.key]
            self.sets -= 1
            for code, _flags, h in _ATTR.iter_unpack(pa.attrs):
                self.pools[code].release(h)

    def value(self, code: int, h: int) -> bytes:
        return self.pools[code].value(h)

    def items(self, pa: PathAttrs) -> list[tuple[int, int, bytes]]:
        """(code, flags, value) of every kept attribute of a set (values 4-byte wide)."""
        return [(code, flags, self.pools[code].value(h)) for code, flags, h in _ATTR.iter_unpack(pa.attrs)]

    def codes(self, pa: PathAttrs) -> list[int]:
        return [code for code, _f, _h in _ATTR.iter_unpack(pa.attrs)]

    def stats(self) -> dict[str, int]:
        return {
            "attribute-sets": self.sets,
            "attribute-values": sum(len(p) for p in self.pools.values()),
        }
