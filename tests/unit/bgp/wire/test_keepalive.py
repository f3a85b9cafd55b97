from __future__ import annotations

import pytest

from ze.bgp.wire.keepalive import KEEPALIVE, Keepalive
from ze.core.errors import WireError


def test_bytes_and_json():
    assert Keepalive.from_value().to_bytes() == bytes.fromhex("FF" * 16 + "001304")
    assert KEEPALIVE.to_json() == {}
    assert Keepalive.from_json({}) == KEEPALIVE
    assert Keepalive.from_wire(memoryview(b"")) is KEEPALIVE
    assert repr(KEEPALIVE) == "Keepalive()"


def test_non_empty_body_is_1_2_with_length():
    with pytest.raises(WireError) as e:
        Keepalive.from_wire(b"\x00\x00", base=19)
    assert (e.value.code, e.value.subcode, e.value.offset, e.value.data) == (1, 2, 16, b"\x00\x15")


def test_from_json_refuses_fields():
    with pytest.raises(ValueError, match="no fields"):
        Keepalive.from_json({"x": 1})
