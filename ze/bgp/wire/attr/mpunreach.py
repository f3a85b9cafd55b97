"""MP_UNREACH_NLRI (type 15, optional non-transitive; RFC 4760 section 4).

Value: AFI (2), SAFI (1), withdrawn NLRI. With no NLRI at all it is the End-of-RIB marker of
that family (RFC 4724 section 2). The NLRI are walked lazily by the family's FamilySpec; a
family with no codec keeps them raw.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

from ze.bgp.wire.attr.base import AttrSpec
from ze.bgp.wire.attr.mpreach import MpAttribute, encode_nlri, nlri_json, parse_item, walk_nlri
from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.errors import update_error
from ze.core.family import Family

ATTRIBUTE_LENGTH_ERROR = 5
_HEAD = struct.Struct("!HB")


class MpUnreach(MpAttribute):
    CODE = 15
    NAME = "mp-unreach-nlri"
    __slots__ = ()

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> MpUnreach:
        if len(view) < 3:
            raise update_error(
                f"MP_UNREACH_NLRI length {len(view)}, at least 3 needed", ATTRIBUTE_LENGTH_ERROR, base
            )
        return cls(view, flags, ctx, base)

    @classmethod
    def from_value(
        cls,
        family: Family,
        items: Iterable[Any] = (),
        ctx: EncodingContext = DEFAULT,
        codecs: Any = None,
        *,
        packed: bytes | None = None,
    ) -> MpUnreach:
        if packed is None:
            packed = encode_nlri(family, items, ctx, codecs)
        return cls(_HEAD.pack(family.afi, family.safi) + packed, None, ctx, 0, codecs)

    @classmethod
    def eor(cls, family: Family) -> MpUnreach:
        """The End-of-RIB marker of `family` (RFC 4724)."""
        return cls(_HEAD.pack(family.afi, family.safi))

    @property
    def family(self) -> Family:
        afi, safi = _HEAD.unpack_from(self.raw, 0)
        return Family(afi, safi)

    def has_nlri(self) -> bool:
        return len(self.raw) > 3

    def is_eor(self) -> bool:
        return len(self.raw) == 3

    def nlri(self, codecs: Any = None) -> Iterator[Any]:
        return walk_nlri(self.raw, 3, self.family, self.ctx, codecs or self.codecs, self.base)

    def value(self, ctx: EncodingContext) -> bytes:
        family = self.family
        if ctx.has_addpath(family) == self.ctx.has_addpath(family):
            return bytes(self.raw)
        return bytes(self.raw[:3]) + encode_nlri(family, list(self.nlri()), ctx, self.codecs)

    def to_json(self) -> dict:
        out: dict[str, Any] = {"family": self.family.name}
        out.update(nlri_json(self.family, self.nlri()))
        return out

    @classmethod
    def from_json(cls, v: dict, ctx: EncodingContext = DEFAULT, codecs: Any = None) -> MpUnreach:
        family = Family.parse(v["family"])
        if "raw" in v:
            return cls.from_value(family, ctx=ctx, codecs=codecs, packed=bytes.fromhex(v["raw"]))
        items = [parse_item(family, t, codecs) for t in v.get("nlri", [])]
        return cls.from_value(family, items, ctx, codecs)


SPEC = AttrSpec(MpUnreach.CODE, MpUnreach.NAME, MpUnreach)
