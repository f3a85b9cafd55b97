"""OTC, Only to Customer (type 35, optional transitive; RFC 9234 5): one 4-byte ASN.
A length other than 4 is malformed (RFC 9234 5: treat-as-withdraw)."""

from __future__ import annotations

from ze.bgp.wire.attr.base import OPTIONAL, TRANSITIVE, AttrSpec
from ze.bgp.wire.attr.common import Number32


class Otc(Number32):
    CODE = 35
    NAME = "otc"
    FLAGS = OPTIONAL | TRANSITIVE
    __slots__ = ()


SPEC = AttrSpec(Otc.CODE, Otc.NAME, Otc, text="otc", parse_text=Otc.parse_text)
