"""NOTIFICATION (type 3): code, subcode, data (RFC 4271 4.5 and 6), with the names of every code and
subcode in the IANA "BGP Error (Notification) Codes" registries.

Sources: RFC 4271 (codes 1-6), RFC 5492 (OPEN 2/7), RFC 9234 (OPEN 2/11 role mismatch; 2/8-10 are
deprecated), RFC 6608 (FSM subcodes), RFC 4486 (cease subcodes 1-8; 1 carries AFI/SAFI/upper bound),
RFC 8538 (cease 9 hard reset), RFC 9384 (cease 10 BFD down), RFC 7313 (code 7 ROUTE-REFRESH error),
RFC 9687 (code 8 send hold timer expired). RFC 8203 and RFC 9003: cease 2 (administrative shutdown)
and 4 (administrative reset) may carry a shutdown communication, a length byte then that many bytes of
UTF-8 (at most 255). A malformed communication is not an error: the data stays as raw hex.
"""

from __future__ import annotations

import struct
from typing import Any

from ze.bgp.wire.errors import header_error
from ze.bgp.wire.header import BAD_MESSAGE_LENGTH, HEADER_LEN, MessageType, frame
from ze.core.errors import WireError
from ze.core.family import Family

HEADER = 1
OPEN = 2
UPDATE = 3
HOLD_TIMER_EXPIRED = 4
FSM = 5
CEASE = 6
ROUTE_REFRESH = 7
SEND_HOLD_TIMER_EXPIRED = 8

CODES: dict[int, str] = {
    HEADER: "message-header-error",
    OPEN: "open-message-error",
    UPDATE: "update-message-error",
    HOLD_TIMER_EXPIRED: "hold-timer-expired",
    FSM: "fsm-error",
    CEASE: "cease",
    ROUTE_REFRESH: "route-refresh-message-error",
    SEND_HOLD_TIMER_EXPIRED: "send-hold-timer-expired",
}

SUBCODES: dict[int, dict[int, str]] = {
    HEADER: {
        0: "unspecific",
        1: "connection-not-synchronized",
        2: "bad-message-length",
        3: "bad-message-type",
    },
    OPEN: {
        0: "unspecific",
        1: "unsupported-version-number",
        2: "bad-peer-as",
        3: "bad-bgp-identifier",
        4: "unsupported-optional-parameter",
        5: "authentication-failure",  # deprecated (RFC 4271)
        6: "unacceptable-hold-time",
        7: "unsupported-capability",  # RFC 5492
        8: "grouping-conflict",  # deprecated
        9: "grouping-required",  # deprecated
        10: "capability-value-mismatch",  # deprecated
        11: "role-mismatch",  # RFC 9234
    },
    UPDATE: {
        0: "unspecific",
        1: "malformed-attribute-list",
        2: "unrecognized-well-known-attribute",
        3: "missing-well-known-attribute",
        4: "attribute-flags-error",
        5: "attribute-length-error",
        6: "invalid-origin-attribute",
        7: "as-routing-loop",  # deprecated
        8: "invalid-next-hop-attribute",
        9: "optional-attribute-error",
        10: "invalid-network-field",
        11: "malformed-as-path",
    },
    HOLD_TIMER_EXPIRED: {0: "unspecific"},
    FSM: {  # RFC 6608
        0: "unspecified-error",
        1: "unexpected-message-in-opensent",
        2: "unexpected-message-in-openconfirm",
        3: "unexpected-message-in-established",
    },
    CEASE: {  # RFC 4486, 8538, 9384
        0: "unspecific",
        1: "maximum-number-of-prefixes-reached",
        2: "administrative-shutdown",
        3: "peer-de-configured",
        4: "administrative-reset",
        5: "connection-rejected",
        6: "other-configuration-change",
        7: "connection-collision-resolution",
        8: "out-of-resources",
        9: "hard-reset",
        10: "bfd-down",
    },
    ROUTE_REFRESH: {0: "reserved", 1: "invalid-message-length"},  # RFC 7313
    SEND_HOLD_TIMER_EXPIRED: {0: "unspecific"},  # RFC 9687
}

CODE_BY_NAME = {v: k for k, v in CODES.items()}

# Cease subcodes with structured data.
MAX_PREFIXES = 1
ADMIN_SHUTDOWN = 2
ADMIN_RESET = 4
COMMUNICATION_SUBCODES = frozenset({ADMIN_SHUTDOWN, ADMIN_RESET})
MAX_COMMUNICATION = 255  # RFC 9003

_MAX_PREFIX = struct.Struct("!HBI")


def code_name(code: int) -> str:
    return CODES.get(code, f"code-{code}")


def subcode_name(code: int, subcode: int) -> str:
    return SUBCODES.get(code, {}).get(subcode, f"subcode-{subcode}")


def _parse_code(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"notification code {value!r}: expected a number or a name")
    if isinstance(value, int):
        return value
    if value in CODE_BY_NAME:
        return CODE_BY_NAME[value]
    raise ValueError(f"unknown notification code {value!r} (known: {', '.join(CODES.values())})")


def _parse_subcode(code: int, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"notification subcode {value!r}: expected a number or a name")
    if isinstance(value, int):
        return value
    for k, name in SUBCODES.get(code, {}).items():
        if name == value:
            return k
    raise ValueError(f"unknown subcode {value!r} for {code_name(code)}")


def encode_communication(text: str) -> bytes:
    """The RFC 9003 data: one length byte then the UTF-8 text (at most 255 bytes)."""
    raw = text.encode("utf-8")
    if len(raw) > MAX_COMMUNICATION:
        raise ValueError(f"shutdown communication is {len(raw)} bytes of UTF-8, at most 255 allowed")
    return bytes([len(raw)]) + raw


def decode_communication(data: bytes) -> str | None:
    """The text of an RFC 8203/9003 shutdown communication, or None when the data is not one."""
    if not data or data[0] != len(data) - 1:
        return None
    try:
        return data[1:].decode("utf-8")
    except UnicodeDecodeError:
        return None


class Notification:
    """A NOTIFICATION message. `data` is kept as bytes (these messages are rare and short)."""

    TYPE = MessageType.NOTIFICATION
    __slots__ = ("code", "data", "subcode")

    def __init__(self, code: int, subcode: int, data: bytes | bytearray | memoryview = b"") -> None:
        self.code = code
        self.subcode = subcode
        self.data = bytes(data)

    @classmethod
    def from_wire(cls, view: bytes | bytearray | memoryview, base: int = HEADER_LEN) -> Notification:
        """Decode a body (after the 19-byte header). Only a body under 2 bytes is an error (1/2)."""
        if len(view) < 2:
            raise header_error(
                f"NOTIFICATION body is {len(view)} bytes, needs at least 2",
                BAD_MESSAGE_LENGTH,
                base,
                struct.pack("!H", HEADER_LEN + len(view)),
            )
        return cls(view[0], view[1], view[2:])

    @classmethod
    def from_value(
        cls,
        code: int,
        subcode: int = 0,
        data: bytes = b"",
        *,
        communication: str | None = None,
    ) -> Notification:
        """Build one; `communication` (cease 2 or 4) is encoded per RFC 9003 as the data."""
        if not 0 <= code <= 255 or not 0 <= subcode <= 255:
            raise ValueError(f"notification code/subcode {code}/{subcode} out of range 0-255")
        if communication is not None:
            if data:
                raise ValueError("give either data or communication, not both")
            data = encode_communication(communication)
        return cls(code, subcode, data)

    @classmethod
    def from_error(cls, err: WireError, default_code: int = UPDATE, default_subcode: int = 0) -> Notification:
        """The NOTIFICATION a codec error calls for. A WireError without a code (a bare bounds check
        in a Reader) gets `default_code`/`default_subcode`: the caller knows which message it was."""
        if err.code:
            return cls(err.code, err.subcode, err.data)
        return cls(default_code, default_subcode, err.data)

    # -- views -------------------------------------------------------------------------------------

    @property
    def code_name(self) -> str:
        return code_name(self.code)

    @property
    def subcode_name(self) -> str:
        return subcode_name(self.code, self.subcode)

    @property
    def communication(self) -> str | None:
        """The shutdown communication (cease 2 or 4), or None when there is none or it is malformed."""
        if self.code != CEASE or self.subcode not in COMMUNICATION_SUBCODES:
            return None
        return decode_communication(self.data)

    @property
    def max_prefixes(self) -> tuple[Family, int] | None:
        """(family, upper bound) of a cease 1 whose data is the 7 bytes RFC 4486 describes."""
        if self.code != CEASE or self.subcode != MAX_PREFIXES or len(self.data) != _MAX_PREFIX.size:
            return None
        afi, safi, bound = _MAX_PREFIX.unpack(self.data)
        return Family(afi, safi), bound

    def body(self) -> bytes:
        return bytes((self.code, self.subcode)) + self.data

    def to_bytes(self) -> bytes:
        """The whole message, header included."""
        return frame(MessageType.NOTIFICATION, self.body())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "code-name": self.code_name,
            "subcode": self.subcode,
            "subcode-name": self.subcode_name,
            "data": self.data.hex().upper(),
        }
        text = self.communication
        if text is not None:
            out["communication"] = text
        mp = self.max_prefixes
        if mp is not None:
            out["family"] = mp[0].name
            out["max-prefixes"] = mp[1]
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Notification:
        """Inverse of to_json. "code"/"subcode" may be numbers or names; "data" (hex) wins over
        "communication"; the derived keys (names, family, max-prefixes) are ignored."""
        if not isinstance(obj, dict) or "code" not in obj:
            raise ValueError('notification JSON needs at least a "code"')
        code = _parse_code(obj["code"])
        subcode = _parse_subcode(code, obj.get("subcode", 0))
        if "data" in obj:
            try:
                data = bytes.fromhex(obj["data"])
            except (TypeError, ValueError):
                raise ValueError(f"notification data {obj['data']!r} is not hex") from None
            return cls.from_value(code, subcode, data)
        return cls.from_value(code, subcode, communication=obj.get("communication"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Notification) and (self.code, self.subcode, self.data) == (
            other.code,
            other.subcode,
            other.data,
        )

    def __hash__(self) -> int:
        return hash((self.code, self.subcode, self.data))

    def __repr__(self) -> str:
        return f"Notification({self.code}, {self.subcode}, {self.data!r})"

    def __str__(self) -> str:
        text = f"{self.code_name}/{self.subcode_name}"
        comm = self.communication
        if comm is not None:
            return f"{text} {comm!r}"
        return f"{text} {self.data.hex().upper()}" if self.data else text
