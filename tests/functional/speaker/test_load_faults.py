"""A live test peer against `ze run`: a 500,000-prefix flood on a 9 s hold time (the session stays up,
every prefix is counted), and malformed UPDATEs and OPENs (the RFC's answer, logged, ze unharmed)."""

from __future__ import annotations

import struct
import time

import pytest

from tests.functional.conftest import wait_for
from tests.functional.speaker.lab import free_port, peer, start, unique_net
from tests.functional.speaker.rawpeer import KEEPALIVE, RawPeer, flood
from ze.bgp.wire.header import HEADER_LEN, MessageType, frame
from ze.bgp.wire.text import encode_text

N = 500_000


def ze_conf(me: str, them: str, port: int, extra: str = "") -> str:
    return (
        "environment { log { level info; } }\n"
        f"bgp {{ router-id {me}; local-as 65001; listen {{ ip {me}; port {port}; }}\n"
        f"  peer p {{ remote {{ ip {them}; as 65002; }} passive true; hold-time 9; adj-rib-in true; {extra} }} }}\n"
    )


@pytest.fixture
def lab(tmp_path):
    net = unique_net()
    me, them = f"127.{net}.3.1", f"127.{net}.3.2"
    port = free_port(me)
    d = start(tmp_path, "ze", ze_conf(me, them, port))
    peers: list[RawPeer] = []

    def connect(hold: int = 9, open_session: bool = True) -> RawPeer:
        p = RawPeer(me, port, local=them, asn=65002, peer_as=65001, hold_time=hold)
        peers.append(p)
        if open_session:
            p.open_session()
        else:
            p.connect()
        return p

    try:
        yield d, connect
    finally:
        for p in peers:
            p.close()
        d.stop()


def test_flood_on_a_short_hold_time(lab):
    d, connect = lab
    blob, updates = flood(N, per_update=10)
    p = connect(hold=9)
    p.keepalives(3)
    assert peer(d, "p")["negotiated"]["hold-time"] == 9
    t0 = time.monotonic()
    p.send_stream(blob)
    p.send(frame(MessageType.UPDATE, b"\x00\x00\x00\x00"))  # End-of-RIB
    got = wait_for(lambda: (x := peer(d, "p"))["end-of-rib"] and x, timeout=120)
    elapsed = time.monotonic() - t0
    assert got["state"] == "established", got
    assert got["prefixes"]["ipv4/unicast"] == {"announced": N, "withdrawn": 0, "received": N}
    assert got["updates-received"] == updates + 1
    # ze kept sending its keepalives (every 3 s) while it was busy, and the session is still up.
    assert p.keepalives_received >= 1 + int(elapsed // 3) - 1
    assert not p.notifications()
    assert got["established-count"] == 1


def body(text: str) -> bytes:
    return encode_text(text)[0][HEADER_LEN:]


GOOD = "update text origin set igp as-path set [65002] nhop set 192.0.2.2 nlri ipv4/unicast add 10.0.0.0/24"


def with_attr(extra: bytes, text: str = GOOD) -> bytes:
    b = body(text)
    alen = struct.unpack_from("!H", b, 2)[0]
    return b[:2] + struct.pack("!H", alen + len(extra)) + b[4 : 4 + alen] + extra + b[4 + alen :]


def replace_attr(code: int, new: bytes, text: str = GOOD) -> bytes:
    """The body with attribute `code` (short form) replaced by `new` (whole attribute bytes)."""
    b = bytearray(body(text))
    alen = struct.unpack_from("!H", b, 2)[0]
    pos, end = 4, 4 + alen
    while pos < end:
        c, ln = b[pos + 1], b[pos + 2]
        if c == code:
            b[pos : pos + 3 + ln] = new
            struct.pack_into("!H", b, 2, alen - (3 + ln) + len(new))
            return bytes(b)
        pos += 3 + ln
    raise KeyError(code)


# (name, body, expected: "withdraw" | "discard" | (code, subcode) NOTIFICATION)
CASES = [
    ("origin-value", replace_attr(1, bytes([0x40, 1, 1, 9])), "withdraw"),  # RFC 7606 7.1
    ("origin-flags", replace_attr(1, bytes([0xC0, 1, 1, 0])), "withdraw"),  # 3.c: flags conflict
    ("as-path-segment", replace_attr(2, bytes([0x40, 2, 4, 9, 1, 0, 0])), "withdraw"),  # 7.2
    ("next-hop-length", replace_attr(3, bytes([0x40, 3, 3, 192, 0, 2])), "withdraw"),  # 7.3
    ("med-length", with_attr(bytes([0x80, 4, 2, 0, 1])), "withdraw"),  # 7.4
    ("missing-as-path", replace_attr(2, b""), "withdraw"),  # 3.d
    ("community-length", with_attr(bytes([0xC0, 8, 3, 1, 2, 3])), "withdraw"),  # 7.8
    ("atomic-aggregate-length", with_attr(bytes([0x40, 6, 1, 0])), "discard"),  # 7.6
    ("aggregator-length", with_attr(bytes([0xC0, 7, 3, 0, 0, 1])), "discard"),  # 7.7
    ("nlri-length", body(GOOD)[:-4] + bytes([33, 10, 0, 0, 0, 0]), (3, 10)),  # 5.3
    ("attribute-list-overrun", b"\x00\x00\x00\xff" + body(GOOD)[4:], (3, 1)),
    ("unrecognized-well-known", with_attr(bytes([0x40, 99, 1, 0])), (3, 2)),
]


@pytest.mark.parametrize(("name", "data", "expected"), CASES, ids=[c[0] for c in CASES])
def test_malformed_update(lab, name, data, expected):
    d, connect = lab
    p = connect()
    p.send(frame(MessageType.UPDATE, body(GOOD.replace("10.0.0.0/24", "10.9.0.0/24"))))
    wait_for(lambda: peer(d, "p")["prefixes"].get("ipv4/unicast", {}).get("announced") == 1)
    p.send(frame(MessageType.UPDATE, data))
    if isinstance(expected, tuple):
        p.wait(p.notifications, 10)
        assert p.notifications()[0][:2] == bytes(expected)
        wait_for(lambda: peer(d, "p")["state"] != "established")
        note = peer(d, "p")["last-notification"]
        assert (note["code"], note["subcode"], note["direction"]) == (*expected, "sent")
        logged = [e for e in d.logs() if e.get("message") == "NOTIFICATION sent"]
        assert logged and logged[-1]["peer"] == "p"
    else:
        key = "treat-as-withdraw" if expected == "withdraw" else "attribute-discard"
        got = wait_for(lambda: (x := peer(d, "p"))[key] == 1 and x)
        assert got["state"] == "established"
        logged = [e for e in d.logs() if e.get("message") == f"malformed UPDATE: {key}"]
        assert logged and logged[-1]["peer"] == "p" and logged[-1]["reasons"][0]["attribute"]
        counts = got["prefixes"]["ipv4/unicast"]
        if expected == "withdraw":
            assert counts == {"announced": 1, "withdrawn": 1, "received": 1}
        else:
            assert counts == {"announced": 2, "withdrawn": 0, "received": 2}
        p.send(KEEPALIVE)
        assert not p.notifications()
    # ze stays healthy: the peer can come back (or is still there) and the daemon answers.
    assert d.proc.poll() is None


def open_with(version: int = 4, asn: int = 65002, hold: int = 9, rid: bytes = bytes([192, 0, 2, 2])) -> bytes:
    body = struct.pack("!BHH", version, asn, hold) + rid + b"\x00"
    return frame(MessageType.OPEN, body)


OPENS = [
    ("bad-version", open_with(version=3), (2, 1)),
    ("bad-peer-as", open_with(asn=65009), (2, 2)),
    ("zero-router-id", open_with(rid=bytes(4)), (2, 3)),
    ("hold-time-2", open_with(hold=2), (2, 6)),
    ("bad-marker", b"\x00" * 16 + open_with()[16:], (1, 1)),
    ("short-length", open_with()[:16] + struct.pack("!H", 10) + open_with()[18:], (1, 2)),
]


@pytest.mark.parametrize(("name", "data", "expected"), OPENS, ids=[c[0] for c in OPENS])
def test_malformed_open(lab, name, data, expected):
    d, connect = lab
    p = connect(open_session=False)
    p.wait(lambda: MessageType.OPEN in p.types())
    p.send(data)
    p.wait(p.notifications, 10)
    assert p.notifications()[0][:2] == bytes(expected)
    p.wait(p.closed.is_set, 10)
    wait_for(lambda: peer(d, "p")["state"] in ("active", "idle"))
    assert d.proc.poll() is None
    # A good session afterwards: nothing leaked, the peer is accepted again.
    wait_for(lambda: peer(d, "p")["state"] == "active", 10)
    good = connect()
    assert peer(d, "p")["state"] in ("openconfirm", "established")
    good.close()
