"""The line codec of the plugin protocol (also spoken on the control socket), sans I/O.

A line is UTF-8, ends with a newline, is at most 16 MiB: `#<id> <verb> [<json>]`. A request's
verb is a method `module:rpc-name`; a response echoes the request's id with verb `ok` or
`error` (payload `{"code":"...","message":"..."}`). The codec owns no socket: `LineDecoder`
is fed bytes and hands back whole messages, or the ProtocolError of a bad line (with the id
when it could be read, so the caller can answer it) and goes on with the next line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

from ze.core.errors import ZeError

MAX_LINE = 16 * 1024 * 1024
OK = "ok"
ERROR = "error"

_VERB = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*(:[A-Za-z][A-Za-z0-9_.-]*)?")
_encoder = msgspec.json.Encoder()
_NONE = object()


class ProtocolError(ZeError):
    """A line that is not `#<id> <verb> [<json>]`. `id` is the request id when it was readable."""

    def __init__(self, code: str, message: str, id: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.id = id


@dataclass(frozen=True, slots=True)
class Message:
    """One line. `payload` is the decoded JSON, or None when the line had none."""

    id: int
    verb: str
    payload: Any = None

    @property
    def is_response(self) -> bool:
        return self.verb in (OK, ERROR)

    def encode(self) -> bytes:
        return encode(self.id, self.verb, self.payload)


def encode(id: int, verb: str, payload: Any = _NONE) -> bytes:
    """The line (with its newline) for a message; payload None or absent writes no JSON."""
    if id < 0:
        raise ValueError(f"message id must be >= 0, not {id}")
    if not _VERB.fullmatch(verb):
        raise ValueError(f"bad verb {verb!r}")
    head = f"#{id} {verb}".encode()
    if payload is _NONE or payload is None:
        line = head + b"\n"
    else:
        line = head + b" " + _encoder.encode(payload) + b"\n"
    if len(line) > MAX_LINE:
        raise ValueError(f"line of {len(line)} bytes is longer than {MAX_LINE}")
    return line


def request(id: int, method: str, params: Any = None) -> bytes:
    return encode(id, method, params)


def ok(id: int, data: Any = None) -> bytes:
    return encode(id, OK, data)


def error(id: int, code: str, message: str) -> bytes:
    return encode(id, ERROR, {"code": code, "message": message})


def decode(line: bytes | bytearray | memoryview) -> Message:
    """One line (with or without its newline) -> Message; ProtocolError when malformed."""
    raw = bytes(line)
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if len(raw) > MAX_LINE:
        raise ProtocolError("too-long", f"line of {len(raw)} bytes is longer than {MAX_LINE}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError("bad-line", f"not UTF-8 at byte {e.start}") from None
    if not text.startswith("#"):
        raise ProtocolError("bad-line", "a line starts with '#<id> '")
    head, _, rest = text[1:].partition(" ")
    if not head.isdigit() or not head.isascii():
        raise ProtocolError("bad-line", f"bad id {head[:20]!r}: expected a non-negative integer")
    mid = int(head)
    verb, _, body = rest.partition(" ")
    if not verb:
        raise ProtocolError("bad-line", "missing verb after the id", mid)
    if not _VERB.fullmatch(verb):
        raise ProtocolError("bad-line", f"bad verb {verb[:40]!r}", mid)
    body = body.strip()
    if not body:
        return Message(mid, verb, None)
    try:
        payload = msgspec.json.decode(body)
    except msgspec.DecodeError as e:
        raise ProtocolError("bad-json", f"payload is not JSON: {e}", mid) from None
    return Message(mid, verb, payload)


class LineDecoder:
    """Bytes in, messages (or the ProtocolError of each bad line) out; never raises."""

    __slots__ = ("_buf", "_discarding", "max_line")

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._buf = bytearray()
        self._discarding = False
        self.max_line = max_line

    def feed(self, data: bytes) -> list[Message | ProtocolError]:
        out: list[Message | ProtocolError] = []
        self._buf += data
        start = 0
        buf = self._buf
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0:
                break
            line = bytes(buf[start:nl])
            start = nl + 1
            if self._discarding:
                self._discarding = False  # the tail of an over-long line
                continue
            if not line.strip():
                continue
            if len(line) > self.max_line:
                out.append(
                    ProtocolError("too-long", f"line of {len(line)} bytes is longer than {self.max_line}")
                )
                continue
            try:
                out.append(decode(line))
            except ProtocolError as e:
                out.append(e)
        del buf[:start]
        if len(buf) > self.max_line and not self._discarding:
            out.append(ProtocolError("too-long", f"line longer than {self.max_line} bytes"))
            self._discarding = True
            buf.clear()
        elif self._discarding:
            buf.clear()
        return out

    @property
    def pending(self) -> int:
        """Bytes held waiting for a newline."""
        return len(self._buf)
