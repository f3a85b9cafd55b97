"""Helpers shared by the capability modules: the error they raise and family/AFI names in JSON.

Malformed capability values are OPEN 2/0 (RFC 4271 6.2: a recognized optional parameter that
is malformed calls for subcode 0, Unspecific); offsets are absolute, from `base`.
"""

from __future__ import annotations

from typing import Any

from ze.bgp.wire.capability.base import Capability
from ze.bgp.wire.errors import open_error
from ze.core.errors import WireError
from ze.core.family import Family, afi_name

UNSPECIFIC = 0


def malformed(name: str, message: str, offset: int) -> WireError:
    return open_error(f"{name} capability: {message}", UNSPECIFIC, offset)


def need_len(name: str, view: memoryview, expected: int, base: int) -> None:
    if len(view) != expected:
        raise malformed(name, f"length {len(view)}, expected {expected}", base)


def need_multiple(name: str, view: memoryview, unit: int, base: int, head: int = 0) -> None:
    if len(view) < head or (len(view) - head) % unit:
        what = f"{head} + a multiple of {unit}" if head else f"a multiple of {unit}"
        raise malformed(name, f"length {len(view)}, expected {what}", base)


def family_name(afi: int, safi: int) -> str:
    return Family(afi, safi).name


def parse_family(text: str, safi_max: int = 0xFF) -> Family:
    """Family from its JSON name; raises ValueError when unknown or out of range."""
    fam = Family.parse(text)
    if not (0 <= fam.afi <= 0xFFFF and 0 <= fam.safi <= safi_max):
        raise ValueError(f"family {text!r} out of range")
    return fam


def parse_afi(text: str) -> int:
    """AFI from its JSON name ("ipv6", "afi-7")."""
    return parse_family(f"{text}/1").afi


def check_u(value: int, bits: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < (1 << bits):
        raise ValueError(f"{what} {value!r} does not fit in {bits} bits")
    return value


__all__ = [
    "Empty",
    "afi_name",
    "check_u",
    "family_name",
    "malformed",
    "need_len",
    "need_multiple",
    "parse_afi",
    "parse_family",
]


class Empty(Capability):
    """A capability whose presence is all it says: the value must be empty; JSON is {}."""

    __slots__ = ()

    @classmethod
    def from_wire(cls, view: memoryview, base: int = 0) -> Empty:
        need_len(cls.NAME, view, 0, base)
        return cls(b"")

    @classmethod
    def from_value(cls) -> Empty:
        return cls(b"")

    def to_json(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_json(cls, value: Any) -> Empty:
        if value != {}:
            raise ValueError(f"{cls.NAME}: expected {{}}, got {value!r}")
        return cls(b"")
