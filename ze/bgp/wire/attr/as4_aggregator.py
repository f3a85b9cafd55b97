"""AS4_AGGREGATOR (type 18, optional transitive; RFC 6793 3): AGGREGATOR with a 4-byte AS,
sent beside an AGGREGATOR carrying AS_TRANS. Always 8 bytes. Merging: as4merge.py."""

from __future__ import annotations

from ze.bgp.wire.attr.aggregator import Aggregator
from ze.bgp.wire.attr.base import OPTIONAL, TRANSITIVE, AttrSpec


class As4Aggregator(Aggregator):
    CODE = 18
    NAME = "as4-aggregator"
    FLAGS = OPTIONAL | TRANSITIVE
    WIDE = True
    __slots__ = ()


SPEC = AttrSpec(As4Aggregator.CODE, As4Aggregator.NAME, As4Aggregator)
