"""Fuzz (hypothesis, bounded by max_examples; about a minute in all, part of `make test`): no input
makes a decoder raise anything but WireError, and check_update never raises at all.

UPDATE bodies are fuzzed two ways: arbitrary bytes, and valid bodies built from strategies (which
must get "ok") then damaged by bit flips, truncation, byte insertion/deletion and length-field
tampering.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ze.bgp import validate
from ze.bgp.validate import Verdict, check_update
from ze.bgp.wire.codecs import core
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.keepalive import Keepalive
from ze.bgp.wire.notification import Notification
from ze.bgp.wire.refresh import RouteRefresh
from ze.core.errors import WireError
from ze.core.family import IPV4_UNICAST, IPV6_UNICAST

pytestmark = pytest.mark.slow


def fuzz(n: int) -> settings:
    """Bounded by examples, not time (deadline=None): the run length is the same on any machine."""
    return settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


contexts = st.builds(
    EncodingContext,
    asn4=st.booleans(),
    addpath=st.sets(st.sampled_from([IPV4_UNICAST, IPV6_UNICAST])).map(frozenset),
    extended_message=st.booleans(),
    extended_nexthop=st.sampled_from([frozenset(), frozenset({(IPV4_UNICAST, 2)})]),
)


def assert_sane(v: Verdict, body_len: int, base: int = 19) -> None:
    assert isinstance(v, Verdict)
    assert v.action in validate.ACTIONS
    assert (v.notification is not None) == (v.action == "session-reset")
    assert (v.action == "ok") == (not v.reasons)
    for r in v.reasons:
        assert not r.text.startswith("internal error"), r.text
        assert base <= r.offset <= base + body_len + 65535, r
    if v.notification is not None:
        assert v.notification[0] == 3
        assert Notification(*v.notification).to_bytes()[18] == 3


# -- arbitrary bytes ---------------------------------------------------------------------------------


@fuzz(3000)
@given(
    body=st.binary(max_size=600),
    ctx=contexts,
    ibgp=st.booleans(),
    confed=st.booleans(),
    peer_as=st.none() | st.integers(0, 2**32 - 1),
)
def test_check_update_arbitrary_bytes_never_raises(body, ctx, ibgp, confed, peer_as):
    assert_sane(check_update(body, ctx, ibgp=ibgp, confed=confed, peer_as=peer_as), len(body))


@fuzz(1500)
@given(attrs=st.binary(max_size=400), nlri=st.binary(max_size=40), ctx=contexts, ibgp=st.booleans())
def test_check_update_consistent_lengths_random_attributes(attrs, nlri, ctx, ibgp):
    # lengths right, contents random: exercises the attribute rules rather than the framing
    body = struct.pack("!HH", 0, len(attrs)) + attrs + nlri
    assert_sane(check_update(memoryview(body), ctx, ibgp=ibgp), len(body))


# -- valid UPDATEs and their mutations ---------------------------------------------------------------


def attr(flags: int, code: int, value: bytes) -> bytes:
    if len(value) > 255:
        return struct.pack("!BBH", flags | 0x10, code, len(value)) + value
    return struct.pack("!BBB", flags, code, len(value)) + value


def prefixes(width: int, addpath: bool, max_size: int = 8):
    def enc(items):
        out = bytearray()
        for path_id, plen, value in items:
            if addpath:
                out += struct.pack("!I", path_id)
            n = (plen + 7) // 8
            out.append(plen)
            out += (value >> (width - plen) << (width - plen) if plen else 0).to_bytes(width // 8, "big")[:n]
        return bytes(out)

    item = st.tuples(st.integers(0, 2**32 - 1), st.integers(0, width), st.integers(0, 2**width - 1))
    return st.lists(item, max_size=max_size).map(enc)


@st.composite
def valid_updates(draw):
    ctx = draw(contexts)
    ibgp = draw(st.booleans())
    width = 4 if ctx.asn4 else 2
    asn = st.integers(1, 2 ** (8 * width) - 1)
    seg_types = [1, 2, 3, 4] if ibgp else [1, 2]
    segments = draw(
        st.lists(st.tuples(st.sampled_from(seg_types), st.lists(asn, min_size=1, max_size=6)), max_size=4)
    )
    as_path = b"".join(
        bytes([t, len(ases)]) + b"".join(a.to_bytes(width, "big") for a in ases) for t, ases in segments
    )
    if not ibgp and not as_path:
        as_path = b"\x02\x01" + (65001).to_bytes(width, "big")
    parts = [attr(0x40, 1, bytes([draw(st.integers(0, 2))])), attr(0x40, 2, as_path)]
    nlri = draw(prefixes(32, ctx.ipv4_addpath))
    withdrawn = draw(prefixes(32, ctx.ipv4_addpath))
    if nlri or draw(st.booleans()):
        parts.append(attr(0x40, 3, draw(st.integers(0x01000000, 0xDFFFFFFF)).to_bytes(4, "big")))
    u32 = st.integers(0, 2**32 - 1).map(lambda x: x.to_bytes(4, "big"))
    optional = {
        4: lambda: attr(0x80, 4, draw(u32)),
        6: lambda: attr(0x40, 6, b""),
        7: lambda: attr(0xC0, 7, draw(asn).to_bytes(width, "big") + draw(u32)),
        8: lambda: attr(0xC0, 8, b"".join(draw(st.lists(u32, min_size=1, max_size=10)))),
        16: lambda: attr(
            0xC0, 16, draw(st.binary(min_size=1, max_size=6)).ljust(8, b"\x00") * draw(st.integers(1, 4))
        ),
        25: lambda: attr(0xC0, 25, bytes(20) * draw(st.integers(1, 3))),
        32: lambda: attr(0xC0, 32, draw(st.binary(min_size=12, max_size=12)) * draw(st.integers(1, 3))),
        35: lambda: attr(0xC0, 35, draw(u32)),
        40: lambda: attr(0xC0, 40, bytes([1, 0, 7]) + draw(st.binary(min_size=7, max_size=7))),
        26: lambda: attr(0x80, 26, bytes([1, 0, 11]) + draw(st.binary(min_size=8, max_size=8))),
        200: lambda: attr(0xC0, 200, draw(st.binary(max_size=300))),
        255: lambda: attr(0xE0, 255, draw(st.binary(max_size=40))),
    }
    if ibgp:
        optional[5] = lambda: attr(0x40, 5, draw(u32))
        optional[9] = lambda: attr(0x80, 9, draw(u32))
        optional[10] = lambda: attr(0x80, 10, b"".join(draw(st.lists(u32, min_size=1, max_size=5))))
    if not ctx.asn4:
        optional[17] = lambda: attr(0xC0, 17, b"\x02\x01" + draw(u32.filter(lambda b: b != bytes(4))))
    for code in draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=6)):
        parts.append(optional[code]())
    if draw(st.booleans()):
        nh = draw(st.sampled_from([16, 32]))
        mp_nlri = draw(prefixes(128, ctx.has_addpath(IPV6_UNICAST)))
        parts.append(attr(0x80, 14, struct.pack("!HBB", 2, 1, nh) + bytes(nh) + b"\x00" + mp_nlri))
    if draw(st.booleans()):
        parts.append(
            attr(0x80, 15, struct.pack("!HB", 2, 1) + draw(prefixes(128, ctx.has_addpath(IPV6_UNICAST))))
        )
    order = draw(st.permutations(parts))
    attrs = b"".join(order)
    body = struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", len(attrs)) + attrs + nlri
    return body, ctx, ibgp


@fuzz(400)
@given(update=valid_updates())
def test_valid_updates_are_ok(update):
    body, ctx, ibgp = update
    assert check_update(body, ctx, ibgp=ibgp) == Verdict()


def mutate(data, body: bytes) -> bytes:
    b = bytearray(body)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete", "u8", "u16"]))
        if not b:
            b += data.draw(st.binary(min_size=1, max_size=4))
            continue
        i = data.draw(st.integers(0, len(b) - 1))
        if kind == "flip":
            b[i] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "truncate":
            del b[i:]
        elif kind == "insert":
            b[i:i] = data.draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del b[i : i + data.draw(st.integers(1, 8))]
        elif kind == "u8":  # a length byte (attribute length, segment count, prefix length ...)
            b[i] = data.draw(st.sampled_from([0, 1, 2, 3, 4, 5, 7, 8, 12, 16, 20, 32, 33, 128, 129, 255]))
        elif i + 1 < len(b):  # a 16-bit length field (withdrawn, total attribute, extended length)
            b[i : i + 2] = data.draw(st.sampled_from([0, 1, 3, 4, 255, 256, 4096, 65535])).to_bytes(2, "big")
    return bytes(b)


@fuzz(2500)
@given(update=valid_updates(), data=st.data())
def test_mutated_updates_never_raise(update, data):
    body, ctx, ibgp = update
    bad = mutate(data, body)
    assert_sane(check_update(bad, ctx, ibgp=ibgp), len(bad))


@fuzz(400)
@given(update=valid_updates(), data=st.data())
def test_length_fields_tampered(update, data):
    body, ctx, ibgp = update
    b = bytearray(body)
    wlen = struct.unpack_from("!H", b, 0)[0]
    which = data.draw(st.sampled_from(["withdrawn", "attrs"]))
    at = 0 if which == "withdrawn" else 2 + wlen
    struct.pack_into("!H", b, at, data.draw(st.integers(0, 65535)))
    v = check_update(bytes(b), ctx, ibgp=ibgp)
    assert_sane(v, len(b))


# -- codecs ------------------------------------------------------------------------------------------

ATTR_SPECS = sorted(core().attrs.items())


@pytest.mark.parametrize(("code", "spec"), ATTR_SPECS, ids=[s.name for _, s in ATTR_SPECS])
def test_attribute_codec_only_wire_error(code, spec):
    @fuzz(200)
    @given(flags=st.integers(0, 255), value=st.binary(max_size=300), ctx=contexts)
    def run(flags, value, ctx):
        try:
            spec.cls.from_wire(flags, memoryview(value), ctx, 23)
        except WireError:
            pass

    run()


FAMILY_SPECS = sorted(core().families.items())


@pytest.mark.parametrize(("family", "spec"), FAMILY_SPECS, ids=[f.name for f, _ in FAMILY_SPECS])
def test_family_codec_only_wire_error(family, spec):
    @fuzz(300)
    @given(data=st.binary(max_size=200), addpath=st.booleans())
    def run(data, addpath):
        try:
            for _ in spec.decode(data, 0, len(data), addpath, 0):
                pass
        except WireError:
            pass

    run()


# -- messages ----------------------------------------------------------------------------------------


@fuzz(1500)
@given(body=st.binary(max_size=300))
def test_notification_decode_only_wire_error_and_round_trips(body):
    try:
        msg = Notification.from_wire(memoryview(body))
    except WireError as e:
        assert (e.code, e.subcode) == (1, 2)
        return
    doc = msg.to_json()
    assert Notification.from_json(doc) == msg
    assert msg.to_bytes()[19:] == body
    str(msg)


@fuzz(800)
@given(body=st.binary(max_size=12))
def test_route_refresh_decode_only_wire_error_and_round_trips(body):
    try:
        rr = RouteRefresh.from_wire(body)
    except WireError as e:
        assert (e.code, e.subcode) == (7, 1)
        return
    assert RouteRefresh.from_json(rr.to_json()) == rr
    assert rr.body() == body


@fuzz(200)
@given(body=st.binary(max_size=8))
def test_keepalive_decode_only_wire_error(body):
    try:
        Keepalive.from_wire(body)
    except WireError as e:
        assert (e.code, e.subcode) == (1, 2)
        return
    assert body == b""


# -- regression vectors ------------------------------------------------------------------------------


def test_regression_attribute_255_e0_32_bytes_is_accepted():
    nh = attr(0x40, 3, bytes([192, 0, 2, 1]))
    attrs = attr(0x40, 1, b"\x00") + attr(0x40, 2, b"\x02\x01\x00\x00\xfd\xe9") + nh
    attrs += bytes([0xE0, 0xFF, 0x20]) + bytes(range(32))
    body = struct.pack("!HH", 0, len(attrs)) + attrs + bytes([24, 10, 0, 0])
    assert check_update(body, EncodingContext(), ibgp=False) == Verdict()
    # alone, without NLRI
    alone = bytes([0xE0, 0xFF, 0x20]) + bytes(32)
    assert check_update(struct.pack("!HH", 0, len(alone)) + alone, EncodingContext(), ibgp=True) == Verdict()


# -- differential: the validator's object-free prefix check agrees with the NLRI walk ----------------


@fuzz(1500)
@given(data=st.binary(max_size=60), afi=st.sampled_from([1, 2]), addpath=st.booleans())
def test_prefix_check_agrees_with_walk(data, afi, addpath):
    from ze.bgp.wire.nlri.prefix import walk

    width = 32 if afi == 1 else 128
    bad = validate._prefix_error(memoryview(data), 0, len(data), width, addpath)
    try:
        list(walk(data, 0, len(data), afi, addpath))
    except WireError as e:
        assert bad is not None
        assert (e.code, e.subcode) == (3, 10)
        return
    assert bad is None
