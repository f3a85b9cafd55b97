"""AIGP, Accumulated IGP Metric (type 26, optional non-transitive; RFC 7311).

The value is a list of TLVs: type (1), length (2, the whole TLV including these 3 bytes),
value. TLV type 1 (AIGP) carries an 8-byte metric, so its length is 11. A TLV that runs past
the attribute, a length below 3 or an AIGP TLV of the wrong size is an Optional Attribute
Error (RFC 7311 3 and 5: attribute discard). Other TLV types are kept as bytes.
JSON: the metric (an int) when the value is exactly one AIGP TLV, else a list of
{"type": 1, "metric": N} / {"type": T, "hex": "..."} objects. Text: `aigp set 100`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ze.bgp.wire.attr.base import OPTIONAL, Attribute, AttrSpec
from ze.bgp.wire.attr.common import OPTIONAL_ATTRIBUTE_ERROR, U16, U64, fail, hex_bytes, one_word, uint
from ze.bgp.wire.context import EncodingContext

AIGP_TLV = 1
_AIGP_LEN = 11


def pack_tlvs(tlvs: Iterable[tuple[int, bytes]]) -> bytes:
    out = bytearray()
    for tlv_type, value in tlvs:
        out.append(tlv_type)
        out += U16.pack(3 + len(value))
        out += value
    return bytes(out)


class Aigp(Attribute):
    CODE = 26
    NAME = "aigp"
    FLAGS = OPTIONAL
    __slots__ = ()

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> Aigp:
        end = len(view)
        pos = 0
        while pos < end:
            if pos + 3 > end:
                raise fail(
                    cls.CODE, flags, view, OPTIONAL_ATTRIBUTE_ERROR, "AIGP: truncated TLV header", base + pos
                )
            tlv_type = view[pos]
            length = U16.unpack_from(view, pos + 1)[0]
            if length < 3 or pos + length > end:
                raise fail(
                    cls.CODE,
                    flags,
                    view,
                    OPTIONAL_ATTRIBUTE_ERROR,
                    f"AIGP: TLV length {length} is wrong",
                    base + pos,
                )
            if tlv_type == AIGP_TLV and length != _AIGP_LEN:
                raise fail(
                    cls.CODE,
                    flags,
                    view,
                    OPTIONAL_ATTRIBUTE_ERROR,
                    f"AIGP: AIGP TLV length {length}, expected 11",
                    base + pos,
                )
            pos += length
        return cls(view, flags)

    @classmethod
    def from_value(cls, metric: int) -> Aigp:
        return cls(pack_tlvs([(AIGP_TLV, U64.pack(metric))]))

    @classmethod
    def from_tlvs(cls, tlvs: Iterable[tuple[int, bytes]]) -> Aigp:
        return cls(pack_tlvs(tlvs))

    def tlvs(self) -> Iterator[tuple[int, bytes]]:
        raw = self.raw
        pos = 0
        while pos < len(raw):
            length = U16.unpack_from(raw, pos + 1)[0]
            yield raw[pos], bytes(raw[pos + 3 : pos + length])
            pos += length

    @property
    def metric(self) -> int | None:
        """The metric of the first AIGP TLV (RFC 7311 3: the others are ignored), or None."""
        for tlv_type, value in self.tlvs():
            if tlv_type == AIGP_TLV:
                return U64.unpack(value)[0]
        return None

    def to_json(self) -> Any:
        tlvs = list(self.tlvs())
        if len(tlvs) == 1 and tlvs[0][0] == AIGP_TLV:
            return U64.unpack(tlvs[0][1])[0]
        return [
            {"type": t, "metric": U64.unpack(v)[0]} if t == AIGP_TLV else {"type": t, "hex": v.hex().upper()}
            for t, v in tlvs
        ]

    @classmethod
    def from_json(cls, value: Any) -> Aigp:
        if isinstance(value, int) and not isinstance(value, bool):
            return cls.from_value(uint(value, 64, "aigp"))
        if not isinstance(value, list):
            raise ValueError(f"aigp: expected a metric or a list of TLVs, got {value!r}")
        tlvs = []
        for tlv in value:
            if not isinstance(tlv, dict):
                raise ValueError(f"aigp: bad TLV {tlv!r}")
            if set(tlv) == {"type", "metric"} and tlv["type"] == AIGP_TLV:
                tlvs.append((AIGP_TLV, U64.pack(uint(tlv["metric"], 64, "aigp"))))
            elif set(tlv) == {"type", "hex"} and tlv["type"] != AIGP_TLV:
                tlvs.append((uint(tlv["type"], 8, "aigp TLV type"), hex_bytes(tlv["hex"], "aigp")))
            else:
                raise ValueError(f"aigp: bad TLV {tlv!r}")
        return cls.from_tlvs(tlvs)


def parse_text(words: list[str]) -> Aigp:
    return Aigp.from_value(uint(one_word(words, "aigp"), 64, "aigp"))


SPEC = AttrSpec(Aigp.CODE, Aigp.NAME, Aigp, text="aigp", parse_text=parse_text)
