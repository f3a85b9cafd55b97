"""The exception types every layer shares.

WireError is raised by codecs for any malformed input; it carries the byte offset where the
problem was found and, when the error maps onto one, the RFC 4271 NOTIFICATION code and
subcode it calls for. It is turned into a NOTIFICATION in exactly one place (the session).
"""

from __future__ import annotations


class ZeError(Exception):
    """Base of every error ze raises on purpose."""


class WireError(ZeError):
    """Malformed bytes. `offset` is where, `code`/`subcode`/`data` the NOTIFICATION it calls for."""

    def __init__(
        self,
        message: str,
        offset: int | None = None,
        code: int = 0,
        subcode: int = 0,
        data: bytes = b"",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.code = code
        self.subcode = subcode
        self.data = bytes(data)

    def at(self, base: int) -> WireError:
        """Shift the offset by `base` (a caller that decoded a sub-region adds where it began)."""
        if self.offset is not None:
            self.offset += base
        return self

    def __str__(self) -> str:
        if self.offset is None:
            return self.message
        return f"{self.message} (at byte {self.offset})"


class ConfigError(ZeError):
    """A problem in configuration, with the place (file:line:column) when known."""


class RegistryError(ZeError):
    """A duplicate or late registration."""
