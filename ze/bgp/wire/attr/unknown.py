"""Attributes without a codec (RFC 4271 5 and 6.3): kept as raw bytes with their code.

An unrecognized well-known attribute (optional bit clear) is an error, 3/2 Unrecognized
Well-known Attribute. An unrecognized optional transitive attribute is passed on with the
Partial bit set (RFC 4271 5: `encode_into` sets it). An unrecognized optional non-transitive
one must be dropped: `forwardable` is False and dropping it is the caller's job.
Not in the codec table (no SPEC): decoders fall back to `Unknown` for any code missing there.
JSON, under the key "attribute-<code>": {"code": N, "flags": F, "hex": "..."}.
"""

from __future__ import annotations

from typing import Any

from ze.bgp.wire.attr.base import EXTENDED_LENGTH, OPTIONAL, PARTIAL, TRANSITIVE, Attribute
from ze.bgp.wire.attr.common import U16, UNRECOGNIZED_WELL_KNOWN, fail, hex_bytes, uint
from ze.bgp.wire.context import EncodingContext


class Unknown(Attribute):
    FLAGS = OPTIONAL | TRANSITIVE
    __slots__ = ("CODE",)

    def __init__(self, code: int, raw: bytes | memoryview, flags: int | None = None) -> None:
        super().__init__(raw, flags)
        self.CODE = code  # per instance: one class serves every unknown code

    @classmethod
    def from_wire(  # type: ignore[override]
        cls, code: int, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0
    ) -> Unknown:
        if not flags & OPTIONAL:
            raise fail(
                code, flags, view, UNRECOGNIZED_WELL_KNOWN, f"unrecognized well-known attribute {code}", base
            )
        return cls(code, view, flags)

    @classmethod
    def from_value(cls, code: int, value: bytes, flags: int = OPTIONAL | TRANSITIVE) -> Unknown:
        return cls(code, value, flags)

    @property
    def NAME(self) -> str:  # type: ignore[override]
        return f"attribute-{self.CODE}"

    @property
    def forwardable(self) -> bool:
        """Optional transitive: pass on (with Partial set); optional non-transitive: drop."""
        return bool(self.flags & OPTIONAL and self.flags & TRANSITIVE)

    def encode_into(self, buf: bytearray, ctx: EncodingContext) -> None:
        value = bytes(self.raw)
        flags = self.flags & ~EXTENDED_LENGTH
        if self.forwardable:
            flags |= PARTIAL  # RFC 4271 5: set by whoever passes an unrecognized transitive attribute on
        if len(value) > 255:
            buf += bytes((flags | EXTENDED_LENGTH, self.CODE)) + U16.pack(len(value))
        else:
            buf += bytes((flags, self.CODE, len(value)))
        buf += value

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.CODE,
            "flags": self.flags & ~EXTENDED_LENGTH,
            "hex": bytes(self.raw).hex().upper(),
        }

    @classmethod
    def from_json(cls, value: Any) -> Unknown:
        if not isinstance(value, dict) or set(value) != {"code", "flags", "hex"}:
            raise ValueError(f"unknown attribute: expected {{code, flags, hex}}, got {value!r}")
        return cls(
            uint(value["code"], 8, "code"),
            hex_bytes(value["hex"], "unknown attribute"),
            uint(value["flags"], 8, "flags"),
        )
