"""BGP Prefix-SID (type 40, optional transitive; RFC 8669), decoded for display.

TLVs: type (1), length (2, the value's length), value. Label-Index TLV (1): reserved (1),
flags (2), label index (4), length 7. Originator SRGB TLV (3): flags (2) then one or more
6-byte (base 3, range 3) entries. A TLV running past the attribute or a known TLV of the
wrong size is an Optional Attribute Error (RFC 8669 6 asks treat-as-withdraw for a malformed
Label-Index/SRGB TLV; the verdict is validate's). Other TLVs (SRv6 ones of RFC 9252 ...)
are kept as bytes.

JSON: a list, one object per TLV:
  {"type": "label-index", "flags": 0, "label-index": 100}      (reserved octet zero)
  {"type": "originator-srgb", "flags": 0, "srgb": [[16000, 8000], ...]}
  {"type": 5, "hex": "..."}                                    (anything else)
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

from ze.bgp.wire.attr.base import OPTIONAL, TRANSITIVE, Attribute, AttrSpec
from ze.bgp.wire.attr.common import OPTIONAL_ATTRIBUTE_ERROR, U16, fail, hex_bytes, uint
from ze.bgp.wire.context import EncodingContext

LABEL_INDEX, ORIGINATOR_SRGB = 1, 3
_LABEL = struct.Struct("!BHI")


def _u24(b: bytes, pos: int) -> int:
    return (b[pos] << 16) | (b[pos + 1] << 8) | b[pos + 2]


def pack_tlvs(tlvs: Iterable[tuple[int, bytes]]) -> bytes:
    out = bytearray()
    for tlv_type, value in tlvs:
        out.append(tlv_type)
        out += U16.pack(len(value))
        out += value
    return bytes(out)


def tlv_json(tlv_type: int, value: bytes) -> dict[str, Any]:
    if tlv_type == LABEL_INDEX and value[0] == 0:
        _, flags, index = _LABEL.unpack(value)
        return {"type": "label-index", "flags": flags, "label-index": index}
    if tlv_type == ORIGINATOR_SRGB:
        srgb = [[_u24(value, p), _u24(value, p + 3)] for p in range(2, len(value), 6)]
        return {"type": "originator-srgb", "flags": U16.unpack_from(value)[0], "srgb": srgb}
    return {"type": tlv_type, "hex": value.hex().upper()}


def tlv_from_json(tlv: Any) -> tuple[int, bytes]:
    if not isinstance(tlv, dict):
        raise ValueError(f"prefix-sid: bad TLV {tlv!r}")
    kind = tlv.get("type")
    if kind == "label-index" and set(tlv) == {"type", "flags", "label-index"}:
        return LABEL_INDEX, _LABEL.pack(
            0, uint(tlv["flags"], 16, "flags"), uint(tlv["label-index"], 32, "label-index")
        )
    if kind == "originator-srgb" and set(tlv) == {"type", "flags", "srgb"} and isinstance(tlv["srgb"], list):
        value = bytearray(U16.pack(uint(tlv["flags"], 16, "flags")))
        for entry in tlv["srgb"]:
            if not isinstance(entry, list) or len(entry) != 2:
                raise ValueError(f"prefix-sid: bad SRGB entry {entry!r}")
            value += uint(entry[0], 24, "srgb base").to_bytes(3, "big") + uint(
                entry[1], 24, "srgb range"
            ).to_bytes(3, "big")
        return ORIGINATOR_SRGB, bytes(value)
    if isinstance(kind, int) and set(tlv) == {"type", "hex"}:
        return uint(kind, 8, "prefix-sid TLV type"), hex_bytes(tlv["hex"], "prefix-sid")
    raise ValueError(f"prefix-sid: bad TLV {tlv!r}")


class PrefixSid(Attribute):
    CODE = 40
    NAME = "prefix-sid"
    FLAGS = OPTIONAL | TRANSITIVE
    __slots__ = ()

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> PrefixSid:
        end = len(view)
        pos = 0
        while pos < end:
            if pos + 3 > end:
                raise fail(
                    cls.CODE,
                    flags,
                    view,
                    OPTIONAL_ATTRIBUTE_ERROR,
                    "Prefix-SID: truncated TLV header",
                    base + pos,
                )
            tlv_type = view[pos]
            length = U16.unpack_from(view, pos + 1)[0]
            if pos + 3 + length > end:
                raise fail(
                    cls.CODE,
                    flags,
                    view,
                    OPTIONAL_ATTRIBUTE_ERROR,
                    f"Prefix-SID: TLV {tlv_type} runs past the attribute",
                    base + pos,
                )
            if tlv_type == LABEL_INDEX and length != 7:
                raise fail(
                    cls.CODE,
                    flags,
                    view,
                    OPTIONAL_ATTRIBUTE_ERROR,
                    f"Prefix-SID: Label-Index TLV length {length}",
                    base + pos,
                )
            if tlv_type == ORIGINATOR_SRGB and (length < 8 or (length - 2) % 6):
                raise fail(
                    cls.CODE,
                    flags,
                    view,
                    OPTIONAL_ATTRIBUTE_ERROR,
                    f"Prefix-SID: Originator SRGB TLV length {length}",
                    base + pos,
                )
            pos += 3 + length
        return cls(view, flags)

    @classmethod
    def from_value(cls, tlvs: Iterable[tuple[int, bytes]]) -> PrefixSid:
        """From (TLV type, value bytes) pairs."""
        return cls(pack_tlvs(tlvs))

    def tlvs(self) -> Iterator[tuple[int, bytes]]:
        raw = self.raw
        pos = 0
        while pos < len(raw):
            length = U16.unpack_from(raw, pos + 1)[0]
            yield raw[pos], bytes(raw[pos + 3 : pos + 3 + length])
            pos += 3 + length

    @property
    def label_index(self) -> int | None:
        for tlv_type, value in self.tlvs():
            if tlv_type == LABEL_INDEX:
                return _LABEL.unpack(value)[2]
        return None

    def srgb(self) -> list[tuple[int, int]]:
        """The (base, range) entries of the first Originator SRGB TLV, or []."""
        for tlv_type, value in self.tlvs():
            if tlv_type == ORIGINATOR_SRGB:
                return [(_u24(value, p), _u24(value, p + 3)) for p in range(2, len(value), 6)]
        return []

    def to_json(self) -> list[dict[str, Any]]:
        return [tlv_json(t, v) for t, v in self.tlvs()]

    @classmethod
    def from_json(cls, value: Any) -> PrefixSid:
        if not isinstance(value, list):
            raise ValueError(f"prefix-sid: expected a list of TLVs, got {value!r}")
        return cls.from_value(tlv_from_json(t) for t in value)


SPEC = AttrSpec(PrefixSid.CODE, PrefixSid.NAME, PrefixSid)
