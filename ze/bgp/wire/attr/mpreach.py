"""MP_REACH_NLRI (type 14, optional non-transitive; RFC 4760 section 3).

Value: AFI (2), SAFI (1), next-hop length (1), next hop, reserved (1), NLRI. Next hops:
an IPv4 address (4), an IPv6 global address (16) or global + link-local (32, RFC 2545), an
IPv6 next hop for IPv4 NLRI only where the context allows it (RFC 8950), and for the VPN
SAFIs (128, 129) the same addresses behind an 8-byte zero route distinguisher (RFC 4364,
RFC 4659). `from_wire` checks the header and the next hop; the NLRI are walked lazily by the
family's FamilySpec when `nlri()` is asked. A family with no codec keeps its NLRI raw.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from ze.bgp.wire.attr.base import OPTIONAL, Attribute, AttrSpec
from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.errors import update_error
from ze.core.family import AFI, Family

ATTRIBUTE_LENGTH_ERROR = 5
OPTIONAL_ATTRIBUTE_ERROR = 9
VPN_SAFIS = frozenset({128, 129})
_HEAD = struct.Struct("!HBB")
_RD_ZERO = bytes(8)


class RawNlri(NamedTuple):
    """The NLRI of a family this build has no codec for, kept as bytes."""

    data: bytes
    path_id: int | None = None

    def text(self) -> str:
        return self.data.hex().upper()


def allowed_next_hop_lengths(family: Family, ctx: EncodingContext) -> frozenset[int] | None:
    """Next-hop lengths legal for `family` under `ctx`, or None when ze does not judge (other families)."""
    if family.safi not in (1, 2, 4, 128, 129) or family.afi not in (AFI.IPV4, AFI.IPV6):
        return None
    rd = 8 if family.safi in VPN_SAFIS else 0
    if family.afi == AFI.IPV6:
        return frozenset({rd + 16, rd + 32})
    if (family, AFI.IPV6) in ctx.extended_nexthop:
        return frozenset({rd + 4, rd + 16, rd + 32})
    return frozenset({rd + 4})


def decode_next_hops(data: bytes | memoryview, family: Family) -> list[str]:
    """Next-hop field -> address strings ([global, link-local] for 32 bytes); raw hex when unrecognised."""
    data = bytes(data)
    if family.safi in VPN_SAFIS and len(data) in (12, 24, 48) and data[:8] == _RD_ZERO:
        if len(data) == 48 and data[24:32] == _RD_ZERO:
            data = data[8:24] + data[32:]
        elif len(data) != 48:
            data = data[8:]
    n = len(data)
    if n == 0:
        return []
    if n == 4:
        return [str(ipaddress.IPv4Address(data))]
    if n == 16:
        return [str(ipaddress.IPv6Address(data))]
    if n == 32:
        return [str(ipaddress.IPv6Address(data[:16])), str(ipaddress.IPv6Address(data[16:]))]
    return [data.hex().upper()]


def encode_next_hops(next_hops: Iterable[str], family: Family) -> bytes:
    """Address strings (or one raw hex string) -> next-hop field; ValueError when not addresses."""
    hops = list(next_hops)
    out = bytearray()
    for text in hops:
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            if len(hops) == 1:
                try:
                    return bytes.fromhex(text)
                except ValueError:
                    pass
            raise ValueError(f"next hop {text!r}: expected an IPv4 or IPv6 address") from None
        if family.safi in VPN_SAFIS:
            out += _RD_ZERO
        out += addr.packed
    return bytes(out)


def check_next_hop(family: Family, nh: bytes, ctx: EncodingContext) -> None:
    """ValueError when `nh` cannot be sent for `family` under `ctx` (builder side of the wire check)."""
    allowed = allowed_next_hop_lengths(family, ctx)
    if allowed is not None and len(nh) not in allowed:
        hint = " (an IPv6 next hop for IPv4 NLRI needs extended next hop, RFC 8950)" if len(nh) > 4 else ""
        raise ValueError(f"{family.name}: next hop of {len(nh)} bytes not allowed{hint}")


def _family_spec(family: Family, codecs: Any):
    if codecs is None:
        from ze.bgp.wire.codecs import core  # lazy: codecs imports the attribute modules

        codecs = core()
    return codecs.families.get(family)


class MpAttribute(Attribute):
    """What MP_REACH_NLRI and MP_UNREACH_NLRI hold besides their bytes: the context their NLRI
    were received in, their offset in the message (for errors), and the family codecs."""

    FLAGS = OPTIONAL
    __slots__ = ("base", "codecs", "ctx")

    def __init__(
        self,
        raw: bytes | memoryview,
        flags: int | None = None,
        ctx: EncodingContext = DEFAULT,
        base: int = 0,
        codecs: Any = None,
    ) -> None:
        super().__init__(raw, flags)
        self.ctx = ctx
        self.base = base
        self.codecs = codecs


class MpReach(MpAttribute):
    CODE = 14
    NAME = "mp-reach-nlri"
    __slots__ = ()

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> MpReach:
        if len(view) < 5:
            raise update_error(
                f"MP_REACH_NLRI length {len(view)}, at least 5 needed", ATTRIBUTE_LENGTH_ERROR, base
            )
        afi, safi, nhlen = _HEAD.unpack_from(view, 0)
        if 4 + nhlen + 1 > len(view):
            raise update_error(
                f"MP_REACH_NLRI next hop of {nhlen} bytes runs past the attribute",
                ATTRIBUTE_LENGTH_ERROR,
                base + 3,
            )
        family = Family(afi, safi)
        allowed = allowed_next_hop_lengths(family, ctx)
        if allowed is not None and nhlen not in allowed:
            raise update_error(
                f"MP_REACH_NLRI next hop length {nhlen} not valid for {family.name}"
                f" (allowed {', '.join(map(str, sorted(allowed)))})",
                OPTIONAL_ATTRIBUTE_ERROR,
                base + 3,
            )
        return cls(view, flags, ctx, base)

    @classmethod
    def from_value(
        cls,
        family: Family,
        next_hops: Iterable[str] | bytes,
        items: Iterable[Any] = (),
        ctx: EncodingContext = DEFAULT,
        codecs: Any = None,
        *,
        packed: bytes | None = None,
        reserved: int = 0,
    ) -> MpReach:
        """Build from a family, next hops (strings, or the raw field as bytes) and NLRI items
        (or `packed`, NLRI already encoded for `ctx`). ValueError when the parts do not fit."""
        nh = next_hops if isinstance(next_hops, bytes) else encode_next_hops(next_hops, family)
        check_next_hop(family, nh, ctx)
        if len(nh) > 255:
            raise ValueError(f"next hop field of {len(nh)} bytes is too long")
        if packed is None:
            packed = encode_nlri(family, items, ctx, codecs)
        raw = _HEAD.pack(family.afi, family.safi, len(nh)) + nh + bytes([reserved]) + packed
        return cls(raw, None, ctx, 0, codecs)

    @property
    def family(self) -> Family:
        afi, safi, _ = _HEAD.unpack_from(self.raw, 0)
        return Family(afi, safi)

    @property
    def reserved(self) -> int:
        """The byte after the next hop (RFC 4760: reserved, ignored on receipt; kept for exact JSON)."""
        return self.raw[4 + self.raw[3]]

    @property
    def next_hop_bytes(self) -> bytes:
        return bytes(self.raw[4 : 4 + self.raw[3]])

    @property
    def next_hops(self) -> list[str]:
        return decode_next_hops(self.raw[4 : 4 + self.raw[3]], self.family)

    @property
    def nlri_start(self) -> int:
        """Offset of the NLRI within the value."""
        return 5 + self.raw[3]

    def has_nlri(self) -> bool:
        return self.nlri_start < len(self.raw)

    def nlri(self, codecs: Any = None) -> Iterator[Any]:
        """The NLRI items, walked lazily (WireError on malformed NLRI, offsets absolute)."""
        return walk_nlri(self.raw, self.nlri_start, self.family, self.ctx, codecs or self.codecs, self.base)

    def value(self, ctx: EncodingContext) -> bytes:
        family = self.family
        if ctx.has_addpath(family) == self.ctx.has_addpath(family):
            return bytes(self.raw)
        # The receiver's ADD-PATH setting differs: re-pack the NLRI (missing path ids go out as 0).
        items = list(self.nlri())
        head = bytes(self.raw[: self.nlri_start])
        return head + encode_nlri(family, items, ctx, self.codecs)

    def to_json(self) -> dict:
        out: dict[str, Any] = {"family": self.family.name}
        hops = self.next_hops
        if hops:
            out["next-hop"] = hops
        if self.reserved:
            out["reserved"] = self.reserved
        out.update(nlri_json(self.family, self.nlri()))
        return out

    @classmethod
    def from_json(cls, v: dict, ctx: EncodingContext = DEFAULT, codecs: Any = None) -> MpReach:
        family = Family.parse(v["family"])
        hops = v.get("next-hop", [])
        if isinstance(hops, str):
            hops = [hops]
        reserved = int(v.get("reserved", 0))
        if "raw" in v:
            packed = bytes.fromhex(v["raw"])
            return cls.from_value(family, hops, ctx=ctx, codecs=codecs, packed=packed, reserved=reserved)
        items = [parse_item(family, t, codecs) for t in v.get("nlri", [])]
        return cls.from_value(family, hops, items, ctx, codecs, reserved=reserved)


def walk_nlri(
    data: Any, start: int, family: Family, ctx: EncodingContext, codecs: Any, base: int
) -> Iterator[Any]:
    """NLRI in data[start:] through the family's codec; a single RawNlri for a family without one."""
    spec = _family_spec(family, codecs)
    if spec is None:
        if start < len(data):
            yield RawNlri(bytes(data[start:]))
        return
    yield from spec.decode(data, start, len(data), ctx.has_addpath(family), base)


def encode_nlri(family: Family, items: Iterable[Any], ctx: EncodingContext, codecs: Any = None) -> bytes:
    spec = _family_spec(family, codecs)
    items = list(items)
    if spec is None:
        if all(isinstance(i, RawNlri) for i in items):
            return b"".join(i.data for i in items)
        raise ValueError(f"no NLRI codec for {family.name}")
    return spec.encode(items, ctx.has_addpath(family))


def parse_item(family: Family, text: str, codecs: Any = None) -> Any:
    """One NLRI in its text form ("10.0.0.0/24" or "10.0.0.0/24 path-id 7") -> item."""
    spec = _family_spec(family, codecs)
    if spec is None:
        raise ValueError(f"no NLRI codec for {family.name}")
    words = text.split()
    path_id = None
    if len(words) == 3 and words[1] == "path-id":
        path_id = _path_id(words[2])
        text = words[0]
    elif len(words) != 1:
        raise ValueError(f"NLRI {text!r}: expected PREFIX or 'PREFIX path-id N'")
    return spec.parse(text, path_id)


def _path_id(text: str) -> int:
    if not text.isdigit() or int(text) > 0xFFFFFFFF:
        raise ValueError(f"path-id {text!r}: expected an integer 0..4294967295")
    return int(text)


def nlri_json(family: Family, items: Iterable[Any]) -> dict:
    """{"nlri": [text, ...]}, or {"raw": HEX} for a family without a codec."""
    texts = []
    for item in items:
        if isinstance(item, RawNlri):
            return {"raw": item.text()}
        texts.append(item.text())
    return {"nlri": texts}


SPEC = AttrSpec(MpReach.CODE, MpReach.NAME, MpReach)
