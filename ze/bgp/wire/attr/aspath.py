"""AS_PATH (type 2, well-known mandatory; RFC 4271 4.3 and 5.1.2, RFC 5065 confederation
segments, RFC 6793 2- and 4-byte AS numbers, RFC 7606 7.2 and RFC 7607 malformed paths).

The value is kept as received; its AS width is the receiving context's (`asn4`). `value(ctx)`
re-encodes only when the sending context's width differs: to an ASN2 peer every AS above
65535 becomes AS_TRANS (building the matching AS4_PATH is the UPDATE builder's job).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from ze.bgp.wire.attr.base import TRANSITIVE, Attribute, AttrSpec
from ze.bgp.wire.attr.common import AS_TRANS, MALFORMED_AS_PATH, asn, fail
from ze.bgp.wire.context import EncodingContext

AS_SET, AS_SEQUENCE, AS_CONFED_SEQUENCE, AS_CONFED_SET = 1, 2, 3, 4
SEGMENT_NAMES = {
    AS_SET: "as-set",
    AS_SEQUENCE: "as-sequence",
    AS_CONFED_SEQUENCE: "confed-sequence",
    AS_CONFED_SET: "confed-set",
}
SEGMENT_TYPES = {v: k for k, v in SEGMENT_NAMES.items()}
CONFED = frozenset({AS_CONFED_SEQUENCE, AS_CONFED_SET})
MAX_SEGMENT = 255

Segment = tuple[int, tuple[int, ...]]


def pack_segments(segments: Iterable[tuple[int, Iterable[int]]], asn4: bool) -> bytes:
    """Segments -> value bytes in the given AS width (ASNs above 65535 become AS_TRANS in 2 bytes)."""
    out = bytearray()
    for stype, asns in segments:
        asns = tuple(asns)
        if stype not in SEGMENT_NAMES:
            raise ValueError(f"AS path segment type {stype} is not 1..4")
        if not 0 < len(asns) <= MAX_SEGMENT:
            raise ValueError(f"AS path segment of {len(asns)} ASNs (must be 1..255)")
        out.append(stype)
        out.append(len(asns))
        if asn4:
            out += struct.pack(f"!{len(asns)}I", *asns)
        else:
            out += struct.pack(f"!{len(asns)}H", *(a if a <= 0xFFFF else AS_TRANS for a in asns))
    return bytes(out)


def sequence_segments(asns: Iterable[int]) -> list[Segment]:
    """A plain AS sequence, split into AS_SEQUENCE segments of at most 255 ASNs."""
    asns = tuple(asns)
    return [(AS_SEQUENCE, asns[i : i + MAX_SEGMENT]) for i in range(0, len(asns), MAX_SEGMENT)]


class AsPath(Attribute):
    CODE = 2
    NAME = "as-path"
    FLAGS = TRANSITIVE
    # None: the AS width follows the context; True: always 4 bytes (AS4_PATH).
    WIDE: ClassVar[bool | None] = None
    SUBCODE: ClassVar[int] = MALFORMED_AS_PATH
    __slots__ = ("asn4",)

    def __init__(self, raw: bytes | memoryview, flags: int | None = None, asn4: bool = True) -> None:
        super().__init__(raw, flags)
        self.asn4 = True if self.WIDE else asn4

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> AsPath:
        asn4 = True if cls.WIDE else ctx.asn4
        width = 4 if asn4 else 2
        fmt = "I" if asn4 else "H"
        end = len(view)
        pos = 0
        while pos < end:
            if pos + 2 > end:
                raise fail(
                    cls.CODE, flags, view, cls.SUBCODE, f"{cls.NAME}: truncated segment header", base + pos
                )
            stype = view[pos]
            count = view[pos + 1]
            if stype not in SEGMENT_NAMES:
                raise fail(
                    cls.CODE, flags, view, cls.SUBCODE, f"{cls.NAME}: segment type {stype}", base + pos
                )
            if count == 0:
                raise fail(cls.CODE, flags, view, cls.SUBCODE, f"{cls.NAME}: empty segment", base + pos)
            nxt = pos + 2 + count * width
            if nxt > end:
                raise fail(
                    cls.CODE,
                    flags,
                    view,
                    cls.SUBCODE,
                    f"{cls.NAME}: segment of {count} ASNs runs {nxt - end} bytes past the attribute",
                    base + pos,
                )
            if 0 in struct.unpack_from(f"!{count}{fmt}", view, pos + 2):  # RFC 7607
                raise fail(cls.CODE, flags, view, cls.SUBCODE, f"{cls.NAME}: AS 0 in the path", base + pos)
            pos = nxt
        return cls(view, flags, asn4)

    @classmethod
    def from_value(cls, segments: Iterable[tuple[int, Iterable[int]]] = (), asn4: bool = True) -> AsPath:
        """From (segment type, ASNs) pairs. With asn4=False, ASNs above 65535 are stored as AS_TRANS."""
        return cls(pack_segments(segments, asn4), None, asn4)

    @classmethod
    def from_sequence(cls, asns: Iterable[int], asn4: bool = True) -> AsPath:
        return cls.from_value(sequence_segments(asns), asn4)

    def segments(self) -> Iterator[Segment]:
        raw = self.raw
        width = 4 if self.asn4 else 2
        fmt = "I" if self.asn4 else "H"
        pos = 0
        end = len(raw)
        while pos < end:
            count = raw[pos + 1]
            yield raw[pos], struct.unpack_from(f"!{count}{fmt}", raw, pos + 2)
            pos += 2 + count * width

    def asns(self) -> tuple[int, ...]:
        """Every AS number in path order, whatever its segment."""
        out: list[int] = []
        for _, asns in self.segments():
            out += asns
        return tuple(out)

    def path_length(self) -> int:
        """RFC 4271 9.1.2.2 (an AS_SET counts 1) and RFC 5065 5.3 (confederation segments count 0)."""
        n = 0
        for stype, asns in self.segments():
            if stype == AS_SEQUENCE:
                n += len(asns)
            elif stype == AS_SET:
                n += 1
        return n

    def first_asn(self) -> int | None:
        """The neighbour AS: the first ASN of a leading AS_SEQUENCE, else None."""
        for stype, asns in self.segments():
            return asns[0] if stype == AS_SEQUENCE else None
        return None

    def value(self, ctx: EncodingContext) -> bytes:
        want = True if self.WIDE else ctx.asn4
        if want == self.asn4:
            return bytes(self.raw)
        return pack_segments(self.segments(), want)

    def to_json(self) -> Any:
        segs = list(self.segments())
        if all(t == AS_SEQUENCE for t, _ in segs) and all(len(a) == MAX_SEGMENT for _, a in segs[:-1]):
            return [a for _, asns in segs for a in asns]
        return [{"type": SEGMENT_NAMES[t], "asns": list(asns)} for t, asns in segs]

    @classmethod
    def from_json(cls, value: Any) -> AsPath:
        if not isinstance(value, list):
            raise ValueError(f"{cls.NAME}: expected a list, got {value!r}")
        if all(isinstance(v, dict) for v in value) and value:
            segs = []
            for seg in value:
                if set(seg) != {"type", "asns"} or seg["type"] not in SEGMENT_TYPES:
                    raise ValueError(f"{cls.NAME}: bad segment {seg!r}")
                if not isinstance(seg["asns"], list):
                    raise ValueError(f"{cls.NAME}: bad segment {seg!r}")
                segs.append((SEGMENT_TYPES[seg["type"]], [asn(a) for a in seg["asns"]]))
            return cls.from_value(segs)
        return cls.from_value(sequence_segments(asn(a) for a in value))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and list(self.segments()) == list(other.segments())  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.CODE, tuple(self.segments())))


_OPEN = {"{": AS_SET, "(": AS_CONFED_SEQUENCE, "[": AS_CONFED_SET}
_CLOSE = {"}": AS_SET, ")": AS_CONFED_SEQUENCE, "]": AS_CONFED_SET}


def parse_segments(words: list[str]) -> list[Segment]:
    """Route text: plain ASNs form AS_SEQUENCEs; `{a b}` is an AS_SET, `(a b)` a confed sequence and
    `[(a b)]`-style `[a b]` inside a path a confed set (outer brackets already removed by the caller)."""
    text = " ".join(words)
    for ch in "{}()[]":
        text = text.replace(ch, f" {ch} ")
    segs: list[Segment] = []
    current: list[int] = []
    inside: int | None = None
    for tok in text.split():
        if tok in _OPEN:
            if inside is not None:
                raise ValueError(f"as-path: nested {tok!r}")
            if current:
                segs += sequence_segments(current)
                current = []
            inside = _OPEN[tok]
        elif tok in _CLOSE:
            if inside != _CLOSE[tok] or not current:
                raise ValueError(f"as-path: unexpected {tok!r}")
            segs.append((inside, tuple(current)))
            current = []
            inside = None
        else:
            current.append(asn(tok))
    if inside is not None:
        raise ValueError("as-path: unclosed segment")
    if current:
        segs += sequence_segments(current)
    return segs


def parse_text(words: list[str]) -> AsPath:
    return AsPath.from_value(parse_segments(words))


SPEC = AttrSpec(AsPath.CODE, AsPath.NAME, AsPath, text="as-path", parse_text=parse_text)
