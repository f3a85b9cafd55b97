from __future__ import annotations

import pytest

from ze.bgp.wire.attr.walk import walk
from ze.core.errors import WireError


def test_walk_normal_and_extended():
    data = bytes.fromhex("40010100" + "5011000401020304")
    assert list(walk(data, 0, len(data))) == [(0x40, 1, 3, 4), (0x50, 17, 8, 12)]


def test_walk_overrun_names_offset():
    data = bytes.fromhex("40010100" + "400305C0000201")
    with pytest.raises(WireError) as e:
        list(walk(data, 0, len(data), base=23))
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 1, 27)
