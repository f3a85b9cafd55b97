"""KEEPALIVE (type 4): a header and nothing else (RFC 4271 4.4)."""

from __future__ import annotations

import struct
from typing import Any

from ze.bgp.wire.errors import header_error
from ze.bgp.wire.header import BAD_MESSAGE_LENGTH, HEADER_LEN, MessageType, frame

_MESSAGE = frame(MessageType.KEEPALIVE, b"")


class Keepalive:
    TYPE = MessageType.KEEPALIVE
    __slots__ = ()

    @classmethod
    def from_wire(cls, view: bytes | bytearray | memoryview, base: int = HEADER_LEN) -> Keepalive:
        """The body must be empty; otherwise 1/2 bad message length with the length as data."""
        if len(view):
            raise header_error(
                f"KEEPALIVE carries a {len(view)}-byte body, must be empty",
                BAD_MESSAGE_LENGTH,
                base - 3,  # the length field of the header
                struct.pack("!H", (HEADER_LEN + len(view)) & 0xFFFF),
            )
        return KEEPALIVE

    @classmethod
    def from_value(cls) -> Keepalive:
        return KEEPALIVE

    def body(self) -> bytes:
        return b""

    def to_bytes(self) -> bytes:
        return _MESSAGE

    def to_json(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Keepalive:
        if obj not in ({}, None):
            raise ValueError(f"keepalive JSON has no fields, got {obj!r}")
        return KEEPALIVE

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Keepalive)

    def __hash__(self) -> int:
        return hash(Keepalive)

    def __repr__(self) -> str:
        return "Keepalive()"


KEEPALIVE = Keepalive()
