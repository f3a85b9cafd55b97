"""The sans-I/O fsm: two engines back to back, byte-at-a-time input, every timer with explicit
times, bad OPENs and unexpected messages answered with exact NOTIFICATION bytes, collisions."""

from __future__ import annotations

import itertools
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ze.bgp.events import (
    ConnectRequested,
    KeepaliveReceived,
    NotificationReceived,
    NotificationSent,
    OpenReceived,
    RouteRefreshReceived,
    SessionDown,
    SessionEstablished,
    State,
    StateChanged,
    UpdateReceived,
)
from ze.bgp.fsm import (
    DISPATCH,
    Fsm,
    collision_loser,
    keep_locally_initiated,
    max_prefix_data,
    notification_message,
    parse_communication,
    shutdown_data,
)
from ze.bgp.negotiation import LocalConfig
from ze.bgp.wire.capability.asn4 import ASN4
from ze.bgp.wire.capability.extended_message import ExtendedMessage
from ze.bgp.wire.capability.multiprotocol import Multiprotocol
from ze.bgp.wire.capability.role import CUSTOMER, Role
from ze.bgp.wire.capability.route_refresh import RouteRefresh
from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.header import MessageType, frame
from ze.bgp.wire.open import Open
from ze.core.errors import WireError
from ze.core.family import IPV4_UNICAST, IPV6_UNICAST

M = "FF" * 16
KEEPALIVE = bytes.fromhex(M + "001304")
EOR = frame(MessageType.UPDATE, b"\x00\x00\x00\x00")  # End-of-RIB ipv4/unicast (RFC 4724)
# 10.0.0.0/8 announced with ORIGIN IGP only: the fsm does not parse UPDATE bodies.
UPDATE = frame(MessageType.UPDATE, bytes.fromhex("0000" + "0004" + "40010100" + "080A"))

A = LocalConfig(asn=65001, router_id="192.0.2.1", peer_as=65002)
B = LocalConfig(asn=65002, router_id="192.0.2.2", peer_as=65001)


def notif(code: int, subcode: int, data: str = "") -> bytes:
    raw = bytes.fromhex(data)
    return bytes.fromhex(M) + struct.pack("!HBBB", 21 + len(raw), 3, code, subcode) + raw


def drain(f: Fsm) -> list:
    out = []
    while (e := f.next_event()) is not None:
        out.append(e)
    return out


def pump(a: Fsm, b: Fsm, now: float) -> None:
    """Carry bytes both ways until both are quiet (bounded)."""
    for _ in range(20):
        ab, ba = a.data_to_send(), b.data_to_send()
        if not ab and not ba:
            return
        b.receive_data(ab, now)
        a.receive_data(ba, now)
    raise AssertionError("endless exchange")


def peer_open(asn: int = 65002, hold: int = 90, rid: str = "192.0.2.2", caps=None) -> bytes:
    if caps is None:
        caps = [Multiprotocol.from_value(IPV4_UNICAST), RouteRefresh.from_value(), ASN4.from_value(asn)]
    return Open.from_value(asn, hold, rid, caps).to_bytes()


def opensent(local: LocalConfig = A, now: float = 0.0, **kw) -> Fsm:
    f = Fsm(local, **kw)
    f.start(now)
    f.connection_made(now)
    f.data_to_send()
    drain(f)
    return f


def openconfirm(now: float = 0.0, hold: int = 90, **kw) -> Fsm:
    f = opensent(now=now, **kw)
    f.receive_data(peer_open(hold=hold), now)
    f.data_to_send()
    drain(f)
    return f


def established(now: float = 0.0, hold: int = 90, **kw) -> Fsm:
    f = openconfirm(now, hold, **kw)
    f.receive_data(KEEPALIVE, now)
    assert f.state == State.Established
    drain(f)
    return f


def assert_closed(f: Fsm, old: State, wire: bytes, reason: str, was_established: bool = False):
    """The fsm sent exactly `wire`, then went to Idle with matching events."""
    assert f.data_to_send() == wire
    assert f.state == State.Idle and f.timer_at() is None
    code, subcode, data = wire[19], wire[20], wire[21:]
    sent = NotificationSent(code, subcode, data, parse_communication(code, subcode, data), reason)
    assert drain(f) == [sent, StateChanged(old, State.Idle), SessionDown(reason, sent, was_established)]


# -- the table -----------------------------------------------------------------------------------


def test_dispatch_table_reads_as_the_protocol():
    assert {
        MessageType(t).name: (h, sorted(s.name for s in legal)) for t, (h, legal) in DISPATCH.items()
    } == {
        "OPEN": ("_on_open", ["Active", "Connect", "OpenSent"]),
        "UPDATE": ("_on_update", ["Established"]),
        "NOTIFICATION": (
            "_on_notification",
            ["Active", "Connect", "Established", "OpenConfirm", "OpenSent"],
        ),
        "KEEPALIVE": ("_on_keepalive", ["Established", "OpenConfirm"]),
        "ROUTE_REFRESH": ("_on_route_refresh", ["Established"]),
    }


# -- back to back ------------------------------------------------------------------------------


def test_back_to_back_reach_established():
    a = Fsm(A, peer="b")
    b = Fsm(B, peer="a", passive=True)
    a.start(0)
    b.start(0)
    assert drain(a) == [StateChanged(State.Idle, State.Connect), ConnectRequested()]
    assert drain(b) == [StateChanged(State.Idle, State.Active)]
    a.connection_made(1)
    b.connection_made(1, outgoing=False)
    assert a.data_to_send() == a.local_open.to_bytes()
    assert b.data_to_send() == b.local_open.to_bytes()
    b.receive_data(a.local_open.to_bytes(), 1)
    a.receive_data(b.local_open.to_bytes(), 1)
    assert a.data_to_send() == KEEPALIVE and b.data_to_send() == KEEPALIVE
    b.receive_data(KEEPALIVE, 2)
    a.receive_data(KEEPALIVE, 2)
    ea, eb = drain(a), drain(b)
    assert [type(e) for e in ea] == [
        StateChanged,
        OpenReceived,
        StateChanged,
        StateChanged,
        SessionEstablished,
    ]
    assert ea[0] == StateChanged(State.Connect, State.OpenSent)
    assert ea[1].open == b.local_open
    assert ea[2:4] == [
        StateChanged(State.OpenSent, State.OpenConfirm),
        StateChanged(State.OpenConfirm, State.Established),
    ]
    est = ea[4]
    assert (est.peer, est.recv_ctx, est.send_ctx) == ("b", DEFAULT, DEFAULT)
    assert est.negotiated.peer_asn == 65002
    assert eb[0] == StateChanged(State.Active, State.OpenSent)
    assert eb[-1].peer == "a" and eb[-1].negotiated.peer_asn == 65001
    assert (a.state, b.state, a.established_at, b.established_at) == (State.Established,) * 2 + (2, 2)
    assert (a.peer_router_id, b.peer_router_id) == (0xC0000202, 0xC0000201)
    # Routes flow: the UPDATE body arrives as a view with the sender's receive context.
    b.send(UPDATE + EOR, 3)
    a.receive_data(b.data_to_send(), 3)
    got = drain(a)
    assert [bytes(e.update) for e in got] == [UPDATE[19:], EOR[19:]]
    assert {e.ctx for e in got} == {DEFAULT.id}


def test_back_to_back_with_delay_open_on_one_side():
    a = Fsm(A)
    b = Fsm(B, passive=True, delay_open_time=5)
    a.start(0)
    b.start(0)
    a.connection_made(0)
    b.connection_made(0, outgoing=False)
    assert b.data_to_send() == b"" and b.timer_at() == 5
    pump(a, b, 1)  # a's OPEN reaches b while DelayOpen runs: b answers OPEN + KEEPALIVE
    assert a.state == b.state == State.Established
    assert b.timer_at() == 31  # keepalive at hold/3 after the OPEN


def byte_stream() -> bytes:
    return peer_open() + KEEPALIVE + UPDATE + KEEPALIVE + EOR + UPDATE


def events_for(chunks: list[bytes]) -> list:
    f = opensent()
    for c in chunks:
        f.receive_data(c, 1)
    out = []
    for e in drain(f):
        out.append(("update", bytes(e.update)) if isinstance(e, UpdateReceived) else type(e).__name__)
    return out


EXPECTED = [
    "OpenReceived",
    "StateChanged",
    "StateChanged",
    "SessionEstablished",
    ("update", UPDATE[19:]),
    "KeepaliveReceived",
    ("update", EOR[19:]),
    ("update", UPDATE[19:]),
]


def test_whole_stream_at_once():
    assert events_for([byte_stream()]) == EXPECTED


def test_byte_at_a_time():
    data = byte_stream()
    assert events_for([data[i : i + 1] for i in range(len(data))]) == EXPECTED


@given(st.lists(st.integers(min_value=0, max_value=len(byte_stream())), max_size=12))
@settings(max_examples=150, deadline=None)
def test_any_split_gives_the_same_events(cuts):
    data = byte_stream()
    points = [0, *sorted(cuts), len(data)]
    assert events_for([data[i:j] for i, j in itertools.pairwise(points)]) == EXPECTED


# -- timers ----------------------------------------------------------------------------------------


def test_connect_retry():
    f = Fsm(A, connect_retry_time=120)
    f.start(10)
    assert f.state == State.Connect and f.timer_at() == 130
    drain(f)
    f.handle_timer(129.9)
    assert drain(f) == []
    f.handle_timer(130)
    assert drain(f) == [ConnectRequested()] and f.timer_at() == 250
    f.connection_failed(140)
    assert f.state == State.Active and f.timer_at() == 260
    assert drain(f) == [StateChanged(State.Connect, State.Active)]
    f.handle_timer(260)
    assert drain(f) == [StateChanged(State.Active, State.Connect), ConnectRequested()]
    f.connection_made(261)
    assert f.state == State.OpenSent and f.timer_at() == 261 + 240


def test_passive_waits_without_timer():
    f = Fsm(B, passive=True)
    f.start(0)
    assert (f.state, f.timer_at()) == (State.Active, None)
    assert f.data_to_send() == b""


def test_open_hold_timer_four_minutes():
    f = opensent(now=100)
    assert f.timer_at() == 340
    f.handle_timer(339)
    assert f.state == State.OpenSent
    f.handle_timer(340)
    assert_closed(f, State.OpenSent, notif(4, 0), "hold timer expired")


def test_keepalives_at_a_third_of_hold_time_then_hold_expiry():
    f = established(now=0, hold=90)
    assert f.timer_at() == 30
    f.handle_timer(30)
    assert f.data_to_send() == KEEPALIVE and f.timer_at() == 60
    f.receive_data(KEEPALIVE, 50)  # hold restarts at 50: expires at 140
    assert drain(f) == [KeepaliveReceived()]
    f.handle_timer(60)
    f.handle_timer(90)
    f.handle_timer(120)
    assert f.data_to_send() == KEEPALIVE * 3 and f.timer_at() == 140
    f.handle_timer(140)
    assert_closed(f, State.Established, notif(4, 0), "hold timer expired", was_established=True)


def test_late_timer_call_runs_every_due_timer_once():
    f = established(now=0, hold=90)
    f.handle_timer(75)  # keepalive due at 30: one KEEPALIVE now, the next one 25 s later
    assert f.data_to_send() == KEEPALIVE and f.timer_at() == 90
    f.handle_timer(200)  # hold (90) before keepalive (105)
    assert f.data_to_send() == notif(4, 0) and f.state == State.Idle


def test_keepalive_timer_in_openconfirm():
    f = openconfirm(now=0, hold=9)
    assert f.timer_at() == 3
    f.handle_timer(3)
    assert f.data_to_send() == KEEPALIVE and f.timer_at() == 6
    f.handle_timer(9)
    # Woken late (keepalive due at 6, hold at 9): the hold timer wins, no pointless KEEPALIVE.
    assert f.data_to_send() == notif(4, 0)


def test_sending_an_update_restarts_the_keepalive_timer():
    f = established(now=0)
    f.send(UPDATE, 20)
    assert f.data_to_send() == UPDATE and f.timer_at() == 50
    f.handle_timer(30)
    assert f.data_to_send() == b""


def test_hold_time_zero_disables_hold_and_keepalives():
    f = established(now=0, hold=0)
    assert f.timer_at() is None
    f.handle_timer(10**6)
    assert f.data_to_send() == b"" and f.state == State.Established


def test_delay_open_timer():
    f = Fsm(A, delay_open_time=5)
    f.start(0)
    f.connection_made(1)
    assert f.data_to_send() == b"" and f.state == State.Connect and f.timer_at() == 6
    f.handle_timer(6)
    assert f.data_to_send() == f.local_open.to_bytes() and f.state == State.OpenSent
    assert f.timer_at() == 246


def test_delay_open_then_unexpected_keepalive():
    f = Fsm(A, delay_open_time=5)
    f.start(0)
    f.connection_made(1)
    drain(f)
    f.receive_data(KEEPALIVE, 2)
    assert_closed(f, State.Connect, notif(5, 0, "04"), "unexpected KEEPALIVE in Connect")


# -- transport -------------------------------------------------------------------------------------


def test_connection_lost_in_opensent_goes_active_and_retries():
    f = opensent(now=0)
    f.connection_lost(10)
    assert f.state == State.Active and f.timer_at() == 130
    assert drain(f) == [StateChanged(State.OpenSent, State.Active)]
    f.handle_timer(130)
    assert drain(f) == [StateChanged(State.Active, State.Connect), ConnectRequested()]


def test_connection_lost_when_established():
    f = established(now=0)
    f.connection_lost(5)
    assert f.data_to_send() == b"" and f.state == State.Idle and f.last_error == "connection lost"
    assert drain(f) == [
        StateChanged(State.Established, State.Idle),
        SessionDown("connection lost", None, True),
    ]


def test_connection_made_twice_needs_another_fsm():
    f = opensent()
    with pytest.raises(RuntimeError, match="another Fsm"):
        f.connection_made(1)
    with pytest.raises(RuntimeError, match="only in Established"):
        f.send(UPDATE, 1)


def test_data_after_idle_is_ignored():
    f = established()
    f.stop(1)
    f.data_to_send()
    drain(f)
    f.receive_data(UPDATE, 2)
    assert drain(f) == [] and f.data_to_send() == b""


# -- bad input -------------------------------------------------------------------------------------


BAD_OPENS = [
    # version 3: 2/1 with the version we speak
    (M + "001D01" + "03FDEA005AC000020200", notif(2, 1, "0004"), "unsupported BGP version 3"),
    # AS 0: 2/2
    (M + "001D01" + "040000005AC000020200", notif(2, 2), "peer AS 0"),
    # hold time 2: 2/6
    (M + "001D01" + "04FDEA0002C000020200", notif(2, 6), "hold time 2 (must be 0 or at least 3)"),
    # identifier 0.0.0.0: 2/3
    (M + "001D01" + "04FDEA005A0000000000", notif(2, 3), "BGP identifier 0.0.0.0"),
    # optional parameter type 1 (authentication): 2/4
    (M + "001F01" + "04FDEA005AC0000202020100", notif(2, 4), "unsupported optional parameter type 1"),
    # optional parameters length 4, 2 bytes follow: 2/0
    (
        M + "001F01" + "04FDEA005AC0000202040200",
        notif(2, 0),
        "optional parameters length 4, but 2 bytes follow",
    ),
    # OPEN length 20 (< 29): 1/2 with the length
    (M + "001401" + "04", notif(1, 2, "0014"), None),
]


@pytest.mark.parametrize(("hexmsg", "answer", "reason"), BAD_OPENS)
def test_bad_open_gets_the_exact_notification(hexmsg, answer, reason):
    f = opensent()
    f.receive_data(bytes.fromhex(hexmsg), 1)
    assert f.data_to_send() == answer
    assert f.state == State.Idle
    events = drain(f)
    assert isinstance(events[0], NotificationSent) and events[0].code == answer[19]
    if reason is not None:
        assert reason in events[0].reason


def test_bad_peer_as_from_negotiation():
    f = opensent()
    f.receive_data(peer_open(asn=65003), 1)
    assert_closed(f, State.OpenSent, notif(2, 2), "peer AS 65003, expected 65002")


def test_role_mismatch_notification():
    local = LocalConfig(65001, "192.0.2.1", peer_as=65002, role=CUSTOMER)
    f = opensent(local)
    caps = [Multiprotocol.from_value(IPV4_UNICAST), ASN4.from_value(65002), Role.from_value(CUSTOMER)]
    f.receive_data(peer_open(caps=caps), 1)
    assert_closed(f, State.OpenSent, notif(2, 11), "peer role customer does not pair with ours, customer")


@pytest.mark.parametrize(
    ("hexmsg", "answer"),
    [
        ("00" * 16 + "001304", notif(1, 1)),  # bad marker
        (M + "001204", notif(1, 2, "0012")),  # length below 19
        (M + "001404" + "00", notif(1, 2, "0014")),  # KEEPALIVE of 20
        (M + "001306", notif(1, 3, "06")),  # type 6
        (M + "1001" + "02" + "00" * 4077, notif(1, 2, "1001")),  # 4097 without extended message
    ],
)
def test_header_errors(hexmsg, answer):
    f = established()
    f.receive_data(bytes.fromhex(hexmsg), 1)
    assert f.data_to_send() == answer and f.state == State.Idle


def test_header_error_seen_only_once_the_header_is_whole():
    f = established()
    bad = bytes.fromhex("00" * 16 + "001304")
    for i in range(18):
        f.receive_data(bad[i : i + 1], 1)
        assert f.state == State.Established
    f.receive_data(bad[18:], 1)
    assert f.data_to_send() == notif(1, 1)


@pytest.mark.parametrize(
    ("setup", "message", "answer", "old"),
    [
        (opensent, KEEPALIVE, notif(5, 1, "04"), State.OpenSent),
        (opensent, UPDATE, notif(5, 1, "02"), State.OpenSent),
        (openconfirm, UPDATE, notif(5, 2, "02"), State.OpenConfirm),
        (openconfirm, peer_open(), notif(5, 2, "01"), State.OpenConfirm),
        (established, peer_open(), notif(5, 3, "01"), State.Established),
    ],
)
def test_unexpected_message_is_an_fsm_error(setup, message, answer, old):
    f = setup()
    f.receive_data(message, 1)
    name = MessageType(message[18]).name
    assert_closed(f, old, answer, f"unexpected {name} in {old.name}", old == State.Established)


def test_messages_after_the_bad_one_are_dropped():
    f = established()
    f.receive_data(peer_open() + UPDATE, 1)
    assert f.data_to_send() == notif(5, 3, "01")
    assert [type(e) for e in drain(f)] == [NotificationSent, StateChanged, SessionDown]


# -- NOTIFICATION in and out -----------------------------------------------------------------------


def test_notification_received_when_established():
    f = established()
    text = "maintenance, back at 10:00"
    f.receive_data(notification_message(6, 2, shutdown_data(text)), 5)
    assert f.data_to_send() == b""  # never answer a NOTIFICATION
    got = NotificationReceived(6, 2, shutdown_data(text), text)
    assert drain(f) == [
        got,
        StateChanged(State.Established, State.Idle),
        SessionDown("NOTIFICATION 6/2 received", got, True),
    ]


def test_notification_received_in_opensent():
    f = opensent()
    f.receive_data(notif(2, 7, "4600"), 1)
    got = NotificationReceived(2, 7, b"\x46\x00", None)
    assert drain(f) == [
        got,
        StateChanged(State.OpenSent, State.Idle),
        SessionDown("NOTIFICATION 2/7 received", got),
    ]


def test_stop_sends_shutdown_communication():
    f = established()
    f.stop(1, "maintenance")
    assert_closed(
        f,
        State.Established,
        notif(6, 2, "0B" + b"maintenance".hex()),
        "administrative shutdown",
        was_established=True,
    )


def test_stop_without_text_and_stop_before_a_connection():
    f = openconfirm()
    f.stop(1)
    assert_closed(f, State.OpenConfirm, notif(6, 2), "administrative shutdown")
    g = Fsm(A)
    g.start(0)
    drain(g)
    g.stop(1)
    assert g.data_to_send() == b"" and g.state == State.Idle
    assert drain(g) == [StateChanged(State.Connect, State.Idle), SessionDown("administrative shutdown")]
    g.stop(2)
    assert drain(g) == []


def test_max_prefix_cease():
    f = established()
    f.max_prefix_exceeded(1, IPV6_UNICAST, 100)
    assert_closed(
        f,
        State.Established,
        notif(6, 1, "0002" + "01" + "00000064"),
        "ipv6/unicast prefix limit 100 exceeded",
        True,
    )
    assert max_prefix_data(IPV4_UNICAST, 1000) == bytes.fromhex("0001" + "01" + "000003E8")


def test_shutdown_data_limits():
    assert shutdown_data("") == b""
    assert shutdown_data("bye") == b"\x03bye"
    long = "é" * 200  # 400 bytes of UTF-8: cut to 254, on a character boundary
    data = shutdown_data(long)
    assert data[0] == 254 and data[1:] == ("é" * 127).encode()
    assert parse_communication(6, 2, data) == "é" * 127
    assert parse_communication(6, 4, b"\x02ok") == "ok"
    assert parse_communication(6, 2, b"\x05ok") is None  # length does not match
    assert parse_communication(6, 2, b"\x01\xff") is None  # not UTF-8
    assert parse_communication(6, 3, b"\x02ok") is None  # not a shutdown/reset


# -- UPDATE and ROUTE-REFRESH ----------------------------------------------------------------------


def test_check_update_hook_gets_body_and_context():
    seen = []

    def check(body, ctx):
        seen.append((bytes(body), ctx))
        return "treat-as-withdraw"

    f = established(check_update=check)
    f.receive_data(UPDATE, 1)
    assert seen == [(UPDATE[19:], DEFAULT)]
    [event] = drain(f)
    assert (bytes(event.update), event.ctx, event.verdict) == (UPDATE[19:], DEFAULT.id, "treat-as-withdraw")


def test_check_update_hook_error_becomes_the_notification():
    def check(body, ctx):
        raise WireError("malformed attribute list", 2, 3, 1)

    f = established(check_update=check)
    f.receive_data(UPDATE, 1)
    assert_closed(f, State.Established, notif(3, 1), "malformed attribute list (at byte 2)", True)


def test_update_view_is_not_a_copy_and_survives_more_input():
    f = established()
    data = UPDATE + EOR[:10]
    f.receive_data(data, 1)
    [event] = drain(f)
    f.receive_data(EOR[10:], 1)
    assert bytes(event.update) == UPDATE[19:] and event.update.obj is data
    assert [bytes(e.update) for e in drain(f)] == [EOR[19:]]


def test_hold_timer_restarted_by_updates():
    f = established(now=0, hold=9)
    f.handle_timer(3)
    f.receive_data(UPDATE, 8)
    f.handle_timer(9)
    assert f.state == State.Established and f.timer_at() == 12  # keepalive 3 s after the last at 9
    f.handle_timer(17)
    assert f.state == State.Idle


def test_extended_message_allows_large_updates():
    ext = LocalConfig(65001, "192.0.2.1", peer_as=65002, extended_message=True)
    f = opensent(ext)
    caps = [
        Multiprotocol.from_value(IPV4_UNICAST),
        ASN4.from_value(65002),
        ExtendedMessage.from_value(),
    ]
    f.receive_data(peer_open(caps=caps) + KEEPALIVE, 0)
    big = frame(MessageType.UPDATE, b"\x00\x00\x00\x00" + b"\x18\x0a\x00\x00" * 1250)
    assert len(big) == 5023
    drain(f)
    f.receive_data(big, 1)
    [event] = drain(f)
    assert len(event.update) == 5004
    assert f.negotiated.recv_ctx == EncodingContext(extended_message=True)


def test_route_refresh_received():
    f = established()
    f.receive_data(frame(MessageType.ROUTE_REFRESH, bytes.fromhex("00010001")), 1)
    f.receive_data(frame(MessageType.ROUTE_REFRESH, bytes.fromhex("00010201")), 1)  # EoRR
    assert drain(f) == [RouteRefreshReceived(IPV4_UNICAST, 0), RouteRefreshReceived(IPV4_UNICAST, 2)]
    # ipv6/unicast not negotiated, subtype 3 unknown: ignored (RFC 2918 4, RFC 7313 5).
    f.receive_data(frame(MessageType.ROUTE_REFRESH, bytes.fromhex("00020001")), 1)
    f.receive_data(frame(MessageType.ROUTE_REFRESH, bytes.fromhex("00010301")), 1)
    assert drain(f) == [] and f.state == State.Established


def test_route_refresh_bad_length():
    f = established()
    msg = frame(MessageType.ROUTE_REFRESH, bytes.fromhex("0001000100"))
    f.receive_data(msg, 1)
    assert_closed(
        f,
        State.Established,
        notif(7, 1, msg.hex()),
        "ROUTE-REFRESH of 24 bytes (expected 23) (at byte 16)",
        True,
    )


def test_send_route_refresh():
    f = established(now=0)
    f.send_route_refresh(IPV4_UNICAST, 10)
    assert f.data_to_send() == bytes.fromhex(M + "0017" + "05" + "00010001")
    f.send_route_refresh(IPV4_UNICAST, 10, subtype=1)
    assert f.data_to_send() == bytes.fromhex(M + "0017" + "05" + "00010101")


# -- collision detection (RFC 4271 6.8, RFC 6286 2.3) -------------------------------------------


@pytest.mark.parametrize(
    ("local_id", "remote_id", "local_as", "remote_as", "keep_ours"),
    [(2, 1, 1, 1, True), (1, 2, 1, 1, False), (5, 5, 65002, 65001, True), (5, 5, 65001, 65002, False)],
)
def test_keep_locally_initiated(local_id, remote_id, local_as, remote_as, keep_ours):
    assert keep_locally_initiated(local_id, remote_id, local_as, remote_as) is keep_ours


def two_connections(local: LocalConfig, peer_rid: str):
    ours = Fsm(local)
    ours.start(0)
    ours.connection_made(0, outgoing=True)
    theirs = Fsm(local, passive=True)
    theirs.start(0)
    theirs.connection_made(0, outgoing=False)
    for f in (ours, theirs):
        f.receive_data(peer_open(rid=peer_rid), 1)
        f.data_to_send()
        drain(f)
    return ours, theirs


def test_collision_higher_local_id_keeps_ours():
    ours, theirs = two_connections(A, "192.0.2.0")
    assert collision_loser(ours, theirs) is theirs
    assert collision_loser(theirs, ours) is theirs
    theirs.collision_detected(2)
    assert_closed(theirs, State.OpenConfirm, notif(6, 7), "connection collision resolution")


def test_collision_lower_local_id_keeps_theirs():
    ours, theirs = two_connections(A, "192.0.2.9")
    assert collision_loser(ours, theirs) is ours


def test_collision_equal_ids_uses_as_numbers():
    ours, theirs = two_connections(A, "192.0.2.1")  # eBGP may share an identifier
    assert collision_loser(ours, theirs) is ours  # 65001 < 65002: the peer's connection stays


def test_collision_with_established_keeps_established():
    ours, theirs = two_connections(A, "192.0.2.0")
    ours.receive_data(KEEPALIVE, 2)
    assert ours.state == State.Established
    assert collision_loser(theirs, ours) is theirs
    ours2, theirs2 = two_connections(A, "192.0.2.0")
    theirs2.receive_data(KEEPALIVE, 2)
    assert collision_loser(ours2, theirs2) is ours2


def test_collision_needs_an_open_and_both_directions():
    a = Fsm(A)
    a.start(0)
    a.connection_made(0)
    b = Fsm(A, passive=True)
    b.start(0)
    b.connection_made(0, outgoing=False)
    with pytest.raises(ValueError, match="OPEN"):
        collision_loser(a, b)
    c = opensent()
    with pytest.raises(ValueError, match="one locally"):
        collision_loser(a, c)


# -- any bytes: never an exception, always a NOTIFICATION when the session ends --------------------


def ended_with_notification(f: Fsm) -> None:
    out = f.data_to_send()
    if f.state == State.Idle:
        events = drain(f)
        sent = next(e for e in events if isinstance(e, NotificationSent))
        assert out.endswith(notification_message(sent.code, sent.subcode, sent.data))
        assert 1 <= sent.code <= 7


@given(st.binary(min_size=10, max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_open_body(body):
    f = opensent()
    f.receive_data(frame(MessageType.OPEN, body), 1)
    assert f.state in (State.Idle, State.OpenConfirm)
    ended_with_notification(f)


@given(st.binary(max_size=200), st.sampled_from([opensent, openconfirm, established]))
@settings(max_examples=300, deadline=None)
def test_any_bytes_after_a_good_start(data, setup):
    f = setup()
    f.receive_data(bytes.fromhex(M) + data, 1)
    ended_with_notification(f)


def test_describe():
    f = established(now=10)
    d = f.describe(25)
    assert (d["state"], d["uptime"], d["last-error"]) == ("established", 15, "")
    assert d["negotiated"]["peer-as"] == 65002 and d["negotiated"]["hold-time"] == 90
    f.stop(30, "bye")
    assert f.describe(31) == {
        "state": "idle",
        "uptime": None,
        "last-error": "administrative shutdown",
        "negotiated": f.negotiated.describe(),
    }


def test_prefix_count_over_the_maximum():
    f = established(max_prefixes={IPV4_UNICAST: 2})
    assert f.prefix_count(IPV4_UNICAST, 2, 1) is False
    assert f.prefix_count(IPV6_UNICAST, 50, 1) is False  # no maximum for ipv6/unicast
    assert f.state == State.Established and f.data_to_send() == b""
    assert f.prefix_count(IPV4_UNICAST, 3, 2) is True
    assert f.prefix_counts == {IPV4_UNICAST: 3, IPV6_UNICAST: 50}
    assert_closed(
        f,
        State.Established,
        notif(6, 1, "0001" + "01" + "00000002"),
        "ipv4/unicast prefix limit 2 exceeded",
        True,
    )
    assert f.prefix_count(IPV4_UNICAST, 4, 3) is False  # already down
