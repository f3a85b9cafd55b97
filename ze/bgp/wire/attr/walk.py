"""The raw walk over a path-attributes region (RFC 4271 4.3): headers only, nothing decoded.

Yields (flags, code, value_start, value_end) with offsets into `data`. Both WireUpdate and the
RFC 7606 checks build on it. A header or length that runs past the region raises WireError
3/1 (malformed attribute list) at the attribute's offset (plus `base`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from ze.bgp.wire.attr.base import EXTENDED_LENGTH
from ze.bgp.wire.errors import update_error

MALFORMED_ATTRIBUTE_LIST = 1
_U16 = struct.Struct("!H")


def walk(
    data: bytes | bytearray | memoryview, start: int, end: int, base: int = 0
) -> Iterator[tuple[int, int, int, int]]:
    pos = start
    while pos < end:
        if pos + 3 > end:
            raise update_error(
                "attribute header runs past the attributes", MALFORMED_ATTRIBUTE_LIST, base + pos
            )
        flags = data[pos]
        code = data[pos + 1]
        if flags & EXTENDED_LENGTH:
            if pos + 4 > end:
                raise update_error(
                    "extended attribute header runs past the attributes", MALFORMED_ATTRIBUTE_LIST, base + pos
                )
            length = _U16.unpack_from(data, pos + 2)[0]
            vstart = pos + 4
        else:
            length = data[pos + 2]
            vstart = pos + 3
        vend = vstart + length
        if vend > end:
            raise update_error(
                f"attribute {code} length {length} runs {vend - end} bytes past the attributes",
                MALFORMED_ATTRIBUTE_LIST,
                base + pos,
            )
        yield flags, code, vstart, vend
        pos = vend
