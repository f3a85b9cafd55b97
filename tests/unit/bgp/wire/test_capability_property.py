"""Property tests: every capability kind survives bytes -> object -> bytes and JSON -> object,
and arbitrary value bytes make from_wire raise nothing but WireError."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

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
from ze.bgp.wire.capability.role import Role
from ze.bgp.wire.capability.route_refresh import RouteRefresh
from ze.bgp.wire.capability.software_version import SoftwareVersion
from ze.bgp.wire.codecs import core
from ze.core.errors import WireError
from ze.core.family import Family

FAST = settings(max_examples=150, deadline=None)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
families = st.builds(Family, u16, u8)

CAPABILITIES = st.one_of(
    st.builds(Multiprotocol.from_value, families, u8),
    st.sampled_from([RouteRefresh, ExtendedMessage, EnhancedRouteRefresh, LinkLocalNexthop]).map(
        lambda cls: cls.from_value()
    ),
    st.builds(ASN4.from_value, st.integers(0, 0xFFFFFFFF)),
    st.builds(Role.from_value, u8),
    st.builds(ExtendedNexthop.from_value, st.lists(st.tuples(st.builds(Family, u16, u16), u16), max_size=40)),
    st.builds(
        GracefulRestart.from_value,
        st.integers(0, 0xFFF),
        st.lists(st.tuples(families, st.one_of(st.booleans(), u8)), max_size=60),
        st.booleans(),
        st.booleans(),
        st.integers(0, 3),
    ),
    st.builds(AddPath.from_value, st.lists(st.tuples(families, u8), max_size=60)),
    st.builds(
        LLGR.from_value,
        st.lists(st.tuples(families, st.one_of(st.booleans(), u8), st.integers(0, 0xFFFFFF)), max_size=35),
    ),
    st.builds(Hostname.from_value, st.text(max_size=30), st.text(max_size=30)),
    st.builds(SoftwareVersion.from_value, st.text(max_size=60)),
)


@FAST
@given(CAPABILITIES)
def test_capability_round_trips_through_bytes_and_json(cap):
    data = cap.to_bytes()
    assert data[0] == cap.CODE and data[1] == len(data) - 2 == len(cap.raw)
    again = type(cap).from_wire(memoryview(data)[2:], 2)
    assert again == cap and again.to_bytes() == data
    document = json.loads(json.dumps(cap.to_json()))
    assert type(cap).from_json(document).to_bytes() == data


@FAST
@given(st.sampled_from(sorted(core().capabilities)), st.binary(max_size=64))
def test_arbitrary_value_bytes_only_raise_wire_error(code, value):
    cls = core().capabilities[code].cls
    try:
        cap = cls.from_wire(memoryview(value), 2)
    except WireError as e:
        assert e.code == 2 and e.offset is not None and 2 <= e.offset <= 2 + len(value)
        return
    # Whatever decodes has JSON that gives back the very same bytes.
    assert cls.from_json(json.loads(json.dumps(cap.to_json()))).raw == value


@FAST
@given(u8, st.binary(max_size=255))
def test_unknown_keeps_raw_bytes(code, value):
    cap = Unknown(value, code)
    assert cap.to_bytes() == bytes([code, len(value)]) + value
