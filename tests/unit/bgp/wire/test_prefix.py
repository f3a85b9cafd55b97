from __future__ import annotations

import pytest

from ze.bgp.wire.nlri import prefix
from ze.bgp.wire.nlri.prefix import Prefix
from ze.core.errors import WireError
from ze.core.family import AFI


def test_walk_ipv4_and_masks_host_bits():
    data = bytes([24, 10, 0, 1, 0, 25, 192, 168, 1, 0xFF])
    got = [p.text() for p in prefix.walk(data, 0, len(data), AFI.IPV4, False)]
    assert got == ["10.0.1.0/24", "0.0.0.0/0", "192.168.1.128/25"]


def test_walk_addpath_ipv6():
    data = bytes([0, 0, 0, 7, 32, 0x20, 0x01, 0x0D, 0xB8])
    (p,) = prefix.walk(data, 0, len(data), AFI.IPV6, True)
    assert (p.text(), p.path_id) == ("2001:db8::/32 path-id 7", 7)
    assert prefix.encode([p], True) == data


def test_overrun_is_update_3_10_with_offset():
    data = bytes([24, 10, 0, 1, 24, 10])
    with pytest.raises(WireError) as e:
        list(prefix.walk(data, 0, len(data), AFI.IPV4, False, base=100))
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 10, 104)


def test_parse_rejects_host_bits():
    with pytest.raises(ValueError):
        Prefix.parse("10.0.0.1/24")
    assert Prefix.parse("10.0.0.0/24") == Prefix(AFI.IPV4, 24, 0x0A000000)
