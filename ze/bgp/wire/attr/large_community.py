"""LARGE_COMMUNITY (type 32, optional transitive; RFC 8092): 12-byte communities
"global:local1:local2" of three 4-byte ints. The length must be a non-zero multiple of 12
(RFC 8092 6, RFC 7606 treat-as-withdraw)."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

from ze.bgp.wire.attr.base import OPTIONAL, TRANSITIVE, Attribute, AttrSpec
from ze.bgp.wire.attr.common import ATTRIBUTE_LENGTH_ERROR, fail, uint
from ze.bgp.wire.context import EncodingContext

_TRIPLE = struct.Struct("!III")
LargeValue = tuple[int, int, int]


def parse_large(text: Any) -> LargeValue:
    if not isinstance(text, str) or text.count(":") != 2:
        raise ValueError(f"large-community: expected global:local1:local2, got {text!r}")
    a, b, c = text.split(":")
    return uint(a, 32, "large-community"), uint(b, 32, "large-community"), uint(c, 32, "large-community")


class LargeCommunity(Attribute):
    CODE = 32
    NAME = "large-community"
    FLAGS = OPTIONAL | TRANSITIVE
    __slots__ = ()

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> LargeCommunity:
        if not view or len(view) % 12:
            raise fail(
                cls.CODE,
                flags,
                view,
                ATTRIBUTE_LENGTH_ERROR,
                f"LARGE_COMMUNITY length {len(view)} is not a non-zero multiple of 12",
                base,
            )
        return cls(view, flags)

    @classmethod
    def from_value(cls, communities: Iterable[LargeValue]) -> LargeCommunity:
        return cls(b"".join(_TRIPLE.pack(*c) for c in communities))

    def communities(self) -> Iterator[LargeValue]:
        yield from _TRIPLE.iter_unpack(self.raw)

    def to_json(self) -> list[str]:
        return [f"{a}:{b}:{c}" for a, b, c in _TRIPLE.iter_unpack(self.raw)]

    @classmethod
    def from_json(cls, value: Any) -> LargeCommunity:
        if not isinstance(value, list):
            raise ValueError(f"large-community: expected a list, got {value!r}")
        return cls.from_value(parse_large(v) for v in value)


def parse_text(words: list[str]) -> LargeCommunity:
    if not words:
        raise ValueError("large-community: no value")
    return LargeCommunity.from_value(parse_large(w) for w in words)


SPEC = AttrSpec(
    LargeCommunity.CODE, LargeCommunity.NAME, LargeCommunity, text="large-community", parse_text=parse_text
)
