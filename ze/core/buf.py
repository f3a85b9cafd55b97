"""Reader and Writer over bytes: bounds-checked big-endian fields with offsets in errors.

Cold paths (OPEN, capabilities, attribute values) use Reader; hot paths use struct with
offsets directly. A Reader knows the absolute offset of its view (`base`) so that errors
name the byte in the whole message.
"""

from __future__ import annotations

import struct

from ze.core.errors import WireError

_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")


class Reader:
    __slots__ = ("base", "end", "pos", "view")

    def __init__(self, data: bytes | bytearray | memoryview, base: int = 0) -> None:
        self.view = data if isinstance(data, memoryview) else memoryview(data)
        self.pos = 0
        self.end = len(self.view)
        self.base = base

    @property
    def offset(self) -> int:
        """Absolute offset of the next byte."""
        return self.base + self.pos

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self.end

    def _need(self, n: int, what: str) -> None:
        if self.pos + n > self.end:
            raise WireError(f"{what}: need {n} bytes, {self.end - self.pos} left", self.base + self.pos)

    def u8(self, what: str = "u8") -> int:
        self._need(1, what)
        v = self.view[self.pos]
        self.pos += 1
        return v

    def u16(self, what: str = "u16") -> int:
        self._need(2, what)
        v = _U16.unpack_from(self.view, self.pos)[0]
        self.pos += 2
        return v

    def u32(self, what: str = "u32") -> int:
        self._need(4, what)
        v = _U32.unpack_from(self.view, self.pos)[0]
        self.pos += 4
        return v

    def take(self, n: int, what: str = "bytes") -> memoryview:
        self._need(n, what)
        v = self.view[self.pos : self.pos + n]
        self.pos += n
        return v

    def rest(self) -> memoryview:
        v = self.view[self.pos : self.end]
        self.pos = self.end
        return v

    def sub(self, n: int, what: str = "region") -> Reader:
        """A Reader over the next n bytes, with absolute offsets preserved."""
        start = self.base + self.pos
        return Reader(self.take(n, what), start)


class Writer:
    """Appends big-endian fields to a bytearray; `mark`/`patch_u16` fill in lengths later."""

    __slots__ = ("buf",)

    def __init__(self, buf: bytearray | None = None) -> None:
        self.buf = bytearray() if buf is None else buf

    def u8(self, v: int) -> Writer:
        self.buf.append(v)
        return self

    def u16(self, v: int) -> Writer:
        self.buf += _U16.pack(v)
        return self

    def u32(self, v: int) -> Writer:
        self.buf += _U32.pack(v)
        return self

    def put(self, b: bytes | bytearray | memoryview) -> Writer:
        self.buf += b
        return self

    def mark(self) -> int:
        return len(self.buf)

    def patch_u8(self, at: int, v: int) -> None:
        self.buf[at] = v

    def patch_u16(self, at: int, v: int) -> None:
        _U16.pack_into(self.buf, at, v)

    def __len__(self) -> int:
        return len(self.buf)

    def bytes(self) -> bytes:
        return bytes(self.buf)
