"""Property tests for every attribute codec: from_wire(to_bytes(x)) == x, and arbitrary value
bytes give either a WireError or an attribute whose JSON comes back to the same bytes."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from ze.bgp.wire.attr.aggregator import Aggregator
from ze.bgp.wire.attr.aigp import Aigp
from ze.bgp.wire.attr.as4_aggregator import As4Aggregator
from ze.bgp.wire.attr.as4_path import As4Path
from ze.bgp.wire.attr.aspath import AsPath
from ze.bgp.wire.attr.atomic_aggregate import AtomicAggregate
from ze.bgp.wire.attr.cluster_list import ClusterList
from ze.bgp.wire.attr.community import Community
from ze.bgp.wire.attr.extended_community import ExtendedCommunity
from ze.bgp.wire.attr.ipv6_extended_community import Ipv6ExtendedCommunity
from ze.bgp.wire.attr.large_community import LargeCommunity
from ze.bgp.wire.attr.localpref import LocalPref
from ze.bgp.wire.attr.med import Med
from ze.bgp.wire.attr.nexthop import NextHop
from ze.bgp.wire.attr.originator_id import OriginatorId
from ze.bgp.wire.attr.otc import Otc
from ze.bgp.wire.attr.prefix_sid import PrefixSid
from ze.bgp.wire.attr.unknown import Unknown
from ze.bgp.wire.attr.walk import walk
from ze.bgp.wire.codecs import core
from ze.bgp.wire.context import ASN2, DEFAULT
from ze.core.errors import WireError

U32 = st.integers(0, 2**32 - 1)
ASN = st.integers(1, 2**32 - 1)
ASN16 = st.integers(1, 2**16 - 1)
IP4 = st.integers(0, 2**32 - 1).map(lambda i: str(ipaddress.IPv4Address(i)))
HOST4 = st.integers(1, 223).flatmap(
    lambda a: st.integers(0, 2**24 - 1).map(lambda r: f"{a}.{r >> 16}.{(r >> 8) & 255}.{r & 255}")
)


def segments(asn):
    return st.lists(st.tuples(st.integers(1, 4), st.lists(asn, min_size=1, max_size=12)), max_size=5)


def tlvs(known):
    other = st.tuples(st.integers(0, 255).filter(lambda t: t not in known), st.binary(max_size=12))
    return other


AIGP_TLVS = st.lists(
    st.one_of(st.tuples(st.just(1), st.binary(min_size=8, max_size=8)), tlvs({1})), max_size=4
)
SID_TLVS = st.lists(
    st.one_of(
        st.tuples(st.just(1), st.binary(min_size=7, max_size=7)),
        st.integers(1, 4).flatmap(
            lambda n: st.tuples(st.just(3), st.binary(min_size=2 + 6 * n, max_size=2 + 6 * n))
        ),
        tlvs({1, 3}),
    ),
    max_size=4,
)


def nonempty(n):
    return st.lists(st.binary(min_size=n, max_size=n), min_size=1, max_size=6)


# (attribute, context) pairs covering every kind, built through from_value.
ATTRIBUTES = st.one_of(
    segments(ASN).map(lambda s: (AsPath.from_value(s), DEFAULT)),
    segments(ASN16).map(lambda s: (AsPath.from_value(s, asn4=False), ASN2)),
    segments(ASN).map(lambda s: (As4Path.from_value(s), ASN2)),
    HOST4.map(lambda a: (NextHop.from_value(a), DEFAULT)),
    U32.map(lambda n: (Med.from_value(n), DEFAULT)),
    U32.map(lambda n: (LocalPref.from_value(n), DEFAULT)),
    st.just((AtomicAggregate.from_value(), DEFAULT)),
    st.tuples(ASN, IP4).map(lambda t: (Aggregator.from_value(*t), DEFAULT)),
    st.tuples(ASN16, IP4).map(lambda t: (Aggregator.from_value(*t, asn4=False), ASN2)),
    st.lists(U32, min_size=1, max_size=80).map(lambda c: (Community.from_value(c), DEFAULT)),
    IP4.map(lambda a: (OriginatorId.from_value(a), DEFAULT)),
    st.lists(IP4, min_size=1, max_size=8).map(lambda c: (ClusterList.from_value(c), DEFAULT)),
    nonempty(8).map(lambda c: (ExtendedCommunity.from_value(c), DEFAULT)),
    st.tuples(ASN, IP4).map(lambda t: (As4Aggregator.from_value(*t), ASN2)),
    nonempty(20).map(lambda c: (Ipv6ExtendedCommunity.from_value(c), DEFAULT)),
    AIGP_TLVS.map(lambda t: (Aigp.from_tlvs(t), DEFAULT)),
    st.lists(st.tuples(U32, U32, U32), min_size=1, max_size=25).map(
        lambda c: (LargeCommunity.from_value(c), DEFAULT)
    ),
    U32.map(lambda n: (Otc.from_value(n), DEFAULT)),
    SID_TLVS.map(lambda t: (PrefixSid.from_value(t), DEFAULT)),
    st.tuples(st.integers(41, 255), st.binary(max_size=300), st.sampled_from([0x80, 0xC0, 0xE0])).map(
        lambda t: (Unknown.from_value(*t), DEFAULT)
    ),
)


def decode_one(data: bytes, ctx):
    ((flags, code, start, end),) = list(walk(data, 0, len(data)))
    spec = core().attrs.get(code)
    view = memoryview(data)[start:end]
    if spec is None:
        return Unknown.from_wire(code, flags, view, ctx, start)
    return spec.cls.from_wire(flags, view, ctx, start)


@settings(max_examples=600, deadline=None)
@given(ATTRIBUTES)
def test_decode_encode_roundtrip(pair):
    attr, ctx = pair
    data = attr.to_bytes(ctx)
    back = decode_one(data, ctx)
    assert back == attr
    assert back.to_bytes(ctx) == data
    assert type(back).from_json(back.to_json()) == attr


CLASSES = [spec.cls for spec in core().attrs.values()]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(CLASSES), st.binary(max_size=64), st.sampled_from([DEFAULT, ASN2]), st.integers(0, 4096)
)
def test_arbitrary_bytes_only_wire_errors(cls, data, ctx, base):
    try:
        attr = cls.from_wire(cls.FLAGS, memoryview(data), ctx, base)
    except WireError as e:
        assert e.code == 3 and e.subcode in (1, 2, 5, 6, 8, 9, 11)
        assert e.offset is not None and base <= e.offset < base + max(len(data), 1)
        return
    # Whatever decodes renders, and its JSON is exact: back to the same value bytes.
    assert attr.value(ctx) == data
    js = attr.to_json()
    assert cls.from_json(js).value(ctx) == data


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40), st.integers(0, 255), st.integers(0, 255))
def test_unknown_arbitrary(data, code, flags):
    try:
        u = Unknown.from_wire(code, flags, memoryview(data), DEFAULT)
    except WireError as e:
        assert (e.code, e.subcode) == (3, 2)
        return
    assert Unknown.from_json(u.to_json()) == u


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=24).map(lambda b: b"\x02" + bytes([len(b) // 4]) + b if b else b""))
def test_aspath_structured_fuzz(data):
    # Bytes that look like a segment header so the deeper checks get exercised.
    for ctx in (DEFAULT, ASN2):
        try:
            p = AsPath.from_wire(0x40, memoryview(data), ctx, 0)
        except WireError as e:
            assert (e.code, e.subcode) == (3, 11)
            continue
        assert AsPath.from_json(p.to_json()).value(ctx) == data
