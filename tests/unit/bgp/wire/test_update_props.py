"""Properties: decode(build(route sets)) == the route sets; arbitrary bytes raise only WireError."""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ze.bgp.wire.attr.origin import Origin
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.message import decode_any
from ze.bgp.wire.nlri.prefix import Prefix
from ze.bgp.wire.render import update_from_json, update_json
from ze.bgp.wire.text import encode_text, update_text
from ze.bgp.wire.update import NlriSection, WireUpdate, build_updates
from ze.core.errors import WireError
from ze.core.family import IPV4_MULTICAST, IPV4_UNICAST, IPV6_MULTICAST, IPV6_UNICAST

FAMILIES = (IPV4_UNICAST, IPV6_UNICAST, IPV4_MULTICAST, IPV6_MULTICAST)


@st.composite
def prefixes(draw, afi: int, addpath: bool):
    bits = 32 if afi == 1 else 128
    length = draw(st.integers(0, bits))
    value = draw(st.integers(0, (1 << bits) - 1)) & ~((1 << (bits - length)) - 1)
    return Prefix(afi, length, value, draw(st.integers(0, 0xFFFFFFFF)) if addpath else None)


@st.composite
def route_sets(draw):
    addpath = frozenset(draw(st.sets(st.sampled_from(FAMILIES))))
    ctx = EncodingContext(addpath=addpath, extended_message=draw(st.booleans()))
    sections = []
    for fam in draw(st.lists(st.sampled_from(FAMILIES), unique=True, min_size=1)):
        ap = fam in addpath
        adds = draw(st.lists(prefixes(fam.afi, ap), unique=True, max_size=300))
        dels = draw(st.lists(prefixes(fam.afi, ap), unique=True, max_size=300))
        if fam.afi == 1:
            # a host address NEXT_HOP accepts (RFC 4271 6.3: not 0/8, not 224/3)
            hops = (str(ipaddress.IPv4Address(draw(st.integers(0x01000000, 0xDFFFFFFF)))),)
        else:
            hops = (str(ipaddress.IPv6Address(draw(st.integers(1, (1 << 128) - 1)))),)
            if draw(st.booleans()):
                hops = (*hops, "fe80::1")
        if adds:
            sections.append(NlriSection(fam, "add", adds, hops))
        if dels:
            sections.append(NlriSection(fam, "del", dels))
    return ctx, sections, draw(st.integers(0, 2))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(route_sets())
def test_decode_of_build_is_the_route_sets(case):
    ctx, sections, origin = case
    got_adds: dict = {}
    got_dels: dict = {}
    hops_seen: dict = {}
    for m in build_updates(sections, [Origin.from_value(origin)], ctx):
        assert len(m) <= ctx.max_message
        u = WireUpdate(memoryview(m)[19:], ctx)
        got_dels.setdefault(IPV4_UNICAST, []).extend(u.withdrawn())
        announced = list(u.nlri())
        got_adds.setdefault(IPV4_UNICAST, []).extend(announced)
        if announced:
            hops_seen.setdefault(IPV4_UNICAST, set()).add(
                (str(ipaddress.IPv4Address(bytes(u.attribute(3).raw))),)
            )
        reach, unreach = u.mp_reach(), u.mp_unreach()
        if reach is not None:
            got_adds.setdefault(reach.family, []).extend(reach.nlri())
            hops_seen.setdefault(reach.family, set()).add(tuple(reach.next_hops))
        if unreach is not None:
            got_dels.setdefault(unreach.family, []).extend(unreach.nlri())
        if announced or reach is not None:
            assert u.attribute(1).origin == origin
        # the JSON view and the route text view encode back to the same bytes
        assert update_from_json(update_json(u), ctx) == m
        assert encode_text(update_text(u), ctx) == [m]
    for s in sections:
        got = got_adds if s.action == "add" else got_dels
        assert got.get(s.family, []) == s.items
        if s.action == "add":
            assert hops_seen[s.family] == {s.next_hops}
    families_sent = {(s.family, s.action) for s in sections}
    for fam, items in got_adds.items():
        assert not items or (fam, "add") in families_sent
    for fam, items in got_dels.items():
        assert not items or (fam, "del") in families_sent


def _walk_everything(u: WireUpdate) -> None:
    list(u.withdrawn())
    list(u.nlri())
    for a in u.attributes():
        a.to_json()
        if a.CODE in (14, 15):
            list(a.nlri())
    u.is_eor()
    u.mp_reach()
    update_json(u)


CONTEXTS = st.builds(
    EncodingContext,
    addpath=st.sets(st.sampled_from(FAMILIES)).map(frozenset),
    extended_nexthop=st.sets(st.sampled_from([(IPV4_UNICAST, 2), (IPV4_MULTICAST, 2)])).map(frozenset),
)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200), CONTEXTS)
def test_arbitrary_bodies_raise_only_wire_error(data, ctx):
    try:
        _walk_everything(WireUpdate(data, ctx))
    except WireError:
        pass


# Bodies shaped like UPDATEs (consistent lengths) reach deeper than random bytes.
@st.composite
def shaped_bodies(draw):
    withdrawn = draw(st.binary(max_size=20))
    attrs = b""
    for _ in range(draw(st.integers(0, 4))):
        code = draw(st.sampled_from([1, 2, 3, 14, 15, 255]))
        value = draw(st.binary(max_size=40))
        if code == 14 and draw(st.booleans()):
            nh = draw(st.sampled_from([4, 16, 32, 12, 0]))
            value = (
                draw(st.sampled_from([b"\x00\x01\x01", b"\x00\x02\x01", b"\x00\x01\x02", b"\x00\x01\x80"]))
                + bytes([nh])
                + bytes(nh)
                + b"\x00"
                + value
            )
        if code == 15 and draw(st.booleans()):
            value = b"\x00\x02\x01" + value
        attrs += bytes([draw(st.sampled_from([0x40, 0x80, 0xC0, 0xE0])), code, len(value)]) + value
    nlri = draw(st.binary(max_size=20))
    return len(withdrawn).to_bytes(2, "big") + withdrawn + len(attrs).to_bytes(2, "big") + attrs + nlri


@settings(max_examples=400, deadline=None)
@given(shaped_bodies(), CONTEXTS)
def test_shaped_bodies_raise_only_wire_error(data, ctx):
    try:
        _walk_everything(WireUpdate(data, ctx))
    except WireError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_decode_any_raises_only_wire_error(data):
    try:
        msg = decode_any(data)
        if isinstance(msg, WireUpdate):
            _walk_everything(msg)
    except WireError:
        pass
