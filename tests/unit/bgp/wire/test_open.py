"""OPEN: fixed fields, optional parameters (RFC 5492, RFC 9072), NOTIFICATION codes, JSON."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.unit.bgp.wire.test_capability_property import CAPABILITIES
from ze.bgp.wire.capability.addpath import AddPath
from ze.bgp.wire.capability.asn4 import ASN4
from ze.bgp.wire.capability.base import Capability, CapSpec, Unknown
from ze.bgp.wire.capability.multiprotocol import Multiprotocol
from ze.bgp.wire.capability.route_refresh import RouteRefresh
from ze.bgp.wire.codecs import Codecs
from ze.bgp.wire.header import parse_header
from ze.bgp.wire.open import AS_TRANS, Open
from ze.core.errors import WireError
from ze.core.family import IPV4_UNICAST, IPV6_UNICAST

M = "FF" * 16
MP4 = Multiprotocol.from_value(IPV4_UNICAST)
MP6 = Multiprotocol.from_value(IPV6_UNICAST)
RR = RouteRefresh.from_value()


def parse(hexmsg: str, codecs=None) -> Open:
    data = bytes.fromhex(hexmsg)
    _, length = parse_header(data)
    return Open.from_wire(memoryview(data)[19:length], codecs=codecs)


def error(hexmsg: str) -> tuple[int, int, int | None, bytes]:
    with pytest.raises(WireError) as e:
        parse(hexmsg)
    return e.value.code, e.value.subcode, e.value.offset, e.value.data


def test_from_value_exact_bytes():
    o = Open.from_value(65001, 90, "192.0.2.1", [MP4, RR])
    # 19 header + 10 fixed + 10 parameters = 39 (0x27); one parameter of 8 bytes.
    assert o.to_bytes() == bytes.fromhex(
        M + "0027" + "01" + "04FDE9005AC0000201" + "0A" + "0208" + "010400010001" + "0200"
    )
    assert (o.version, o.asn, o.hold_time, o.router_id, o.router_id_int) == (
        4,
        65001,
        90,
        "192.0.2.1",
        0xC0000201,
    )
    assert list(o.capabilities()) == [MP4, RR]
    assert (o.extended, o.groups, o.capability_codes()) == (False, (2,), (1, 2))


def test_from_value_four_byte_asn_uses_as_trans():
    o = Open.from_value(4200000001, 180, 0x0A000001, [ASN4.from_value(4200000001)])
    assert o.to_bytes().hex().upper() == M + "0025" + "01" + "045BA000B40A000001" + "08" + "02064104FA56EA01"
    assert (o.asn, o.asn4()) == (AS_TRANS, 4200000001)
    assert o.capability(65) == ASN4.from_value(4200000001)
    assert o.capability(2) is None


def test_asn4_falls_back_to_the_two_byte_field():
    assert Open.from_value(65001, 90, "10.0.0.1", [MP4]).asn4() == 65001


def test_one_parameter_per_capability_layout_kept():
    o = Open.from_value(65001, 90, "10.0.0.1", [MP4, RR], groups="each")
    assert (
        o.to_bytes().hex().upper()
        == M + "0029" + "01" + "04FDE9005A0A000001" + "0C" + "0206010400010001" + "02020200"
    )
    back = parse(o.to_bytes().hex())
    assert back == o and back.groups == (1, 1)
    assert back.to_json()["parameters"] == [1, 1]
    assert Open.from_json(back.to_json()) == o


def test_rfc9072_used_when_parameters_exceed_255_bytes():
    caps = [Multiprotocol.from_value(f"ipv4/safi-{s}") for s in range(1, 44)]  # 43 * 6 = 258 bytes
    o = Open.from_value(65001, 90, "10.0.0.1", caps)
    raw = o.to_bytes()
    assert raw[28:33] == bytes.fromhex("FFFF") + (3 + 258).to_bytes(2, "big") + b"\x02"
    assert raw[33:35] == (258).to_bytes(2, "big")
    assert o.extended and "extended-parameters" not in o.to_json()
    back = parse(raw.hex())
    assert back == o and list(back.capabilities()) == caps
    # 42 capabilities (252 bytes + 2 header = 254) still fit the RFC 4271 encoding.
    assert not Open.from_value(65001, 90, "10.0.0.1", caps[:42]).extended
    with pytest.raises(ValueError):
        Open.from_value(65001, 90, "10.0.0.1", caps, extended=False)


def test_rfc9072_forced_and_non_ext_len_ignored():
    o = Open.from_value(65001, 90, "10.0.0.1", [MP4], extended=True)
    assert (
        o.to_bytes().hex().upper()
        == M + "0029" + "01" + "04FDE9005A0A000001" + "FFFF0009" + "020006010400010001"
    )
    assert o.to_json()["extended-parameters"] is True
    # RFC 9072: Non-Ext OP Len is ignored once Non-Ext OP Type says 255.
    o2 = parse(M + "0029" + "01" + "04FDE9005A0A000001" + "01FF0009" + "020006010400010001")
    assert list(o2.capabilities()) == [MP4]


def test_unknown_capability_kept_and_a_feature_codec_used_when_given():
    hexmsg = M + "0022" + "01" + "04FDE9005A0A000001" + "05" + "0203" + "FA0142"
    o = parse(hexmsg)
    assert list(o.capabilities()) == [Unknown(b"\x42", 250)]
    assert o.to_json()["capabilities"] == [{"code": 250, "name": "unknown", "value": "42"}]

    class Magic(RouteRefresh):
        CODE = 250
        NAME = "magic"

        @classmethod
        def from_wire(cls, view, base=0):
            if len(view) != 1:
                raise WireError("magic: one byte", base, 2, 0)
            return cls(view)

        def to_json(self):
            return self.raw[0]

    class Plain(Capability):  # a feature codec with the base JSON (hex) and no from_json
        CODE = 251
        NAME = "plain"

    plain = Open.from_value(65001, 90, "10.0.0.1", [Plain(b"\x01\x02")])
    pcodecs = Codecs.build(capabilities=[CapSpec(251, "plain", Plain, owner="test")])
    assert plain.to_json(pcodecs)["capabilities"] == [{"code": 251, "name": "plain", "value": "0102"}]
    assert Open.from_json(plain.to_json(pcodecs), pcodecs) == plain

    codecs = Codecs.build(capabilities=[CapSpec(250, "magic", Magic, owner="test")])
    o = parse(hexmsg, codecs)
    assert o.to_json()["capabilities"] == [{"code": 250, "name": "magic", "value": 0x42}]
    with pytest.raises(WireError):
        parse(M + "0023" + "01" + "04FDE9005A0A000001" + "06" + "0204" + "FA024243", codecs)


def test_json_shape():
    o = Open.from_value(65001, 180, "192.0.2.1", [MP4, AddPath.from_value([(IPV4_UNICAST, "both")])])
    assert o.to_json() == {
        "version": 4,
        "asn": 65001,
        "hold-time": 180,
        "router-id": "192.0.2.1",
        "capabilities": [
            {"code": 1, "name": "multiprotocol", "value": "ipv4/unicast"},
            {"code": 69, "name": "addpath", "value": [{"family": "ipv4/unicast", "mode": "both"}]},
        ],
    }
    assert Open.from_json(o.to_json()) == o


def test_from_json_rejects_a_name_that_does_not_match_the_code():
    with pytest.raises(ValueError):
        Open.from_json(
            {
                "asn": 1,
                "hold-time": 0,
                "router-id": "1.1.1.1",
                "capabilities": [{"code": 2, "name": "asn4", "value": 1}],
            }
        )


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"asn": 0}, "asn 0"),
        ({"asn": 1 << 32}, "asn too big"),
        ({"hold_time": 2}, "hold 2"),
        ({"hold_time": 70000}, "hold too big"),
        ({"router_id": "0.0.0.0"}, "router id 0"),
        ({"router_id": "not-an-ip"}, "router id text"),
        ({"groups": [3]}, "counts do not add up"),
        ({"groups": "some"}, "bad groups"),
    ],
)
def test_from_value_refuses_what_from_wire_would_refuse(kwargs, why):
    args = {"asn": 65001, "hold_time": 90, "router_id": "10.0.0.1", "capabilities": [MP4]} | kwargs
    with pytest.raises(ValueError):
        Open.from_value(**args)


# -- NOTIFICATION codes ------------------------------------------------------------------------


def test_regression_vector_opt_len_255_nothing_after():
    assert error(M + "001D0104DEAD00DEADBEEF6BFF") == (2, 0, 28, b"")


def test_regression_vector_extended_param_header_cut_short():
    assert error(M + "00220104DEAD0005C0A83901FFFF00020001") == (2, 0, 32, b"")


def test_unsupported_version_carries_version_4():
    assert error(M + "001D" + "01" + "05FDE900B40A000001" + "00") == (2, 1, 19, b"\x00\x04")


def test_bad_peer_as_only_for_zero():
    assert error(M + "001D" + "01" + "040000" + "00B40A000001" + "00") == (2, 2, 20, b"")
    assert parse(M + "001D" + "01" + "04FFFF" + "00B40A000001" + "00").asn == 65535


@pytest.mark.parametrize("hold", [1, 2])
def test_unacceptable_hold_time(hold):
    assert error(M + "001D" + "01" + "04FDE9" + f"{hold:04X}" + "0A000001" + "00") == (2, 6, 22, b"")


@pytest.mark.parametrize("hold", [0, 3, 65535])
def test_acceptable_hold_times(hold):
    assert parse(M + "001D" + "01" + "04FDE9" + f"{hold:04X}" + "0A000001" + "00").hold_time == hold


def test_bad_router_id():
    assert error(M + "001D" + "01" + "04FDE900B4" + "00000000" + "00") == (2, 3, 24, b"")


def test_unsupported_optional_parameter():
    assert error(M + "0020" + "01" + "04FDE900B40A000001" + "03" + "010100") == (2, 4, 29, b"")


def test_short_body_is_bad_message_length():
    with pytest.raises(WireError) as e:
        Open.from_wire(memoryview(bytes.fromhex("04FDE900B40A000001")))
    assert (e.value.code, e.value.subcode, e.value.data) == (1, 2, b"\x00\x1c")


def test_malformed_capability_inside_an_open_names_the_byte():
    # Second capability of the parameter: asn4 with a 3-byte value.
    hexmsg = M + "0026" + "01" + "04FDE900B40A000001" + "09" + "0207" + "0200" + "4103000000"
    assert error(hexmsg) == (2, 0, 35, b"")


# -- properties --------------------------------------------------------------------------------

FAST = settings(max_examples=120, deadline=None)


@st.composite
def opens(draw):
    caps = draw(
        st.lists(
            st.one_of(CAPABILITIES, st.builds(Unknown, st.binary(max_size=20), st.integers(128, 255))),
            max_size=8,
        )
    )
    layout = draw(st.sampled_from(["single", "each", "split"]))
    groups = None
    if layout == "each":
        groups = "each"
    elif layout == "split":
        cuts = sorted(draw(st.lists(st.integers(0, len(caps)), max_size=3)))
        bounds = [0, *cuts, len(caps)]
        groups = [b - a for a, b in itertools.pairwise(bounds)]
    try:
        return Open.from_value(
            draw(st.integers(1, 0xFFFFFFFF)),
            draw(st.one_of(st.just(0), st.integers(3, 0xFFFF))),
            draw(st.integers(1, 0xFFFFFFFF)),
            caps,
            groups=groups,
            extended=draw(st.sampled_from([None, True])),
        )
    except ValueError:  # more than 4096 bytes
        assume(False)


@FAST
@given(opens())
def test_open_round_trips_through_bytes_and_json(o):
    data = o.to_bytes()
    assert parse_header(data) == (1, len(data))
    again = Open.from_wire(memoryview(data)[19:])
    assert again == o and again.to_bytes() == data
    assert [c.to_bytes() for c in again.capabilities()] == [c.to_bytes() for c in o.capabilities()]
    assert Open.from_json(json.loads(json.dumps(again.to_json()))).to_bytes() == data


def _check_any(body: bytes) -> None:
    try:
        o = Open.from_wire(memoryview(body))
    except WireError as e:
        assert e.code in (1, 2)
        return
    doc = o.to_json()
    list(o.capabilities())
    if not (o.extended and body[9] != 255):  # RFC 9072: a Non-Ext OP Len other than 255 is not kept
        assert Open.from_json(doc).raw == body


@FAST
@given(st.binary(max_size=120))
def test_arbitrary_bytes_only_raise_wire_error(body):
    _check_any(body)


@FAST
@given(st.sampled_from(["", "FF", "FFFF", "01", "00"]), st.binary(max_size=80))
def test_arbitrary_parameters_only_raise_wire_error(optlen_hint, tail):
    fixed = bytes.fromhex("04FDE900B40A000001")
    body = fixed + (bytes.fromhex(optlen_hint[:2]) if optlen_hint else bytes([len(tail) & 0xFF])) + tail
    _check_any(body)


@FAST
@given(opens(), st.integers(0, 4095), st.integers(0, 255))
def test_mutated_opens_only_raise_wire_error(o, where, byte):
    body = bytearray(o.raw)
    body[where % len(body)] = byte
    _check_any(bytes(body))


@FAST
@given(opens(), st.integers(0, 4095))
def test_truncated_opens_only_raise_wire_error(o, cut):
    _check_any(o.raw[: cut % (len(o.raw) + 1)])
