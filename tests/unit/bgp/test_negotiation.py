"""Negotiation: our OPEN (golden bytes both ways) and the terms computed from the peer's OPEN."""

from __future__ import annotations

import pytest

from ze.bgp.negotiation import LocalConfig, build_open, negotiate
from ze.bgp.wire.capability.addpath import AddPath
from ze.bgp.wire.capability.asn4 import ASN4
from ze.bgp.wire.capability.base import Unknown
from ze.bgp.wire.capability.enhanced_route_refresh import EnhancedRouteRefresh
from ze.bgp.wire.capability.extended_message import ExtendedMessage
from ze.bgp.wire.capability.extended_nexthop import ExtendedNexthop
from ze.bgp.wire.capability.graceful_restart import GracefulRestart
from ze.bgp.wire.capability.hostname import Hostname
from ze.bgp.wire.capability.link_local_nexthop import LinkLocalNexthop
from ze.bgp.wire.capability.llgr import LLGR
from ze.bgp.wire.capability.multiprotocol import Multiprotocol
from ze.bgp.wire.capability.role import CUSTOMER, PEER, PROVIDER, RS, RS_CLIENT, Role
from ze.bgp.wire.capability.route_refresh import RouteRefresh
from ze.bgp.wire.capability.software_version import SoftwareVersion
from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.header import parse_header
from ze.bgp.wire.open import Open
from ze.core.errors import WireError
from ze.core.family import IPV4_UNICAST, IPV6_UNICAST, Family

M = "FF" * 16
EVPN = Family(25, 70)
MP4 = Multiprotocol.from_value(IPV4_UNICAST)
MP6 = Multiprotocol.from_value(IPV6_UNICAST)
RR = RouteRefresh.from_value()

LOCAL = LocalConfig(asn=65001, router_id="192.0.2.1", peer_as=65002)


def wire(o: Open) -> Open:
    """Through the wire and back, as the fsm sees it."""
    data = o.to_bytes()
    _, length = parse_header(data)
    return Open.from_wire(memoryview(data)[19:length])


ASN4_PEER = ASN4.from_value(65002)


def peer(caps=(MP4, RR, ASN4_PEER), asn=65002, hold=90, rid="192.0.2.2") -> Open:
    return wire(Open.from_value(asn, hold, rid, list(caps)))


def refused(local: LocalConfig, peer_open: Open) -> tuple[int, int, bytes]:
    with pytest.raises(WireError) as e:
        negotiate(local, peer_open)
    return e.value.code, e.value.subcode, e.value.data


# -- our OPEN -----------------------------------------------------------------------------------


def test_build_open_minimal_golden_bytes_both_ways():
    local = LocalConfig(asn=65001, router_id="192.0.2.1", families=(IPV4_UNICAST, IPV6_UNICAST))
    golden = bytes.fromhex(
        M + "0033" + "01" + "04FDE9005AC0000201" + "16" + "0214"
        "010400010001" + "010400020001" + "0200" + "41040000FDE9"
    )
    assert build_open(local).to_bytes() == golden
    back = wire(build_open(local))
    assert list(back.capabilities()) == [MP4, MP6, RR, ASN4.from_value(65001)]
    assert (back.asn, back.hold_time, back.router_id) == (65001, 90, "192.0.2.1")


FULL = LocalConfig(
    asn=4200000001,
    router_id="10.0.0.1",
    peer_as=65002,
    hold_time=180,
    families=(IPV4_UNICAST, IPV6_UNICAST),
    addpath={IPV4_UNICAST: "both", IPV6_UNICAST: "receive"},
    extended_message=True,
    extended_nexthop=((IPV4_UNICAST, 2),),
    enhanced_route_refresh=True,
    graceful_restart=GracefulRestart.from_value(120, [(IPV4_UNICAST, True)]),
    llgr=LLGR.from_value([(IPV4_UNICAST, False, 3600)]),
    role=CUSTOMER,
    hostname="r1",
    domain="example.net",
    software_version="ze/0.1",
    link_local_nexthop=True,
)
FULL_HEX = (
    M + "0079" + "01" + "045BA000B40A000001" + "5C" + "025A"
    "010400010001"  # multiprotocol ipv4/unicast
    "010400020001"  # multiprotocol ipv6/unicast
    "0200"  # route refresh
    "4600"  # enhanced route refresh
    "0600"  # extended message
    "0506000100010002"  # extended next hop ipv4/unicast over ipv6
    "4104FA56EA01"  # asn4 4200000001
    "45080001010300020101"  # add-path ipv4 both, ipv6 receive
    "4006007800010180"  # graceful restart 120 s, ipv4 forwarding
    "470700010100000E10"  # llgr ipv4, stale 3600
    "090103"  # role customer
    "490F0272310B6578616D706C652E6E6574"  # hostname r1 / example.net
    "4B07067A652F302E31"  # software version ze/0.1
    "4D00"  # link-local next hop
)


def test_build_open_every_capability_golden_bytes_both_ways():
    assert build_open(FULL).to_bytes() == bytes.fromhex(FULL_HEX)
    back = wire(build_open(FULL))
    assert back.asn == 23456 and back.asn4() == 4200000001
    assert [c.NAME for c in back.capabilities()] == [
        "multiprotocol",
        "multiprotocol",
        "route-refresh",
        "enhanced-route-refresh",
        "extended-message",
        "extended-nexthop",
        "asn4",
        "addpath",
        "graceful-restart",
        "llgr",
        "role",
        "hostname",
        "software-version",
        "link-local-nexthop",
    ]


def test_build_open_no_role_on_ibgp_and_extras_last():
    local = LocalConfig(
        asn=65001,
        router_id="192.0.2.1",
        peer_as=65001,
        role=PEER,
        route_refresh=False,
        extra_capabilities=(Unknown(b"\x01", 200),),
    )
    assert build_open(local).to_bytes() == bytes.fromhex(
        M + "002E" + "01" + "04FDE9005AC0000201" + "11" + "020F" + "010400010001" + "41040000FDE9" + "C80101"
    )


def test_build_open_asn_above_65535_needs_asn4():
    with pytest.raises(ValueError, match="4-octet"):
        build_open(LocalConfig(asn=4200000001, router_id="10.0.0.1", asn4=False))


# -- terms -------------------------------------------------------------------------------------


def test_defaults_agree_on_default_context():
    n = negotiate(LOCAL, peer())
    assert (n.local_asn, n.peer_asn, n.ibgp, n.hold_time, n.keepalive_time) == (65001, 65002, False, 90, 30)
    assert (n.local_router_id, n.peer_router_id) == (0xC0000201, 0xC0000202)
    assert n.families == (IPV4_UNICAST,)
    assert n.asn4 and n.route_refresh and n.peer_route_refresh and not n.enhanced_route_refresh
    assert n.recv_ctx == DEFAULT and n.send_ctx == DEFAULT
    assert n.recv_ctx.id == n.send_ctx.id == DEFAULT.id


def test_describe_json():
    n = negotiate(LOCAL, peer())
    assert n.describe() == {
        "local-as": 65001,
        "peer-as": 65002,
        "peer-router-id": "192.0.2.2",
        "ibgp": False,
        "hold-time": 90,
        "keepalive-time": 30,
        "families": ["ipv4/unicast"],
        "asn4": True,
        "add-path": {"receive": [], "send": []},
        "extended-message": False,
        "route-refresh": True,
        "enhanced-route-refresh": False,
        "graceful-restart": False,
        "llgr": False,
        "role": {"local": None, "peer": None},
        "hostname": None,
        "software-version": None,
        "link-local-next-hop": False,
        "receive": {"asn4": True, "add-path": [], "extended-message": False, "extended-next-hop": []},
        "send": {"asn4": True, "add-path": [], "extended-message": False, "extended-next-hop": []},
    }


def test_families_are_the_intersection_in_our_order():
    local = LocalConfig(65001, "192.0.2.1", families=(IPV4_UNICAST, IPV6_UNICAST, EVPN))
    n = negotiate(local, peer([MP6, MP4, Multiprotocol.from_value(Family(1, 2))]))
    assert n.families == (IPV4_UNICAST, IPV6_UNICAST)


def test_peer_without_multiprotocol_is_ipv4_unicast_only():
    local = LocalConfig(65001, "192.0.2.1", families=(IPV4_UNICAST, IPV6_UNICAST))
    assert negotiate(local, peer([RR])).families == (IPV4_UNICAST,)
    strict = LocalConfig(65001, "192.0.2.1", families=(IPV4_UNICAST, IPV6_UNICAST), ipv4_without_mp=False)
    assert negotiate(strict, peer([RR])).families == ()


def test_asn4_absent_on_the_peer():
    n = negotiate(LOCAL, peer([MP4]))
    assert (n.asn4, n.peer_asn) == (False, 65002)
    assert n.recv_ctx == EncodingContext(asn4=False) and n.send_ctx == EncodingContext(asn4=False)


def test_asn4_absent_on_our_side():
    local = LocalConfig(65001, "192.0.2.1", peer_as=65002, asn4=False)
    n = negotiate(local, peer())
    assert (n.asn4, n.peer_asn) == (False, 65002)
    assert n.send_ctx == EncodingContext(asn4=False)


def test_four_octet_peer_as_from_the_capability():
    local = LocalConfig(65001, "192.0.2.1", peer_as=4200000002)
    n = negotiate(local, peer([MP4, ASN4.from_value(4200000002)], asn=4200000002))
    assert (n.asn4, n.peer_asn) == (True, 4200000002)
    # Without the capability the peer can only show AS_TRANS: not the AS we expect.
    assert refused(local, peer([MP4], asn=4200000002)) == (2, 2, b"")


def test_bad_peer_as():
    assert refused(LOCAL, peer(asn=65003, caps=[MP4, ASN4.from_value(65003)])) == (2, 2, b"")


def test_any_peer_as_when_not_configured():
    n = negotiate(LocalConfig(65001, "192.0.2.1"), peer(asn=65001, caps=[MP4, ASN4.from_value(65001)]))
    assert (n.ibgp, n.peer_asn) == (True, 65001)


def test_same_router_id_refused_on_ibgp_only():
    ibgp = LocalConfig(65001, "192.0.2.1", peer_as=65001)
    assert refused(ibgp, peer(asn=65001, rid="192.0.2.1", caps=[MP4, ASN4.from_value(65001)])) == (2, 3, b"")
    assert negotiate(LOCAL, peer(rid="192.0.2.1")).peer_router_id == 0xC0000201


@pytest.mark.parametrize(
    ("ours", "theirs", "hold", "keepalive"),
    [(90, 30, 30, 10), (90, 0, 0, 0), (0, 90, 0, 0), (9, 180, 9, 3), (3, 3, 3, 1)],
)
def test_hold_time_is_the_smaller(ours, theirs, hold, keepalive):
    local = LocalConfig(65001, "192.0.2.1", hold_time=ours)
    n = negotiate(local, peer(hold=theirs))
    assert (n.hold_time, n.keepalive_time) == (hold, keepalive)


def test_minimum_hold_time():
    local = LocalConfig(65001, "192.0.2.1", min_hold_time=10)
    assert refused(local, peer(hold=9)) == (2, 6, b"")
    assert negotiate(local, peer(hold=0)).hold_time == 0
    assert negotiate(local, peer(hold=10)).hold_time == 10


# ADD-PATH, RFC 7911 4: (our mode, their mode) -> (we receive path ids, we send path ids).
ADDPATH = [
    ("both", "both", True, True),
    ("receive", "send", True, False),
    ("receive", "receive", False, False),
    ("send", "receive", False, True),
    ("send", "send", False, False),
    ("both", "receive", False, True),
    ("both", "send", True, False),
    ("receive", "both", True, False),
    ("send", "both", False, True),
    (None, "both", False, False),
    ("both", None, False, False),
]


@pytest.mark.parametrize(("ours", "theirs", "receive", "send"), ADDPATH)
def test_addpath_directions(ours, theirs, receive, send):
    local = LocalConfig(65001, "192.0.2.1", addpath={IPV4_UNICAST: ours} if ours else {})
    caps = [MP4, ASN4.from_value(65002)]
    if theirs:
        caps.append(AddPath.from_value([(IPV4_UNICAST, theirs)]))
    n = negotiate(local, peer(caps))
    v4 = frozenset({IPV4_UNICAST})
    assert n.addpath_receive == (v4 if receive else frozenset())
    assert n.addpath_send == (v4 if send else frozenset())
    assert n.recv_ctx == EncodingContext(addpath=v4 if receive else frozenset())
    assert n.send_ctx == EncodingContext(addpath=v4 if send else frozenset())


def test_addpath_per_family_and_only_negotiated_families():
    local = LocalConfig(
        65001,
        "192.0.2.1",
        families=(IPV4_UNICAST, IPV6_UNICAST),
        addpath={IPV4_UNICAST: "receive", IPV6_UNICAST: "send", EVPN: "both"},
    )
    theirs = AddPath.from_value([(IPV4_UNICAST, "send"), (IPV6_UNICAST, "both"), (EVPN, "both")])
    n = negotiate(local, peer([MP4, MP6, Multiprotocol.from_value(EVPN), theirs]))
    assert n.recv_ctx == EncodingContext(asn4=False, addpath=frozenset({IPV4_UNICAST}))
    assert n.send_ctx == EncodingContext(asn4=False, addpath=frozenset({IPV6_UNICAST}))


def test_addpath_unknown_mode_is_ignored():
    local = LocalConfig(65001, "192.0.2.1", addpath={IPV4_UNICAST: "both"})
    n = negotiate(local, peer([MP4, AddPath(bytes.fromhex("00010107"))]))
    assert (n.addpath_receive, n.addpath_send) == (frozenset(), frozenset())


def test_extended_message_needs_both():
    on = LocalConfig(65001, "192.0.2.1", extended_message=True)
    n = negotiate(on, peer([MP4, ExtendedMessage.from_value()]))
    assert n.extended_message and n.recv_ctx == n.send_ctx == EncodingContext(
        asn4=False, extended_message=True
    )
    assert not negotiate(on, peer([MP4])).extended_message
    assert not negotiate(
        LocalConfig(65001, "192.0.2.1"), peer([MP4, ExtendedMessage.from_value()])
    ).extended_message


ENH = ExtendedNexthop.from_value([(IPV4_UNICAST, 2)])


@pytest.mark.parametrize(
    ("ours", "theirs", "receive", "send"),
    [
        (((IPV4_UNICAST, 2),), ENH, {(IPV4_UNICAST, 2)}, {(IPV4_UNICAST, 2)}),
        (((IPV4_UNICAST, 2),), None, {(IPV4_UNICAST, 2)}, set()),
        ((), ENH, set(), set()),
        (((IPV4_UNICAST, 2), (Family(1, 128), 2)), ENH, {(IPV4_UNICAST, 2)}, {(IPV4_UNICAST, 2)}),
    ],
)
def test_extended_nexthop(ours, theirs, receive, send):
    local = LocalConfig(65001, "192.0.2.1", extended_nexthop=ours)
    n = negotiate(local, peer([MP4] + ([theirs] if theirs else [])))
    assert n.extended_nexthop_receive == frozenset(receive)
    assert n.extended_nexthop_send == frozenset(send)
    assert n.recv_ctx == EncodingContext(asn4=False, extended_nexthop=frozenset(receive))
    assert n.send_ctx == EncodingContext(asn4=False, extended_nexthop=frozenset(send))


def test_route_refresh_and_enhanced_need_both():
    local = LocalConfig(65001, "192.0.2.1", enhanced_route_refresh=True)
    n = negotiate(local, peer([MP4, RR, EnhancedRouteRefresh.from_value()]))
    assert (n.route_refresh, n.enhanced_route_refresh, n.peer_route_refresh) == (True, True, True)
    n = negotiate(LocalConfig(65001, "192.0.2.1", route_refresh=False), peer([MP4, RR]))
    assert (n.route_refresh, n.enhanced_route_refresh, n.peer_route_refresh) == (False, False, True)
    n = negotiate(local, peer([MP4]))
    assert (n.route_refresh, n.enhanced_route_refresh, n.peer_route_refresh) == (False, False, False)


def test_graceful_restart_llgr_hostname_software_version_link_local():
    gr = GracefulRestart.from_value(90, [(IPV4_UNICAST, True)], restart=True)
    llgr = LLGR.from_value([(IPV4_UNICAST, True, 86400)])
    caps = [
        MP4,
        gr,
        llgr,
        Hostname.from_value("edge1", "example.net"),
        SoftwareVersion.from_value("FRRouting/10.2"),
        LinkLocalNexthop.from_value(),
    ]
    n = negotiate(LocalConfig(65001, "192.0.2.1", link_local_nexthop=True), peer(caps))
    assert n.peer_graceful_restart == gr and n.peer_llgr == llgr
    assert not n.graceful_restart  # we did not announce it
    assert n.peer_hostname == ("edge1", "example.net")
    assert n.peer_software_version == "FRRouting/10.2"
    assert n.link_local_nexthop
    ours = LocalConfig(65001, "192.0.2.1", graceful_restart=GracefulRestart.from_value(120))
    assert negotiate(ours, peer(caps)).graceful_restart
    assert not negotiate(LocalConfig(65001, "192.0.2.1"), peer(caps)).link_local_nexthop


# BGP Role, RFC 9234 4.2.
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(PROVIDER, CUSTOMER), (CUSTOMER, PROVIDER), (RS, RS_CLIENT), (RS_CLIENT, RS), (PEER, PEER)],
)
def test_role_pairs_accepted(ours, theirs):
    local = LocalConfig(65001, "192.0.2.1", peer_as=65002, role=ours, role_strict=True)
    n = negotiate(local, peer([MP4, ASN4.from_value(65002), Role.from_value(theirs)]))
    assert (n.local_role, n.peer_role) == (ours, theirs)


@pytest.mark.parametrize(("ours", "theirs"), [(CUSTOMER, CUSTOMER), (PROVIDER, PEER), (RS, RS), (PEER, 9)])
def test_role_mismatch(ours, theirs):
    local = LocalConfig(65001, "192.0.2.1", peer_as=65002, role=ours)
    assert refused(local, peer([MP4, ASN4.from_value(65002), Role.from_value(theirs)])) == (2, 11, b"")


def test_role_strict_needs_the_peer_role():
    strict = LocalConfig(65001, "192.0.2.1", peer_as=65002, role=CUSTOMER, role_strict=True)
    assert refused(strict, peer()) == (2, 11, b"")
    lax = LocalConfig(65001, "192.0.2.1", peer_as=65002, role=CUSTOMER)
    assert negotiate(lax, peer()).peer_role is None


def test_role_several_different_values_mismatch():
    caps = [MP4, ASN4.from_value(65002), Role.from_value(PROVIDER), Role.from_value(PEER)]
    assert refused(LOCAL, peer(caps)) == (2, 11, b"")
    same = [MP4, ASN4.from_value(65002), Role.from_value(PROVIDER), Role.from_value(PROVIDER)]
    local = LocalConfig(65001, "192.0.2.1", role=CUSTOMER)
    assert negotiate(local, peer(same)).peer_role == PROVIDER


def test_role_ignored_on_ibgp():
    local = LocalConfig(65001, "192.0.2.1", peer_as=65001, role=CUSTOMER, role_strict=True)
    n = negotiate(local, peer([MP4, ASN4.from_value(65001), Role.from_value(CUSTOMER)], asn=65001))
    assert (n.ibgp, n.local_role, n.peer_role) == (True, None, None)


def test_full_config_against_itself():
    """Two ze speakers with every capability: the contexts name everything both can do."""
    other = LocalConfig(
        asn=65002,
        router_id="10.0.0.2",
        peer_as=4200000001,
        families=(IPV4_UNICAST, IPV6_UNICAST),
        addpath={IPV4_UNICAST: "both", IPV6_UNICAST: "send"},
        extended_message=True,
        extended_nexthop=((IPV4_UNICAST, 2),),
        role=PROVIDER,
    )
    n = negotiate(FULL, wire(build_open(other)))
    assert n.families == (IPV4_UNICAST, IPV6_UNICAST)
    assert n.recv_ctx == EncodingContext(
        addpath=frozenset({IPV4_UNICAST, IPV6_UNICAST}),
        extended_message=True,
        extended_nexthop=frozenset({(IPV4_UNICAST, 2)}),
    )
    assert n.send_ctx == EncodingContext(
        addpath=frozenset({IPV4_UNICAST}),
        extended_message=True,
        extended_nexthop=frozenset({(IPV4_UNICAST, 2)}),
    )
    back = negotiate(other, wire(build_open(FULL)))
    assert back.recv_ctx == n.send_ctx and back.send_ctx == n.recv_ctx
    assert (back.peer_asn, back.hold_time, back.keepalive_time) == (4200000001, 90, 30)
    assert back.peer_hostname == ("r1", "example.net") and back.peer_software_version == "ze/0.1"


def test_required_capabilities():
    local = LocalConfig(
        65001,
        "192.0.2.1",
        families=(IPV4_UNICAST, IPV6_UNICAST),
        addpath={IPV4_UNICAST: "receive"},
        required_capabilities=frozenset({1, 69}),
    )
    with pytest.raises(WireError) as e:
        negotiate(local, peer([MP4, RR]))
    assert (e.value.code, e.value.subcode) == (2, 7)
    assert e.value.data == bytes.fromhex("010400020001" + "45040001" + "0101")
    assert str(e.value) == "peer lacks required capabilities: ipv6/unicast, addpath"
    ok = negotiate(local, peer([MP4, MP6, AddPath.from_value([(IPV4_UNICAST, "send")])]))
    assert ok.addpath_receive == frozenset({IPV4_UNICAST})
