from __future__ import annotations

import os
import select
import socket
import struct
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ze._native
from ze._native import AGAIN, DATA, EOF, compiled, pure

MARKER = b"\xff" * 16


def msg(mtype: int, body: bytes = b"") -> bytes:
    return MARKER + struct.pack("!HB", 19 + len(body), mtype) + body


KEEPALIVE = msg(4)
OPEN = msg(1, bytes([4, 0xFD, 0xE9, 0, 90, 192, 0, 2, 1, 0]))
UPDATE = msg(2, bytes([0, 0, 0, 0]))
UPDATE2 = msg(
    2,
    bytes([0, 0, 0, 20, 0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 192, 0, 2, 1, 0x40, 5, 4, 0, 0, 0, 100])
    + bytes([24, 10, 0, 1]),
)
NOTIFICATION = msg(3, bytes([6, 2]))
REFRESH = msg(5, bytes([0, 1, 0, 1]))
STREAM = [OPEN, KEEPALIVE, UPDATE2, UPDATE, REFRESH, KEEPALIVE, NOTIFICATION]


def messages(buffer, result) -> list[bytes]:
    f = result.frames
    out = []
    for i in range(0, len(f), 3):
        off, length, mtype = f[i : i + 3]
        data = bytes(buffer.view[off : off + length])
        assert data[18] == mtype
        out.append(data)
    return out


def test_compiled_backend_is_built():
    # pip install builds the helper; the twin stands in only when forced
    if os.environ.get("ZE_NATIVE") == "pure":
        assert ze._native.BACKEND == "pure"
    else:
        assert ze._native.BACKEND == "cffi"


def test_several_messages_in_one_read(impl):
    pool = impl.BufferPool(count=1)
    buf = pool.acquire()
    a, b = socket.socketpair()
    with a, b:
        a.sendall(KEEPALIVE + UPDATE + OPEN[:10])
        r = impl.read_frames(b, buf)
        assert (r.frames, r.status, r.nread, r.error) == ([0, 19, 4, 19, 23, 2], DATA, 52, None)
        assert (buf.start, buf.end) == (42, 52)
        a.sendall(OPEN[10:])
        r = impl.read_frames(b.fileno(), buf)
        assert r.frames[1:] == [len(OPEN), 1]
        assert messages(buf, r) == [OPEN]


def test_split_at_every_byte(impl):
    stream = b"".join(STREAM)
    pool = impl.BufferPool(count=1)
    a, b = socket.socketpair()
    with a, b:
        for cut in range(len(stream) + 1):
            buf = pool.acquire()
            got = []
            for part in (stream[:cut], stream[cut:]):
                if part:
                    a.sendall(part)
                r = impl.read_frames(b, buf)
                assert r.error is None
                assert r.status == (DATA if part else AGAIN)
                got += messages(buf, r)
            assert got == STREAM, cut
            assert buf.pending == 0
            pool.release(buf)


def test_again_then_eof(impl):
    buf = impl.BufferPool(count=1).acquire()
    a, b = socket.socketpair()
    with b:
        r = impl.read_frames(b, buf)
        assert (r.frames, r.status, r.nread, r.error) == ([], AGAIN, 0, None)
        a.sendall(KEEPALIVE + KEEPALIVE[:3])
        a.close()
        r = impl.read_frames(b, buf)
        # a short read means the socket is drained: EOF shows on the next call
        assert (r.frames, r.status, r.nread) == ([0, 19, 4], DATA, 22)
        r = impl.read_frames(b, buf)
        assert (r.frames, r.status, r.nread) == ([], EOF, 0)
        assert buf.pending == 3


def test_socket_error_is_oserror(impl):
    buf = impl.BufferPool(count=1).acquire()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with s, pytest.raises(OSError) as e:
        impl.read_frames(s, buf)  # not connected
    assert e.value.errno == 107  # ENOTCONN


@pytest.mark.parametrize(
    ("data", "code", "subcode", "offset", "notify", "text"),
    [
        (b"\xff" * 15 + b"\xfe" + b"\x00\x13\x04", 1, 1, 19, b"", "bad marker (not all ones)"),
        (MARKER + b"\x00\x13\x07", 1, 3, 19 + 18, b"\x07", "unknown message type 7"),
        (
            MARKER + b"\x00\x14\x04",
            1,
            2,
            19 + 16,
            b"\x00\x14",
            "bad length 20 for KEEPALIVE (allowed 19..4096)",
        ),
        (MARKER + b"\x00\x12\x02", 1, 2, 19 + 16, b"\x00\x12", "bad length 18 for UPDATE (allowed 23..4096)"),
        (
            MARKER + b"\x10\x01\x02",
            1,
            2,
            19 + 16,
            b"\x10\x01",
            "bad length 4097 for UPDATE (allowed 23..4096)",
        ),
        (MARKER + b"\x00\x1c\x01", 1, 2, 19 + 16, b"\x00\x1c", "bad length 28 for OPEN (allowed 29..4096)"),
    ],
)
def test_bad_headers(impl, data, code, subcode, offset, notify, text):
    buf = impl.BufferPool(count=1).acquire()
    r = impl.feed_frames(buf, KEEPALIVE + data + KEEPALIVE)
    assert r.frames == [0, 19, 4]  # the good message before the bad one is delivered
    e = r.error
    assert (e.code, e.subcode, e.offset, e.data, e.message) == (code, subcode, offset, notify, text)
    assert buf.start == 19  # framing stops at the bad message


def test_extended_lengths(impl):
    big = msg(2, bytes(4) + bytes(5000 - 23))
    buf = impl.BufferPool(count=1).acquire()
    r = impl.feed_frames(buf, big)
    assert (r.frames, r.error.subcode, r.error.data) == ([], 2, b"\x13\x88")
    buf = impl.BufferPool(count=1).acquire()
    r = impl.feed_frames(buf, big + msg(2, bytes(65535 - 19)), extended=True)
    assert r.error is None and r.frames == [0, 5000, 2, 5000, 65535, 2]
    # OPEN and KEEPALIVE stay within 4096 even with extended message (RFC 8654)
    r = impl.feed_frames(buf, msg(1, bytes(5000)), extended=True)
    assert (r.error.subcode, r.error.data, r.error.message) == (
        2,
        b"\x13\x9b",
        "bad length 5019 for OPEN (allowed 29..4096)",
    )


def test_stream_longer_than_buffer_compacts(impl):
    pool = impl.BufferPool(buffer_size=65536 + 19, count=1)
    buf = pool.acquire()
    stream = b"".join(msg(2, bytes(4) + bytes([i % 251]) * (i % 200)) for i in range(4000))
    got = []
    for i in range(0, len(stream), 7001):
        r = impl.feed_frames(buf, stream[i : i + 7001])
        assert r.error is None
        got.append(b"".join(messages(buf, r)))
    assert b"".join(got) == stream
    assert buf.consumed + buf.end == len(stream)


def test_error_offset_is_in_the_stream(impl):
    buf = impl.BufferPool(buffer_size=65536 + 19, count=1).acquire()
    for _ in range(10):
        assert impl.feed_frames(buf, UPDATE * 1000).error is None
    r = impl.feed_frames(buf, KEEPALIVE[:-1] + b"\x09")
    assert (r.error.offset, r.error.data) == (230000 + 18, b"\x09")


def test_buffer_size_floor(impl):
    with pytest.raises(ValueError):
        impl.BufferPool(buffer_size=4096)


def test_feed_too_much(impl):
    buf = impl.BufferPool(count=1).acquire()
    with pytest.raises(ValueError):
        impl.feed_frames(buf, bytes(buf.capacity + 1))


def _chunks():
    good = st.sampled_from(STREAM)
    junk = st.binary(min_size=1, max_size=30).map(lambda b: MARKER + b)
    head = st.tuples(st.integers(0, 0xFFFF), st.integers(0, 7)).map(lambda t: MARKER + struct.pack("!HB", *t))
    stream = st.lists(st.one_of(good, good, junk, head, st.binary(max_size=25)), max_size=12).map(b"".join)
    return st.tuples(stream, st.lists(st.integers(1, 60), max_size=10), st.booleans())


@settings(max_examples=300, deadline=None)
@given(_chunks())
def test_cffi_and_twin_agree(case):
    stream, cuts, extended = case
    bufs = [m.BufferPool(count=1).acquire() for m in (compiled, pure)]
    results: list[list] = [[], []]
    pos = 0
    for step in [*cuts, len(stream)]:
        part = stream[pos : pos + step]
        pos += step
        for i, m in enumerate((compiled, pure)):
            r = m.feed_frames(bufs[i], part, extended)
            e = r.error
            results[i].append(
                (
                    messages(bufs[i], r),
                    r.status,
                    r.nread,
                    e and (e.code, e.subcode, e.offset, e.data, e.message),
                )
            )
    assert results[0] == results[1]


def test_reset_after_data(impl):
    # the messages read before a reset are delivered; the reset is raised on the next call
    with socket.create_server(("127.0.0.1", 0)) as lst:
        c = socket.create_connection(lst.getsockname())
        s, _ = lst.accept()
        with c:
            s.sendall(KEEPALIVE + UPDATE)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()  # RST
            buf = impl.BufferPool(count=1).acquire()
            select.select([c], [], [], 2)
            r = impl.read_frames(c, buf)
            assert (r.frames, r.status, r.error) == ([0, 19, 4, 19, 23, 2], DATA, None)
            with pytest.raises(ConnectionResetError):
                impl.read_frames(c, buf)


def test_never_blocks_even_on_a_socket_with_timeout(impl):
    buf = impl.BufferPool(count=1).acquire()
    a, b = socket.socketpair()
    with a, b:
        b.settimeout(5)
        t0 = time.monotonic()
        r = impl.read_frames(b, buf)
        assert (r.status, r.nread) == (AGAIN, 0)
        assert time.monotonic() - t0 < 1
