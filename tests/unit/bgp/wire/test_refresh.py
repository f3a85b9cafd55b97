from __future__ import annotations

import pytest

from ze.bgp.wire.refresh import BORR, EORR, NORMAL, RouteRefresh
from ze.core.errors import WireError
from ze.core.family import IPV4_UNICAST, Family

HDR = "FF" * 16


@pytest.mark.parametrize(
    ("family", "subtype", "hexbody", "json"),
    [
        ("ipv4/unicast", NORMAL, "00010001", {"family": "ipv4/unicast", "subtype": "normal"}),
        ("ipv6/unicast", BORR, "00020101", {"family": "ipv6/unicast", "subtype": "borr"}),
        ("l2vpn/evpn", EORR, "00190246", {"family": "l2vpn/evpn", "subtype": "eorr"}),
    ],
)
def test_bytes_json_both_ways(family, subtype, hexbody, json):
    rr = RouteRefresh.from_value(family, subtype)
    assert rr.to_bytes() == bytes.fromhex(HDR + "0017" + "05" + hexbody)
    assert rr.to_json() == json
    assert RouteRefresh.from_json(json) == rr
    assert RouteRefresh.from_wire(memoryview(bytes.fromhex(hexbody))) == rr


def test_unknown_subtype_is_kept_and_marked_ignorable():
    rr = RouteRefresh.from_wire(bytes.fromhex("00010701"))
    assert (rr.family, rr.subtype, rr.known) == (IPV4_UNICAST, 7, False)
    assert rr.to_json() == {"family": "ipv4/unicast", "subtype": "subtype-7"}
    assert RouteRefresh.from_json(rr.to_json()) == rr
    assert RouteRefresh.from_value("ipv4/unicast", "eorr").known


def test_unknown_family_names():
    rr = RouteRefresh.from_wire(bytes.fromhex("00630063"))
    assert rr.family == Family(99, 99)
    assert rr.to_json() == {"family": "afi-99/safi-99", "subtype": "normal"}
    assert RouteRefresh.from_json(rr.to_json()) == rr


@pytest.mark.parametrize("body", ["", "000100", "0001000100"])
def test_bad_length_is_7_1_with_whole_message(body):
    raw = bytes.fromhex(body)
    with pytest.raises(WireError) as e:
        RouteRefresh.from_wire(raw, base=19)
    whole = bytes.fromhex(HDR) + (19 + len(raw)).to_bytes(2, "big") + b"\x05" + raw
    assert (e.value.code, e.value.subcode, e.value.offset, e.value.data) == (7, 1, 19, whole)


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ({}, "needs a"),
        ({"family": "ipv4/unicast", "subtype": "later"}, "expected normal"),
        ({"family": "ipv4"}, "afi/safi"),
        ({"family": "ipv4/unicast", "subtype": 256}, "out of range"),
    ],
)
def test_from_json_errors(obj, match):
    with pytest.raises(ValueError, match=match):
        RouteRefresh.from_json(obj)


def test_repr():
    assert repr(RouteRefresh(1, 1, 2)) == "RouteRefresh(ipv4/unicast, eorr)"


def test_short_route_refresh_passes_framing_and_is_7_1():
    from ze.bgp.wire import header
    from ze.core.errors import WireError

    msg = bytes.fromhex("FF" * 16 + "001605" + "000101")
    assert header.parse_header(msg) == (5, 22)
    try:
        RouteRefresh.from_wire(memoryview(msg)[19:])
    except WireError as e:
        assert (e.code, e.subcode) == (7, 1)
    else:
        raise AssertionError("a 3-byte ROUTE-REFRESH body must be refused")
