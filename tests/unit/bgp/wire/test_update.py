from __future__ import annotations

import pytest

from ze.bgp.wire.attr.mpreach import MpReach
from ze.bgp.wire.attr.mpunreach import MpUnreach
from ze.bgp.wire.attr.origin import Origin
from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.header import MARKER
from ze.bgp.wire.nlri.prefix import Prefix
from ze.bgp.wire.update import NlriSection, RawAttribute, WireUpdate, build_updates, eor_message
from ze.core.errors import WireError
from ze.core.family import IPV4_UNICAST, IPV6_MULTICAST, IPV6_UNICAST

# examples/update-sample.hex without its header: ORIGIN igp, AS_PATH [65001], NEXT_HOP 192.0.2.1, 10.0.0.0/24
SAMPLE_BODY = bytes.fromhex(
    "0000" + "0014" + "40010100" + "400206020100" + "00FDE9" + "400304C0000201" + "180A0000"
)
P = Prefix.parse


def test_sample_fields():
    u = WireUpdate(SAMPLE_BODY, DEFAULT)
    assert list(u.withdrawn()) == []
    assert next((type(a).__name__, a.CODE) for a in u.attributes()) == ("Origin", 1)
    assert [a.CODE for a in u.attributes()] == [1, 2, 3]
    assert u.attribute(1) == Origin.from_value(0)
    assert bytes(u.attribute(3).raw) == bytes.fromhex("C0000201")
    assert u.attribute(5) is None
    assert list(u.nlri()) == [P("10.0.0.0/24")]
    assert u.mp_reach() is None and u.mp_unreach() is None
    assert u.is_eor() is None
    assert u.to_bytes() == MARKER + bytes.fromhex("002F02") + SAMPLE_BODY


def test_construction_is_lazy_and_errors_are_absolute():
    body = bytes.fromhex("0000" + "0004" + "40010103" + "18")  # bad ORIGIN value, cut prefix
    u = WireUpdate(body, DEFAULT)
    with pytest.raises(WireError) as e:
        list(u.attributes())
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 6, 19 + 7)
    with pytest.raises(WireError) as e:
        list(u.nlri())
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 10, 19 + 8)


def test_length_overruns_are_3_1():
    with pytest.raises(WireError) as e:
        WireUpdate(bytes.fromhex("000500"), DEFAULT)
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 1, 19)
    with pytest.raises(WireError) as e:
        WireUpdate(bytes.fromhex("0005" + "0A000000"), DEFAULT)
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 1, 19)
    with pytest.raises(WireError) as e:
        WireUpdate(bytes.fromhex("0002" + "0800" + "0009" + "40010100"), DEFAULT)
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 1, 23)


def test_withdrawn_with_and_without_addpath():
    body = bytes.fromhex("0007" + "00000007" + "100A01" + "0000")
    u = WireUpdate(body, EncodingContext(addpath=frozenset({IPV4_UNICAST})))
    assert list(u.withdrawn()) == [P("10.1.0.0/16", 7)] and u.has_withdrawn()
    plain = WireUpdate(bytes.fromhex("0006" + "100A01" + "100A02" + "0000"), DEFAULT)
    assert [p.text() for p in plain.withdrawn()] == ["10.1.0.0/16", "10.2.0.0/16"]


def test_unknown_attribute_kept_raw():
    body = bytes.fromhex("0000" + "0007" + "E0FF04DEADBEEF")
    (a,) = list(WireUpdate(body, DEFAULT).attributes())
    assert (a.CODE, a.flags, bytes(a.raw)) == (255, 0xE0, bytes.fromhex("DEADBEEF"))
    assert a.to_bytes(DEFAULT) == bytes.fromhex("E0FF04DEADBEEF")


def test_eor_detection():
    assert WireUpdate(b"\x00\x00\x00\x00", DEFAULT).is_eor() == IPV4_UNICAST
    assert WireUpdate(bytes.fromhex("00000006800F03000201"), DEFAULT).is_eor() == IPV6_UNICAST
    assert WireUpdate(bytes.fromhex("00000008800F050002011000"), DEFAULT).is_eor() is None
    assert WireUpdate(bytes.fromhex("00000000" + "080A"), DEFAULT).is_eor() is None
    assert eor_message(IPV4_UNICAST) == MARKER + bytes.fromhex("00170200000000")
    assert eor_message(IPV6_MULTICAST) == MARKER + bytes.fromhex("001D0200000006800F03000202")


def test_mp_accessors():
    reach = MpReach.from_value(IPV6_UNICAST, ["2001:db8::1"], [P("2001:db8:1::/48")])
    unreach = MpUnreach.from_value(IPV6_UNICAST, [P("2001:db8:2::/48")])
    u = WireUpdate.from_value(attrs=[unreach, Origin.from_value(0), reach])
    assert [a.CODE for a in u.attributes()] == [1, 14, 15]
    assert [p.text() for p in u.mp_reach().nlri()] == ["2001:db8:1::/48"]
    assert [p.text() for p in u.mp_unreach().nlri()] == ["2001:db8:2::/48"]


def test_from_value_and_encode_into():
    u = WireUpdate.from_value(
        withdrawn=[P("10.9.0.0/16")],
        attrs=[RawAttribute(bytes.fromhex("C0000201"), 0x40, 3), Origin.from_value(2)],
        nlri=[P("10.0.0.0/24")],
    )
    body = bytes.fromhex("0003" + "100A09" + "000B" + "40010102" + "400304C0000201" + "180A0000")
    assert u.body() == body
    buf = bytearray(b"xy")
    assert u.encode_into(buf) == 19 + len(body)
    assert bytes(buf) == b"xy" + MARKER + (19 + len(body)).to_bytes(2, "big") + b"\x02" + body


def _decode_all(messages, ctx=DEFAULT):
    out = []
    for m in messages:
        assert m[:16] == MARKER and int.from_bytes(m[16:18], "big") == len(m) <= ctx.max_message
        out.append(WireUpdate(memoryview(m)[19:], ctx))
    return out


def test_build_classic_ipv4_exact_bytes():
    sections = [
        NlriSection(IPV4_UNICAST, "add", [P("10.0.0.0/24")], ("192.0.2.1",)),
        NlriSection(IPV4_UNICAST, "del", [P("10.9.0.0/16")]),
    ]
    (m,) = build_updates(sections, [Origin.from_value(0)])
    assert m == MARKER + bytes.fromhex(
        "002902" + "0003100A09" + "000B" + "40010100" + "400304C0000201" + "180A0000"
    )


def test_build_splits_to_max_message_and_keeps_every_prefix():
    prefixes = [Prefix(1, 24, (10 << 24) + (i << 8)) for i in range(3000)]
    messages = list(
        build_updates([NlriSection(IPV4_UNICAST, "add", prefixes, ("192.0.2.1",))], [Origin.from_value(0)])
    )
    ups = _decode_all(messages)
    assert [p for u in ups for p in u.nlri()] == prefixes
    assert len(messages[0]) + 4 > 4096  # full: one more /24 would not fit
    assert all(bytes(u.attribute(3).raw) == bytes.fromhex("C0000201") for u in ups)


def test_build_mp_splits_one_family_per_attribute():
    v6 = [Prefix(2, 64, (0x20010DB8 << 96) + (i << 64)) for i in range(600)]
    v4w = [Prefix(1, 32, (10 << 24) + i) for i in range(10)]
    sections = [
        NlriSection(IPV6_UNICAST, "add", v6, ("2001:db8::1", "fe80::1")),
        NlriSection(IPV4_UNICAST, "del", v4w),
        NlriSection(IPV6_UNICAST, "eor"),
    ]
    messages = list(build_updates(sections, [Origin.from_value(0)]))
    ups = _decode_all(messages)
    assert [p for u in ups for p in u.withdrawn()] == v4w
    assert [p for u in ups if u.mp_reach() for p in u.mp_reach().nlri()] == v6
    assert all(u.mp_reach().next_hops == ["2001:db8::1", "fe80::1"] for u in ups if u.mp_reach())
    assert ups[-1].is_eor() == IPV6_UNICAST
    # withdrawals share the first message with announcements, which bring the attributes
    assert list(ups[0].withdrawn()) == v4w and ups[0].attribute(1) == Origin.from_value(0)
    assert len(messages) > 2


def test_build_errors():
    with pytest.raises(ValueError, match="next hop is needed"):
        list(build_updates([NlriSection(IPV6_UNICAST, "add", [P("2001:db8::/32")])]))
    with pytest.raises(ValueError, match="extended next hop"):
        list(build_updates([NlriSection(IPV4_UNICAST, "add", [P("10.0.0.0/8")], ("2001:db8::1",))]))
    big = RawAttribute(bytes(4090), 0xC0, 99)
    with pytest.raises(ValueError, match="does not fit"):
        list(build_updates([NlriSection(IPV4_UNICAST, "add", [P("10.0.0.0/8")], ("192.0.2.1",))], [big]))
    with pytest.raises(ValueError, match="set by the builder"):
        list(build_updates([], [RawAttribute(b"\x00" * 4, 0x40, 3)]))


def test_build_extended_next_hop_goes_to_mp_reach():
    ctx = EncodingContext(extended_nexthop=frozenset({(IPV4_UNICAST, 2)}))
    (m,) = build_updates([NlriSection(IPV4_UNICAST, "add", [P("10.0.0.0/24")], ("2001:db8::1",))], [], ctx)
    u = WireUpdate(memoryview(m)[19:], ctx)
    assert list(u.nlri()) == []
    r = u.mp_reach()
    assert (r.family, r.next_hops, list(r.nlri())) == (IPV4_UNICAST, ["2001:db8::1"], [P("10.0.0.0/24")])


def test_build_with_extended_message_fills_65535():
    ctx = EncodingContext(extended_message=True)
    prefixes = [Prefix(1, 24, (10 << 24) + (i << 8)) for i in range(20000)]
    section = NlriSection(IPV4_UNICAST, "add", prefixes, ("192.0.2.1",))
    messages = list(build_updates([section], [Origin.from_value(0)], ctx))
    # 34 bytes of header and attributes, then as many 4-byte /24s as fit in 65535
    assert [len(m) for m in messages] == [34 + 16375 * 4, 34 + (20000 - 16375) * 4]
    ups = _decode_all(messages, ctx)
    assert [p for u in ups for p in u.nlri()] == prefixes
