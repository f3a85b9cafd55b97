"""ORIGINATOR_ID (type 9, optional non-transitive; RFC 4456 8): the route's originator router id."""

from __future__ import annotations

from ze.bgp.wire.attr.base import OPTIONAL, Attribute, AttrSpec
from ze.bgp.wire.attr.common import ATTRIBUTE_LENGTH_ERROR, fail, ip4, ip4_packed, one_word
from ze.bgp.wire.context import EncodingContext


class OriginatorId(Attribute):
    CODE = 9
    NAME = "originator-id"
    FLAGS = OPTIONAL
    __slots__ = ()

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> OriginatorId:
        if len(view) != 4:
            raise fail(
                cls.CODE,
                flags,
                view,
                ATTRIBUTE_LENGTH_ERROR,
                f"ORIGINATOR_ID length {len(view)}, expected 4",
                base,
            )
        return cls(view, flags)

    @classmethod
    def from_value(cls, router_id: str) -> OriginatorId:
        return cls(ip4_packed(router_id))

    @property
    def router_id(self) -> str:
        return ip4(self.raw)

    def to_json(self) -> str:
        return ip4(self.raw)

    @classmethod
    def from_json(cls, value: str) -> OriginatorId:
        return cls.from_value(value)


def parse_text(words: list[str]) -> OriginatorId:
    return OriginatorId.from_value(one_word(words, "originator-id"))


SPEC = AttrSpec(
    OriginatorId.CODE, OriginatorId.NAME, OriginatorId, text="originator-id", parse_text=parse_text
)
