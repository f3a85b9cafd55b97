"""ATOMIC_AGGREGATE (type 6, well-known discretionary; RFC 4271 4.3 and 5.1.6): length 0.
JSON is `true`; the route text is `atomic-aggregate` (no words)."""

from __future__ import annotations

from typing import Any

from ze.bgp.wire.attr.base import TRANSITIVE, Attribute, AttrSpec
from ze.bgp.wire.attr.common import ATTRIBUTE_LENGTH_ERROR, fail
from ze.bgp.wire.context import EncodingContext


class AtomicAggregate(Attribute):
    CODE = 6
    NAME = "atomic-aggregate"
    FLAGS = TRANSITIVE
    __slots__ = ()

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> AtomicAggregate:
        if len(view) != 0:
            raise fail(
                cls.CODE,
                flags,
                view,
                ATTRIBUTE_LENGTH_ERROR,
                f"ATOMIC_AGGREGATE length {len(view)}, expected 0",
                base,
            )
        return cls(view, flags)

    @classmethod
    def from_value(cls) -> AtomicAggregate:
        return cls(b"")

    def to_json(self) -> bool:
        return True

    @classmethod
    def from_json(cls, value: Any) -> AtomicAggregate:
        if value is not True:
            raise ValueError(f"atomic-aggregate: expected true, got {value!r}")
        return cls(b"")


def parse_text(words: list[str]) -> AtomicAggregate:
    if words:
        raise ValueError(f"atomic-aggregate takes no value, got {' '.join(words)!r}")
    return AtomicAggregate(b"")


SPEC = AttrSpec(
    AtomicAggregate.CODE,
    AtomicAggregate.NAME,
    AtomicAggregate,
    text="atomic-aggregate",
    parse_text=parse_text,
)
