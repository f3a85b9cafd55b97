from __future__ import annotations

import pytest

from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.header import MARKER
from ze.bgp.wire.message import decode_message
from ze.bgp.wire.render import message_json, update_from_json, update_json, update_view
from ze.bgp.wire.update import WireUpdate
from ze.core.family import IPV4_UNICAST, IPV6_UNICAST

GLOBAL = "20010DB8000000000000000000000001"
LL = "FE800000000000000000000000000001"


def test_classic_update_event_shape():
    body = bytes.fromhex("0003100A09" + "000B" + "40010100" + "400304C0000201" + "180A0000")
    u = WireUpdate(body, DEFAULT, msg_id=9)
    assert message_json(u, direction="received", peer="192.0.2.2") == {
        "type": "bgp",
        "bgp": {
            "message": {"type": "update", "id": 9, "direction": "received"},
            "peer": {"address": "192.0.2.2"},
            "update": {
                "attr": {"origin": "igp"},
                "nlri": {
                    "ipv4/unicast": [
                        {"action": "del", "nlri": ["10.9.0.0/16"]},
                        {"next-hop": "192.0.2.1", "action": "add", "nlri": ["10.0.0.0/24"]},
                    ]
                },
            },
        },
    }


def test_update_view_is_cached():
    u = WireUpdate(bytes.fromhex("0000000440010100"), DEFAULT)
    first = update_json(u)
    assert update_json(u) is first
    assert message_json(u)["bgp"]["update"] is first
    assert first == {"attr": {"origin": "igp"}, "nlri": {}}


def test_mp_update_with_link_local_and_addpath():
    ctx = EncodingContext(addpath=frozenset({IPV6_UNICAST}))
    reach = "00020120" + GLOBAL + LL + "00" + "00000003" + "3020010DB80001"
    unreach = "000201" + "00000004" + "3020010DB80002"
    body = bytes.fromhex("0000" + "0048" + "40010100" + "800E30" + reach + "800F0E" + unreach)
    u = WireUpdate(body, ctx)
    assert update_json(u) == {
        "attr": {"origin": "igp"},
        "nlri": {
            "ipv6/unicast": [
                {"action": "del", "nlri": ["2001:db8:2::/48 path-id 4"]},
                {
                    "next-hop": "2001:db8::1",
                    "next-hop-link-local": "fe80::1",
                    "action": "add",
                    "nlri": ["2001:db8:1::/48 path-id 3"],
                },
            ]
        },
    }
    assert (
        update_from_json(update_json(u), ctx) == MARKER + (19 + len(body)).to_bytes(2, "big") + b"\x02" + body
    )


def test_eor_views():
    assert update_json(WireUpdate(b"\x00\x00\x00\x00", DEFAULT)) == {
        "attr": {},
        "nlri": {"ipv4/unicast": [{"action": "eor"}]},
    }
    assert update_json(WireUpdate(bytes.fromhex("00000006800F03000201"), DEFAULT)) == {
        "attr": {},
        "nlri": {"ipv6/unicast": [{"action": "eor"}]},
    }
    assert update_from_json({"nlri": {"ipv4/unicast": [{"action": "eor"}]}}) == MARKER + bytes.fromhex(
        "00170200000000"
    )


def test_unknown_attribute_and_lone_next_hop_in_attr():
    u = WireUpdate(bytes.fromhex("0000" + "000E" + "400304C0000201" + "E0FF04DEADBEEF"), DEFAULT)
    assert update_json(u) == {
        "attr": {"attribute-255": {"code": 255, "flags": 224, "hex": "DEADBEEF"}, "next-hop": "192.0.2.1"},
        "nlri": {},
    }


def test_json_round_trip_whole_event():
    msg = MARKER + bytes.fromhex("002602" + "0000000B" + "40010100" + "400304C0000201" + "180A0000")
    event = message_json(decode_message(msg), direction="sent")
    assert update_from_json(event) == msg


def test_families_in_order():
    assert [IPV4_UNICAST.name] == ["ipv4/unicast"]


def test_formats_each_computed_once():
    body = bytes.fromhex("0003100A09" + "000B" + "40010100" + "400304C0000201" + "180A0000" + "180A0001")
    u = WireUpdate(body, DEFAULT)
    whole = MARKER + (19 + len(body)).to_bytes(2, "big") + b"\x02" + body
    assert update_view(u, "hex") == {"hex": whole.hex().upper()}
    assert update_view(u, "summary") == {"nlri": {"ipv4/unicast": {"add": 2, "del": 1}}}
    full = update_view(u, "full")
    assert full == {**update_json(u), "hex": whole.hex().upper()}
    assert update_view(u, "full") is full
    assert set(u.rendered) == {"parsed", "hex", "summary", "full"}
    assert message_json(u, fmt="summary")["bgp"]["update"] is update_view(u, "summary")
    assert update_view(WireUpdate(b"\x00\x00\x00\x00", DEFAULT), "summary") == {
        "nlri": {"ipv4/unicast": {"add": 0, "del": 0, "eor": True}}
    }
    with pytest.raises(ValueError, match="format 'xml'"):
        update_view(u, "xml")
