"""The UPDATE message (RFC 4271 section 4.3) as WireUpdate, and the builder that writes UPDATEs.

A WireUpdate wraps the body (after the 19-byte header) as a memoryview: construction checks
only that the withdrawn-routes and total-path-attribute lengths stay inside the body (RFC 4271
6.3: otherwise 3/1, malformed attribute list); withdrawn(), attributes(), nlri() walk the
bytes when asked. Error offsets are absolute in the message (the body starts at byte 19).
End-of-RIB per RFC 4724 section 2. The builder packs route sets into as few UPDATEs as fit
the context's maximum message size (RFC 8654), with MP_REACH/MP_UNREACH (RFC 4760) for every
family but IPv4 unicast with an IPv4 next hop.
"""

from __future__ import annotations

import importlib
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ze.bgp.wire.attr import walk as attr_walk
from ze.bgp.wire.attr.base import EXTENDED_LENGTH, OPTIONAL, TRANSITIVE, Attribute
from ze.bgp.wire.attr.mpreach import MpReach, check_next_hop, encode_next_hops, encode_nlri
from ze.bgp.wire.attr.mpunreach import MpUnreach
from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.errors import update_error
from ze.bgp.wire.header import HEADER_LEN, MARKER, MessageType, frame
from ze.bgp.wire.nlri import prefix
from ze.core.family import AFI, IPV4_UNICAST, Family

MALFORMED_ATTRIBUTE_LIST = 1
NEXT_HOP = 3
MP_REACH = 14
MP_UNREACH = 15
_U16 = struct.Struct("!H")
_LEN_TYPE = struct.Struct("!HB")


class RawAttribute(Attribute):
    """An attribute kept as bytes with its own code: the builder's carrier for raw attribute
    blocks, and the decoder's fallback when attr.unknown is not part of the build. JSON under
    "attribute-<code>": {"code": N, "flags": F, "hex": "..."} (as attr.unknown writes it)."""

    __slots__ = ("code",)

    def __init__(self, raw: bytes | memoryview, flags: int | None = None, code: int = 0) -> None:
        super().__init__(raw, OPTIONAL | TRANSITIVE if flags is None else flags)
        self.code = code

    @property
    def CODE(self) -> int:  # type: ignore[override]
        return self.code

    @property
    def NAME(self) -> str:  # type: ignore[override]
        return f"attribute-{self.code}"

    def to_json(self) -> Any:
        return {
            "code": self.code,
            "flags": self.flags & ~EXTENDED_LENGTH,
            "hex": bytes(self.raw).hex().upper(),
        }

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, RawAttribute)
            and self.code == other.code
            and self.flags == other.flags
            and bytes(self.raw) == bytes(other.raw)
        )

    def __hash__(self) -> int:
        return hash((self.code, bytes(self.raw)))


_UNKNOWN: Any = None


def unknown_attribute(code: int, flags: int, view: memoryview, ctx: EncodingContext, base: int) -> Attribute:
    """An attribute with no codec: attr.unknown.Unknown.from_wire(code, flags, view, ctx, base)
    when that module is in the build (it judges unrecognized well-known codes, 3/2), else kept
    as a RawAttribute."""
    global _UNKNOWN
    if _UNKNOWN is None:
        try:
            _UNKNOWN = importlib.import_module("ze.bgp.wire.attr.unknown").Unknown
        except ModuleNotFoundError as e:
            if e.name != "ze.bgp.wire.attr.unknown":
                raise
            _UNKNOWN = False
    if _UNKNOWN is False:
        return RawAttribute(view, flags, code)
    return _UNKNOWN.from_wire(code, flags, view, ctx, base)


def _core_codecs():
    from ze.bgp.wire.codecs import core  # lazy: codecs imports every attribute module

    return core()


class WireUpdate:
    """One received (or built) UPDATE body. Nothing is decoded until asked."""

    TYPE = MessageType.UPDATE
    __slots__ = ("_aend", "_astart", "codecs", "ctx", "msg_id", "peer", "rendered", "source_ctx_id", "view")

    def __init__(
        self,
        view: memoryview | bytes | bytearray,
        ctx: EncodingContext,
        codecs: Any = None,
        *,
        source_ctx_id: int | None = None,
        peer: Any = None,
        msg_id: int = 0,
    ) -> None:
        self.view = view if isinstance(view, memoryview) else memoryview(view)
        self.ctx = ctx
        self.codecs = codecs
        self.source_ctx_id = ctx.id if source_ctx_id is None else source_ctx_id
        self.peer = peer
        self.msg_id = msg_id
        # render.py's cache: format name -> view, so each format is computed once per message.
        self.rendered: dict[str, Any] | None = None
        n = len(self.view)
        if n < 4:
            raise update_error(
                f"UPDATE body of {n} bytes, at least 4 needed", MALFORMED_ATTRIBUTE_LIST, HEADER_LEN
            )
        wlen = _U16.unpack_from(self.view, 0)[0]
        if 2 + wlen + 2 > n:
            raise update_error(
                f"withdrawn routes length {wlen} runs past the message", MALFORMED_ATTRIBUTE_LIST, HEADER_LEN
            )
        self._astart = 4 + wlen
        alen = _U16.unpack_from(self.view, 2 + wlen)[0]
        if self._astart + alen > n:
            raise update_error(
                f"total path attribute length {alen} runs past the message",
                MALFORMED_ATTRIBUTE_LIST,
                HEADER_LEN + 2 + wlen,
            )
        self._aend = self._astart + alen

    # -- reading -----------------------------------------------------------------------------

    def _codecs(self) -> Any:
        if self.codecs is None:
            self.codecs = _core_codecs()
        return self.codecs

    def withdrawn(self) -> Iterator[prefix.Prefix]:
        """IPv4 unicast prefixes in the withdrawn-routes field (with path ids under ADD-PATH)."""
        return prefix.walk(self.view, 2, self._astart - 2, AFI.IPV4, self.ctx.ipv4_addpath, HEADER_LEN)

    def nlri(self) -> Iterator[prefix.Prefix]:
        """IPv4 unicast prefixes announced after the path attributes."""
        return prefix.walk(self.view, self._aend, len(self.view), AFI.IPV4, self.ctx.ipv4_addpath, HEADER_LEN)

    def has_withdrawn(self) -> bool:
        return self._astart > 4

    def has_nlri(self) -> bool:
        return self._aend < len(self.view)

    def attribute_headers(self) -> Iterator[tuple[int, int, int, int]]:
        """(flags, code, value_start, value_end) per attribute, offsets within the body."""
        return attr_walk.walk(self.view, self._astart, self._aend, HEADER_LEN)

    def _make(self, flags: int, code: int, vs: int, ve: int) -> Attribute:
        spec = self._codecs().attrs.get(code)
        view = self.view[vs:ve]
        if spec is None:
            return unknown_attribute(code, flags, view, self.ctx, HEADER_LEN + vs)
        attr = spec.cls.from_wire(flags, view, self.ctx, HEADER_LEN + vs)
        if isinstance(attr, (MpReach, MpUnreach)):
            attr.codecs = self.codecs
        return attr

    def attributes(self) -> Iterator[Attribute]:
        """Every path attribute in wire order, each checked by its codec (WireError if malformed)."""
        for flags, code, vs, ve in self.attribute_headers():
            yield self._make(flags, code, vs, ve)

    def attribute(self, code: int) -> Attribute | None:
        """The first attribute with `code`, decoding only that one; None when absent."""
        for flags, c, vs, ve in self.attribute_headers():
            if c == code:
                return self._make(flags, c, vs, ve)
        return None

    def mp_reach(self) -> MpReach | None:
        return self.attribute(MP_REACH)  # type: ignore[return-value]

    def mp_unreach(self) -> MpUnreach | None:
        return self.attribute(MP_UNREACH)  # type: ignore[return-value]

    def is_eor(self) -> Family | None:
        """The family this UPDATE is the End-of-RIB marker of (RFC 4724 section 2), else None."""
        if self._astart != 4 or self.has_nlri():
            return None
        if self._aend == 4:
            return IPV4_UNICAST
        headers = list(self.attribute_headers())
        if len(headers) == 1 and headers[0][1] == MP_UNREACH and headers[0][3] - headers[0][2] == 3:
            vs = headers[0][2]
            return Family(_U16.unpack_from(self.view, vs)[0], self.view[vs + 2])
        return None

    # -- bytes -------------------------------------------------------------------------------

    def encode_into(self, buf: bytearray) -> int:
        """Append the whole message (header + body) to `buf`; return the bytes written."""
        buf += MARKER
        buf += _LEN_TYPE.pack(HEADER_LEN + len(self.view), MessageType.UPDATE)
        buf += self.view
        return HEADER_LEN + len(self.view)

    def to_bytes(self) -> bytes:
        return frame(MessageType.UPDATE, self.view)

    def body(self) -> bytes:
        return bytes(self.view)

    @classmethod
    def from_value(
        cls,
        *,
        withdrawn: Iterable[prefix.Prefix] = (),
        attrs: Iterable[Attribute] = (),
        nlri: Iterable[prefix.Prefix] = (),
        ctx: EncodingContext = DEFAULT,
        codecs: Any = None,
    ) -> WireUpdate:
        """One UPDATE from IPv4 withdrawn routes, attributes (MP ones included, any order: they are
        sent sorted by type code, RFC 4271 5) and IPv4 NLRI. ValueError if it exceeds ctx.max_message."""
        addpath = ctx.ipv4_addpath
        w = prefix.encode(withdrawn, addpath)
        a = bytearray()
        for attr in sorted(attrs, key=_code):
            attr.encode_into(a, ctx)
        n = prefix.encode(nlri, addpath)
        body = _U16.pack(len(w)) + w + _U16.pack(len(a)) + a + n
        if HEADER_LEN + len(body) > ctx.max_message:
            raise ValueError(f"UPDATE of {HEADER_LEN + len(body)} bytes exceeds {ctx.max_message}")
        return cls(body, ctx, codecs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WireUpdate) and bytes(self.view) == bytes(other.view)

    def __hash__(self) -> int:
        return hash(bytes(self.view))

    def __repr__(self) -> str:
        return f"WireUpdate({bytes(self.view).hex().upper()})"


def _code(attr: Attribute) -> int:
    return attr.CODE


# -- building many -----------------------------------------------------------------------------


@dataclass
class NlriSection:
    """One `nlri FAMILY add|del|eor ...` of the route text syntax (or JSON): what to send."""

    family: Family
    action: str  # "add", "del" or "eor"
    items: list = field(default_factory=list)
    next_hops: tuple[str, ...] = ()


def _attr_header_len(value_len: int) -> int:
    return 4 if value_len > 255 else 3


def _next_hop_attribute(nh: bytes, codecs: Any) -> Attribute:
    spec = codecs.attrs.get(NEXT_HOP)
    if spec is None:
        return RawAttribute(nh, TRANSITIVE, NEXT_HOP)
    return spec.cls(nh)


class _Msg:
    """One UPDATE being filled: sizes are tracked so an item is added only if it still fits."""

    __slots__ = ("n4", "nh4", "reach", "unreach", "w4")

    def __init__(self) -> None:
        self.w4 = bytearray()
        self.n4 = bytearray()
        self.nh4: bytes | None = None
        self.unreach: tuple[Family, bytearray] | None = None
        self.reach: tuple[Family, bytes, bytearray] | None = None

    def empty(self) -> bool:
        return not (self.w4 or self.n4 or self.unreach or self.reach)

    def size(self, common: int) -> int:
        attrs = 0
        if self.n4 or self.reach:
            attrs += common
        if self.n4:
            attrs += 3 + len(self.nh4 or b"")
        if self.unreach is not None:
            v = 3 + len(self.unreach[1])
            attrs += _attr_header_len(v) + v
        if self.reach is not None:
            v = 5 + len(self.reach[1]) + len(self.reach[2])
            attrs += _attr_header_len(v) + v
        return HEADER_LEN + 4 + len(self.w4) + attrs + len(self.n4)

    def accepts(self, action: str, classic: bool, fam: Family, nh: bytes) -> bool:
        """Whether an item of this kind may join (one family, one next hop per MP attribute)."""
        if action == "del":
            return classic or self.unreach is None or self.unreach[0] == fam
        if classic:
            return self.nh4 is None or self.nh4 == nh
        return self.reach is None or (self.reach[0] == fam and self.reach[1] == nh)

    def add(self, action: str, classic: bool, fam: Family, nh: bytes, packed: bytes) -> None:
        if action == "del" and classic:
            self.w4 += packed
        elif action == "del":
            if self.unreach is None:
                self.unreach = (fam, bytearray())
            self.unreach[1].extend(packed)
        elif classic:
            self.nh4 = nh
            self.n4 += packed
        else:
            if self.reach is None:
                self.reach = (fam, nh, bytearray())
            self.reach[2].extend(packed)

    def undo(self, action: str, classic: bool, n: int) -> None:
        """Take back the last `n` bytes added by add() (the item did not fit)."""
        if n == 0:
            return
        if action == "del" and classic:
            del self.w4[-n:]
        elif action == "del":
            assert self.unreach is not None
            del self.unreach[1][-n:]
            if not self.unreach[1]:
                self.unreach = None
        elif classic:
            del self.n4[-n:]
            if not self.n4:
                self.nh4 = None
        else:
            assert self.reach is not None
            del self.reach[2][-n:]
            if not self.reach[2]:
                self.reach = None


def build_updates(
    sections: Iterable[NlriSection],
    attrs: Sequence[Attribute] = (),
    ctx: EncodingContext = DEFAULT,
    codecs: Any = None,
) -> Iterator[bytes]:
    """Whole UPDATE messages carrying `sections`, each within ctx.max_message.

    Withdrawals go first (IPv4 unicast in the withdrawn field, others in MP_UNREACH), then
    announcements with `attrs` (IPv4 unicast with an IPv4 next hop as classic NLRI + NEXT_HOP,
    everything else in MP_REACH, one family and next hop per MP attribute), then End-of-RIB
    markers. ValueError when something cannot be sent under `ctx` (too large, bad next hop,
    no codec for the family).
    """
    codecs = codecs or _core_codecs()
    attrs = sorted(attrs, key=_code)
    for a in attrs:
        if a.CODE in (NEXT_HOP, MP_REACH, MP_UNREACH):
            raise ValueError(f"attribute {a.CODE} is set by the builder (use next hops and nlri sections)")
    common_buf = bytearray()
    for a in attrs:
        a.encode_into(common_buf, ctx)
    common = len(common_buf)
    limit = ctx.max_message
    sections = list(sections)
    for s in sections:
        if s.action not in ("add", "del", "eor"):
            raise ValueError(f"nlri action {s.action!r}: expected add, del or eor")
    cur = _Msg()
    ordered = [s for s in sections if s.action == "del"] + [s for s in sections if s.action == "add"]
    for s in ordered:
        fam = s.family
        nh = b""
        if s.action == "add":
            if not s.next_hops and fam.afi in (AFI.IPV4, AFI.IPV6) and fam.safi in (1, 2, 4, 128, 129):
                raise ValueError(f"nlri {fam.name} add: a next hop is needed (nhop set ADDRESS)")
            nh = encode_next_hops(s.next_hops, fam)
            check_next_hop(fam, nh, ctx)
            classic = fam == IPV4_UNICAST and len(nh) == 4
        else:
            classic = fam == IPV4_UNICAST
        pack = _packer(fam, classic, ctx, codecs)
        for item in s.items:
            packed = pack(item)
            while True:
                if cur.accepts(s.action, classic, fam, nh):
                    cur.add(s.action, classic, fam, nh, packed)
                    if cur.size(common) <= limit:
                        break
                    cur.undo(s.action, classic, len(packed))
                if cur.empty():
                    text = item.text() if hasattr(item, "text") else item
                    raise ValueError(
                        f"{fam.name} {text}: does not fit in a {limit}-byte UPDATE with these attributes"
                    )
                yield _assemble(cur, attrs, ctx, codecs)
                cur = _Msg()
    if not cur.empty():
        yield _assemble(cur, attrs, ctx, codecs)
    for s in sections:
        if s.action == "eor":
            yield eor_message(s.family)


def _packer(fam: Family, classic: bool, ctx: EncodingContext, codecs: Any) -> Any:
    """item -> its packed bytes for `fam` under `ctx` (the codec looked up once per section)."""
    addpath = ctx.has_addpath(fam)
    spec = None if classic else codecs.families.get(fam)
    if classic or (spec is not None and fam.afi in (AFI.IPV4, AFI.IPV6) and fam.safi in (1, 2)):
        encode_into = prefix.encode_into

        def pack_prefix(item: Any) -> bytes:
            buf = bytearray()
            encode_into(buf, item, addpath)
            return bytes(buf)

        return pack_prefix
    if spec is None:
        return lambda item: encode_nlri(fam, [item], ctx, codecs)
    encode = spec.encode
    return lambda item: encode((item,), addpath)


def _assemble(m: _Msg, attrs: Sequence[Attribute], ctx: EncodingContext, codecs: Any) -> bytes:
    out: list[Attribute] = []
    if m.n4 or m.reach:
        out.extend(attrs)
    if m.n4:
        out.append(_next_hop_attribute(m.nh4 or b"", codecs))
    if m.unreach is not None:
        fam, packed = m.unreach
        out.append(MpUnreach.from_value(fam, ctx=ctx, codecs=codecs, packed=bytes(packed)))
    if m.reach is not None:
        fam, nh, packed = m.reach
        out.append(MpReach.from_value(fam, nh, ctx=ctx, codecs=codecs, packed=bytes(packed)))
    a = bytearray()
    for attr in sorted(out, key=_code):
        attr.encode_into(a, ctx)
    body = _U16.pack(len(m.w4)) + m.w4 + _U16.pack(len(a)) + a + m.n4
    return frame(MessageType.UPDATE, body)


def eor_message(family: Family) -> bytes:
    """The End-of-RIB UPDATE of `family` (RFC 4724 section 2)."""
    if family == IPV4_UNICAST:
        return frame(MessageType.UPDATE, b"\x00\x00\x00\x00")
    a = bytearray()
    MpUnreach.eor(family).encode_into(a, DEFAULT)
    return frame(MessageType.UPDATE, b"\x00\x00" + _U16.pack(len(a)) + a)
