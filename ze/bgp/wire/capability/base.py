"""The capability contract (RFC 5492), written once.

A Capability wraps its value bytes (`raw`); `from_wire` checks them, values are read when
asked, `from_value` builds. Unknown codes are kept as raw bytes (Unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


class Capability:
    CODE: ClassVar[int] = 0
    NAME: ClassVar[str] = ""  # kebab-case JSON name
    __slots__ = ("raw",)

    def __init__(self, raw: bytes | memoryview) -> None:
        self.raw = bytes(raw)

    @classmethod
    def from_wire(cls, view: memoryview, base: int = 0) -> Capability:
        """Check the value and wrap it; raises WireError (OPEN 2/0 or 2/7 style) when malformed."""
        return cls(view)

    def encode_into(self, buf: bytearray) -> None:
        buf.append(self.CODE)
        buf.append(len(self.raw))
        buf += self.raw

    def to_bytes(self) -> bytes:
        buf = bytearray()
        self.encode_into(buf)
        return bytes(buf)

    def to_json(self) -> Any:
        return bytes(self.raw).hex().upper()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.CODE == other.CODE and self.raw == other.raw  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.CODE, self.raw))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_json()!r})"


class Unknown(Capability):
    """A capability this build has no codec for: kept as raw bytes, sent back unchanged."""

    __slots__ = ("code",)

    def __init__(self, raw: bytes | memoryview, code: int = 0) -> None:
        super().__init__(raw)
        self.code = code

    def encode_into(self, buf: bytearray) -> None:
        buf.append(self.code)
        buf.append(len(self.raw))
        buf += self.raw

    def to_json(self) -> Any:
        return {"code": self.code, "raw": self.raw.hex().upper()}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and self.code == other.code and self.raw == other.raw

    def __hash__(self) -> int:
        return hash((self.code, self.raw))


@dataclass(frozen=True, slots=True)
class CapSpec:
    code: int
    name: str
    cls: type[Capability]
    owner: str = "core"
