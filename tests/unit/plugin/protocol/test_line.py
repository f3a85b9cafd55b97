"""The `#<id> <verb> [<json>]` line codec: exact bytes both ways, and every bad line."""

from __future__ import annotations

import pytest

from ze.plugin.protocol import line
from ze.plugin.protocol.line import LineDecoder, Message, ProtocolError


def test_encode_exact_bytes():
    assert line.request(1, "ze-api:show-peers") == b"#1 ze-api:show-peers\n"
    assert line.request(7, "ze-api:show-peer", {"name": "a"}) == b'#7 ze-api:show-peer {"name":"a"}\n'
    assert line.ok(7, {"peer-count": 2}) == b'#7 ok {"peer-count":2}\n'
    assert line.ok(3) == b"#3 ok\n"
    assert (
        line.error(3, "not-found", "no peer 'x'")
        == b'#3 error {"code":"not-found","message":"no peer \'x\'"}\n'
    )
    assert Message(0, "auth", {"token": "t", "name": "n"}).encode() == b'#0 auth {"token":"t","name":"n"}\n'


def test_encode_refuses_bad_input():
    with pytest.raises(ValueError, match="bad verb 'two words'"):
        line.encode(1, "two words")
    with pytest.raises(ValueError, match="message id must be >= 0"):
        line.encode(-1, "ok")


def test_decode():
    assert line.decode(b'#12 ze-api:show-peer {"name":"a"}\n') == Message(
        12, "ze-api:show-peer", {"name": "a"}
    )
    assert line.decode(b"#0 ok") == Message(0, "ok", None)
    assert line.decode(b"#5 ok \r\n") == Message(5, "ok", None)
    assert line.decode(b"#5 error {}").is_response
    assert not line.decode(b"#5 ze-plugin-engine:ready {}").is_response


@pytest.mark.parametrize(
    ("raw", "code", "message", "mid"),
    [
        (b"hello", "bad-line", "a line starts with '#<id> '", None),
        (b"#x ok", "bad-line", "bad id 'x': expected a non-negative integer", None),
        (b"#-1 ok", "bad-line", "bad id '-1': expected a non-negative integer", None),
        (b"#4", "bad-line", "missing verb after the id", 4),
        (b"#4 b@d", "bad-line", "bad verb 'b@d'", 4),
        (b"#4 m:x {nope", "bad-json", "payload is not JSON: ", 4),
        (b"#4 m:x \xff", "bad-line", "not UTF-8 at byte 7", None),
    ],
)
def test_decode_errors(raw, code, message, mid):
    with pytest.raises(ProtocolError) as e:
        line.decode(raw)
    assert (e.value.code, e.value.id) == (code, mid)
    assert e.value.message.startswith(message)


def test_decoder_byte_at_a_time():
    data = b'#1 ze-api:show-peers\n\n#2 ze-api:show-peer {"name":"a b"}\n#3 garbage\nbad\n#4 ok'
    d = LineDecoder()
    out = []
    for i in range(len(data)):
        out.extend(d.feed(data[i : i + 1]))
    assert out[:3] == [
        Message(1, "ze-api:show-peers", None),
        Message(2, "ze-api:show-peer", {"name": "a b"}),
        Message(3, "garbage", None),
    ]
    assert isinstance(out[3], ProtocolError) and out[3].message == "a line starts with '#<id> '"
    assert len(out) == 4 and d.pending == len(b"#4 ok")
    assert d.feed(b"\n") == [Message(4, "ok", None)]


def test_decoder_over_long_line_is_skipped():
    d = LineDecoder(max_line=16)
    out = d.feed(b"#1 " + b"x" * 20)
    assert [(type(o).__name__, o.code) for o in out] == [("ProtocolError", "too-long")]
    assert d.feed(b"yyyy\n#2 ok\n") == [Message(2, "ok", None)]
    out = d.feed(b"#3 " + b"z" * 14 + b"\n#4 ok\n")
    assert isinstance(out[0], ProtocolError) and out[0].code == "too-long"
    assert out[1:] == [Message(4, "ok", None)]
