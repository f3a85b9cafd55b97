"""ADD-PATH (capability code 69, RFC 7911 section 4).

Value: per family AFI (2), SAFI (1), Send/Receive (1: 1 receive, 2 send, 3 both). Length: a
multiple of 4. RFC 7911 says an entry with another Send/Receive value SHOULD be ignored, so
such entries are kept (not an error) and shown with the number instead of a name.
JSON: [{"family": "ipv4/unicast", "mode": "receive" | "send" | "both"}, ...] in wire order.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

from ze.bgp.wire.capability._fields import check_u, need_multiple, parse_family
from ze.bgp.wire.capability.base import Capability, CapSpec
from ze.core.family import Family

RECEIVE, SEND, BOTH = 1, 2, 3
NAMES = {RECEIVE: "receive", SEND: "send", BOTH: "both"}
BY_NAME = {v: k for k, v in NAMES.items()}
_ENTRY = struct.Struct("!HBB")


def mode_value(mode: int | str) -> int:
    if isinstance(mode, str):
        if mode not in BY_NAME:
            raise ValueError(f"add-path mode {mode!r}: expected receive, send or both")
        return BY_NAME[mode]
    return check_u(mode, 8, "add-path mode")


class AddPath(Capability):
    CODE = 69
    NAME = "addpath"
    __slots__ = ()

    @classmethod
    def from_wire(cls, view: memoryview, base: int = 0) -> AddPath:
        need_multiple(cls.NAME, view, 4, base)
        return cls(view)

    @classmethod
    def from_value(cls, families: Iterable[tuple[Family, int | str]]) -> AddPath:
        """families: (family, mode) with mode RECEIVE/SEND/BOTH or "receive"/"send"/"both"."""
        buf = bytearray()
        for fam, mode in families:
            buf += _ENTRY.pack(check_u(fam.afi, 16, "afi"), check_u(fam.safi, 8, "safi"), mode_value(mode))
        return cls(bytes(buf))

    def families(self) -> Iterator[tuple[Family, int]]:
        """(family, Send/Receive value) in wire order."""
        for afi, safi, mode in _ENTRY.iter_unpack(self.raw):
            yield Family(afi, safi), mode

    def receive(self) -> frozenset[Family]:
        """Families the sender can receive several paths for (it announced receive or both)."""
        return frozenset(f for f, m in self.families() if m in (RECEIVE, BOTH))

    def send(self) -> frozenset[Family]:
        """Families the sender can send several paths for (it announced send or both)."""
        return frozenset(f for f, m in self.families() if m in (SEND, BOTH))

    def to_json(self) -> list[dict[str, Any]]:
        return [{"family": f.name, "mode": NAMES.get(m, m)} for f, m in self.families()]

    @classmethod
    def from_json(cls, value: Any) -> AddPath:
        if not isinstance(value, list):
            raise ValueError(f"addpath: expected a list, got {value!r}")
        return cls.from_value((parse_family(e["family"]), e["mode"]) for e in value)


SPEC = CapSpec(AddPath.CODE, AddPath.NAME, AddPath)
