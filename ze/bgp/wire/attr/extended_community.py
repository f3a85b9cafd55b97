"""EXTENDED_COMMUNITIES (type 16, optional transitive; RFC 4360, RFC 5668 4-byte AS specific,
RFC 7153 registries). RFC 7606 7.14: the length must be a non-zero multiple of 8.

Text/JSON form of one community: route target and route origin of the three transitive
AS/IPv4-specific types are readable, everything else is 16 uppercase hex digits:
  "target:65000:1"        type 0x00 (2-byte AS : 4-byte number), subtype 0x02
  "target:192.0.2.1:1"    type 0x01 (IPv4 : 2-byte number)
  "target:4200000000:1"   type 0x02 (4-byte AS : 2-byte number); "target:65000L:1" when the
                          AS fits 2 bytes, so the text stays unambiguous
  "origin:..."            the same with subtype 0x03
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ze.bgp.wire.attr.base import OPTIONAL, TRANSITIVE, Attribute, AttrSpec
from ze.bgp.wire.attr.common import (
    ATTRIBUTE_LENGTH_ERROR,
    U16,
    U32,
    asn,
    fail,
    hex_bytes,
    ip4,
    ip4_packed,
    uint,
)
from ze.bgp.wire.context import EncodingContext

TWO_OCTET_AS, IPV4_ADDRESS, FOUR_OCTET_AS = 0x00, 0x01, 0x02
NON_TRANSITIVE = 0x40  # the T bit of the type octet (RFC 4360 2)
ROUTE_TARGET, ROUTE_ORIGIN = 0x02, 0x03
SUBTYPE_NAMES = {ROUTE_TARGET: "target", ROUTE_ORIGIN: "origin"}
SUBTYPES = {v: k for k, v in SUBTYPE_NAMES.items()}


def ext_text(value: bytes | memoryview) -> str:
    """One 8-byte extended community -> its text form."""
    kind = SUBTYPE_NAMES.get(value[1])
    if kind is not None:
        if value[0] == TWO_OCTET_AS:
            return f"{kind}:{U16.unpack_from(value, 2)[0]}:{U32.unpack_from(value, 4)[0]}"
        if value[0] == IPV4_ADDRESS:
            return f"{kind}:{ip4(value, 2)}:{U16.unpack_from(value, 6)[0]}"
        if value[0] == FOUR_OCTET_AS:
            number = U32.unpack_from(value, 2)[0]
            mark = "L" if number <= 0xFFFF else ""
            return f"{kind}:{number}{mark}:{U16.unpack_from(value, 6)[0]}"
    return bytes(value).hex().upper()


def parse_ext(text: Any) -> bytes:
    """Text form -> 8 bytes; ValueError when not one of the forms above."""
    if not isinstance(text, str):
        raise ValueError(f"extended-community: expected a string, got {text!r}")
    if ":" not in text:
        raw = hex_bytes(text, "extended-community")
        if len(raw) != 8:
            raise ValueError(f"extended-community: {text!r} is not 8 bytes of hex")
        return raw
    kind, _, rest = text.partition(":")
    subtype = SUBTYPES.get(kind.lower())
    if subtype is None or ":" not in rest:
        raise ValueError(f"extended-community: {text!r} is not target:X:N, origin:X:N or hex")
    glob, _, local = rest.rpartition(":")
    if glob.count(".") == 3:
        return bytes((IPV4_ADDRESS, subtype)) + ip4_packed(glob) + U16.pack(uint(local, 16, text))
    if glob[-1:] in ("L", "l"):
        return (
            bytes((FOUR_OCTET_AS, subtype)) + U32.pack(asn(glob[:-1], text)) + U16.pack(uint(local, 16, text))
        )
    number = asn(glob, text)
    if number > 0xFFFF:
        return bytes((FOUR_OCTET_AS, subtype)) + U32.pack(number) + U16.pack(uint(local, 16, text))
    return bytes((TWO_OCTET_AS, subtype)) + U16.pack(number) + U32.pack(uint(local, 32, text))


class ExtendedCommunity(Attribute):
    CODE = 16
    NAME = "extended-community"
    FLAGS = OPTIONAL | TRANSITIVE
    __slots__ = ()

    @classmethod
    def from_wire(
        cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0
    ) -> ExtendedCommunity:
        if not view or len(view) % 8:
            raise fail(
                cls.CODE,
                flags,
                view,
                ATTRIBUTE_LENGTH_ERROR,
                f"EXTENDED_COMMUNITIES length {len(view)} is not a non-zero multiple of 8",
                base,
            )
        return cls(view, flags)

    @classmethod
    def from_value(cls, communities: Iterable[bytes]) -> ExtendedCommunity:
        """From 8-byte values (see parse_ext for the text forms)."""
        values = [bytes(c) for c in communities]
        if any(len(v) != 8 for v in values):
            raise ValueError("extended-community: every value must be 8 bytes")
        return cls(b"".join(values))

    def communities(self) -> Iterator[bytes]:
        raw = self.raw
        for pos in range(0, len(raw), 8):
            yield bytes(raw[pos : pos + 8])

    def route_targets(self) -> Iterator[str]:
        for value in self.communities():
            if value[1] == ROUTE_TARGET and value[0] in (TWO_OCTET_AS, IPV4_ADDRESS, FOUR_OCTET_AS):
                yield ext_text(value)

    def to_json(self) -> list[str]:
        return [ext_text(v) for v in self.communities()]

    @classmethod
    def from_json(cls, value: Any) -> ExtendedCommunity:
        if not isinstance(value, list):
            raise ValueError(f"extended-community: expected a list, got {value!r}")
        return cls.from_value(parse_ext(v) for v in value)


def parse_text(words: list[str]) -> ExtendedCommunity:
    if not words:
        raise ValueError("extended-community: no value")
    return ExtendedCommunity.from_value(parse_ext(w) for w in words)


SPEC = AttrSpec(
    ExtendedCommunity.CODE,
    ExtendedCommunity.NAME,
    ExtendedCommunity,
    text="extended-community",
    parse_text=parse_text,
)
