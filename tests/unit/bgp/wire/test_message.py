from __future__ import annotations

import pytest

from ze.bgp.wire import message
from ze.bgp.wire.header import MARKER
from ze.bgp.wire.message import RawMessage, decode_any, decode_input, decode_message, message_type
from ze.bgp.wire.render import message_json
from ze.bgp.wire.update import WireUpdate
from ze.core.errors import WireError

# examples/update-sample.hex
SAMPLE = bytes.fromhex("FF" * 16 + "002F02000000144001010040020602010000FDE9400304C0000201180A0000")
KEEPALIVE = MARKER + bytes.fromhex("001304")


def test_dispatch_table_names_every_type():
    assert message.DISPATCH == {
        1: "ze.bgp.wire.open:Open",
        2: "ze.bgp.wire.update:WireUpdate",
        3: "ze.bgp.wire.notification:Notification",
        4: "ze.bgp.wire.keepalive:Keepalive",
        5: "ze.bgp.wire.refresh:RouteRefresh",
    }


def test_decode_whole_update():
    u = decode_message(SAMPLE)
    assert isinstance(u, WireUpdate)
    assert u.body() == SAMPLE[19:]
    assert message_type(u) == 2


def test_three_input_forms_give_the_same_update():
    full, shift_full = decode_input(SAMPLE)
    no_marker, shift_nm = decode_input(SAMPLE[16:])
    body, shift_body = decode_input(SAMPLE[19:])
    assert full.body() == no_marker.body() == body.body() == SAMPLE[19:]
    assert (shift_full, shift_nm, shift_body) == (0, 16, 19)


def test_keepalive_type():
    assert message_type(decode_any(KEEPALIVE)) == 4
    assert message_json(decode_any(KEEPALIVE))["bgp"]["message"] == {"type": "keepalive"}


def test_trailing_and_short():
    with pytest.raises(WireError) as e:
        decode_message(SAMPLE + b"\x00")
    assert (e.value.code, e.value.subcode, e.value.offset) == (1, 2, len(SAMPLE))
    with pytest.raises(WireError) as e:
        decode_message(SAMPLE[:-1])
    assert (e.value.code, e.value.subcode, e.value.offset) == (1, 2, 16)


def test_offsets_within_what_was_given():
    body = bytes.fromhex("0005" + "00")
    with pytest.raises(WireError) as e:
        decode_any(body + b"\x00\x00")
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 1, 0)
    with pytest.raises(WireError) as e:
        decode_any(bytes.fromhex("0018" + "02" + "0005" + "00" + "0000"))  # no marker: length+type+body
    assert (e.value.code, e.value.subcode, e.value.offset) == (3, 1, 3)
    with pytest.raises(WireError) as e:
        decode_any(b"\x00\x00")
    assert (e.value.code, e.value.subcode, e.value.offset) == (1, 2, 0)


def test_missing_codec_module_decodes_raw(monkeypatch):
    monkeypatch.setitem(message.DISPATCH, 5, "ze.bgp.wire.no_such_module:Refresh")
    monkeypatch.delitem(message._resolved, 5, raising=False)
    msg = decode_any(MARKER + bytes.fromhex("00170500010001"))
    assert msg == RawMessage(5, bytes.fromhex("00010001"))
    assert message_json(msg) == {
        "type": "bgp",
        "bgp": {"message": {"type": "route-refresh"}, "route-refresh": {"raw": "00010001"}},
    }
    monkeypatch.delitem(message._resolved, 5)


def test_split_messages():
    parts = message.split_messages(SAMPLE + KEEPALIVE)
    assert [(off, bytes(v)) for off, v in parts] == [(0, SAMPLE), (len(SAMPLE), KEEPALIVE)]
    with pytest.raises(WireError) as e:
        message.split_messages(SAMPLE + KEEPALIVE[:-1])
    assert e.value.offset == len(SAMPLE)


def test_split_messages_trailing_bytes():
    with pytest.raises(WireError) as e:
        message.split_messages(SAMPLE + b"\x00\x01\x02")
    assert (e.value.code, e.value.subcode, e.value.offset) == (1, 2, len(SAMPLE))
    assert str(e.value) == f"3 bytes after the last whole message (at byte {len(SAMPLE)})"
