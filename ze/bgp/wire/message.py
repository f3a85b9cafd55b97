"""Message dispatch: bytes -> the message object of its type (RFC 4271 section 4.1 header).

The table maps each type to a "module:Class" string resolved lazily with importlib, so no
message module is imported before it is needed. UPDATE is built as WireUpdate(view, ctx,
codecs); the others by Class.from_wire(view, base=19). A type whose module is not part of
this build decodes as RawMessage (its body kept as bytes).

`decode_any` accepts what people paste: a whole message, one without the 16-byte marker
(length, type, body) or a bare UPDATE body; error offsets are then within what was given.
"""

from __future__ import annotations

import importlib
import struct
from typing import Any

from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.errors import header_error
from ze.bgp.wire.header import (
    BAD_MESSAGE_LENGTH,
    HEADER_LEN,
    MARKER,
    MIN_LEN,
    MessageType,
    frame,
    parse_header,
)
from ze.core.errors import WireError

DISPATCH: dict[int, str] = {
    MessageType.OPEN: "ze.bgp.wire.open:Open",
    MessageType.UPDATE: "ze.bgp.wire.update:WireUpdate",
    MessageType.NOTIFICATION: "ze.bgp.wire.notification:Notification",
    MessageType.KEEPALIVE: "ze.bgp.wire.keepalive:Keepalive",
    MessageType.ROUTE_REFRESH: "ze.bgp.wire.refresh:RouteRefresh",
}

# JSON names of the message types ("type" in the event's "message" object and its body key).
TYPE_NAMES: dict[int, str] = {
    MessageType.OPEN: "open",
    MessageType.UPDATE: "update",
    MessageType.NOTIFICATION: "notification",
    MessageType.KEEPALIVE: "keepalive",
    MessageType.ROUTE_REFRESH: "route-refresh",
}

_LEN_TYPE = struct.Struct("!HB")
_resolved: dict[int, Any] = {}


class RawMessage:
    """A message of a type whose codec is not in this build: the body, kept as bytes."""

    __slots__ = ("mtype", "raw")

    def __init__(self, mtype: int, raw: bytes | memoryview) -> None:
        self.mtype = mtype
        self.raw = bytes(raw)

    def to_json(self) -> dict:
        return {"raw": self.raw.hex().upper()} if self.raw else {}

    def to_bytes(self) -> bytes:
        return frame(self.mtype, self.raw)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawMessage) and (self.mtype, self.raw) == (other.mtype, other.raw)

    def __hash__(self) -> int:
        return hash((self.mtype, self.raw))


def message_class(mtype: int) -> Any:
    """The class for a message type, imported on first use; None when its module is absent."""
    if mtype in _resolved:
        return _resolved[mtype]
    mod_name, _, cls_name = DISPATCH[mtype].partition(":")
    try:
        cls = getattr(importlib.import_module(mod_name), cls_name)
    except ModuleNotFoundError as e:
        if e.name != mod_name:
            raise
        cls = None
    _resolved[mtype] = cls
    return cls


def message_type(msg: Any) -> int:
    """The message type number of a decoded message object."""
    if isinstance(msg, RawMessage):
        return msg.mtype
    t = getattr(msg, "TYPE", None)
    if t is not None:
        return int(t)
    for mtype in DISPATCH:
        if message_class(mtype) is type(msg):
            return mtype
    raise TypeError(f"{type(msg).__name__} is not a BGP message")


def decode_body(
    mtype: int,
    view: memoryview,
    ctx: EncodingContext = DEFAULT,
    codecs: Any = None,
    *,
    base: int = HEADER_LEN,
) -> Any:
    cls = message_class(mtype)
    if cls is None:
        return RawMessage(mtype, view)
    if mtype == MessageType.UPDATE:
        return cls(view, ctx, codecs)
    if mtype == MessageType.OPEN and codecs is not None:
        return cls.from_wire(view, base=base, codecs=codecs)
    return cls.from_wire(view, base=base)


def decode_message(
    data: bytes | bytearray | memoryview,
    ctx: EncodingContext = DEFAULT,
    codecs: Any = None,
    *,
    extended: bool | None = None,
) -> Any:
    """One whole message (marker, length, type, body) -> its object. WireError if malformed,
    including bytes left over after the length the header gives."""
    view = data if isinstance(data, memoryview) else memoryview(data)
    ext = ctx.extended_message if extended is None else extended
    mtype, length = parse_header(view, 0, ext)
    if length > len(view):
        raise header_error(
            f"header says {length} bytes, {len(view)} given",
            BAD_MESSAGE_LENGTH,
            16,
            struct.pack("!H", length),
        )
    if length < len(view):
        raise header_error(f"{len(view) - length} bytes after the message", BAD_MESSAGE_LENGTH, length)
    return decode_body(mtype, view[HEADER_LEN:length], ctx, codecs)


def split_messages(
    data: bytes | bytearray | memoryview, *, extended: bool = False
) -> list[tuple[int, memoryview]]:
    """A stream of whole messages -> [(offset, message view)]; WireError on a bad header or a
    message cut short."""
    view = data if isinstance(data, memoryview) else memoryview(data)
    out = []
    pos = 0
    while pos < len(view):
        if pos and (len(view) - pos < HEADER_LEN or bytes(view[pos : pos + 16]) != MARKER):
            raise header_error(
                f"{len(view) - pos} bytes after the last whole message", BAD_MESSAGE_LENGTH, pos
            )
        _, length = parse_header(view, pos, extended)
        if pos + length > len(view):
            raise header_error(
                f"message of {length} bytes cut short: {len(view) - pos} given", BAD_MESSAGE_LENGTH, pos + 16
            )
        out.append((pos, view[pos : pos + length]))
        pos += length
    return out


def decode_any(
    data: bytes | bytearray | memoryview,
    ctx: EncodingContext = DEFAULT,
    codecs: Any = None,
    *,
    mtype: int | None = None,
    extended: bool | None = None,
) -> Any:
    """A whole message, one without its marker, or a bare body (of `mtype`, UPDATE when not named)
    -> its object. WireError offsets raised here count from the start of `data`."""
    return decode_input(data, ctx, codecs, mtype=mtype, extended=extended)[0]


def decode_input(
    data: bytes | bytearray | memoryview,
    ctx: EncodingContext = DEFAULT,
    codecs: Any = None,
    *,
    mtype: int | None = None,
    extended: bool | None = None,
) -> tuple[Any, int]:
    """decode_any, also returning how many bytes were put in front of the input (0, 16 or 19):
    subtract it from the offset of a WireError raised later by the message's lazy iterators."""
    raw = bytes(data)
    if raw[:16] == MARKER and len(raw) >= HEADER_LEN:
        return decode_message(raw, ctx, codecs, extended=extended), 0
    if mtype is None and len(raw) >= 3:
        length, t = _LEN_TYPE.unpack_from(raw, 0)
        if length == len(raw) + 16 and t in DISPATCH:
            return _shifted(MARKER + raw, 16, ctx, codecs, extended), 16
    t = MessageType.UPDATE if mtype is None else mtype
    if t in MIN_LEN and HEADER_LEN + len(raw) < MIN_LEN[t]:
        raise header_error(
            f"{TYPE_NAMES[t].upper()} body of {len(raw)} bytes, at least {MIN_LEN[t] - HEADER_LEN} needed",
            BAD_MESSAGE_LENGTH,
            0,
        )
    if HEADER_LEN + len(raw) > 65535:
        raise header_error(f"body of {len(raw)} bytes is longer than any message", BAD_MESSAGE_LENGTH, 0)
    # A bare body is framed for decoding; its length is checked against the extended limit only
    # (the caller could not say which limit applies) and error offsets are shifted back.
    return _shifted(
        frame(t, raw), HEADER_LEN, ctx, codecs, True if extended is None else extended
    ), HEADER_LEN


def _shifted(message: bytes, shift: int, ctx: EncodingContext, codecs: Any, extended: bool | None) -> Any:
    try:
        return decode_message(message, ctx, codecs, extended=extended)
    except WireError as e:
        if e.offset is not None:
            e.offset = max(0, e.offset - shift)
        raise
