"""The BGP session state machine (RFC 4271 section 8), sans-I/O: it owns no socket and no clock.

Inputs: bytes (`receive_data(data, now)`), time (`handle_timer(now)` once `timer_at()` is due),
transport news (`connection_made`, `connection_lost`, `connection_failed`) and administrative
requests (`start`, `stop`, `cease`, `max_prefix_exceeded`, `collision_detected`, `send`).
Outputs: bytes to write (`data_to_send()`), events (`next_event()`, see ze.bgp.events) and the
next deadline (`timer_at()`). One Fsm serves one TCP connection at a time; when two connections
to one peer race, the reactor runs one Fsm per connection and `collision_loser` picks the one to
close (RFC 4271 6.8, RFC 6286 2.3).

Framing: the byte stream is cut into messages with ze.bgp.wire.header.parse_header; a partial
message is kept until the rest arrives; whole messages are memoryviews over the received bytes
(no copy per message). OPEN, KEEPALIVE, NOTIFICATION and ROUTE-REFRESH are read here; UPDATE
bodies are not parsed: they leave as UpdateReceived, after the optional `check_update` hook.

Errors: codecs raise WireError (code/subcode/data); so do the handlers below for protocol errors
(unexpected message: FSM Error 5 with the RFC 6608 subcode). `receive_data` is the one place
where a WireError becomes a NOTIFICATION; the session then goes to Idle.

Timers (RFC 4271 10): ConnectRetry (active peers), DelayOpen (optional, RFC 4271 8.1.1), Hold
(4 minutes while waiting for the OPEN, then the negotiated hold time; 0 disables it and the
keepalives) and Keepalive (a third of the hold time; restarted by every KEEPALIVE or UPDATE sent).
Deviation, on purpose: a failed or lost connection before Established leads to Active (the
ConnectRetry timer, for an active peer, retries from there) instead of Idle, so that the fsm keeps
trying by itself; restarting from Idle (with backoff) is the reactor's call.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from ze.bgp.events import (
    ConnectRequested,
    Event,
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
from ze.bgp.negotiation import LocalConfig, Negotiated, build_open, negotiate
from ze.bgp.wire.codecs import Codecs
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.header import HEADER_LEN, MessageType, frame, parse_header
from ze.bgp.wire.open import Open
from ze.core.errors import WireError
from ze.core.family import Family

__all__ = [
    "DISPATCH",
    "Fsm",
    "State",
    "collision_loser",
    "keep_locally_initiated",
    "max_prefix_data",
    "notification_message",
    "parse_communication",
    "shutdown_data",
]

_CONNECTED = frozenset({State.Connect, State.Active, State.OpenSent, State.OpenConfirm, State.Established})

# message type -> (handler, states in which the message is legal). In Connect and Active a
# connection exists only while DelayOpen runs. Anything else is an FSM Error (RFC 6608).
DISPATCH: dict[int, tuple[str, frozenset[State]]] = {
    MessageType.OPEN: ("_on_open", frozenset({State.Connect, State.Active, State.OpenSent})),
    MessageType.UPDATE: ("_on_update", frozenset({State.Established})),
    MessageType.NOTIFICATION: ("_on_notification", _CONNECTED),
    MessageType.KEEPALIVE: ("_on_keepalive", frozenset({State.OpenConfirm, State.Established})),
    MessageType.ROUTE_REFRESH: ("_on_route_refresh", frozenset({State.Established})),
}

# NOTIFICATION error codes (RFC 4271 4.5, RFC 7313 5).
HOLD_TIMER_EXPIRED = 4
FSM_ERROR = 5
CEASE = 6
ROUTE_REFRESH_ERROR = 7
INVALID_MESSAGE_LENGTH = 1  # ROUTE-REFRESH error subcode (RFC 7313 5)
# FSM Error subcodes (RFC 6608 3): unexpected message in OpenSent, OpenConfirm, Established.
UNEXPECTED = {State.OpenSent: 1, State.OpenConfirm: 2, State.Established: 3}
# Cease subcodes (RFC 4486 4).
MAX_PREFIXES = 1
ADMIN_SHUTDOWN = 2
PEER_DECONFIGURED = 3
ADMIN_RESET = 4
CONNECTION_REJECTED = 5
OTHER_CONFIGURATION_CHANGE = 6
CONNECTION_COLLISION = 7
OUT_OF_RESOURCES = 8

# Until ze.bgp.wire.keepalive/notification exist, the two trivial messages are framed here.
_KEEPALIVE = frame(MessageType.KEEPALIVE, b"")
_RR = struct.Struct("!HBB")
_MAX_PREFIX = struct.Struct("!HBI")


def notification_message(code: int, subcode: int, data: bytes = b"") -> bytes:
    """A whole NOTIFICATION message (RFC 4271 4.5)."""
    return frame(MessageType.NOTIFICATION, bytes((code, subcode)) + data)


def shutdown_data(communication: str) -> bytes:
    """Cease data for a shutdown communication (RFC 9003 2): length octet + UTF-8, at most
    255 bytes (cut on a character boundary). Empty text: no data at all."""
    if not communication:
        return b""
    raw = communication.encode("utf-8")
    if len(raw) > 255:
        raw = raw[:255].decode("utf-8", "ignore").encode("utf-8")
    return bytes([len(raw)]) + raw


def parse_communication(code: int, subcode: int, data: bytes) -> str | None:
    """The shutdown communication of a Cease 2 or 4 NOTIFICATION, None when absent or
    malformed (RFC 9003 says to log the raw bytes then: they stay in the event's data)."""
    if code != CEASE or subcode not in (ADMIN_SHUTDOWN, ADMIN_RESET) or not data:
        return None
    if data[0] != len(data) - 1:
        return None
    try:
        return data[1:].decode("utf-8")
    except UnicodeDecodeError:
        return None


def max_prefix_data(family: Family, limit: int) -> bytes:
    """Cease 1 data (RFC 4486 4): AFI (2), SAFI (1), the prefix upper bound (4)."""
    return _MAX_PREFIX.pack(family.afi, family.safi, limit)


def keep_locally_initiated(local_id: int, remote_id: int, local_as: int, remote_as: int) -> bool:
    """RFC 4271 6.8: keep the connection opened by the speaker with the higher BGP identifier;
    RFC 6286 2.3: on equal identifiers, by the one with the higher AS. True: keep ours."""
    if local_id != remote_id:
        return local_id > remote_id
    return local_as > remote_as


class Fsm:
    """One BGP session over one connection. `local` says what we offer and accept; `peer` is an
    opaque label echoed in SessionEstablished. passive: never initiate (wait in Active).
    max_prefixes: family -> the most prefixes accepted (see prefix_count).
    delay_open_time: 0 disables DelayOpen. check_update(body, recv_ctx) -> verdict: optional;
    its return value rides on UpdateReceived, a WireError it raises becomes the NOTIFICATION."""

    def __init__(
        self,
        local: LocalConfig,
        *,
        peer: Any = None,
        passive: bool = False,
        connect_retry_time: float = 120.0,
        delay_open_time: float = 0.0,
        open_hold_time: float = 240.0,
        check_update: Callable[[memoryview, EncodingContext], Any] | None = None,
        codecs: Codecs | None = None,
        max_prefixes: Mapping[Family, int] | None = None,
    ) -> None:
        self.local = local
        self.peer = peer
        self.passive = passive
        self.connect_retry_time = connect_retry_time
        self.delay_open_time = delay_open_time
        self.open_hold_time = open_hold_time
        self.check_update = check_update
        self.codecs = codecs
        self.max_prefixes: Mapping[Family, int] = max_prefixes or {}
        self.prefix_counts: dict[Family, int] = {}
        self.local_open: Open = build_open(local)
        self.state = State.Idle
        self.peer_open: Open | None = None
        self.negotiated: Negotiated | None = None
        self.outgoing: bool | None = None  # did we open the current connection?
        self.established_at: float | None = None
        self.last_error = ""
        self._connected = False
        self._extended = False
        self._in = b""
        self._out = bytearray()
        self._events: deque[Event] = deque()
        self._connect_retry_at: float | None = None
        self._delay_open_at: float | None = None
        self._hold_at: float | None = None
        self._keepalive_at: float | None = None

    # -- outputs ----------------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def timer_at(self) -> float | None:
        """The earliest deadline, or None when no timer runs."""
        times = [
            t
            for t in (self._delay_open_at, self._connect_retry_at, self._hold_at, self._keepalive_at)
            if t is not None
        ]
        return min(times) if times else None

    @property
    def peer_router_id(self) -> int | None:
        """The peer's BGP identifier, once its OPEN has been received (collision detection)."""
        return None if self.peer_open is None else self.peer_open.router_id_int

    def describe(self, now: float) -> dict[str, Any]:
        """JSON view for `ze show peers` (kebab-case keys)."""
        return {
            "state": self.state.name.lower(),
            "uptime": None if self.established_at is None else now - self.established_at,
            "last-error": self.last_error,
            "negotiated": None if self.negotiated is None else self.negotiated.describe(),
        }

    # -- administrative and transport inputs -------------------------------------------------

    def start(self, now: float) -> None:
        """ManualStart / AutomaticStart (RFC 4271 8.1.2 events 1-5)."""
        if self.state != State.Idle:
            return
        if self.passive:
            self._set_state(State.Active)
        else:
            self._connect_retry_at = now + self.connect_retry_time
            self._set_state(State.Connect)
            self._events.append(ConnectRequested())

    def connection_made(self, now: float, outgoing: bool = True) -> None:
        """TCP is up (events 16/17). Only legal in Connect or Active: in any other state a
        second connection needs its own Fsm (collision detection)."""
        if self.state not in (State.Connect, State.Active) or self._connected:
            raise RuntimeError(f"connection_made in {self.state.name}: use another Fsm for this connection")
        self._connected = True
        self.outgoing = outgoing
        self.peer_open = None
        self.negotiated = None
        self._extended = False
        self._in = b""
        self._connect_retry_at = None
        if self.delay_open_time > 0:
            self._delay_open_at = now + self.delay_open_time
        else:
            self._send_open(now)

    def connection_failed(self, now: float) -> None:
        """The TCP connection attempt failed (event 18 in Connect): retry after ConnectRetry."""
        if self.state == State.Connect and not self._connected:
            self._connect_retry_at = now + self.connect_retry_time
            self._set_state(State.Active)

    def connection_lost(self, now: float) -> None:
        """The TCP connection closed or broke (event 18)."""
        if not self._connected:
            return
        if self.state in (State.OpenConfirm, State.Established):
            self._to_idle("connection lost")
            return
        self._connected = False
        self._in = b""
        self._delay_open_at = self._hold_at = self._keepalive_at = None
        self.last_error = "connection lost"
        if not self.passive:
            self._connect_retry_at = now + self.connect_retry_time
        if self.state != State.Active:
            self._set_state(State.Active)

    def stop(self, now: float, communication: str = "") -> None:
        """ManualStop (event 2): Cease 2, Administrative Shutdown, with the RFC 9003 text."""
        self.cease(now, ADMIN_SHUTDOWN, shutdown_data(communication), "administrative shutdown")

    def cease(self, now: float, subcode: int, data: bytes = b"", reason: str = "") -> None:
        """End the session with a Cease NOTIFICATION (RFC 4486), or, when no BGP connection is
        up yet, just go to Idle."""
        if self.state == State.Idle:
            return
        reason = reason or f"cease {subcode}"
        if self._connected and self.state not in (State.Connect, State.Active):
            self._notify(CEASE, subcode, data, reason)
        else:
            self._to_idle(reason)

    def max_prefix_exceeded(self, now: float, family: Family, limit: int) -> None:
        """The reactor counted more prefixes than allowed: Cease 1 with AFI/SAFI/limit (RFC 4486)."""
        self.cease(
            now, MAX_PREFIXES, max_prefix_data(family, limit), f"{family.name} prefix limit {limit} exceeded"
        )

    def prefix_count(self, family: Family, count: int, now: float) -> bool:
        """The reactor's count of prefixes held from this peer in `family`. Above the family's
        maximum (max_prefixes) the session ends with Cease 1 (RFC 4486); True when it did."""
        self.prefix_counts[family] = count
        limit = self.max_prefixes.get(family)
        if limit is None or count <= limit or self.state != State.Established:
            return False
        self.max_prefix_exceeded(now, family, limit)
        return True

    def collision_detected(self, now: float) -> None:
        """This connection lost collision resolution: Cease 7 (RFC 4271 6.8, RFC 4486)."""
        self.cease(now, CONNECTION_COLLISION, b"", "connection collision resolution")

    def send(self, data: bytes | bytearray | memoryview, now: float) -> None:
        """Queue framed UPDATE (or other) messages in Established; restarts the KeepaliveTimer."""
        if self.state != State.Established:
            raise RuntimeError(f"send in {self.state.name}: only in Established")
        self._out += data
        if self._keepalive_at is not None and self.negotiated is not None:
            self._keepalive_at = now + self.negotiated.keepalive_time

    def send_route_refresh(self, family: Family, now: float, subtype: int = 0) -> None:
        """Ask the peer to resend a family (RFC 2918; subtype 1/2 BoRR/EoRR, RFC 7313)."""
        if self.negotiated is None or not self.negotiated.peer_route_refresh:
            raise RuntimeError("the peer did not announce route refresh")
        self.send(frame(MessageType.ROUTE_REFRESH, _RR.pack(family.afi, subtype, family.safi)), now)

    # -- timers -------------------------------------------------------------------------------

    def handle_timer(self, now: float) -> None:
        """Run every timer due at `now` (nothing happens when none is)."""
        while True:
            if self._delay_open_at is not None and self._delay_open_at <= now:
                self._delay_open_at = None
                self._send_open(now)
            elif self._connect_retry_at is not None and self._connect_retry_at <= now:
                self._connect_retry_at = now + self.connect_retry_time
                if self.state == State.Active:
                    self._set_state(State.Connect)
                self._events.append(ConnectRequested())
            elif self._hold_at is not None and self._hold_at <= now:
                self._notify(HOLD_TIMER_EXPIRED, 0, b"", "hold timer expired")
                return
            elif self._keepalive_at is not None and self._keepalive_at <= now:
                self._out += _KEEPALIVE
                assert self.negotiated is not None
                self._keepalive_at = now + self.negotiated.keepalive_time
            else:
                return

    # -- bytes in -----------------------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview, now: float) -> None:
        """Feed bytes read from the connection, any amount, cut anywhere."""
        if not self._connected or not data:
            return
        buf = self._in + data if self._in else bytes(data)
        view = memoryview(buf)
        end = len(buf)
        pos = 0
        try:
            while end - pos >= HEADER_LEN:
                mtype, length = parse_header(view, pos, self._extended)
                if end - pos < length:
                    break
                msg = view[pos : pos + length]
                pos += length
                handler, legal = DISPATCH[mtype]
                if self.state not in legal:
                    raise WireError(
                        f"unexpected {MessageType(mtype).name} in {self.state.name}",
                        None,
                        FSM_ERROR,
                        UNEXPECTED.get(self.state, 0),
                        bytes([mtype]),  # RFC 6608 4: the type of the unexpected message
                    )
                getattr(self, handler)(msg, now)
                if not self._connected:
                    return
        except WireError as e:
            # The one place a WireError becomes a NOTIFICATION.
            self._notify(e.code or CEASE, e.subcode, e.data, str(e))
            return
        self._in = buf if pos == 0 else bytes(view[pos:])

    @property
    def extended(self) -> bool:
        """Extended messages (RFC 8654) negotiated: framing allows 65535-byte UPDATEs."""
        return self._extended

    def receive_message(self, msg: memoryview, mtype: int, now: float) -> None:
        """One whole message, already framed (marker and length checked, e.g. by the C helper's
        read_frames): the same handling as receive_data without cutting the stream again."""
        if not self._connected:
            return
        try:
            handler, legal = DISPATCH[mtype]
            if self.state not in legal:
                raise WireError(
                    f"unexpected {MessageType(mtype).name} in {self.state.name}",
                    None,
                    FSM_ERROR,
                    UNEXPECTED.get(self.state, 0),
                    bytes([mtype]),
                )
            getattr(self, handler)(msg, now)
        except WireError as e:
            self._notify(e.code or CEASE, e.subcode, e.data, str(e))

    def update_error(self, now: float, subcode: int, data: bytes, reason: str) -> None:
        """The reactor found an UPDATE it cannot take (e.g. a family not negotiated): UPDATE
        Message Error (code 3) with `subcode`, then Idle."""
        if self._connected and self.state == State.Established:
            self._notify(3, subcode, data, reason)

    def refuse_open(self, now: float, subcode: int, data: bytes, reason: str) -> None:
        """The peer's OPEN is refused by local policy (a plugin's validate-open): OPEN Message
        Error (code 2) with `subcode`, then Idle. Only before the session is established."""
        if self._connected and self.state in (State.OpenSent, State.OpenConfirm):
            self._notify(2, subcode, data, reason)

    def framing_error(self, error: WireError, now: float) -> None:
        """A bad header found by the framer (RFC 4271 6.1): its NOTIFICATION, then Idle."""
        if self._connected:
            self._notify(error.code or 1, error.subcode, error.data, str(error))

    # -- message handlers (see DISPATCH) ---------------------------------------------------------

    def _on_open(self, msg: memoryview, now: float) -> None:
        peer_open = Open.from_wire(msg[HEADER_LEN:], HEADER_LEN, self.codecs)
        neg = negotiate(self.local, peer_open)
        self.peer_open = peer_open
        self.negotiated = neg
        if self.state != State.OpenSent:  # DelayOpen was running: our OPEN goes now
            self._delay_open_at = None
            self._out += self.local_open.to_bytes()
        self._extended = neg.extended_message
        self._events.append(OpenReceived(peer_open, neg))
        self._out += _KEEPALIVE
        if neg.hold_time:
            self._hold_at = now + neg.hold_time
            self._keepalive_at = now + neg.keepalive_time
        else:
            self._hold_at = self._keepalive_at = None
        self._set_state(State.OpenConfirm)

    def _on_keepalive(self, msg: memoryview, now: float) -> None:
        neg = self.negotiated
        assert neg is not None
        if neg.hold_time:
            self._hold_at = now + neg.hold_time
        if self.state == State.OpenConfirm:
            self.established_at = now
            self.prefix_counts = {}
            self._set_state(State.Established)
            self._events.append(SessionEstablished(self.peer, neg.recv_ctx, neg.send_ctx, neg))
        else:
            self._events.append(KeepaliveReceived())

    def _on_update(self, msg: memoryview, now: float) -> None:
        neg = self.negotiated
        assert neg is not None
        if neg.hold_time:
            self._hold_at = now + neg.hold_time
        body = msg[HEADER_LEN:]
        verdict = None if self.check_update is None else self.check_update(body, neg.recv_ctx)
        self._events.append(UpdateReceived(body, neg.recv_ctx.id, verdict))

    def _on_route_refresh(self, msg: memoryview, now: float) -> None:
        neg = self.negotiated
        assert neg is not None
        if neg.hold_time:
            self._hold_at = now + neg.hold_time
        if len(msg) != HEADER_LEN + 4:
            raise WireError(
                f"ROUTE-REFRESH of {len(msg)} bytes (expected 23)",
                16,
                ROUTE_REFRESH_ERROR,
                INVALID_MESSAGE_LENGTH,
                bytes(msg),
            )
        afi, subtype, safi = _RR.unpack_from(msg, HEADER_LEN)
        family = Family(afi, safi)
        # RFC 2918 4 and RFC 7313 5: a family not negotiated or an unknown subtype is ignored.
        if not self.local.route_refresh or subtype > 2 or family not in neg.families:
            return
        self._events.append(RouteRefreshReceived(family, subtype))

    def _on_notification(self, msg: memoryview, now: float) -> None:
        code, subcode = msg[HEADER_LEN], msg[HEADER_LEN + 1]
        data = bytes(msg[HEADER_LEN + 2 :])
        event = NotificationReceived(code, subcode, data, parse_communication(code, subcode, data))
        self._events.append(event)
        self._to_idle(f"NOTIFICATION {code}/{subcode} received", event)

    # -- internals ------------------------------------------------------------------------------

    def _set_state(self, new: State) -> None:
        old = self.state
        self.state = new
        self._events.append(StateChanged(old, new))

    def _send_open(self, now: float) -> None:
        self._out += self.local_open.to_bytes()
        self._hold_at = now + self.open_hold_time
        self._set_state(State.OpenSent)

    def _notify(self, code: int, subcode: int, data: bytes, reason: str) -> None:
        self._out += notification_message(code, subcode, data)
        event = NotificationSent(code, subcode, data, parse_communication(code, subcode, data), reason)
        self._events.append(event)
        self._to_idle(reason, event)

    def _to_idle(
        self, reason: str, notification: NotificationSent | NotificationReceived | None = None
    ) -> None:
        was_established = self.state == State.Established
        self._connected = False
        self._in = b""
        self._connect_retry_at = self._delay_open_at = self._hold_at = self._keepalive_at = None
        self.last_error = reason
        self.established_at = None
        self._set_state(State.Idle)
        self._events.append(SessionDown(reason, notification, was_established))


def collision_loser(a: Fsm, b: Fsm) -> Fsm:
    """Of two connections to the same peer, the Fsm to close (then call its collision_detected).
    An Established one always stays (RFC 4271 6.8); otherwise the identifiers decide, which needs
    the peer's OPEN on at least one of them, and one connection opened by each side."""
    if a.state == State.Established:
        return b
    if b.state == State.Established:
        return a
    if a.outgoing is None or b.outgoing is None or a.outgoing == b.outgoing:
        raise ValueError("collision needs one locally and one remotely initiated connection")
    known = a if a.negotiated is not None else b
    neg = known.negotiated
    if neg is None:
        raise ValueError("collision needs the peer's OPEN on one of the connections")
    keep_ours = keep_locally_initiated(neg.local_router_id, neg.peer_router_id, neg.local_asn, neg.peer_asn)
    ours, theirs = (a, b) if a.outgoing else (b, a)
    return theirs if keep_ours else ours
