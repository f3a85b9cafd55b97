"""What a peer sent us, counted without per-prefix objects: a plain Adj-RIB-In of prefix keys.

`AdjRibIn.apply(body, ctx)` walks an UPDATE's withdrawn routes, NLRI, MP_REACH_NLRI and
MP_UNREACH_NLRI (RFC 4271 4.3, RFC 4760) with the C helper's NLRI walk, counts announcements and
withdrawals per family, and keeps the set of prefixes held per family as ints
(value << 8 | length, plus the ADD-PATH path id above bit 40 for IPv4, above bit 136 for IPv6):
enough for the prefix counts of `ze show peer`, max-prefix (RFC 4486) and a received-routes view.
The rib feature keeps the real table with attributes.

RFC 7606 helpers that rewrite a body: `withdraw_body` (treat-as-withdraw: every route the
UPDATE carries, as withdrawals) and `discard_body` (attribute-discard: the named attributes
removed, repeated ones after the first dropped).
"""

from __future__ import annotations

import struct
from itertools import repeat
from operator import lshift, or_
from typing import Any

from ze import _native
from ze.bgp.wire.attr.base import EXTENDED_LENGTH
from ze.bgp.wire.attr.walk import walk as attr_walk
from ze.bgp.wire.context import EncodingContext
from ze.core.family import Family

MP_REACH = 14
MP_UNREACH = 15
_U16 = struct.Struct("!H")
_HEAD = struct.Struct("!HB")
IPV4_UNICAST = Family(1, 1)


def _keys(flat: list[int], afi: int, addpath: bool) -> Any:
    if afi == 1:
        vals = flat[2::3]
        lens = flat[1::3]
        keys = map(or_, map(lshift, vals, repeat(8)), lens)
        if addpath:
            keys = map(or_, keys, map(lshift, flat[0::3], repeat(40)))
        return keys
    lens = flat[1::4]
    his = flat[2::4]
    los = flat[3::4]
    keys = map(or_, map(or_, map(lshift, his, repeat(72)), map(lshift, los, repeat(8))), lens)
    if addpath:
        keys = map(or_, keys, map(lshift, flat[0::4], repeat(136)))
    return keys


def key_prefix(key: int, afi: int) -> tuple[int, int, int]:
    """(path id, length, value) of a held key."""
    if afi == 1:
        return key >> 40, key & 0xFF, (key >> 8) & 0xFFFFFFFF
    return key >> 136, key & 0xFF, (key >> 8) & ((1 << 128) - 1)


class FamilyCounts:
    __slots__ = ("announced", "held", "kept", "withdrawn")

    def __init__(self) -> None:
        self.announced = 0
        self.withdrawn = 0
        self.held: set[int] = set()
        self.kept = False

    @property
    def received(self) -> int:
        """Prefixes held: exact when the set is kept, else announcements minus withdrawals."""
        return len(self.held) if self.kept else max(0, self.announced - self.withdrawn)

    def to_dict(self) -> dict[str, int]:
        return {"announced": self.announced, "withdrawn": self.withdrawn, "received": self.received}


class AdjRibIn:
    """keep: hold the prefix sets of every family (True), of some (a set: the families with a
    max-prefix limit need the exact count), or none (only count announcements and withdrawals;
    `received` is then announced - withdrawn)."""

    def __init__(self, keep: bool | set[Family] | frozenset[Family] = True) -> None:
        self.families: dict[Family, FamilyCounts] = {}
        self.keep = keep
        self.updates = 0
        self.eor: set[Family] = set()

    def clear(self) -> None:
        self.families.clear()
        self.updates = 0
        self.eor.clear()

    def counts(self, family: Family) -> FamilyCounts:
        c = self.families.get(family)
        if c is None:
            c = self.families[family] = FamilyCounts()
        return c

    def _walk(self, fam: Family, data: Any, start: int, end: int, ctx: EncodingContext, add: bool) -> None:
        c = self.counts(fam)
        if start == end:
            return
        if fam.afi not in (1, 2) or fam.safi not in (1, 2):
            return  # NLRI of other families are not prefixes: the rib feature's business
        addpath = ctx.has_addpath(fam)
        keep = self.keep
        if keep is True or (keep and fam in keep):
            c.kept = True
            flat = _native.walk_nlri(data, start, end, fam.afi, addpath)
            n = len(flat) // (3 if fam.afi == 1 else 4)
            if add:
                c.held.update(_keys(flat, fam.afi, addpath))
            else:
                c.held.difference_update(_keys(flat, fam.afi, addpath))
        else:
            n = _native.count_nlri(data, start, end, fam.afi, addpath)
        if add:
            c.announced += n
        else:
            c.withdrawn += n

    def apply(self, body: memoryview | bytes, ctx: EncodingContext) -> list[Family]:
        """Account for one UPDATE body; returns the families that gained prefixes. WireError when
        an NLRI field is malformed (validation runs before, so this means a bug upstream)."""
        self.updates += 1
        wlen = _U16.unpack_from(body, 0)[0]
        astart = 4 + wlen
        alen = _U16.unpack_from(body, 2 + wlen)[0]
        aend = astart + alen
        grown: list[Family] = []
        if wlen:
            self._walk(IPV4_UNICAST, body, 2, 2 + wlen, ctx, False)
        if alen:
            for _flags, code, vs, ve in attr_walk(body, astart, aend):
                if code == MP_REACH:
                    afi, safi = _HEAD.unpack_from(body, vs)
                    fam = Family(afi, safi)
                    nlri = vs + 4 + body[vs + 3] + 1
                    if nlri < ve:
                        self._walk(fam, body, nlri, ve, ctx, True)
                        grown.append(fam)
                elif code == MP_UNREACH:
                    afi, safi = _HEAD.unpack_from(body, vs)
                    fam = Family(afi, safi)
                    if ve - vs == 3 and not wlen and aend == len(body) and alen <= 7:
                        self.eor.add(fam)
                    self._walk(fam, body, vs + 3, ve, ctx, False)
        if aend < len(body):
            self._walk(IPV4_UNICAST, body, aend, len(body), ctx, True)
            grown.append(IPV4_UNICAST)
        elif not wlen and not alen:
            self.eor.add(IPV4_UNICAST)
        return grown

    def to_dict(self) -> dict[str, Any]:
        return {f.name: c.to_dict() for f, c in self.families.items()}


def _attr(code: int, flags: int, value: bytes | memoryview) -> bytes:
    if len(value) > 255:
        return bytes((flags | EXTENDED_LENGTH, code)) + _U16.pack(len(value)) + bytes(value)
    return bytes((flags & ~EXTENDED_LENGTH, code, len(value))) + bytes(value)


def withdraw_body(body: memoryview | bytes) -> bytes:
    """RFC 7606 2 treat-as-withdraw: an UPDATE body withdrawing every route `body` carries (IPv4
    NLRI and withdrawn routes in the withdrawn field, MP_REACH NLRI as MP_UNREACH, one per family)."""
    wlen = _U16.unpack_from(body, 0)[0]
    astart = 4 + wlen
    alen = _U16.unpack_from(body, 2 + wlen)[0]
    aend = astart + alen
    withdrawn = bytes(body[2 : 2 + wlen]) + bytes(body[aend:])
    unreach: dict[tuple[int, int], bytearray] = {}
    for _flags, code, vs, ve in attr_walk(body, astart, aend):
        if code == MP_REACH:
            afi, safi = _HEAD.unpack_from(body, vs)
            nlri = vs + 4 + body[vs + 3] + 1
            unreach.setdefault((afi, safi), bytearray()).extend(body[nlri:ve])
        elif code == MP_UNREACH:
            afi, safi = _HEAD.unpack_from(body, vs)
            unreach.setdefault((afi, safi), bytearray()).extend(body[vs + 3 : ve])
    attrs = b"".join(
        _attr(MP_UNREACH, 0x80, _HEAD.pack(afi, safi) + bytes(nlri))
        for (afi, safi), nlri in unreach.items()
        if nlri
    )
    return _U16.pack(len(withdrawn)) + withdrawn + _U16.pack(len(attrs)) + attrs


def discard_body(body: memoryview | bytes, discarded: tuple[int, ...], duplicates: tuple[int, ...]) -> bytes:
    """RFC 7606 2 attribute-discard (and 3.g): the body without the `discarded` attributes and with
    only the first of each code in `duplicates`."""
    wlen = _U16.unpack_from(body, 0)[0]
    astart = 4 + wlen
    alen = _U16.unpack_from(body, 2 + wlen)[0]
    aend = astart + alen
    out = bytearray()
    seen: set[int] = set()
    for flags, code, vs, ve in attr_walk(body, astart, aend):
        if code in discarded:
            continue
        if code in duplicates and code in seen:
            continue
        seen.add(code)
        out += body[vs - (4 if flags & EXTENDED_LENGTH else 3) : ve]
    return bytes(body[: 2 + wlen]) + _U16.pack(len(out)) + bytes(out) + bytes(body[aend:])
