"""OPEN (RFC 4271 section 4.2 and 6.2), its capabilities parameter (RFC 5492) and the
extended optional parameters length (RFC 9072).

`Open` wraps the body (the bytes after the 19-byte header). `from_wire` checks the fixed
fields, walks the optional parameters and checks every capability it has a codec for, so a
bad OPEN fails at once with the NOTIFICATION it calls for:

    version not 4                    2/1, data: 0x0004 (the version we speak)
    AS 0                             2/2 (any other AS is the session's call)
    router id 0.0.0.0                2/3
    optional parameter not type 2    2/4
    hold time 1 or 2                 2/6
    malformed parameters/capability  2/0 (RFC 4271 6.2: recognized but malformed)
    body shorter than 10 bytes       1/2

Capabilities are decoded when asked (`capabilities()`), through `codecs.core()` or the
Codecs given; codes without a codec come back as `Unknown` (raw bytes).

The layout of the optional parameters is kept: several capabilities may share one
parameter and several parameters may be present (some speakers send one per capability).
`from_value` writes all capabilities into one parameter, switching to the RFC 9072 encoding
only when the parameters would not fit in 255 bytes; `groups`/`extended` select another layout.

JSON shape (`to_json`/`from_json` are exact inverses, and give back the exact bytes):

    {"version": 4, "asn": 65001, "hold-time": 90, "router-id": "192.0.2.1",
     "capabilities": [{"code": 1, "name": "multiprotocol", "value": "ipv4/unicast"},
                      {"code": 200, "name": "unknown", "value": "0102"}, ...]}

"asn" is the 2-octet field as sent (23456, AS_TRANS, for a 4-octet ASN, which is in the
asn4 capability). Two keys appear only for a layout `from_value` would not pick by itself:
"parameters": [n1, n2, ...] (how many capabilities each optional parameter carries, in
order) and "extended-parameters": true (RFC 9072 encoding used although not needed).
Not kept in JSON: a Non-Ext OP Len other than 255 in the RFC 9072 encoding (RFC 9072 says it
is ignored on receipt; from_value always writes 255).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ze.bgp.wire.capability.base import Capability, Unknown
from ze.bgp.wire.codecs import Codecs, core
from ze.bgp.wire.errors import header_error, open_error
from ze.bgp.wire.header import HEADER_LEN, MAX_LEN, MessageType, frame

VERSION = 4
AS_TRANS = 23456
PARAM_CAPABILITIES = 2
EXTENDED_MARKER = 255  # RFC 9072 Non-Ext OP Type
ASN4_CODE = 65

# OPEN error subcodes (RFC 4271 6.2, RFC 5492).
UNSPECIFIC = 0
UNSUPPORTED_VERSION = 1
BAD_PEER_AS = 2
BAD_BGP_IDENTIFIER = 3
UNSUPPORTED_OPTIONAL_PARAMETER = 4
UNACCEPTABLE_HOLD_TIME = 6
BAD_MESSAGE_LENGTH = 2  # header error subcode (RFC 4271 6.1)

_FIXED = struct.Struct("!BHHIB")  # version, my AS, hold time, BGP identifier, opt parm len
_U16 = struct.Struct("!H")


def _walk(view: memoryview, base: int) -> tuple[bool, tuple[int, ...], tuple[tuple[int, int, int], ...]]:
    """Walk the optional parameters of an OPEN body: (extended, capabilities per parameter,
    (code, value offset in body, value length) per capability). Raises WireError."""
    n = len(view)
    optlen = view[9]
    pos = 10
    extended = optlen > 0 and n > 10 and view[10] == EXTENDED_MARKER
    if extended:
        if n < 13:
            raise open_error("extended optional parameters length cut short", UNSPECIFIC, base + 10)
        extlen = _U16.unpack_from(view, 11)[0]
        if 13 + extlen != n:
            raise open_error(
                f"extended optional parameters length {extlen}, but {n - 13} bytes follow",
                UNSPECIFIC,
                base + 11,
            )
        pos, hdr = 13, 3
    else:
        if 10 + optlen != n:
            raise open_error(
                f"optional parameters length {optlen}, but {n - 10} bytes follow", UNSPECIFIC, base + 9
            )
        hdr = 2
    groups: list[int] = []
    caps: list[tuple[int, int, int]] = []
    while pos < n:
        if pos + hdr > n:
            raise open_error("optional parameter header cut short", UNSPECIFIC, base + pos)
        ptype = view[pos]
        plen = _U16.unpack_from(view, pos + 1)[0] if extended else view[pos + 1]
        start, end = pos + hdr, pos + hdr + plen
        if end > n:
            raise open_error(
                f"optional parameter length {plen} overruns the message ({n - start} bytes left)",
                UNSPECIFIC,
                base + pos + 1,
            )
        if ptype != PARAM_CAPABILITIES:
            raise open_error(
                f"unsupported optional parameter type {ptype}", UNSUPPORTED_OPTIONAL_PARAMETER, base + pos
            )
        count = 0
        cpos = start
        while cpos < end:
            if cpos + 2 > end:
                raise open_error("capability header cut short", UNSPECIFIC, base + cpos)
            clen = view[cpos + 1]
            if cpos + 2 + clen > end:
                raise open_error(
                    f"capability {view[cpos]} length {clen} overruns its parameter ({end - cpos - 2} bytes left)",
                    UNSPECIFIC,
                    base + cpos + 1,
                )
            caps.append((view[cpos], cpos + 2, clen))
            count += 1
            cpos += 2 + clen
        groups.append(count)
        pos = end
    return extended, tuple(groups), tuple(caps)


def _router_id(value: int | str) -> int:
    if isinstance(value, str):
        try:
            return int(ipaddress.IPv4Address(value))
        except ValueError:
            raise ValueError(f"router id {value!r} is not a dotted IPv4 address") from None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"router id {value!r} does not fit in 32 bits")
    return value


def _needs_extended(sizes: Sequence[int]) -> bool:
    """Whether parameters holding `sizes` bytes of capabilities overflow the RFC 4271 encoding."""
    return any(s > 255 for s in sizes) or sum(2 + s for s in sizes) > 255


class Open:
    __slots__ = ("_base", "_caps", "_codecs", "_extended", "_groups", "raw")

    def __init__(
        self,
        raw: bytes,
        extended: bool,
        groups: tuple[int, ...],
        caps: tuple[tuple[int, int, int], ...],
        codecs: Codecs | None = None,
        base: int = HEADER_LEN,
    ) -> None:
        """Trusts its input: use from_wire or from_value."""
        self.raw = raw
        self._extended = extended
        self._groups = groups
        self._caps = caps
        self._codecs = codecs
        self._base = base

    # -- decoding ---------------------------------------------------------------------------

    @classmethod
    def from_wire(
        cls, view: memoryview | bytes, base: int = HEADER_LEN, codecs: Codecs | None = None
    ) -> Open:
        """Check an OPEN body (offsets in errors are `base` + the offset in the body)."""
        view = memoryview(view) if not isinstance(view, memoryview) else view
        n = len(view)
        if n < 10:
            raise header_error(
                f"OPEN body of {n} bytes, shorter than 10",
                BAD_MESSAGE_LENGTH,
                base - 3 if base >= 3 else None,
                _U16.pack(min(HEADER_LEN + n, 0xFFFF)),
            )
        version, asn, hold, rid, _ = _FIXED.unpack_from(view, 0)
        if version != VERSION:
            raise open_error(f"unsupported BGP version {version}", UNSUPPORTED_VERSION, base, b"\x00\x04")
        if asn == 0:
            raise open_error("peer AS 0", BAD_PEER_AS, base + 1)
        if hold in (1, 2):
            raise open_error(f"hold time {hold} (must be 0 or at least 3)", UNACCEPTABLE_HOLD_TIME, base + 3)
        if rid == 0:
            raise open_error("BGP identifier 0.0.0.0", BAD_BGP_IDENTIFIER, base + 5)
        extended, groups, caps = _walk(view, base)
        table = (codecs or core()).capabilities
        for code, start, length in caps:
            spec = table.get(code)
            if spec is not None:
                spec.cls.from_wire(view[start : start + length], base + start)
        return cls(bytes(view), extended, groups, caps, codecs, base)

    @property
    def version(self) -> int:
        return self.raw[0]

    @property
    def asn(self) -> int:
        """The 2-octet My Autonomous System field (AS_TRANS when the speaker's ASN needs 4)."""
        return _U16.unpack_from(self.raw, 1)[0]

    @property
    def hold_time(self) -> int:
        return _U16.unpack_from(self.raw, 3)[0]

    @property
    def router_id_int(self) -> int:
        return int.from_bytes(self.raw[5:9], "big")

    @property
    def router_id(self) -> str:
        return str(ipaddress.IPv4Address(self.raw[5:9]))

    @property
    def extended(self) -> bool:
        """Whether the optional parameters use the RFC 9072 encoding."""
        return self._extended

    @property
    def groups(self) -> tuple[int, ...]:
        """How many capabilities each optional parameter carries, in order."""
        return self._groups

    def capabilities(self, codecs: Codecs | None = None) -> Iterator[Capability]:
        """The capabilities in wire order, decoded now (Unknown for codes without a codec)."""
        table = (codecs or self._codecs or core()).capabilities
        view = memoryview(self.raw)
        for code, start, length in self._caps:
            spec = table.get(code)
            value = view[start : start + length]
            if spec is None:
                yield Unknown(value, code)
            else:
                yield spec.cls.from_wire(value, self._base + start)

    def capability_codes(self) -> tuple[int, ...]:
        return tuple(code for code, _, _ in self._caps)

    def capability(self, code: int, codecs: Codecs | None = None) -> Capability | None:
        """The first capability with this code, or None."""
        for cap in self.capabilities(codecs):
            if (cap.code if isinstance(cap, Unknown) else cap.CODE) == code:
                return cap
        return None

    def asn4(self) -> int:
        """The speaker's ASN: from the asn4 capability (RFC 6793) if present, else the 2-octet field."""
        for code, start, length in self._caps:
            if code == ASN4_CODE and length == 4:
                return int.from_bytes(self.raw[start : start + 4], "big")
        return self.asn

    # -- encoding ---------------------------------------------------------------------------

    @classmethod
    def from_value(
        cls,
        asn: int,
        hold_time: int,
        router_id: int | str,
        capabilities: Iterable[Capability] = (),
        *,
        version: int = VERSION,
        groups: Sequence[int] | str | None = None,
        extended: bool | None = None,
    ) -> Open:
        """Build an OPEN. An `asn` above 65535 puts AS_TRANS in the 2-octet field (the caller
        includes the asn4 capability). groups: None (one parameter with every capability),
        "each" (one parameter per capability) or counts per parameter. extended: None (RFC 9072
        only when needed), True (always), False (never; ValueError when it does not fit)."""
        if not isinstance(asn, int) or not 0 < asn <= 0xFFFFFFFF:
            raise ValueError(f"asn {asn!r} must be 1..4294967295")
        if not isinstance(hold_time, int) or hold_time in (1, 2) or not 0 <= hold_time <= 0xFFFF:
            raise ValueError(f"hold time {hold_time!r} must be 0 or 3..65535")
        rid = _router_id(router_id)
        if rid == 0:
            raise ValueError("router id must not be 0.0.0.0")
        if version != VERSION:
            raise ValueError(f"version {version!r}: only 4 is supported")
        caps = [c.to_bytes() for c in capabilities]
        if groups is None:
            counts: list[int] = [len(caps)] if caps else []
        elif groups == "each":
            counts = [1] * len(caps)
        elif isinstance(groups, str):
            raise ValueError(f"groups {groups!r}: expected None, 'each' or a list of counts")
        else:
            counts = list(groups)
            if any(not isinstance(c, int) or c < 0 for c in counts) or sum(counts) != len(caps):
                raise ValueError(f"groups {counts}: counts must add up to {len(caps)} capabilities")
        params: list[bytes] = []
        i = 0
        for c in counts:
            params.append(b"".join(caps[i : i + c]))
            i += c
        sizes = [len(p) for p in params]
        need = _needs_extended(sizes)
        if extended is None:
            extended = need
        elif not extended and need:
            raise ValueError("optional parameters exceed 255 bytes: RFC 9072 encoding needed")
        body = bytearray(_FIXED.pack(version, asn if asn <= 0xFFFF else AS_TRANS, hold_time, rid, 0))
        if extended:
            body[9] = EXTENDED_MARKER
            body.append(EXTENDED_MARKER)
            body += _U16.pack(sum(3 + s for s in sizes))
            for p in params:
                body.append(PARAM_CAPABILITIES)
                body += _U16.pack(len(p))
                body += p
        else:
            body[9] = sum(2 + s for s in sizes)
            for p in params:
                body.append(PARAM_CAPABILITIES)
                body.append(len(p))
                body += p
        if HEADER_LEN + len(body) > MAX_LEN:
            raise ValueError(f"OPEN of {HEADER_LEN + len(body)} bytes exceeds {MAX_LEN}")
        raw = bytes(body)
        ext, grp, spans = _walk(memoryview(raw), HEADER_LEN)
        return cls(raw, ext, grp, spans)

    def encode_into(self, buf: bytearray) -> None:
        """Append the whole message (header and body) to `buf`."""
        buf += frame(MessageType.OPEN, self.raw)

    def to_bytes(self) -> bytes:
        """The whole message, header included."""
        return frame(MessageType.OPEN, self.raw)

    # -- JSON -------------------------------------------------------------------------------

    def to_json(self, codecs: Codecs | None = None) -> dict[str, Any]:
        caps = []
        for cap in self.capabilities(codecs):
            if isinstance(cap, Unknown):
                caps.append({"code": cap.code, "name": "unknown", "value": cap.raw.hex().upper()})
            else:
                caps.append({"code": cap.CODE, "name": cap.NAME, "value": cap.to_json()})
        out: dict[str, Any] = {
            "version": self.version,
            "asn": self.asn,
            "hold-time": self.hold_time,
            "router-id": self.router_id,
            "capabilities": caps,
        }
        n = len(self._caps)
        if self._groups != ((n,) if n else ()):
            out["parameters"] = list(self._groups)
        if self._extended:
            sizes = []
            i = 0
            for c in self._groups:
                sizes.append(sum(2 + length for _, _, length in self._caps[i : i + c]))
                i += c
            if not _needs_extended(sizes):
                out["extended-parameters"] = True
        return out

    @classmethod
    def from_json(cls, value: Any, codecs: Codecs | None = None) -> Open:
        """The inverse of to_json; raises ValueError (or KeyError) on a malformed document."""
        if not isinstance(value, dict):
            raise ValueError(f"OPEN: expected an object, got {value!r}")
        table = (codecs or core()).capabilities
        caps: list[Capability] = []
        for item in value.get("capabilities", []):
            code, name, val = item["code"], item["name"], item["value"]
            if name == "unknown":
                if not isinstance(code, int) or not 0 <= code <= 255:
                    raise ValueError(f"capability code {code!r} must be 0..255")
                caps.append(Unknown(bytes.fromhex(val), code))
                continue
            spec = table.get(code)
            if spec is None or spec.name != name:
                raise ValueError(f"capability {code} {name!r}: no such codec")
            from_json = getattr(spec.cls, "from_json", None)
            # A feature codec without from_json keeps the base JSON: the value as hex.
            caps.append(from_json(val) if from_json is not None else spec.cls(bytes.fromhex(val)))
        groups = value.get("parameters")
        return cls.from_value(
            value["asn"],
            value["hold-time"],
            value["router-id"],
            caps,
            version=value.get("version", VERSION),
            groups=groups,
            extended=True if value.get("extended-parameters") else None,
        )

    # -- identity ---------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Open) and self.raw == other.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"Open({self.raw.hex().upper()})"
