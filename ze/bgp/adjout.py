"""Adj-RIB-Out of locally originated routes (RFC 4271 3.2), kept per peer, encoded per session.

Routes arrive as route text commands (ze.bgp.wire.text: `update text ... nlri FAMILY add|del ...`);
`apply` stores announcements (prefix -> its attribute set, interned) and removes withdrawals, and
returns what changed. `snapshot` groups the table by attribute set for a full send (session up,
ROUTE-REFRESH). `encode` turns sections into UPDATE messages for one destination with its send
EncodingContext, applying the rules of RFC 4271 5.1 for what we originate:

- ORIGIN defaults to IGP and AS_PATH to empty when the command does not set them;
- towards eBGP our AS is prepended to AS_PATH (5.1.2) and LOCAL_PREF is not sent (5.1.5);
  towards iBGP LOCAL_PREF defaults to 100;
- the next hop `self` (written `nhop set self`) is the session's local address (5.1.3).

ADD-PATH (RFC 7911): a prefix may be held under several path ids (`add PREFIX path-id N`); a
prefix named without one is path id 1 (DEFAULT_PATH_ID), so `add P` and `add P path-id 1` are the
same route. A session that negotiated sending path ids for the family gets every path with its
id; one that did not gets path id 1 only, without the id (the other paths are additional paths,
for ADD-PATH peers), so withdrawing path 2 does not withdraw the prefix from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ze.bgp.wire.attr.aspath import AS_SEQUENCE, MAX_SEGMENT, AsPath
from ze.bgp.wire.attr.base import Attribute
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.text import parse as parse_text
from ze.bgp.wire.text import tokenize
from ze.bgp.wire.update import NlriSection, build_updates
from ze.core.family import Family

ORIGIN = 1
AS_PATH = 2
LOCAL_PREF = 5
SELF4 = "0.0.0.0"  # `nhop set self` is parsed as these and replaced per session
SELF6 = "::"

DEFAULT_PATH_ID = 1

RouteKey = tuple[tuple[Attribute, ...], tuple[str, ...]]  # (attributes, next hops)

_PERMISSIVE: dict[frozenset, EncodingContext] = {}


def parse_command(command: str, codecs: Any) -> tuple[list[Attribute], list[NlriSection]]:
    """A route text command with `self` allowed as next hop and path ids accepted for every family
    named in it (TextError, a ValueError, when it does not parse)."""
    words = tokenize(command)
    fams = set()
    for i, w in enumerate(words):
        if w in ("nhop", "next-hop") and i + 2 < len(words) and words[i + 1] == "set":
            for j in range(i + 2, min(i + 5, len(words))):
                if words[j] == "self":
                    words[j] = SELF6 if _next_family_afi(words, j) == 2 else SELF4
        if w == "nlri" and i + 1 < len(words):
            try:
                fams.add(Family.parse(words[i + 1]))
            except ValueError:
                pass
    key = frozenset(fams)
    ctx = _PERMISSIVE.get(key)
    if ctx is None:
        ctx = _PERMISSIVE[key] = EncodingContext(addpath=key, extended_message=True)
    return parse_text(words, ctx, codecs)


class AdjRibOut:
    """One peer's originated routes: family -> {prefix item: RouteKey}."""

    def __init__(self) -> None:
        self.routes: dict[Family, dict[Any, RouteKey]] = {}
        self._keys: dict[RouteKey, RouteKey] = {}

    def __len__(self) -> int:
        return sum(len(r) for r in self.routes.values())

    def counts(self) -> dict[str, int]:
        return {f.name: len(r) for f, r in self.routes.items() if r}

    def apply(self, attrs: Iterable[Attribute], sections: Iterable[NlriSection]) -> int:
        """Store a command's announcements, drop its withdrawals; how many prefixes it named."""
        n = 0
        key: RouteKey | None = None
        for s in sections:
            table = self.routes.setdefault(s.family, {})
            if s.action == "add":
                k = (tuple(sorted(attrs, key=lambda a: a.CODE)), tuple(s.next_hops))
                key = self._keys.setdefault(k, k)
                for item in s.items:
                    table[_with_path_id(item)] = key
            elif s.action == "del":
                for item in s.items:
                    table.pop(_with_path_id(item), None)
            n += len(s.items)
        return n

    def clear(self) -> None:
        self.routes.clear()
        self._keys.clear()

    def snapshot(self, family: Family | None = None) -> Iterator[tuple[RouteKey, NlriSection]]:
        """The table as (key, add section) groups, one per family and attribute set."""
        for fam, table in self.routes.items():
            if family is not None and fam != family:
                continue
            groups: dict[RouteKey, list] = {}
            for item, key in table.items():
                groups.setdefault(key, []).append(item)
            for key, items in groups.items():
                yield key, NlriSection(fam, "add", items, key[1])


class Outgoing:
    """How one session's originated routes are written: our AS, iBGP or not, the local address."""

    def __init__(self, local_as: int, ibgp: bool, local_address: str, codecs: Any) -> None:
        self.local_as = local_as
        self.ibgp = ibgp
        self.local_address = local_address
        self.codecs = codecs

    def attributes(self, attrs: Iterable[Attribute]) -> list[Attribute]:
        by_code = {a.CODE: a for a in attrs}
        if ORIGIN not in by_code:
            by_code[ORIGIN] = self.codecs.by_text["origin"].parse_text(["igp"])
        path = by_code.get(AS_PATH)
        segments = list(path.segments()) if path is not None else []
        if not self.ibgp:
            if segments and segments[0][0] == AS_SEQUENCE and len(segments[0][1]) < MAX_SEGMENT:
                segments[0] = (AS_SEQUENCE, (self.local_as, *segments[0][1]))
            else:
                segments.insert(0, (AS_SEQUENCE, (self.local_as,)))
            by_code.pop(LOCAL_PREF, None)
        elif LOCAL_PREF not in by_code:
            by_code[LOCAL_PREF] = self.codecs.by_text["local-preference"].parse_text(["100"])
        by_code[AS_PATH] = AsPath.from_value(segments) if segments else AsPath.from_value(())
        return [by_code[c] for c in sorted(by_code)]

    def next_hops(self, hops: tuple[str, ...]) -> tuple[str, ...]:
        if SELF4 not in hops and SELF6 not in hops:
            return hops
        local = self.local_address
        return tuple(local if h in (SELF4, SELF6) and local else h for h in hops)

    def encode(
        self, attrs: Iterable[Attribute], sections: Iterable[NlriSection], ctx: EncodingContext
    ) -> list[bytes]:
        """UPDATE messages for these sections under the session's send context (ValueError when
        they cannot be sent under it)."""
        out_sections = []
        for s in sections:
            items = s.items
            if s.action != "eor":
                if ctx.has_addpath(s.family):
                    items = [_with_path_id(i) for i in items]
                else:
                    items = [_strip_path_id(i) for i in items if _is_default_path(i)]
                    if not items:
                        continue
            out_sections.append(NlriSection(s.family, s.action, items, self.next_hops(tuple(s.next_hops))))
        return list(build_updates(out_sections, self.attributes(attrs), ctx, self.codecs))


def sendable(section: NlriSection, ctx: EncodingContext) -> int:
    """How many of the section's items a session with send context `ctx` gets (see encode)."""
    if section.action == "eor":
        return 0
    if ctx.has_addpath(section.family):
        return len(section.items)
    return sum(1 for i in section.items if _is_default_path(i))


def _with_path_id(item: Any) -> Any:
    """The item with DEFAULT_PATH_ID when it has none (items that carry no path id as is)."""
    if hasattr(item, "_replace") and getattr(item, "path_id", 0) is None:
        return item._replace(path_id=DEFAULT_PATH_ID)
    return item


def _is_default_path(item: Any) -> bool:
    return getattr(item, "path_id", None) in (None, DEFAULT_PATH_ID)


def _strip_path_id(item: Any) -> Any:
    if getattr(item, "path_id", None) is not None and hasattr(item, "_replace"):
        return item._replace(path_id=None)
    return item


def _next_family_afi(words: list[str], at: int) -> int:
    for i in range(at, len(words) - 1):
        if words[i] == "nlri":
            try:
                return Family.parse(words[i + 1]).afi
            except ValueError:
                return 1
    return 1
