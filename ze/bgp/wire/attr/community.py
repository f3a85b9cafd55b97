"""COMMUNITIES (type 8, optional transitive; RFC 1997, well-known values from the IANA
registry: RFC 3765 no-peer, RFC 7999 blackhole, RFC 8326 graceful-shutdown, RFC 7611
accept-own, RFC 9494 llgr-stale/no-llgr ...). RFC 7606 7.8: the length must be a non-zero
multiple of 4. Each community is a 32-bit int; text and JSON use the well-known name or
"ASN:value"."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

from ze.bgp.wire.attr.base import OPTIONAL, TRANSITIVE, Attribute, AttrSpec
from ze.bgp.wire.attr.common import ATTRIBUTE_LENGTH_ERROR, fail, uint
from ze.bgp.wire.context import EncodingContext

WELL_KNOWN = {
    0xFFFF0000: "graceful-shutdown",
    0xFFFF0001: "accept-own",
    0xFFFF0002: "route-filter-translated-v4",
    0xFFFF0003: "route-filter-v4",
    0xFFFF0004: "route-filter-translated-v6",
    0xFFFF0005: "route-filter-v6",
    0xFFFF0006: "llgr-stale",
    0xFFFF0007: "no-llgr",
    0xFFFF0008: "accept-own-nexthop",
    0xFFFF0009: "standby-pe",
    0xFFFF029A: "blackhole",
    0xFFFFFF01: "no-export",
    0xFFFFFF02: "no-advertise",
    0xFFFFFF03: "no-export-subconfed",
    0xFFFFFF04: "no-peer",
}
BY_NAME = {v: k for k, v in WELL_KNOWN.items()}
NO_EXPORT, NO_ADVERTISE, NO_EXPORT_SUBCONFED, NO_PEER = 0xFFFFFF01, 0xFFFFFF02, 0xFFFFFF03, 0xFFFFFF04


def community_text(value: int) -> str:
    name = WELL_KNOWN.get(value)
    return name if name is not None else f"{value >> 16}:{value & 0xFFFF}"


def parse_community(text: Any) -> int:
    """ "65000:1" or a well-known name -> the 32-bit value; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"community: expected a string, got {text!r}")
    value = BY_NAME.get(text.lower())
    if value is not None:
        return value
    high, sep, low = text.partition(":")
    if not sep:
        raise ValueError(f"community: {text!r} is neither ASN:value nor a well-known name")
    return (uint(high, 16, "community") << 16) | uint(low, 16, "community")


class Community(Attribute):
    CODE = 8
    NAME = "community"
    FLAGS = OPTIONAL | TRANSITIVE
    __slots__ = ()

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> Community:
        if not view or len(view) % 4:
            raise fail(
                cls.CODE,
                flags,
                view,
                ATTRIBUTE_LENGTH_ERROR,
                f"COMMUNITIES length {len(view)} is not a non-zero multiple of 4",
                base,
            )
        return cls(view, flags)

    @classmethod
    def from_value(cls, communities: Iterable[int]) -> Community:
        values = tuple(communities)
        return cls(struct.pack(f"!{len(values)}I", *values))

    def communities(self) -> Iterator[int]:
        for (value,) in struct.iter_unpack("!I", self.raw):
            yield value

    def __contains__(self, value: int) -> bool:
        return value in struct.unpack(f"!{len(self.raw) // 4}I", self.raw)

    def to_json(self) -> list[str]:
        return [community_text(v) for v in self.communities()]

    @classmethod
    def from_json(cls, value: Any) -> Community:
        if not isinstance(value, list):
            raise ValueError(f"community: expected a list, got {value!r}")
        return cls.from_value(parse_community(v) for v in value)


def parse_text(words: list[str]) -> Community:
    if not words:
        raise ValueError("community: no value")
    return Community.from_value(parse_community(w) for w in words)


SPEC = AttrSpec(Community.CODE, Community.NAME, Community, text="community", parse_text=parse_text)
