"""ORIGINATOR_ID (type 9, optional non-transitive; RFC 4456 8): the route's originator router id."""

from __future__ import annotations

from ze.bgp.wire.attr.base import OPTIONAL, AttrSpec
from ze.bgp.wire.attr.common import Address4, ip4, one_word


class OriginatorId(Address4):
    CODE = 9
    NAME = "originator-id"
    WIRE_NAME = "ORIGINATOR_ID"
    FLAGS = OPTIONAL
    __slots__ = ()

    @property
    def router_id(self) -> str:
        return ip4(self.raw)


def parse_text(words: list[str]) -> OriginatorId:
    return OriginatorId.from_value(one_word(words, "originator-id"))


SPEC = AttrSpec(
    OriginatorId.CODE, OriginatorId.NAME, OriginatorId, text="originator-id", parse_text=parse_text
)
