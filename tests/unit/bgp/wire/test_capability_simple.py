"""Fixed-size capabilities: multiprotocol, the empty ones, asn4, role."""

from __future__ import annotations

import pytest

from ze.bgp.wire.capability.asn4 import ASN4
from ze.bgp.wire.capability.enhanced_route_refresh import EnhancedRouteRefresh
from ze.bgp.wire.capability.extended_message import ExtendedMessage
from ze.bgp.wire.capability.link_local_nexthop import LinkLocalNexthop
from ze.bgp.wire.capability.multiprotocol import Multiprotocol
from ze.bgp.wire.capability.role import CUSTOMER, PAIRS, PROVIDER, Role
from ze.bgp.wire.capability.route_refresh import RouteRefresh
from ze.core.errors import WireError
from ze.core.family import IPV6_UNICAST, Family


def err(cls, hexvalue, base=0):
    with pytest.raises(WireError) as e:
        cls.from_wire(memoryview(bytes.fromhex(hexvalue)), base)
    return e.value.code, e.value.subcode, e.value.offset


def test_multiprotocol_bytes_and_accessors():
    cap = Multiprotocol.from_value(IPV6_UNICAST)
    assert cap.to_bytes() == bytes.fromhex("010400020001")
    assert (cap.afi, cap.safi, cap.reserved, cap.family) == (2, 1, 0, Family(2, 1))
    assert cap.to_json() == "ipv6/unicast"
    assert Multiprotocol.from_value("l2vpn/evpn").to_bytes() == bytes.fromhex("010400190046")
    assert Multiprotocol.from_json("ipv4/flowspec").to_bytes() == bytes.fromhex("010400010085")


def test_multiprotocol_reserved_octet_survives_json():
    cap = Multiprotocol.from_wire(memoryview(bytes.fromhex("00010501")))
    assert cap.to_json() == {"family": "ipv4/unicast", "reserved": 5}
    assert Multiprotocol.from_json(cap.to_json()) == cap


@pytest.mark.parametrize("value", ["", "000100", "0001000100"])
def test_multiprotocol_bad_length_is_2_0_at_value(value):
    assert err(Multiprotocol, value, 21) == (2, 0, 21)


def test_multiprotocol_from_json_rejects_garbage():
    with pytest.raises(ValueError):
        Multiprotocol.from_json(7)
    with pytest.raises(ValueError):
        Multiprotocol.from_json("ipv4/nonsense")


@pytest.mark.parametrize(
    ("cls", "tlv", "name"),
    [
        (RouteRefresh, "0200", "route-refresh"),
        (ExtendedMessage, "0600", "extended-message"),
        (EnhancedRouteRefresh, "4600", "enhanced-route-refresh"),
        (LinkLocalNexthop, "4D00", "link-local-nexthop"),
    ],
)
def test_empty_capabilities(cls, tlv, name):
    cap = cls.from_value()
    assert cap.to_bytes() == bytes.fromhex(tlv)
    assert (cap.NAME, cap.to_json()) == (name, {})
    assert cls.from_json({}) == cap
    assert cls.from_wire(memoryview(b"")) == cap
    assert err(cls, "00", 40) == (2, 0, 40)
    with pytest.raises(ValueError):
        cls.from_json({"x": 1})


def test_asn4():
    cap = ASN4.from_value(4200000001)
    assert cap.to_bytes() == bytes.fromhex("4104FA56EA01")
    assert (cap.asn, cap.to_json()) == (4200000001, 4200000001)
    assert ASN4.from_json(65001).to_bytes() == bytes.fromhex("41040000FDE9")
    assert err(ASN4, "FDE9", 3) == (2, 0, 3)
    assert err(ASN4, "0000FDE900", 3) == (2, 0, 3)
    with pytest.raises(ValueError):
        ASN4.from_value(1 << 32)
    with pytest.raises(ValueError):
        ASN4.from_json("65001")


@pytest.mark.parametrize(
    ("name", "value"), [("provider", 0), ("rs", 1), ("rs-client", 2), ("customer", 3), ("peer", 4)]
)
def test_role_names(name, value):
    cap = Role.from_value(name)
    assert cap.to_bytes() == bytes([9, 1, value])
    assert (cap.role, cap.role_name, cap.to_json()) == (value, name, name)
    assert Role.from_json(name) == cap == Role.from_value(value)


def test_role_unassigned_value_kept_and_pairs():
    cap = Role.from_wire(memoryview(b"\x07"))
    assert (cap.role, cap.role_name, cap.to_json()) == (7, None, 7)
    assert Role.from_json(7) == cap
    assert PAIRS[PROVIDER] == CUSTOMER and PAIRS[CUSTOMER] == PROVIDER
    assert err(Role, "", 5) == (2, 0, 5)
    assert err(Role, "0303", 5) == (2, 0, 5)
    with pytest.raises(ValueError):
        Role.from_value("boss")
