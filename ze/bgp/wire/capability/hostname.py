"""FQDN / hostname (capability code 73, draft-walton-bgp-hostname-capability section 3).

Value: Hostname Length (1), Hostname (UTF-8), Domain Name Length (1), Domain Name (UTF-8);
both length fields must be present and the two parts must fill the value exactly. Text that is
not UTF-8 is malformed (OPEN 2/0). JSON: {"hostname": "r1", "domain": "example.net"}.
"""

from __future__ import annotations

from typing import Any

from ze.bgp.wire.capability._fields import malformed
from ze.bgp.wire.capability.base import Capability, CapSpec


def _text(name: str, view: memoryview, what: str, offset: int) -> str:
    try:
        return bytes(view).decode("utf-8")
    except UnicodeDecodeError as e:
        raise malformed(name, f"{what} is not UTF-8", offset + e.start) from None


class Hostname(Capability):
    CODE = 73
    NAME = "hostname"
    __slots__ = ()

    @classmethod
    def from_wire(cls, view: memoryview, base: int = 0) -> Hostname:
        n = len(view)
        if n < 2:
            raise malformed(cls.NAME, f"length {n}, expected at least 2", base)
        hlen = view[0]
        if 1 + hlen + 1 > n:
            raise malformed(cls.NAME, f"hostname length {hlen} overruns the value ({n} bytes)", base)
        dlen = view[1 + hlen]
        if 2 + hlen + dlen != n:
            raise malformed(
                cls.NAME,
                f"domain length {dlen} leaves {n - 2 - hlen - dlen} bytes unaccounted",
                base + 1 + hlen,
            )
        _text(cls.NAME, view[1 : 1 + hlen], "hostname", base + 1)
        _text(cls.NAME, view[2 + hlen :], "domain name", base + 2 + hlen)
        return cls(view)

    @classmethod
    def from_value(cls, hostname: str, domain: str = "") -> Hostname:
        h, d = hostname.encode("utf-8"), domain.encode("utf-8")
        if len(h) + len(d) > 253:
            raise ValueError("hostname: hostname and domain name take more than 253 bytes")
        return cls(bytes([len(h)]) + h + bytes([len(d)]) + d)

    @property
    def hostname(self) -> str:
        return self.raw[1 : 1 + self.raw[0]].decode("utf-8")

    @property
    def domain(self) -> str:
        return self.raw[2 + self.raw[0] :].decode("utf-8")

    def to_json(self) -> dict[str, str]:
        return {"hostname": self.hostname, "domain": self.domain}

    @classmethod
    def from_json(cls, value: Any) -> Hostname:
        if not isinstance(value, dict) or not isinstance(value.get("hostname"), str):
            raise ValueError(f"hostname: expected {{'hostname', 'domain'}}, got {value!r}")
        return cls.from_value(value["hostname"], value.get("domain", ""))


SPEC = CapSpec(Hostname.CODE, Hostname.NAME, Hostname)
