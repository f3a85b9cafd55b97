"""ORIGIN (type 1, well-known mandatory; RFC 4271 4.3 and 5.1.1)."""

from __future__ import annotations

from ze.bgp.wire.attr.base import TRANSITIVE, Attribute, AttrSpec
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.errors import update_error

IGP, EGP, INCOMPLETE = 0, 1, 2
NAMES = {IGP: "igp", EGP: "egp", INCOMPLETE: "incomplete"}
BY_NAME = {v: k for k, v in NAMES.items()}


class Origin(Attribute):
    CODE = 1
    NAME = "origin"
    FLAGS = TRANSITIVE
    __slots__ = ()

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> Origin:
        if len(view) != 1:
            raise update_error(
                f"ORIGIN length {len(view)}, expected 1", 5, base
            )  # 3/5 attribute length error
        if view[0] > INCOMPLETE:
            raise update_error(f"ORIGIN value {view[0]} is not 0, 1 or 2", 6, base)  # 3/6 invalid origin
        return cls(view, flags)

    @classmethod
    def from_value(cls, origin: int) -> Origin:
        return cls(bytes([origin]))

    @property
    def origin(self) -> int:
        return self.raw[0]

    def to_json(self) -> str:
        return NAMES[self.raw[0]]

    @classmethod
    def from_json(cls, value: str) -> Origin:
        if value not in BY_NAME:
            raise ValueError(f"origin {value!r}: expected igp, egp or incomplete")
        return cls.from_value(BY_NAME[value])


def parse_text(words: list[str]) -> Origin:
    if len(words) != 1 or words[0] not in BY_NAME:
        raise ValueError(f"origin: expected igp, egp or incomplete, got {' '.join(words)!r}")
    return Origin.from_value(BY_NAME[words[0]])


SPEC = AttrSpec(Origin.CODE, Origin.NAME, Origin, text="origin", parse_text=parse_text)
