"""Codec errors and the NOTIFICATION codes they map onto (RFC 4271 section 4.5 and 6)."""

from __future__ import annotations

from ze.core.errors import WireError

__all__ = ["WireError", "header_error", "open_error", "update_error"]

# Codes, by RFC 4271 section 4.5; the full table with names lives in notification.py.
MESSAGE_HEADER_ERROR = 1
OPEN_MESSAGE_ERROR = 2
UPDATE_MESSAGE_ERROR = 3


def header_error(message: str, subcode: int, offset: int | None = None, data: bytes = b"") -> WireError:
    return WireError(message, offset, MESSAGE_HEADER_ERROR, subcode, data)


def open_error(message: str, subcode: int, offset: int | None = None, data: bytes = b"") -> WireError:
    return WireError(message, offset, OPEN_MESSAGE_ERROR, subcode, data)


def update_error(message: str, subcode: int, offset: int | None = None, data: bytes = b"") -> WireError:
    return WireError(message, offset, UPDATE_MESSAGE_ERROR, subcode, data)
