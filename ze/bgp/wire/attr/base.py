"""The path-attribute contract (RFC 4271 4.3), written once.

Every attribute module defines one Attribute subclass and `SPEC = AttrSpec(...)`. Objects wrap
the value bytes (after the attribute header): `from_wire` checks and keeps them, values are
read when asked, `from_value` builds, and `__init__` trusts its input. `encode_into` appends
header + value to a caller's buffer.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, ClassVar

from ze.bgp.wire.context import EncodingContext

OPTIONAL = 0x80
TRANSITIVE = 0x40
PARTIAL = 0x20
EXTENDED_LENGTH = 0x10

_HDR = struct.Struct("!BBB")
_HDR_EXT = struct.Struct("!BBH")


class Attribute:
    """Base of all path attributes. Subclasses set CODE, NAME (JSON/text key) and FLAGS (O/T bits)."""

    CODE: ClassVar[int] = 0
    NAME: ClassVar[str] = ""
    FLAGS: ClassVar[int] = 0
    __slots__ = ("flags", "raw")

    def __init__(self, raw: bytes | memoryview, flags: int | None = None) -> None:
        self.raw = raw
        self.flags = self.FLAGS if flags is None else flags

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> Attribute:
        """Check the value and wrap it. Raises WireError (offsets relative to `base`) when malformed."""
        return cls(view, flags)

    def value(self, ctx: EncodingContext) -> bytes:
        """The value bytes as they must be sent under `ctx` (differs from raw only for context-
        dependent attributes such as AS_PATH between ASN2 and ASN4 speakers)."""
        return bytes(self.raw)

    def encode_into(self, buf: bytearray, ctx: EncodingContext) -> None:
        value = self.value(ctx)
        flags = self.flags & ~EXTENDED_LENGTH
        if len(value) > 255:
            buf += _HDR_EXT.pack(flags | EXTENDED_LENGTH, self.CODE, len(value))
        else:
            buf += _HDR.pack(flags, self.CODE, len(value))
        buf += value

    def to_bytes(self, ctx: EncodingContext) -> bytes:
        buf = bytearray()
        self.encode_into(buf, ctx)
        return bytes(buf)

    def to_json(self) -> Any:
        """The JSON value under key NAME in the update's "attr" object."""
        return bytes(self.raw).hex().upper()

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and self.CODE == other.CODE  # type: ignore[attr-defined]
            and bytes(self.raw) == bytes(other.raw)  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return hash((self.CODE, bytes(self.raw)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_json()!r})"


@dataclass(frozen=True, slots=True)
class AttrSpec:
    code: int
    name: str
    cls: type[Attribute]
    # The route text syntax keyword ("as-path", "community" ...), or "" if not settable from text.
    text: str = ""
    # parse_text(words) -> Attribute, for `update text ... <text> set <words>`.
    parse_text: Any = None
    owner: str = "core"


def header_len(flags: int) -> int:
    return 4 if flags & EXTENDED_LENGTH else 3
