"""MULTI_EXIT_DISC (type 4, optional non-transitive; RFC 4271 4.3 and 5.1.4): a 4-byte metric."""

from __future__ import annotations

from ze.bgp.wire.attr.base import OPTIONAL, AttrSpec
from ze.bgp.wire.attr.common import Number32


class Med(Number32):
    CODE = 4
    NAME = "med"
    FLAGS = OPTIONAL
    __slots__ = ()


SPEC = AttrSpec(Med.CODE, Med.NAME, Med, text="med", parse_text=Med.parse_text)
