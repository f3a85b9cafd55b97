"""Software Version (capability code 75, draft-ietf-idr-software-version section 2).

Value: Software Version Length (1), then the version string (UTF-8), which must fill the rest
of the value exactly. Text that is not UTF-8 is malformed (OPEN 2/0).
JSON: the string, e.g. "FRRouting/10.2".
"""

from __future__ import annotations

from typing import Any

from ze.bgp.wire.capability._fields import malformed
from ze.bgp.wire.capability.base import Capability, CapSpec


class SoftwareVersion(Capability):
    CODE = 75
    NAME = "software-version"
    __slots__ = ()

    @classmethod
    def from_wire(cls, view: memoryview, base: int = 0) -> SoftwareVersion:
        n = len(view)
        if n < 1:
            raise malformed(cls.NAME, "empty value, expected a length octet", base)
        if view[0] != n - 1:
            raise malformed(cls.NAME, f"version length {view[0]}, but {n - 1} bytes follow", base)
        try:
            bytes(view[1:]).decode("utf-8")
        except UnicodeDecodeError as e:
            raise malformed(cls.NAME, "version is not UTF-8", base + 1 + e.start) from None
        return cls(view)

    @classmethod
    def from_value(cls, version: str) -> SoftwareVersion:
        b = version.encode("utf-8")
        if len(b) > 254:
            raise ValueError("software-version: longer than 254 bytes")
        return cls(bytes([len(b)]) + b)

    @property
    def version(self) -> str:
        return self.raw[1:].decode("utf-8")

    def to_json(self) -> str:
        return self.version

    @classmethod
    def from_json(cls, value: Any) -> SoftwareVersion:
        if not isinstance(value, str):
            raise ValueError(f"software-version: expected a string, got {value!r}")
        return cls.from_value(value)


SPEC = CapSpec(SoftwareVersion.CODE, SoftwareVersion.NAME, SoftwareVersion)
