"""IPv6 Address Specific Extended Community (type 25, optional transitive; RFC 5701).
20-byte values: type, subtype, IPv6 address, 2-byte local administrator. The length must be a
non-zero multiple of 20. Route target/origin (type 0x00, subtypes 2/3) read
"target:2001:db8::1:100" (the last colon separates the number); others are 40 hex digits."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ze.bgp.wire.attr.base import OPTIONAL, TRANSITIVE, Attribute, AttrSpec
from ze.bgp.wire.attr.common import ATTRIBUTE_LENGTH_ERROR, U16, fail, hex_bytes, ip6, ip6_packed, uint
from ze.bgp.wire.context import EncodingContext

IPV6_ADDRESS = 0x00
ROUTE_TARGET, ROUTE_ORIGIN = 0x02, 0x03
SUBTYPE_NAMES = {ROUTE_TARGET: "target", ROUTE_ORIGIN: "origin"}
SUBTYPES = {v: k for k, v in SUBTYPE_NAMES.items()}


def ext6_text(value: bytes | memoryview) -> str:
    kind = SUBTYPE_NAMES.get(value[1])
    if kind is not None and value[0] == IPV6_ADDRESS:
        return f"{kind}:{ip6(value, 2)}:{U16.unpack_from(value, 18)[0]}"
    return bytes(value).hex().upper()


def parse_ext6(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError(f"ipv6-extended-community: expected a string, got {text!r}")
    kind, sep, rest = text.partition(":")
    subtype = SUBTYPES.get(kind.lower())
    if not sep or subtype is None:
        raw = hex_bytes(text, "ipv6-extended-community")
        if len(raw) != 20:
            raise ValueError(f"ipv6-extended-community: {text!r} is not 20 bytes of hex")
        return raw
    address, _, local = rest.rpartition(":")
    return bytes((IPV6_ADDRESS, subtype)) + ip6_packed(address) + U16.pack(uint(local, 16, text))


class Ipv6ExtendedCommunity(Attribute):
    CODE = 25
    NAME = "ipv6-extended-community"
    FLAGS = OPTIONAL | TRANSITIVE
    __slots__ = ()

    @classmethod
    def from_wire(
        cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0
    ) -> Ipv6ExtendedCommunity:
        if not view or len(view) % 20:
            raise fail(
                cls.CODE,
                flags,
                view,
                ATTRIBUTE_LENGTH_ERROR,
                f"IPv6 extended communities length {len(view)} is not a non-zero multiple of 20",
                base,
            )
        return cls(view, flags)

    @classmethod
    def from_value(cls, communities: Iterable[bytes]) -> Ipv6ExtendedCommunity:
        values = [bytes(c) for c in communities]
        if any(len(v) != 20 for v in values):
            raise ValueError("ipv6-extended-community: every value must be 20 bytes")
        return cls(b"".join(values))

    def communities(self) -> Iterator[bytes]:
        raw = self.raw
        for pos in range(0, len(raw), 20):
            yield bytes(raw[pos : pos + 20])

    def to_json(self) -> list[str]:
        return [ext6_text(v) for v in self.communities()]

    @classmethod
    def from_json(cls, value: Any) -> Ipv6ExtendedCommunity:
        if not isinstance(value, list):
            raise ValueError(f"ipv6-extended-community: expected a list, got {value!r}")
        return cls.from_value(parse_ext6(v) for v in value)


def parse_text(words: list[str]) -> Ipv6ExtendedCommunity:
    if not words:
        raise ValueError("ipv6-extended-community: no value")
    return Ipv6ExtendedCommunity.from_value(parse_ext6(w) for w in words)


SPEC = AttrSpec(
    Ipv6ExtendedCommunity.CODE,
    Ipv6ExtendedCommunity.NAME,
    Ipv6ExtendedCommunity,
    text="ipv6-extended-community",
    parse_text=parse_text,
)
