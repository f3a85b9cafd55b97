"""Helpers shared by the attribute modules: the error builder (RFC 4271 6.3 data field),
fixed-size checks, IPv4 and ASN text forms. Not an attribute itself (no SPEC)."""

from __future__ import annotations

import struct
from ipaddress import IPv4Address, IPv6Address
from typing import Any, ClassVar

from ze.bgp.wire.attr.base import EXTENDED_LENGTH, Attribute
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.errors import WireError, update_error

# RFC 4271 section 6.3 UPDATE Message Error subcodes used by attribute codecs.
UNRECOGNIZED_WELL_KNOWN = 2
ATTRIBUTE_LENGTH_ERROR = 5
INVALID_NEXT_HOP = 8
OPTIONAL_ATTRIBUTE_ERROR = 9
MALFORMED_AS_PATH = 11

AS_TRANS = 23456  # RFC 6793 section 9

U16 = struct.Struct("!H")
U32 = struct.Struct("!I")
U64 = struct.Struct("!Q")


def attribute_bytes(flags: int, code: int, view: bytes | memoryview) -> bytes:
    """The attribute as received (flags, type, length, value): the NOTIFICATION data of RFC 4271 6.3."""
    if flags & EXTENDED_LENGTH:
        return bytes((flags, code)) + U16.pack(len(view)) + bytes(view)
    return bytes((flags, code, len(view) & 0xFF)) + bytes(view)


def fail(code: int, flags: int, view: memoryview, subcode: int, message: str, offset: int) -> WireError:
    """An UPDATE error (3/subcode) carrying the erroneous attribute as data, as RFC 4271 6.3 asks."""
    data = b"" if subcode == MALFORMED_AS_PATH else attribute_bytes(flags, code, view)
    return update_error(message, subcode, offset, data)


def ip4(view: bytes | memoryview, pos: int = 0) -> str:
    return f"{view[pos]}.{view[pos + 1]}.{view[pos + 2]}.{view[pos + 3]}"


def ip4_packed(text: str) -> bytes:
    """Dotted quad -> 4 bytes; ValueError when not an IPv4 address."""
    if not isinstance(text, str):
        raise ValueError(f"expected an IPv4 address string, got {text!r}")
    return IPv4Address(text).packed


def ip6(view: bytes | memoryview, pos: int = 0) -> str:
    return str(IPv6Address(bytes(view[pos : pos + 16])))


def ip6_packed(text: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError(f"expected an IPv6 address string, got {text!r}")
    return IPv6Address(text).packed


def uint(value: object, bits: int, what: str) -> int:
    """An int in [0, 2**bits) from JSON or text (strings accepted); ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected an integer, got {value!r}")
    if isinstance(value, str):
        try:
            value = int(value, 10)
        except ValueError:
            raise ValueError(f"{what}: {value!r} is not a number") from None
    if not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise ValueError(f"{what}: {value!r} is not in 0..{(1 << bits) - 1}")
    return value


def asn(value: object, what: str = "AS number") -> int:
    """A 4-byte AS number from an int, "65000" or asdot "1.10" (RFC 5396)."""
    if isinstance(value, str) and "." in value:
        hi, _, lo = value.partition(".")
        return (uint(hi, 16, what) << 16) | uint(lo, 16, what)
    return uint(value, 32, what)


def one_word(words: list[str], what: str) -> str:
    if len(words) != 1:
        raise ValueError(f"{what}: expected one value, got {' '.join(words)!r}")
    return words[0]


def hex_bytes(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError(f"{what}: expected hex, got {text!r}")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{what}: {text!r} is not hex") from None


class Fixed4(Attribute):
    """A value of exactly 4 bytes. WIRE_NAME (else NAME) names the attribute in the length error."""

    WIRE_NAME: ClassVar[str] = ""
    __slots__ = ()

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> Any:
        if len(view) != 4:
            raise fail(
                cls.CODE,
                flags,
                view,
                ATTRIBUTE_LENGTH_ERROR,
                f"{cls.WIRE_NAME or cls.NAME} length {len(view)}, expected 4",
                base,
            )
        return cls(view, flags)


class Address4(Fixed4):
    """A value that is one IPv4 address (NEXT_HOP, ORIGINATOR_ID); JSON is the dotted quad."""

    __slots__ = ()

    @classmethod
    def from_value(cls, address: str) -> Any:
        return cls(ip4_packed(address))

    @property
    def address(self) -> str:
        return ip4(self.raw)

    def to_json(self) -> str:
        return ip4(self.raw)

    @classmethod
    def from_json(cls, value: str) -> Any:
        return cls.from_value(value)


class Number32(Fixed4):
    """A value that is one 4-byte unsigned integer (MED, LOCAL_PREF, OTC); JSON is the int."""

    __slots__ = ()

    @classmethod
    def from_value(cls, number: int) -> Any:
        return cls(U32.pack(uint(number, 32, cls.NAME)))

    @property
    def number(self) -> int:
        return U32.unpack_from(self.raw)[0]

    def to_json(self) -> int:
        return U32.unpack_from(self.raw)[0]

    @classmethod
    def from_json(cls, value: Any) -> Any:
        if not isinstance(value, int):
            raise ValueError(f"{cls.NAME}: expected an integer, got {value!r}")
        return cls.from_value(value)

    @classmethod
    def parse_text(cls, words: list[str]) -> Any:
        return cls.from_value(uint(one_word(words, cls.NAME), 32, cls.NAME))
