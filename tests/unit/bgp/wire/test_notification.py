from __future__ import annotations

import pytest

from ze.bgp.wire import notification as n
from ze.bgp.wire.notification import Notification
from ze.core.errors import WireError
from ze.core.family import IPV6_UNICAST

HDR = "FF" * 16


def test_cease_admin_shutdown_with_communication_bytes_and_json():
    msg = Notification.from_value(6, 2, communication="maintenance")
    assert msg.to_bytes() == bytes.fromhex(HDR + "0021" + "03" + "0602" + "0B" + b"maintenance".hex())
    assert msg.to_json() == {
        "code": 6,
        "code-name": "cease",
        "subcode": 2,
        "subcode-name": "administrative-shutdown",
        "data": "0B6D61696E74656E616E6365",
        "communication": "maintenance",
    }
    assert Notification.from_json(msg.to_json()) == msg
    assert Notification.from_json({"code": "cease", "subcode": 2, "communication": "maintenance"}) == msg


def test_from_wire_decodes_body_and_communication_utf8():
    text = "réinitialisation ✓"
    raw = text.encode()
    body = bytes([6, 4, len(raw)]) + raw
    msg = Notification.from_wire(memoryview(body))
    assert (msg.code, msg.subcode, msg.data) == (6, 4, bytes([len(raw)]) + raw)
    assert msg.communication == text
    assert msg.subcode_name == "administrative-reset"


def test_communication_of_255_bytes_accepted_256_refused():
    ok = Notification.from_value(6, 2, communication="x" * 255)
    assert ok.data == b"\xff" + b"x" * 255
    assert ok.communication == "x" * 255
    with pytest.raises(ValueError, match="at most 255"):
        Notification.from_value(6, 2, communication="x" * 256)


@pytest.mark.parametrize(
    "data",
    [
        bytes.fromhex("05414243"),  # length says 5, only 3 follow
        bytes.fromhex("0241"),  # length says 2, only 1 follows
        bytes.fromhex("02C328"),  # invalid UTF-8
        bytes.fromhex("0141FF"),  # trailing byte after the text
    ],
)
def test_malformed_communication_keeps_raw_hex_and_never_raises(data):
    msg = Notification.from_wire(bytes([6, 2]) + data)
    assert msg.communication is None
    assert msg.to_json() == {
        "code": 6,
        "code-name": "cease",
        "subcode": 2,
        "subcode-name": "administrative-shutdown",
        "data": data.hex().upper(),
    }


def test_empty_communication_length_zero():
    msg = Notification.from_wire(bytes.fromhex("060200"))
    assert msg.communication == ""


def test_communication_only_for_cease_2_and_4():
    msg = Notification.from_wire(bytes.fromhex("0603" + "0141"))
    assert msg.communication is None
    assert "communication" not in msg.to_json()


def test_max_prefixes_data_decoded():
    msg = Notification.from_wire(bytes.fromhex("0601" + "0002" + "01" + "000003E8"))
    assert msg.max_prefixes == (IPV6_UNICAST, 1000)
    assert msg.to_json() == {
        "code": 6,
        "code-name": "cease",
        "subcode": 1,
        "subcode-name": "maximum-number-of-prefixes-reached",
        "data": "000201000003E8",
        "family": "ipv6/unicast",
        "max-prefixes": 1000,
    }
    # wrong size: kept as hex only
    assert Notification.from_wire(bytes.fromhex("0601000201")).max_prefixes is None


def test_short_body_is_header_error_1_2():
    with pytest.raises(WireError) as e:
        Notification.from_wire(b"\x06", base=19)
    assert (e.value.code, e.value.subcode, e.value.offset, e.value.data) == (1, 2, 19, b"\x00\x14")
    with pytest.raises(WireError):
        Notification.from_wire(b"")


def test_unknown_code_and_subcode_names():
    msg = Notification.from_wire(bytes.fromhex("2A07"))
    assert msg.to_json() == {
        "code": 42,
        "code-name": "code-42",
        "subcode": 7,
        "subcode-name": "subcode-7",
        "data": "",
    }
    assert Notification.from_json(msg.to_json()) == msg


@pytest.mark.parametrize(
    ("code", "subcode", "name", "subname"),
    [
        (1, 1, "message-header-error", "connection-not-synchronized"),
        (1, 2, "message-header-error", "bad-message-length"),
        (1, 3, "message-header-error", "bad-message-type"),
        (2, 1, "open-message-error", "unsupported-version-number"),
        (2, 2, "open-message-error", "bad-peer-as"),
        (2, 3, "open-message-error", "bad-bgp-identifier"),
        (2, 4, "open-message-error", "unsupported-optional-parameter"),
        (2, 6, "open-message-error", "unacceptable-hold-time"),
        (2, 7, "open-message-error", "unsupported-capability"),
        (2, 11, "open-message-error", "role-mismatch"),
        (3, 1, "update-message-error", "malformed-attribute-list"),
        (3, 2, "update-message-error", "unrecognized-well-known-attribute"),
        (3, 3, "update-message-error", "missing-well-known-attribute"),
        (3, 4, "update-message-error", "attribute-flags-error"),
        (3, 5, "update-message-error", "attribute-length-error"),
        (3, 6, "update-message-error", "invalid-origin-attribute"),
        (3, 8, "update-message-error", "invalid-next-hop-attribute"),
        (3, 9, "update-message-error", "optional-attribute-error"),
        (3, 10, "update-message-error", "invalid-network-field"),
        (3, 11, "update-message-error", "malformed-as-path"),
        (4, 0, "hold-timer-expired", "unspecific"),
        (5, 1, "fsm-error", "unexpected-message-in-opensent"),
        (5, 2, "fsm-error", "unexpected-message-in-openconfirm"),
        (5, 3, "fsm-error", "unexpected-message-in-established"),
        (6, 1, "cease", "maximum-number-of-prefixes-reached"),
        (6, 2, "cease", "administrative-shutdown"),
        (6, 3, "cease", "peer-de-configured"),
        (6, 4, "cease", "administrative-reset"),
        (6, 5, "cease", "connection-rejected"),
        (6, 6, "cease", "other-configuration-change"),
        (6, 7, "cease", "connection-collision-resolution"),
        (6, 8, "cease", "out-of-resources"),
        (6, 9, "cease", "hard-reset"),
        (6, 10, "cease", "bfd-down"),
        (7, 1, "route-refresh-message-error", "invalid-message-length"),
        (8, 0, "send-hold-timer-expired", "unspecific"),
    ],
)
def test_names_table(code, subcode, name, subname):
    msg = Notification(code, subcode)
    assert (msg.code_name, msg.subcode_name) == (name, subname)
    assert Notification.from_json({"code": name, "subcode": subname}) == msg


def test_from_error_uses_code_or_default():
    err = WireError("bad", 30, 3, 5, b"\x40\x01\x02\x00\x00")
    assert Notification.from_error(err) == Notification(3, 5, b"\x40\x01\x02\x00\x00")
    bare = WireError("short", 25)
    assert Notification.from_error(bare) == Notification(3, 0)
    assert Notification.from_error(bare, 2, 0) == Notification(2, 0)


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ({}, "needs at least"),
        ({"code": "nope"}, "unknown notification code"),
        ({"code": 6, "subcode": "nope"}, "unknown subcode"),
        ({"code": 6, "subcode": 2, "data": "XYZ"}, "not hex"),
        ({"code": True}, "expected a number"),
        ({"code": 6, "subcode": 2.5}, "expected a number"),
        ({"code": 300}, "out of range"),
    ],
)
def test_from_json_errors(obj, match):
    with pytest.raises(ValueError, match=match):
        Notification.from_json(obj)


def test_from_value_refuses_data_and_communication():
    with pytest.raises(ValueError, match="not both"):
        Notification.from_value(6, 2, b"\x00", communication="x")


def test_str_and_constants():
    assert str(Notification.from_value(6, 2, communication="bye")) == "cease/administrative-shutdown 'bye'"
    assert str(Notification(3, 1, b"\x01")) == "update-message-error/malformed-attribute-list 01"
    assert str(Notification(4, 0)) == "hold-timer-expired/unspecific"
    assert n.CODES[n.SEND_HOLD_TIMER_EXPIRED] == "send-hold-timer-expired"
