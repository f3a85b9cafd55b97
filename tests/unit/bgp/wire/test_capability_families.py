"""Per-family capabilities: extended next hop, graceful restart, add-path, long-lived GR."""

from __future__ import annotations

import pytest

from ze.bgp.wire.capability.addpath import BOTH, RECEIVE, SEND, AddPath
from ze.bgp.wire.capability.extended_nexthop import ExtendedNexthop
from ze.bgp.wire.capability.graceful_restart import GracefulRestart
from ze.bgp.wire.capability.llgr import LLGR
from ze.core.errors import WireError
from ze.core.family import IPV4_UNICAST, IPV6_UNICAST, Family

V4, V6 = IPV4_UNICAST, IPV6_UNICAST


def err(cls, hexvalue, base=0):
    with pytest.raises(WireError) as e:
        cls.from_wire(memoryview(bytes.fromhex(hexvalue)), base)
    return e.value.code, e.value.subcode, e.value.offset


def test_extended_nexthop():
    cap = ExtendedNexthop.from_value([(V4, 2), (Family(1, 128), 2)])
    assert cap.to_bytes() == bytes.fromhex("050C000100010002000100800002")
    assert list(cap.entries()) == [(V4, 2), (Family(1, 128), 2)]
    assert cap.to_json() == [
        {"family": "ipv4/unicast", "nexthop-afi": "ipv6"},
        {"family": "ipv4/mpls-vpn", "nexthop-afi": "ipv6"},
    ]
    assert ExtendedNexthop.from_json(cap.to_json()) == cap
    # The SAFI is two octets here: one above 255 still round-trips.
    wide = ExtendedNexthop.from_value([(Family(1, 300), 2)])
    assert wide.to_bytes() == bytes.fromhex("05060001012C0002")
    assert ExtendedNexthop.from_json(wide.to_json()) == wide
    assert err(ExtendedNexthop, "00010001000200", 7) == (2, 0, 7)


def test_graceful_restart_fields():
    cap = GracefulRestart.from_value(120, [(V4, True), (V6, False)], restart=True, notification=True)
    assert cap.to_bytes() == bytes.fromhex("400AC0780001018000020100")
    assert (cap.restart, cap.notification, cap.restart_time, cap.flags) == (True, True, 120, 0xC)
    assert list(cap.families()) == [(V4, True), (V6, False)]
    assert cap.to_json() == {
        "restart": True,
        "notification": True,
        "restart-time": 120,
        "families": [
            {"family": "ipv4/unicast", "forwarding": True},
            {"family": "ipv6/unicast", "forwarding": False},
        ],
    }
    assert GracefulRestart.from_json(cap.to_json()) == cap


def test_graceful_restart_reserved_bits_round_trip():
    cap = GracefulRestart.from_wire(memoryview(bytes.fromhex("1FFF00010143")))
    assert (cap.restart, cap.notification, cap.restart_time) == (False, False, 4095)
    assert list(cap.family_flags()) == [(V4, 0x43)]
    assert cap.to_json()["reserved-flags"] == 1
    assert cap.to_json()["families"] == [
        {"family": "ipv4/unicast", "forwarding": False, "reserved-flags": 0x43}
    ]
    assert GracefulRestart.from_json(cap.to_json()) == cap


@pytest.mark.parametrize("value", ["", "00", "000000", "0078000101"])
def test_graceful_restart_bad_length(value):
    assert err(GracefulRestart, value, 30) == (2, 0, 30)


def test_graceful_restart_rejects_bad_values():
    with pytest.raises(ValueError):
        GracefulRestart.from_value(4096)
    with pytest.raises(ValueError):
        GracefulRestart.from_value(10, [(Family(1, 300), True)])


def test_addpath():
    cap = AddPath.from_value([(V4, "both"), (V6, RECEIVE), (Family(1, 2), SEND)])
    assert cap.to_bytes() == bytes.fromhex("450C" + "00010103" + "00020101" + "00010202")
    assert list(cap.families()) == [(V4, BOTH), (V6, RECEIVE), (Family(1, 2), SEND)]
    assert cap.receive() == frozenset({V4, V6})
    assert cap.send() == frozenset({V4, Family(1, 2)})
    assert cap.to_json() == [
        {"family": "ipv4/unicast", "mode": "both"},
        {"family": "ipv6/unicast", "mode": "receive"},
        {"family": "ipv4/multicast", "mode": "send"},
    ]
    assert AddPath.from_json(cap.to_json()) == cap
    assert err(AddPath, "000101", 9) == (2, 0, 9)
    with pytest.raises(ValueError):
        AddPath.from_value([(V4, "all")])


def test_addpath_unassigned_mode_is_ignored_not_an_error():
    cap = AddPath.from_wire(memoryview(bytes.fromhex("00010100")))
    assert cap.to_json() == [{"family": "ipv4/unicast", "mode": 0}]
    assert cap.receive() == cap.send() == frozenset()


def test_llgr():
    cap = LLGR.from_value([(V4, True, 86400), (V6, False, 0xFFFFFF)])
    assert cap.to_bytes() == bytes.fromhex("470E" + "00010180015180" + "00020100FFFFFF")
    assert list(cap.families()) == [(V4, True, 86400), (V6, False, 0xFFFFFF)]
    assert cap.to_json() == [
        {"family": "ipv4/unicast", "forwarding": True, "stale-time": 86400},
        {"family": "ipv6/unicast", "forwarding": False, "stale-time": 16777215},
    ]
    assert LLGR.from_json(cap.to_json()) == cap
    assert LLGR.from_value([]).to_bytes() == bytes.fromhex("4700")
    assert err(LLGR, "000101800151", 11) == (2, 0, 11)
    with pytest.raises(ValueError):
        LLGR.from_value([(V4, True, 1 << 24)])
