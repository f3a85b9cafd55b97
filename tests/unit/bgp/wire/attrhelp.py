"""Shared helpers for the attribute tests: decode one value, and catch its WireError."""

from __future__ import annotations

import pytest

from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.core.errors import WireError


def decode(cls, value_hex: str, ctx: EncodingContext = DEFAULT, flags: int | None = None, base: int = 0):
    data = bytes.fromhex(value_hex.replace(" ", ""))
    return cls.from_wire(cls.FLAGS if flags is None else flags, memoryview(data), ctx, base)


def error(cls, value_hex: str, ctx: EncodingContext = DEFAULT, base: int = 100) -> WireError:
    with pytest.raises(WireError) as e:
        decode(cls, value_hex, ctx, base=base)
    return e.value


def hexof(attr, ctx: EncodingContext = DEFAULT) -> str:
    return attr.to_bytes(ctx).hex().upper()
