"""AGGREGATOR (type 7, optional transitive; RFC 4271 4.3 and 5.1.7): the aggregating AS and
its IPv4 address. The AS is 2 or 4 bytes by context (RFC 6793 4); `value(ctx)` re-encodes
for a peer of the other width (an AS above 65535 becomes AS_TRANS to an ASN2 peer). AS 0 is
an Optional Attribute Error (RFC 7607: attribute discard)."""

from __future__ import annotations

from typing import Any, ClassVar

from ze.bgp.wire.attr.base import OPTIONAL, TRANSITIVE, Attribute, AttrSpec
from ze.bgp.wire.attr.common import (
    AS_TRANS,
    ATTRIBUTE_LENGTH_ERROR,
    OPTIONAL_ATTRIBUTE_ERROR,
    U16,
    U32,
    asn,
    fail,
    ip4,
    ip4_packed,
)
from ze.bgp.wire.context import EncodingContext


class Aggregator(Attribute):
    CODE = 7
    NAME = "aggregator"
    FLAGS = OPTIONAL | TRANSITIVE
    WIDE: ClassVar[bool | None] = None  # True: always 4-byte AS (AS4_AGGREGATOR)
    __slots__ = ("asn4",)

    def __init__(self, raw: bytes | memoryview, flags: int | None = None, asn4: bool = True) -> None:
        super().__init__(raw, flags)
        self.asn4 = True if self.WIDE else asn4

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> Aggregator:
        asn4 = True if cls.WIDE else ctx.asn4
        want = 8 if asn4 else 6
        if len(view) != want:
            raise fail(
                cls.CODE,
                flags,
                view,
                ATTRIBUTE_LENGTH_ERROR,
                f"{cls.NAME} length {len(view)}, expected {want}",
                base,
            )
        if not any(view[: want - 4]):
            raise fail(cls.CODE, flags, view, OPTIONAL_ATTRIBUTE_ERROR, f"{cls.NAME}: AS 0", base)
        return cls(view, flags, asn4)

    @classmethod
    def from_value(cls, asn: int, address: str, asn4: bool = True) -> Aggregator:
        return cls(_pack(asn, ip4_packed(address), asn4), None, asn4)

    @property
    def asn(self) -> int:
        return U32.unpack_from(self.raw)[0] if self.asn4 else U16.unpack_from(self.raw)[0]

    @property
    def address(self) -> str:
        return ip4(self.raw, 4 if self.asn4 else 2)

    def value(self, ctx: EncodingContext) -> bytes:
        want = True if self.WIDE else ctx.asn4
        if want == self.asn4:
            return bytes(self.raw)
        return _pack(self.asn, bytes(self.raw[-4:]), want)

    def to_json(self) -> dict[str, Any]:
        return {"asn": self.asn, "address": self.address}

    @classmethod
    def from_json(cls, value: Any) -> Aggregator:
        if not isinstance(value, dict) or set(value) != {"asn", "address"}:
            raise ValueError(f"{cls.NAME}: expected {{asn, address}}, got {value!r}")
        return cls.from_value(asn(value["asn"]), value["address"])

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (self.asn, self.address) == (other.asn, other.address)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.CODE, self.asn, self.address))


def _pack(number: int, address: bytes, asn4: bool) -> bytes:
    if asn4:
        return U32.pack(number) + address
    return U16.pack(number if number <= 0xFFFF else AS_TRANS) + address


def parse_words(cls: type[Aggregator], words: list[str]) -> Aggregator:
    """`65000 192.0.2.1` or `65000:192.0.2.1`."""
    if len(words) == 1 and ":" in words[0]:
        words = words[0].split(":", 1)
    if len(words) != 2:
        raise ValueError(f"{cls.NAME}: expected AS and address, got {' '.join(words)!r}")
    return cls.from_value(asn(words[0]), words[1])


def parse_text(words: list[str]) -> Aggregator:
    return parse_words(Aggregator, words)


SPEC = AttrSpec(Aggregator.CODE, Aggregator.NAME, Aggregator, text="aggregator", parse_text=parse_text)
