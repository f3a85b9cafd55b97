"""RFC 7606 verdicts for received UPDATEs: pure functions over the bytes, no I/O, no clock.

`check_update` walks an UPDATE body (withdrawn routes, path attributes, NLRI) and says what the
session must do: "ok", "attribute-discard" (drop the named attributes, keep the routes),
"treat-as-withdraw" (withdraw every route the message carries) or "session-reset" (send the
NOTIFICATION and close). When several errors apply, the strongest wins (RFC 7606 3.f).

Structure (RFC 7606 sections 3, 4, 5): lengths of the withdrawn routes and attribute fields that
overrun the message, a syntactically wrong NLRI or withdrawn field (5.3), and a repeated
MP_REACH_NLRI/MP_UNREACH_NLRI (3.g) reset the session; an attribute list whose own lengths conflict
with the Total Path Attribute Length is treat-as-withdraw (4); other repeated attributes keep the first
(3.g); a missing well-known mandatory attribute when NLRI are present is treat-as-withdraw (3.d);
an unrecognized well-known attribute resets the session (RFC 4271 6.3, unchanged by RFC 7606).

Per attribute, the RULES table below is the RFC: expected Optional/Transitive flags (a flags conflict
makes the attribute malformed, 3.c), the action for a malformed value, the value check, and when the
attribute is dropped for where it came from (LOCAL_PREF from eBGP ...). Where a codec is registered
for the code, its `from_wire` runs too and a WireError from it is handled like a failed check.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from ze.bgp.wire.attr.base import EXTENDED_LENGTH, OPTIONAL, TRANSITIVE
from ze.bgp.wire.attr.walk import walk
from ze.bgp.wire.codecs import Codecs, core
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.nlri.prefix import count as prefix_count
from ze.bgp.wire.notification import Notification
from ze.core.errors import WireError
from ze.core.family import AFI, IPV4_UNICAST, SAFI, Family

OK = "ok"
DISCARD = "attribute-discard"
WITHDRAW = "treat-as-withdraw"
RESET = "session-reset"
ACTIONS = (OK, DISCARD, WITHDRAW, RESET)
_STRENGTH = {a: i for i, a in enumerate(ACTIONS)}

WK = TRANSITIVE  # well-known: optional 0, transitive 1
OPT_T = OPTIONAL | TRANSITIVE
OPT_NT = OPTIONAL

# UPDATE Message Error subcodes (RFC 4271 6.3).
MALFORMED_ATTRIBUTE_LIST = 1
UNRECOGNIZED_WELL_KNOWN = 2
ATTRIBUTE_FLAGS_ERROR = 4
OPTIONAL_ATTRIBUTE_ERROR = 9
INVALID_NETWORK_FIELD = 10
UPDATE_ERROR = 3

MP_REACH_NLRI = 14
MP_UNREACH_NLRI = 15


class Row(NamedTuple):
    name: str  # attribute name as in JSON
    rfc: str  # where the error handling is written
    flags: int  # expected Optional and Transitive bits
    action: str  # what a malformed value calls for
    check: str  # value check (a function below): returns why it is malformed, or None
    drop_when: str = ""  # context check (a function below): returns why to discard it, or ""


# code -> rule. Reading this table tells the RFC.
TABLE: dict[int, Row] = {
    1: Row("origin", "RFC 7606 7.1", WK, WITHDRAW, "_origin"),
    2: Row("as-path", "RFC 7606 7.2, RFC 7607", WK, WITHDRAW, "_as_path"),
    3: Row("next-hop", "RFC 7606 7.3", WK, WITHDRAW, "_next_hop"),
    4: Row("med", "RFC 7606 7.4", OPT_NT, WITHDRAW, "_four"),
    5: Row("local-preference", "RFC 7606 7.5", WK, WITHDRAW, "_four", "_from_ebgp"),
    6: Row("atomic-aggregate", "RFC 7606 7.6", WK, DISCARD, "_empty"),
    7: Row("aggregator", "RFC 7606 7.7", OPT_T, DISCARD, "_aggregator"),
    8: Row("community", "RFC 7606 7.8", OPT_T, WITHDRAW, "_multiple_of_4"),
    9: Row("originator-id", "RFC 7606 7.9", OPT_NT, WITHDRAW, "_four", "_from_ebgp"),
    10: Row("cluster-list", "RFC 7606 7.10", OPT_NT, WITHDRAW, "_multiple_of_4", "_from_ebgp"),
    14: Row("mp-reach-nlri", "RFC 7606 7.11, RFC 4760 7", OPT_NT, RESET, "_mp_reach"),
    15: Row("mp-unreach-nlri", "RFC 7606 7.12, RFC 4760 7", OPT_NT, RESET, "_mp_unreach"),
    16: Row("extended-community", "RFC 7606 7.14", OPT_T, WITHDRAW, "_multiple_of_8"),
    17: Row("as4-path", "RFC 6793 6", OPT_T, DISCARD, "_as4_path", "_from_asn4"),
    18: Row("as4-aggregator", "RFC 6793 6", OPT_T, DISCARD, "_eight", "_from_asn4"),
    25: Row("ipv6-extended-community", "RFC 7606 7.15", OPT_T, WITHDRAW, "_multiple_of_20"),
    26: Row("aigp", "RFC 7311 5", OPT_NT, DISCARD, "_aigp"),
    32: Row("large-community", "RFC 8092 6", OPT_T, WITHDRAW, "_multiple_of_12"),
    35: Row("otc", "RFC 9234 5", OPT_T, WITHDRAW, "_four"),
    40: Row("prefix-sid", "RFC 8669 6", OPT_T, WITHDRAW, "_prefix_sid"),
}

# Well-known mandatory attributes (RFC 4271 5; NEXT_HOP only with the IPv4 NLRI field, RFC 4760 3).
MANDATORY = (1, 2)
MANDATORY_WITH_NLRI_FIELD = (3,)


class Reason(NamedTuple):
    code: int | None  # attribute type code, or None for the message structure
    offset: int  # absolute byte offset in the message
    text: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with one UPDATE. `notification` is (code, subcode, data) for a session reset;
    `discarded` lists attribute codes to drop entirely, `duplicates` codes whose occurrences after
    the first are dropped; `family` names the AFI/SAFI an MP_REACH/MP_UNREACH error concerns (the
    RFC 4760 7 "AFI/SAFI disable" alternative to the reset); `reasons` are for the log."""

    action: str = OK
    notification: tuple[int, int, bytes] | None = None
    discarded: tuple[int, ...] = ()
    duplicates: tuple[int, ...] = ()
    reasons: tuple[Reason, ...] = ()
    family: Family | None = None

    @property
    def ok(self) -> bool:
        return self.action == OK

    def to_notification(self) -> Notification | None:
        if self.notification is None:
            return None
        return Notification(*self.notification)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action}
        if self.notification is not None:
            code, subcode, data = self.notification
            out["notification"] = {"code": code, "subcode": subcode, "data": data.hex().upper()}
        if self.discarded:
            out["discarded"] = list(self.discarded)
        if self.duplicates:
            out["duplicates"] = list(self.duplicates)
        if self.family is not None:
            out["family"] = self.family.name
        out["reasons"] = [{"code": r.code, "offset": r.offset, "text": r.text} for r in self.reasons]
        return out


OK_VERDICT = Verdict()


class _Scope(NamedTuple):
    ctx: EncodingContext
    ibgp: bool
    confed: bool
    codecs: Codecs
    peer_as: int | None
    token: int = 0  # unique per interned scope: the _OK cache keys on it, not on a hash of the fields


_SCOPES: dict[tuple, _Scope] = {}
_TOKENS = itertools.count(1)


def _scope(ctx: EncodingContext, ibgp: bool, confed: bool, codecs: Codecs, peer_as: int | None) -> _Scope:
    """The scope of a session's UPDATEs, made once (a session keeps its context and codecs)."""
    k = (id(ctx), ibgp, confed, id(codecs), peer_as)
    s = _SCOPES.get(k)
    if s is None or s.ctx is not ctx or s.codecs is not codecs:
        if len(_SCOPES) >= 4096:
            _SCOPES.clear()
        s = _SCOPES[k] = _Scope(ctx, ibgp, confed, codecs, peer_as, next(_TOKENS))
    return s


class _Reset(Exception):
    """Internal: a session reset ends the walk (nothing stronger can follow)."""


class _Acc:
    __slots__ = ("action", "discarded", "duplicates", "family", "notification", "reasons")

    def __init__(self) -> None:
        self.action = OK
        self.notification: tuple[int, int, bytes] | None = None
        self.discarded: list[int] = []
        self.duplicates: list[int] = []
        self.reasons: list[Reason] = []
        self.family: Family | None = None

    def add(self, action: str, code: int | None, offset: int, text: str) -> None:
        if _STRENGTH[action] > _STRENGTH[self.action]:
            self.action = action
        self.reasons.append(Reason(code, offset, text))

    def reset(self, code: int | None, offset: int, text: str, subcode: int, data: bytes = b"") -> _Reset:
        self.add(RESET, code, offset, text)
        self.notification = (UPDATE_ERROR, subcode, bytes(data))
        return _Reset()

    def verdict(self) -> Verdict:
        if self.action == OK and not self.reasons:
            return OK_VERDICT
        return Verdict(
            self.action,
            self.notification,
            tuple(self.discarded),
            tuple(self.duplicates),
            tuple(self.reasons),
            self.family,
        )


_U16 = struct.Struct("!H")


def check_update(
    body: bytes | bytearray | memoryview,
    ctx: EncodingContext,
    codecs: Codecs | None = None,
    *,
    ibgp: bool,
    confed: bool = False,
    peer_as: int | None = None,
    base: int = 19,
) -> Verdict:
    """The RFC 7606 verdict for an UPDATE body (the bytes after the 19-byte header; `base` is where
    the body starts in the message, for offsets). `ibgp`: the peer is internal; `confed`: the peer is
    in our confederation (AS_CONFED segments allowed from it); `peer_as`: when given for an eBGP peer,
    the leftmost AS of AS_PATH must be it (the optional check of RFC 4271 6.3; leave it None for
    route-server peers, RFC 7947). Never raises."""
    try:
        scope = _scope(ctx, ibgp, confed, codecs if codecs is not None else core(), peer_as)
        return _check(body, scope, base)
    except Exception as e:  # a bug here must not take the session down; the reason says what broke
        return Verdict(
            RESET,
            (UPDATE_ERROR, 0, b""),
            reasons=(Reason(None, base, f"internal error while validating: {type(e).__name__}: {e}"),),
        )


def _check(body: bytes | bytearray | memoryview, scope: _Scope, base: int) -> Verdict:
    view = body if isinstance(body, memoryview) else memoryview(body)
    acc = _Acc()
    try:
        _structure(view, scope, base, acc)
    except _Reset:
        pass
    return acc.verdict()


def _structure(view: memoryview, scope: _Scope, base: int, acc: _Acc) -> None:
    n = len(view)
    if n < 4:
        raise acc.reset(None, base, f"UPDATE body is {n} bytes, needs at least 4", MALFORMED_ATTRIBUTE_LIST)
    wlen = _U16.unpack_from(view, 0)[0]
    if 4 + wlen > n:
        raise acc.reset(
            None, base, f"withdrawn routes length {wlen} runs past the message", MALFORMED_ATTRIBUTE_LIST
        )
    alen = _U16.unpack_from(view, 2 + wlen)[0]
    astart = 4 + wlen
    aend = astart + alen
    if aend > n:
        raise acc.reset(
            None,
            base + 2 + wlen,
            f"total path attribute length {alen} runs {aend - n} bytes past the message",
            MALFORMED_ATTRIBUTE_LIST,
        )
    addpath = scope.ctx.ipv4_addpath
    # RFC 7606 5.3: the IPv4 fields must parse for treat-as-withdraw to be possible at all; when they
    # do not, reset (or disable ipv4/unicast: `family` names it).
    bad = _ipv4_prefix_error(view, 2, 2 + wlen, addpath)
    if bad is not None:
        acc.family = IPV4_UNICAST
        raise acc.reset(None, base + bad[0], f"withdrawn routes: {bad[1]}", INVALID_NETWORK_FIELD)
    bad = _ipv4_prefix_error(view, aend, n, addpath)
    if bad is not None:
        acc.family = IPV4_UNICAST
        raise acc.reset(None, base + bad[0], f"NLRI: {bad[1]}", INVALID_NETWORK_FIELD)

    seen: set[int] = set()
    complete = True
    try:
        for flags, code, vstart, vend in walk(view, astart, aend, base):
            start = vstart - (4 if flags & EXTENDED_LENGTH else 3)
            if code in seen:
                if code in (MP_REACH_NLRI, MP_UNREACH_NLRI):
                    acc.family = _mp_family(code, view[vstart:vend])
                    raise acc.reset(
                        code,
                        base + start,
                        f"{TABLE[code].name} appears more than once (RFC 7606 3.g)",
                        MALFORMED_ATTRIBUTE_LIST,
                    )
                if code not in acc.duplicates:
                    acc.duplicates.append(code)
                acc.add(DISCARD, code, base + start, f"attribute {code} repeated: first kept (RFC 7606 3.g)")
                continue
            seen.add(code)
            _attribute(view, flags, code, start, vstart, vend, scope, base, acc)
    except WireError as e:
        complete = False
        acc.add(
            WITHDRAW,
            None,
            e.offset if e.offset is not None else base + astart,
            f"{e.message}; NLRI located by the total attribute length (RFC 7606 4)",
        )

    nlri_field = aend < n
    if complete and (nlri_field or MP_REACH_NLRI in seen):
        wanted = MANDATORY + MANDATORY_WITH_NLRI_FIELD if nlri_field else MANDATORY
        for code in wanted:
            if code not in seen:
                acc.add(
                    WITHDRAW,
                    code,
                    base + astart,
                    f"missing well-known attribute {TABLE[code].name} (RFC 7606 3.d)",
                )


def _attribute(
    view: memoryview,
    flags: int,
    code: int,
    start: int,
    vstart: int,
    vend: int,
    scope: _Scope,
    base: int,
    acc: _Acc,
) -> None:
    rule = RULES.get(code)
    spec = scope.codecs.attrs.get(code)
    offset = base + start
    if rule is None:
        if spec is None:
            if not flags & OPTIONAL:
                raise acc.reset(
                    code,
                    offset,
                    f"unrecognized well-known attribute {code} (RFC 4271 6.3)",
                    UNRECOGNIZED_WELL_KNOWN,
                    view[start:vend],
                )
            return  # unknown optional: kept (passed on with Partial set if transitive)
        # A feature's attribute with no rule here: its RFC must say; treat-as-withdraw is the default
        # RFC 7606 2 asks new attributes to use.
        rule = Rule(spec.name, "RFC 7606 2", spec.cls.FLAGS & (OPTIONAL | TRANSITIVE), WITHDRAW, None, None)
    value = view[vstart:vend]
    # Attributes repeat across UPDATEs (ORIGIN, NEXT_HOP, LOCAL_PREF, MED, ORIGINATOR_ID ...): a short
    # value already found valid under the same scope and flags needs no second look.
    key = None
    if len(value) <= _OK_MAX_VALUE:
        key = (scope.token, flags, code, bytes(value))
        if key in _OK:
            return
    if rule.drop_when is not None:
        why = rule.drop_when(scope)
        if why:
            acc.discarded.append(code)
            acc.add(DISCARD, code, offset, f"{rule.name} {why} ({rule.rfc})")
            return
    family = _mp_family(code, value)
    if flags & (OPTIONAL | TRANSITIVE) != rule.flags:
        _malformed(
            rule,
            code,
            offset,
            f"{rule.name} flags 0x{flags:02X}: optional/transitive bits must be 0x{rule.flags:02X} (RFC 7606 3.c)",
            ATTRIBUTE_FLAGS_ERROR,
            view[start:vend],
            acc,
            family,
        )
        return
    why = rule.check(value, scope) if rule.check is not None else None
    if why is None and spec is not None:
        try:
            spec.cls.from_wire(flags, value, scope.ctx, base + vstart)
        except WireError as e:
            why = e.message
        except Exception as e:  # a codec bug: the attribute cannot be trusted, say which codec broke
            why = f"codec {spec.name} failed: {type(e).__name__}: {e}"
    if why is not None:
        _malformed(
            rule, code, offset, f"{why} ({rule.rfc})", OPTIONAL_ATTRIBUTE_ERROR, view[start:vend], acc, family
        )
    elif key is not None:
        if len(_OK) >= _OK_SIZE:
            _OK.clear()
        _OK.add(key)


# (scope token, flags, code, value) of attributes found valid: bounded, cleared when full.
_OK: set[tuple] = set()
_OK_SIZE = 50_000
_OK_MAX_VALUE = 48


def _mp_family(code: int, value: memoryview) -> Family | None:
    if code in (MP_REACH_NLRI, MP_UNREACH_NLRI) and len(value) >= 3:
        return Family(_U16.unpack_from(value, 0)[0], value[2])
    return None


def _malformed(
    rule: Rule,
    code: int,
    offset: int,
    text: str,
    subcode: int,
    attr: memoryview,
    acc: _Acc,
    family: Family | None = None,
) -> None:
    if family is not None:
        acc.family = family
    if rule.action == RESET:
        raise acc.reset(code, offset, text, subcode, attr)
    if rule.action == DISCARD and code not in acc.discarded:
        acc.discarded.append(code)
    acc.add(rule.action, code, offset, text)


# -- NLRI syntax (RFC 7606 5.3) -------------------------------------------------------------------


def _ipv4_prefix_error(data: memoryview, start: int, end: int, addpath: bool) -> tuple[int, str] | None:
    """_prefix_error for IPv4, the common (valid) case walked in C."""
    if start == end:
        return None
    try:
        prefix_count(data, start, end, 1, addpath)
        return None
    except WireError:
        return _prefix_error(data, start, end, 32, addpath)


def _prefix_error(
    data: memoryview, start: int, end: int, width: int, addpath: bool
) -> tuple[int, str] | None:
    """(offset, why) of the first syntax error in packed IP prefixes, or None. No objects are built."""
    pos = start
    while pos < end:
        at = pos
        if addpath:
            if pos + 5 > end:
                return at, "path id without a prefix"
            pos += 4
        plen = data[pos]
        if plen > width:
            return pos, f"prefix length {plen} exceeds {width}"
        pos += 1 + ((plen + 7) >> 3)
        if pos > end:
            return at, f"prefix /{plen} runs past the end"
    return None


def _nlri_error(view: memoryview, start: int, family: Family, scope: _Scope, vbase: int) -> str | None:
    addpath = scope.ctx.has_addpath(family)
    if family.afi in (AFI.IPV4, AFI.IPV6) and family.safi in (SAFI.UNICAST, SAFI.MULTICAST):
        try:  # the common case, walked in C; the Python walk below only to describe an error
            prefix_count(view, start, len(view), family.afi, addpath)
            return None
        except WireError:
            pass
        bad = _prefix_error(view, start, len(view), 32 if family.afi == AFI.IPV4 else 128, addpath)
        return None if bad is None else f"{family.name} NLRI at value byte {vbase + bad[0]}: {bad[1]}"
    fspec = scope.codecs.families.get(family)
    if fspec is None:
        return None  # a family no codec knows: nothing to check it against
    try:
        for _ in fspec.decode(view, start, len(view), addpath, vbase):
            pass
    except WireError as e:
        return f"{family.name} NLRI: {e}"
    return None


# -- value checks: each returns why the value is malformed, or None -------------------------------


def _origin(v: memoryview, s: _Scope) -> str | None:
    if len(v) != 1:
        return f"ORIGIN length {len(v)}, must be 1"
    if v[0] > 2:
        return f"ORIGIN value {v[0]} is not igp, egp or incomplete"
    return None


def _segments(v: memoryview, width: int, what: str, confed_ok: bool) -> str | None:
    pos, n = 0, len(v)
    while pos < n:
        if pos + 2 > n:
            return f"{what}: one byte left where a segment header needs two"
        stype, count = v[pos], v[pos + 1]
        if stype not in (1, 2, 3, 4):
            return f"{what}: unknown segment type {stype}"
        if stype in (3, 4) and not confed_ok:
            return f"{what}: confederation segment from a peer outside the confederation"
        if count == 0:
            return f"{what}: segment of length zero"
        end = pos + 2 + count * width
        if end > n:
            return f"{what}: segment of {count} ASes runs past the attribute"
        for i in range(pos + 2, end, width):
            if not int.from_bytes(v[i : i + width], "big"):
                return f"{what}: AS 0 in the path (RFC 7607)"
        pos = end
    return None


def _as_path(v: memoryview, s: _Scope) -> str | None:
    width = 4 if s.ctx.asn4 else 2
    why = _segments(v, width, "AS_PATH", s.ibgp or s.confed)
    if why is None and s.peer_as is not None and not (s.ibgp or s.confed):
        if len(v) < 2 + width or v[0] != 2:
            return f"AS_PATH does not start with a sequence holding the peer's AS {s.peer_as} (RFC 4271 6.3)"
        first = int.from_bytes(v[2 : 2 + width], "big")
        if first != s.peer_as:
            return f"AS_PATH leftmost AS {first} is not the peer's AS {s.peer_as} (RFC 4271 6.3)"
    return why


def _as4_path(v: memoryview, s: _Scope) -> str | None:
    if not v:
        return "AS4_PATH is empty"
    return _segments(v, 4, "AS4_PATH", False)


def _next_hop(v: memoryview, s: _Scope) -> str | None:
    if len(v) != 4:
        return f"NEXT_HOP length {len(v)}, must be 4"
    addr = int.from_bytes(v, "big")
    if addr == 0 or addr >= 0xE0000000:
        return f"NEXT_HOP {v[0]}.{v[1]}.{v[2]}.{v[3]} is not a host address (RFC 4271 6.3)"
    return None


def _four(v: memoryview, s: _Scope) -> str | None:
    return None if len(v) == 4 else f"length {len(v)}, must be 4"


def _eight(v: memoryview, s: _Scope) -> str | None:
    return None if len(v) == 8 else f"length {len(v)}, must be 8"


def _empty(v: memoryview, s: _Scope) -> str | None:
    return None if not v else f"length {len(v)}, must be 0"


def _aggregator(v: memoryview, s: _Scope) -> str | None:
    want = 8 if s.ctx.asn4 else 6
    return (
        None
        if len(v) == want
        else f"length {len(v)}, must be {want} with {'4' if s.ctx.asn4 else '2'}-byte ASNs"
    )


def _multiple(unit: int) -> Callable[[memoryview, _Scope], str | None]:
    def check(v: memoryview, s: _Scope) -> str | None:
        if not v or len(v) % unit:
            return f"length {len(v)} is not a non-zero multiple of {unit}"
        return None

    check.__name__ = f"_multiple_of_{unit}"
    return check


_multiple_of_4 = _multiple(4)
_multiple_of_8 = _multiple(8)
_multiple_of_12 = _multiple(12)
_multiple_of_20 = _multiple(20)


def _tlvs(v: memoryview, length_includes_header: bool) -> list[tuple[int, int, int]] | str:
    """(type, value start, value end) of type(1) length(2) TLVs, or why they do not parse."""
    out = []
    pos, n = 0, len(v)
    while pos < n:
        if pos + 3 > n:
            return f"TLV header at byte {pos} runs past the attribute"
        t, ln = v[pos], _U16.unpack_from(v, pos + 1)[0]
        vlen = ln - 3 if length_includes_header else ln
        if vlen < 0:
            return f"TLV {t} length {ln} is shorter than its header"
        if pos + 3 + vlen > n:
            return f"TLV {t} length {ln} runs past the attribute"
        out.append((t, pos + 3, pos + 3 + vlen))
        pos += 3 + vlen
    return out


def _aigp(v: memoryview, s: _Scope) -> str | None:
    tlvs = _tlvs(v, True)  # RFC 7311 3: the length covers type and length fields
    if isinstance(tlvs, str):
        return f"AIGP {tlvs}"
    for t, a, b in tlvs:
        if t == 1 and b - a != 8:
            return f"AIGP TLV of length {b - a + 3}, must be 11"
    return None


def _prefix_sid(v: memoryview, s: _Scope) -> str | None:
    tlvs = _tlvs(v, False)  # RFC 8669 3: the length covers the value only
    if isinstance(tlvs, str):
        return f"Prefix-SID {tlvs}"
    for t, a, b in tlvs:
        if t == 1 and b - a != 7:
            return f"Prefix-SID Label-Index TLV length {b - a}, must be 7"
        if t == 3 and (b - a < 8 or (b - a - 2) % 6):
            return f"Prefix-SID Originator SRGB TLV length {b - a}, must be 2 + a non-zero multiple of 6"
    return None


def _mp_reach(v: memoryview, s: _Scope) -> str | None:
    if len(v) < 5:
        return f"MP_REACH_NLRI length {len(v)}, needs at least 5"
    family = Family(_U16.unpack_from(v, 0)[0], v[2])
    nhlen = v[3]
    if 5 + nhlen > len(v):
        return f"MP_REACH_NLRI next hop length {nhlen} runs past the attribute"
    if family.afi in (AFI.IPV4, AFI.IPV6) and family.safi in (SAFI.UNICAST, SAFI.MULTICAST):
        allowed = {4} if family.afi == AFI.IPV4 else {16, 32}
        if family.afi == AFI.IPV4 and (family, AFI.IPV6) in s.ctx.extended_nexthop:
            allowed |= {16, 32}  # RFC 8950
        if nhlen not in allowed:
            return f"MP_REACH_NLRI next hop length {nhlen} for {family.name}, expected {sorted(allowed)}"
    return _nlri_error(v, 5 + nhlen, family, s, 0)


def _mp_unreach(v: memoryview, s: _Scope) -> str | None:
    if len(v) < 3:
        return f"MP_UNREACH_NLRI length {len(v)}, needs at least 3"
    return _nlri_error(v, 3, Family(_U16.unpack_from(v, 0)[0], v[2]), s, 0)


# -- context checks: why the attribute is dropped whatever its value ------------------------------


def _from_ebgp(s: _Scope) -> str:
    return "" if s.ibgp else "received from an eBGP peer: discarded"


def _from_asn4(s: _Scope) -> str:
    return "received from a 4-byte-AS speaker: discarded" if s.ctx.asn4 else ""


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    rfc: str
    flags: int
    action: str
    check: Callable[[memoryview, _Scope], str | None] | None
    drop_when: Callable[[_Scope], str] | None


RULES: dict[int, Rule] = {
    code: Rule(
        row.name,
        row.rfc,
        row.flags,
        row.action,
        globals()[row.check],
        globals()[row.drop_when] if row.drop_when else None,
    )
    for code, row in TABLE.items()
}
