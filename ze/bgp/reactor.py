"""The peer set: one Session per configured peer driving ze.bgp.fsm over ze.bgp.io connections.

A Session owns the Fsm of its current connection (and, while two connections race, the second
one: collision detection, RFC 4271 6.8), the timers (one loop timer per Fsm at `timer_at()`),
connecting out (the Fsm asks with ConnectRequested; a failure waits ConnectRetry), restarting
from Idle with exponential backoff, passive peers (wait for the listener), and what the session
carries:

- received UPDATEs: RFC 7606 verdicts (ze.bgp.validate) are applied: session-reset becomes the
  NOTIFICATION, treat-as-withdraw and attribute-discard rewrite the body (ze.bgp.ribin) and are
  logged with the peer and attribute; the body is counted per family in a plain Adj-RIB-In, checked
  against max-prefix (RFC 4486 Cease 1, then a restart timer or staying down) and handed to
  `on_update(session, body, recv_ctx, msg_id)`: one call per UPDATE, nothing parsed;
- locally originated routes: an Adj-RIB-Out (ze.bgp.adjout) sent when the session comes up (then
  End-of-RIB, RFC 4724), again on ROUTE-REFRESH (RFC 2918, with BoRR/EoRR under RFC 7313), and
  changed at runtime by `update_route(selector, command)`;
- administrative stop with the RFC 8203/9003 shutdown communication (Cease 2), Cease 3 when a peer
  is removed, Cease 6 when its configuration changes.

Time is the loop's monotonic clock (`loop.time()`), the `now` every Fsm call gets. Reads come in
bounded slices (one receive buffer per wake-up, see ze.bgp.io.transport), so timers run between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fnmatch
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ze.bgp import validate
from ze.bgp.adjout import AdjRibOut, Outgoing, parse_command, sendable
from ze.bgp.events import (
    ConnectRequested,
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
    ADMIN_SHUTDOWN,
    OTHER_CONFIGURATION_CHANGE,
    PEER_DECONFIGURED,
    Fsm,
    collision_loser,
    shutdown_data,
)
from ze.bgp.io.listener import Listener
from ze.bgp.io.transport import FLUSHING, Connection, connect
from ze.bgp.negotiation import LocalConfig
from ze.bgp.ribin import AdjRibIn, Unnegotiated, discard_body, withdraw_body
from ze.bgp.wire.capability.base import Capability, Unknown
from ze.bgp.wire.codecs import core
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.open import Open
from ze.bgp.wire.update import NlriSection, eor_message
from ze.core import log as zlog
from ze.core.errors import WireError
from ze.core.family import IPV4_UNICAST, Family

log = zlog.get_logger("ze.bgp")

NOTIFICATION_NAMES = {
    1: "message header error",
    2: "OPEN message error",
    3: "UPDATE message error",
    4: "hold timer expired",
    5: "finite state machine error",
    6: "cease",
    7: "ROUTE-REFRESH message error",
}
CEASE_NAMES = {
    1: "maximum number of prefixes reached",
    2: "administrative shutdown",
    3: "peer de-configured",
    4: "administrative reset",
    5: "connection rejected",
    6: "other configuration change",
    7: "connection collision resolution",
    8: "out of resources",
    9: "hard reset",
    10: "BFD down",
}


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


@dataclass(frozen=True)
class MaxPrefix:
    limit: int
    restart: float = 0.0  # seconds before the session restarts after a Cease 1; 0: stay down


@dataclass(frozen=True)
class PeerSettings:
    """One peer as the reactor needs it (the daemon builds it from the resolved config)."""

    name: str
    remote_ip: str
    remote_as: int
    local_as: int
    router_id: str
    local_address: str | None = None
    hold_time: int = 90
    families: tuple[Family, ...] = (IPV4_UNICAST,)
    md5_password: str | None = None
    ttl_security: int | None = None
    passive: bool = False
    port: int = 179
    max_prefix: dict[Family, MaxPrefix] = field(default_factory=dict)
    announce: tuple[str, ...] = ()
    adj_rib_in: bool = False  # keep the received prefixes (exact counts, `routes received`)
    unnegotiated_family: str = "error"  # routes of a family not negotiated: "error" (3/9) or "ignore"
    connect_retry: float = 5.0
    add_path: dict[Family, str] = field(default_factory=dict)  # family -> "send"|"receive"|"both"
    idle_hold: float = 1.0  # first restart delay after a session went down; doubles up to idle_hold_max
    idle_hold_max: float = 60.0

    @property
    def ibgp(self) -> bool:
        return self.remote_as == self.local_as

    def local_config(self) -> LocalConfig:
        return LocalConfig(
            asn=self.local_as,
            router_id=self.router_id,
            peer_as=self.remote_as,
            hold_time=self.hold_time,
            families=self.families,
            addpath={f: m for f, m in self.add_path.items() if f in self.families},
            enhanced_route_refresh=True,
        )


class Link:
    """One connection attempt or connection, with its own Fsm."""

    __slots__ = ("conn", "connecting", "fsm", "holding", "reads_off", "timer", "timer_at", "validated")

    def __init__(self, fsm: Fsm) -> None:
        self.fsm = fsm
        self.holding = False  # reads held while the peer's OPEN is with validate_open
        self.validated = False
        self.reads_off = False  # this link's connection is paused by _reading
        self.conn: Any = None
        self.connecting: asyncio.Task | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.timer_at: float | None = None


def describe_notification(ev: NotificationSent | NotificationReceived, direction: str) -> dict[str, Any]:
    name = NOTIFICATION_NAMES.get(ev.code, f"code {ev.code}")
    sub = CEASE_NAMES.get(ev.subcode, "") if ev.code == 6 else ""
    out: dict[str, Any] = {
        "direction": direction,
        "code": ev.code,
        "subcode": ev.subcode,
        "name": f"{name}: {sub}" if sub else name,
        "data": ev.data.hex().upper(),
    }
    if ev.communication is not None:
        out["communication"] = ev.communication
    if isinstance(ev, NotificationSent) and ev.reason:
        out["reason"] = ev.reason
    return out


class Session:
    """One configured peer."""

    def __init__(self, reactor: Reactor, settings: PeerSettings) -> None:
        self.reactor = reactor
        self.settings = settings
        self.name = settings.name
        self.loop = reactor.loop
        self.codecs = reactor.codecs
        self.links: list[Link] = []
        self.ribin = AdjRibIn(True if settings.adj_rib_in else frozenset(settings.max_prefix))
        self.adjout = AdjRibOut()
        self.info: Any = None  # PeerInfo once established (built by on_established)
        self.outgoing: Outgoing | None = None
        self.admin_down = False
        self.prefix_down: Family | None = None
        self.removed = False
        self.backoff = 0.0
        self.restart_handle: asyncio.TimerHandle | None = None
        self.last_error = ""
        self.last_notification: dict[str, Any] | None = None
        self.established_count = 0
        self.established_at_wall: float | None = None
        self.down_at_wall: float | None = None
        self.updates_received = 0
        self.treat_as_withdraw = 0
        self.attribute_discard = 0
        self.refreshes_received = 0
        self.routes_sent = 0
        self._send_task: asyncio.Task | None = None
        for command in settings.announce:
            try:
                self.adjout.apply(*parse_command(command, self.codecs))
            except ValueError as e:
                log.error("bad announce in config", peer=self.name, command=command, error=str(e))

    # -- state ------------------------------------------------------------------------------

    @property
    def fsm(self) -> Fsm | None:
        return self.links[0].fsm if self.links else None

    @property
    def state(self) -> State:
        fsm = self.fsm
        return State.Idle if fsm is None else fsm.state

    @property
    def established(self) -> bool:
        return self.state == State.Established

    def _new_fsm(self, passive: bool) -> Fsm:
        s = self.settings
        local = s.local_config()
        extra = self.reactor.extra_capabilities(self)
        if extra:  # plugins' capabilities (Reactor.open_capabilities), after the configured ones
            local = dataclasses.replace(local, extra_capabilities=local.extra_capabilities + extra)
        return Fsm(
            local,
            peer=self.name,
            passive=passive,
            connect_retry_time=s.connect_retry,
            check_update=self._check,
            codecs=self.codecs,
            max_prefixes={f: m.limit for f, m in s.max_prefix.items()},
        )

    # -- administrative -----------------------------------------------------------------------

    def start(self) -> None:
        """Start (or restart) the session from Idle."""
        if self.removed:
            return
        self.admin_down = False
        self.prefix_down = None
        if self.restart_handle is not None:
            self.restart_handle.cancel()
            self.restart_handle = None
        if self.links and self.links[0].fsm.state != State.Idle:
            return
        self._start_link()

    def _start_link(self) -> Link:
        self.restart_handle = None
        for link in self.links:
            self._drop_link(link)
        link = Link(self._new_fsm(self.settings.passive))
        self.links = [link]
        link.fsm.start(self.loop.time())
        self._pump(link)
        return link

    def stop(self, communication: str = "", subcode: int = ADMIN_SHUTDOWN) -> None:
        """Administrative stop: Cease (2 with the RFC 9003 text by default) and stay down."""
        self.admin_down = True
        if self.restart_handle is not None:
            self.restart_handle.cancel()
            self.restart_handle = None
        data = shutdown_data(communication) if subcode in (2, 4) else b""
        reason = {2: "administrative shutdown", 3: "peer de-configured", 6: "configuration changed"}.get(
            subcode, f"cease {subcode}"
        )
        if communication:
            reason = f"{reason}: {communication}"
        for link in list(self.links):
            link.fsm.cease(self.loop.time(), subcode, data, reason)
            self._pump(link)
        for link in list(self.links):
            self._drop_link(link)

    def remove(self, communication: str = "", subcode: int = PEER_DECONFIGURED) -> None:
        self.stop(communication, subcode)
        self.removed = True

    def _drop_link(self, link: Link) -> None:
        if link.timer is not None:
            link.timer.cancel()
            link.timer = None
        if link.connecting is not None:
            link.connecting.cancel()
            link.connecting = None
        if link.conn is not None:
            conn, link.conn = link.conn, None
            conn.close(flush=True)
        if link in self.links:
            self.links.remove(link)

    # -- connections --------------------------------------------------------------------------

    def _connect(self, link: Link) -> None:
        if link.conn is not None or link.connecting is not None:
            return
        link.connecting = self.loop.create_task(self._connect_task(link))

    async def _connect_task(self, link: Link) -> None:
        s = self.settings
        try:
            sock = await self.reactor.connector(
                s.remote_ip,
                s.port,
                local=s.local_address,
                md5=s.md5_password,
                ttl_security=s.ttl_security,
                timeout=min(10.0, max(1.0, s.connect_retry)),
            )
        except (OSError, TimeoutError) as e:
            link.connecting = None
            if link in self.links and link.conn is None:
                self.last_error = f"connect: {getattr(e, 'strerror', None) or e or 'timed out'}"
                log.debug("connect failed", peer=self.name, error=self.last_error)
                link.fsm.connection_failed(self.loop.time())
                self._pump(link)
            return
        link.connecting = None
        if (
            link not in self.links
            or link.conn is not None
            or link.fsm.state not in (State.Connect, State.Active)
        ):
            sock.close()
            return
        self._attach(link, sock, outgoing=True)

    def accept(self, sock: socket.socket) -> None:
        """A connection from this peer's address (the listener checked it and set GTSM)."""
        if self.admin_down or self.prefix_down is not None or self.removed:
            log.info("connection refused: peer is down", peer=self.name)
            sock.close()
            return
        primary = self.links[0] if self.links else None
        if primary is None or primary.fsm.state == State.Idle:
            primary = self._start_link()
        if primary.conn is None:
            if primary.connecting is not None:
                primary.connecting.cancel()
                primary.connecting = None
            self._attach(primary, sock, outgoing=False)
            return
        if primary.fsm.state == State.Established or len(self.links) > 1:
            log.info(
                "connection collision with an established session: new connection closed", peer=self.name
            )
            sock.close()
            return
        link = Link(self._new_fsm(True))
        self.links.append(link)
        link.fsm.start(self.loop.time())
        self._attach(link, sock, outgoing=False)

    def _attach(self, link: Link, sock: socket.socket, outgoing: bool) -> None:
        fsm = link.fsm
        try:
            link.conn = self.reactor.wrap(
                sock,
                lambda data, frames: self._frames(link, data, frames),
                lambda err: self._framing_error(link, err),
                lambda reason: self._closed(link, reason),
                lambda: fsm.extended,
                outgoing,
            )
        except OSError as e:  # the peer went away between accept and here
            sock.close()
            self.last_error = f"connection: {e}"
            return
        log.info(
            "connected",
            peer=self.name,
            direction="out" if outgoing else "in",
            local=f"{link.conn.local}:{link.conn.local_port}",
            remote=f"{link.conn.remote}:{link.conn.remote_port}",
        )
        fsm.connection_made(self.loop.time(), outgoing)
        self._reading(link)
        self._pump(link)

    def _reading(self, link: Link) -> None:
        """Read from the link's socket unless the hub is under pressure or its OPEN is held."""
        conn = link.conn
        if conn is None or conn in FLUSHING:
            return
        off = self.reactor.reads_paused or link.holding
        if off != link.reads_off:
            link.reads_off = off
            (conn.pause_reading if off else conn.resume_reading)()

    def _frames(self, link: Link, data: bytes, frames: list[int]) -> None:
        fsm = link.fsm
        now = self.loop.time()
        view = memoryview(data)
        receive = fsm.receive_message
        for i in range(0, len(frames), 3):
            off = frames[i]
            if frames[i + 2] == 1 and not link.validated and self.reactor.validate_open is not None:
                link.validated = True  # one OPEN per connection is checked; the FSM handles others
                link.holding = True
                self._reading(link)
                self.loop.create_task(self._validate_open(link, data, frames[i:]))
                break
            receive(view[off : off + frames[i + 1]], frames[i + 2], now)
            if link.conn is None or fsm.state == State.Idle:
                break
        self._pump(link)

    async def _validate_open(self, link: Link, data: bytes, frames: list[int]) -> None:
        """Ask validate_open about the peer's OPEN before the FSM sees it (so no KEEPALIVE goes
        out first); a refusal sends OPEN Message Error 2/0 (RFC 4271 6.2: no more specific
        subcode fits a policy refusal) with the reason as data, and the session does not come up."""
        hook = self.reactor.validate_open
        ok, reason = True, ""
        try:
            open_ = Open.from_wire(memoryview(data)[frames[0] + 19 : frames[0] + frames[1]], 19, self.codecs)
        except WireError:
            open_ = None  # the FSM answers a malformed OPEN itself
        if open_ is not None and hook is not None:
            try:
                ok, reason = await hook(self, open_)
            except Exception as e:  # a broken hook does not hold sessions down
                log.error("validate-open failed; accepting", peer=self.name, error=repr(e))
        link.holding = False
        if link.conn is None or link not in self.links:
            return
        if ok:
            self._frames(link, data, frames)
        else:
            log.warning("OPEN refused by a plugin", peer=self.name, reason=reason)
            link.fsm.refuse_open(self.loop.time(), 0, reason.encode()[:255], f"OPEN refused: {reason}")
            self._pump(link)
        if link.conn is not None:
            self._reading(link)

    def _framing_error(self, link: Link, err: WireError) -> None:
        log.error("bad message header", peer=self.name, error=str(err), offset=err.offset)
        link.fsm.framing_error(err, self.loop.time())
        self._pump(link)

    def _closed(self, link: Link, reason: str) -> None:
        if link.conn is None:
            return
        link.conn = None
        if link not in self.links:
            return
        fsm = link.fsm
        if fsm.state != State.Idle:
            log.info("connection lost", peer=self.name, reason=reason, state=fsm.state.name)
        fsm.connection_lost(self.loop.time())
        self._pump(link)
        if link in self.links and link is not self.links[0] and link.conn is None:
            self._drop_link(link)

    # -- the pump: bytes out, events, timers ------------------------------------------------

    def _pump(self, link: Link) -> None:
        fsm = link.fsm
        while True:
            out = fsm.data_to_send()
            if out and link.conn is not None:
                link.conn.write(out)
            ev = fsm.next_event()
            if ev is None:
                break
            handler = _HANDLERS.get(type(ev))
            if handler is not None:
                handler(self, link, ev)
        self._arm(link)

    def _arm(self, link: Link) -> None:
        if link not in self.links:
            return
        at = link.fsm.timer_at()
        if at is None:
            if link.timer is not None:
                link.timer.cancel()
                link.timer = None
            return
        if link.timer is not None and link.timer_at is not None and link.timer_at <= at:
            return  # the earlier timer fires first and re-arms (saves a cancel per read under load)
        if link.timer is not None:
            link.timer.cancel()
        link.timer_at = at
        link.timer = self.loop.call_at(at, self._timer, link)

    def _timer(self, link: Link) -> None:
        link.timer = None
        link.timer_at = None
        if link not in self.links:
            return
        link.fsm.handle_timer(self.loop.time())
        self._pump(link)

    # -- events ---------------------------------------------------------------------------------

    def _on_state(self, link: Link, ev: StateChanged) -> None:
        log.debug("state", peer=self.name, old=ev.old.name, new=ev.new.name)

    def _on_connect(self, link: Link, ev: ConnectRequested) -> None:
        if link is self.links[0] and link.conn is None and not self.admin_down:
            self._connect(link)

    def _on_open(self, link: Link, ev: OpenReceived) -> None:
        if len(self.links) < 2:
            return
        a, b = self.links[0], self.links[1]
        try:
            loser_fsm = collision_loser(a.fsm, b.fsm)
        except ValueError:
            return
        loser = a if loser_fsm is a.fsm else b
        log.info(
            "connection collision", peer=self.name, closing="outgoing" if loser_fsm.outgoing else "incoming"
        )
        loser_fsm.collision_detected(self.loop.time())
        self._pump(loser)

    def _on_established(self, link: Link, ev: SessionEstablished) -> None:
        neg = ev.negotiated
        conn = link.conn
        if link is not self.links[0]:  # the collision winner becomes the session
            self.links.remove(link)
            self.links.insert(0, link)
        link.fsm.passive = self.settings.passive
        for other in self.links[1:]:
            other.fsm.collision_detected(self.loop.time())
            self._pump(other)
            self._drop_link(other)
        self.ribin.clear()
        self.updates_received = 0
        self.established_count += 1
        self.backoff = 0.0
        self.established_at_wall = self.reactor.wall()
        local = conn.local if conn is not None else (self.settings.local_address or "")
        self.outgoing = Outgoing(self.settings.local_as, neg.ibgp, local, self.codecs)
        self.info = self.reactor.peer_info(self, neg, local)
        log.info(
            "session established",
            peer=self.name,
            remote_as=neg.peer_asn,
            hold_time=neg.hold_time,
            families=[f.name for f in neg.families],
        )
        self.reactor.state_changed(self, "up", "")
        self._send_task = self.loop.create_task(self._send_table(None, eor=True))

    def _on_update(self, link: Link, ev: UpdateReceived) -> None:
        fsm = link.fsm
        neg = fsm.negotiated
        if neg is None or fsm.state != State.Established:
            return
        body: Any = ev.update
        v = ev.verdict
        if v is not None and v is not validate.OK_VERDICT:
            body = self._apply_verdict(body, v)
        ctx = neg.recv_ctx
        self.updates_received += 1
        try:
            try:
                grown = self.ribin.apply(body, ctx, neg.families)
            except Unnegotiated as e:
                body = self._unnegotiated(fsm, body, e)
                if body is None:
                    return  # the NOTIFICATION (if any) goes out with the pump that called us
                grown = self.ribin.apply(body, ctx, neg.families)
        except WireError as e:  # validation lets nothing malformed through; this is a bug
            log.error("cannot account for an UPDATE", peer=self.name, error=str(e))
            grown = []
        limits = self.settings.max_prefix
        if limits:
            for fam in grown:
                if fam in limits:
                    held = self.ribin.families[fam].received
                    if fsm.prefix_count(fam, held, self.loop.time()):
                        mp = limits[fam]
                        self.prefix_down = fam
                        log.warning(
                            "maximum prefixes exceeded: session closed",
                            peer=self.name,
                            family=fam.name,
                            limit=mp.limit,
                            received=held,
                            restart=mp.restart or "never",
                        )
                        return
        self.reactor.update_received(self, body, ctx)

    def _apply_verdict(self, body: Any, v: validate.Verdict) -> Any:
        reasons = [
            {
                "attribute": validate.TABLE[r.code].name if r.code in validate.TABLE else r.code,
                "offset": r.offset,
                "error": r.text,
            }
            for r in v.reasons
        ]
        if v.action == validate.WITHDRAW:
            self.treat_as_withdraw += 1
            self.last_error = f"treat-as-withdraw: {reasons[0]['error'] if reasons else ''}"
            log.warning("malformed UPDATE: treat-as-withdraw", peer=self.name, reasons=reasons)
            return withdraw_body(body)
        if v.discarded or v.duplicates:
            self.attribute_discard += 1
            log.warning("malformed UPDATE: attribute-discard", peer=self.name, reasons=reasons)
            return discard_body(body, v.discarded, v.duplicates)
        return body

    def _check(self, body: memoryview, ctx: EncodingContext) -> validate.Verdict:
        v = validate.check_update(body, ctx, self.codecs, ibgp=self.settings.ibgp)
        if v.action == validate.RESET:
            text = "; ".join(r.text for r in v.reasons) or "malformed UPDATE"
            code, subcode, data = v.notification or (3, 0, b"")
            raise WireError(text, v.reasons[0].offset if v.reasons else None, code, subcode, data)
        return v

    def _unnegotiated(self, fsm: Fsm, body: Any, e: Unnegotiated) -> Any:
        """Routes of a family the session did not negotiate (RFC 4760 6): an UPDATE error (3/9,
        optional attribute error) by default, None returned; with `unnegotiated-family ignore`, the
        body without those parts (logged)."""
        if self.settings.unnegotiated_family != "ignore":
            fsm.update_error(self.loop.time(), 9, b"", f"routes of a family not negotiated: {e}")
            return None
        codes = tuple(sorted({code for code, _ in e.parts if code}))
        self.attribute_discard += 1
        log.warning("routes of a family not negotiated: ignored", peer=self.name, families=str(e))
        if any(code == 0 for code, _ in e.parts):  # IPv4 in the classic fields: nothing usable
            return None
        return discard_body(body, codes, ())

    def _on_refresh(self, link: Link, ev: RouteRefreshReceived) -> None:
        if ev.subtype != 0:
            return  # BoRR / EoRR from the peer: the rib feature's business
        self.refreshes_received += 1
        log.info("route refresh received", peer=self.name, family=ev.family.name)
        prev = self._send_task if self._send_task is not None and not self._send_task.done() else None
        self._send_task = self.loop.create_task(
            self._send_table(ev.family, eor=False, refresh=True, after=prev)
        )
        self.reactor.refresh_received(self, ev.family)

    def _on_notification(self, link: Link, ev: NotificationSent | NotificationReceived) -> None:
        direction = "sent" if isinstance(ev, NotificationSent) else "received"
        self.last_notification = describe_notification(ev, direction)
        self.last_notification["time"] = _iso(self.reactor.wall())
        fields = dict(self.last_notification)
        fields.pop("time")
        (log.warning if ev.code != 6 else log.info)(f"NOTIFICATION {direction}", peer=self.name, **fields)

    def _on_down(self, link: Link, ev: SessionDown) -> None:
        self.last_error = ev.reason
        if link.conn is not None:
            conn, link.conn = link.conn, None
            conn.close(flush=True)
        if link.timer is not None:
            link.timer.cancel()
            link.timer = None
        if ev.was_established:
            self.down_at_wall = self.reactor.wall()
            self.ribin.clear()  # the peer's routes are gone with the session
            if self._send_task is not None and not self._send_task.done():
                self._send_task.cancel()
            log.info("session down", peer=self.name, reason=ev.reason)
            self.reactor.state_changed(self, "down", ev.reason)
        if link not in self.links:
            return
        if link is not self.links[0]:
            self.links.remove(link)
            return
        if len(self.links) > 1:  # the other connection carries on
            self.links.pop(0)
            self.links[0].fsm.passive = self.settings.passive
            return
        self._schedule_restart()

    def _schedule_restart(self) -> None:
        if self.admin_down or self.removed:
            return
        if self.prefix_down is not None:
            mp = self.settings.max_prefix.get(self.prefix_down)
            if mp is None or not mp.restart:
                return
            delay = mp.restart
        else:
            s = self.settings
            self.backoff = min(s.idle_hold_max, max(s.idle_hold, self.backoff * 2))
            delay = self.backoff
        if self.restart_handle is not None:
            self.restart_handle.cancel()
        self.restart_handle = self.loop.call_later(delay, self._restart)

    def _restart(self) -> None:
        self.restart_handle = None
        if self.admin_down or self.removed:
            return
        self.prefix_down = None
        if self.links and self.links[0].fsm.state != State.Idle:
            return
        self._start_link()

    # -- sending --------------------------------------------------------------------------------

    def _send(self, data: bytes | bytearray) -> bool:
        link = self.links[0] if self.links else None
        if link is None or link.fsm.state != State.Established or link.conn is None:
            return False
        link.fsm.send(data, self.loop.time())
        link.conn.write(link.fsm.data_to_send())
        return True

    def _families(self) -> tuple[Family, ...]:
        fsm = self.fsm
        return () if fsm is None or fsm.negotiated is None else fsm.negotiated.families

    async def _send_table(
        self, family: Family | None, eor: bool, refresh: bool = False, after: asyncio.Task | None = None
    ) -> None:
        """The Adj-RIB-Out (of one family, or all), then End-of-RIB / EoRR. `after`: a send still
        running (the initial table): this one waits for it instead of cutting it short."""
        if after is not None and not after.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(after)
        fsm = self.fsm
        if fsm is None or fsm.negotiated is None or self.outgoing is None or not self.established:
            return
        neg = fsm.negotiated
        ctx = neg.send_ctx
        families = neg.families if family is None else (family,)
        enhanced = refresh and neg.enhanced_route_refresh

        def current() -> bool:  # the same session, still up (a flap during a drain starts its own send)
            return self.fsm is fsm and fsm.state == State.Established

        sent = 0
        try:
            if enhanced:
                for fam in families:
                    fsm.send_route_refresh(fam, self.loop.time(), 1)
                self._pump(self.links[0])
            for key, section in list(self.adjout.snapshot(family)):
                if section.family not in families:
                    continue
                try:
                    msgs = self.outgoing.encode(key[0], [section], ctx)
                except ValueError as e:
                    log.error("cannot encode routes for the peer", peer=self.name, error=str(e))
                    continue
                for msg in msgs:
                    if not self._send(msg):
                        return
                sent += sendable(section, ctx)
                conn = self.links[0].conn if self.links else None
                if conn is not None and conn.buffered:
                    await conn.drain()
                if not current():
                    return
            if enhanced:
                for fam in families:
                    fsm.send_route_refresh(fam, self.loop.time(), 2)
                self._pump(self.links[0])
            if eor:
                for fam in families:
                    self._send(eor_message(fam))
        except RuntimeError:
            return  # the session went down meanwhile
        self.routes_sent += sent
        log.info("routes sent", peer=self.name, routes=sent, refresh=refresh)

    def originate(self, attrs: list, sections: list[NlriSection]) -> int:
        """A route command for this peer: stored in the Adj-RIB-Out, sent now when Established.
        Returns the number of prefixes sent. ValueError when they cannot be encoded for the peer."""
        self.adjout.apply(attrs, sections)
        if not self.established or self.outgoing is None:
            return 0
        fams = self._families()
        wanted = [s for s in sections if s.family in fams]
        if not wanted:
            return 0
        fsm = self.fsm
        assert fsm is not None and fsm.negotiated is not None
        msgs = self.outgoing.encode(attrs, wanted, fsm.negotiated.send_ctx)
        for m in msgs:
            self._send(m)
        n = sum(sendable(s, fsm.negotiated.send_ctx) for s in wanted)
        self.routes_sent += n
        return n

    async def send_messages(self, messages: Iterable[bytes]) -> int:
        """Whole messages from a feature (a RIB's Adj-RIB-Out), written in order, waiting for the
        socket's buffer to drain; stops when the session leaves Established. Returns how many."""
        n = 0
        for m in messages:
            if not self._send(m):
                break
            n += 1
            conn = self.links[0].conn if self.links else None
            if conn is not None and conn.buffered:
                await conn.drain()
        return n

    def send_refresh(self, family: Family | None = None) -> int:
        """Ask the peer to resend (RFC 2918); how many families were asked for."""
        fsm = self.fsm
        if fsm is None or not self.established or fsm.negotiated is None:
            return 0
        fams = fsm.negotiated.families if family is None else (family,)
        for fam in fams:
            fsm.send_route_refresh(fam, self.loop.time())
        self._pump(self.links[0])
        return len(fams)

    # -- view -------------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        fsm = self.fsm
        now = self.loop.time()
        link = self.links[0] if self.links else None
        out: dict[str, Any] = {
            "state": self.state.name.lower(),
            "uptime": None,
            "admin-down": self.admin_down,
            "max-prefix-down": None if self.prefix_down is None else self.prefix_down.name,
            "established-count": self.established_count,
            "last-error": self.last_error or (fsm.last_error if fsm is not None else ""),
            "last-notification": self.last_notification,
            "prefixes": self.ribin.to_dict(),
            "end-of-rib": sorted(f.name for f in self.ribin.eor),
            "updates-received": self.updates_received,
            "treat-as-withdraw": self.treat_as_withdraw,
            "attribute-discard": self.attribute_discard,
            "refreshes-received": self.refreshes_received,
            "routes-advertised": self.adjout.counts(),
            "routes-sent": self.routes_sent,
            "negotiated": None,
            "connection": None,
        }
        if fsm is not None:
            d = fsm.describe(now)
            if d["uptime"] is not None:
                out["uptime"] = round(d["uptime"], 3)
            out["negotiated"] = d["negotiated"] if self.established else None
        if link is not None and link.conn is not None:
            c = link.conn
            out["connection"] = {
                "local": c.local,
                "local-port": c.local_port,
                "remote": c.remote,
                "remote-port": c.remote_port,
                "direction": "out" if c.outgoing else "in",
                "bytes-in": c.bytes_in,
                "bytes-out": c.bytes_out,
            }
        return out


_HANDLERS: dict[type, Callable[[Session, Link, Any], None]] = {
    StateChanged: Session._on_state,
    ConnectRequested: Session._on_connect,
    OpenReceived: Session._on_open,
    SessionEstablished: Session._on_established,
    UpdateReceived: Session._on_update,
    RouteRefreshReceived: Session._on_refresh,
    NotificationSent: Session._on_notification,
    NotificationReceived: Session._on_notification,
    SessionDown: Session._on_down,
}


class Reactor:
    """Every session, the listeners, and the selector-addressed operations on them.

    on_update(session, body, recv_ctx, msg_id) and on_state(session, "up"|"down", reason) are the
    subsystem's hooks; peer_info(session, negotiated, local_address) builds the PeerInfo it publishes.
    connector/wrap make sockets and connections (tests give fakes)."""

    def __init__(
        self,
        *,
        on_update: Callable[[Session, Any, EncodingContext, int], None] | None = None,
        on_state: Callable[[Session, str, str], None] | None = None,
        peer_info: Callable[[Session, Any, str], Any] | None = None,
        connector: Callable[..., Any] = connect,
        wrap: Callable[..., Any] | None = None,
        wall: Callable[[], float] | None = None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.codecs = core()
        self.sessions: dict[str, Session] = {}
        self.listeners: list[Listener] = []
        self.on_update = on_update
        self.on_state = on_state
        self.on_refresh: Callable[[Session, Family], None] | None = None  # set by the subsystem
        self._peer_info = peer_info
        self.connector = connector
        self.wrap = wrap or self._wrap
        self.wall = wall or time.time
        self.msg_id = 0
        # plugin hooks (the subsystem sets them): capabilities to add to the OPEN sent to a
        # session, and an async check of a peer's OPEN -> (accept, reason)
        self.open_capabilities: Callable[[Session], list[tuple[int, bytes]]] | None = None
        self.validate_open: Callable[[Session, Open], Awaitable[tuple[bool, str]]] | None = None
        self.reads_paused = False

    @staticmethod
    def _wrap(sock, on_frames, on_error, on_close, extended, outgoing) -> Connection:
        return Connection(sock, on_frames, on_error, on_close, extended, outgoing=outgoing)

    # -- hooks ------------------------------------------------------------------------------------

    def update_received(self, session: Session, body: Any, ctx: EncodingContext) -> None:
        self.msg_id += 1
        if self.on_update is not None:
            self.on_update(session, body, ctx, self.msg_id)

    def extra_capabilities(self, session: Session) -> tuple[Capability, ...]:
        if self.open_capabilities is None:
            return ()
        try:
            return tuple(Unknown(payload, code) for code, payload in self.open_capabilities(session))
        except Exception as e:
            log.error("open capabilities failed", peer=session.name, error=repr(e))
            return ()

    def pause_reads(self, paused: bool) -> None:
        """Stop (True) or resume reading every session's socket; timers and writes go on."""
        if paused == self.reads_paused:
            return
        self.reads_paused = paused
        log.info("reads paused (hub under pressure)" if paused else "reads resumed")
        for s in self.sessions.values():
            for link in s.links:
                s._reading(link)

    def state_changed(self, session: Session, state: str, reason: str) -> None:
        if self.on_state is not None:
            self.on_state(session, state, reason)

    def refresh_received(self, session: Session, family: Family) -> None:
        if self.on_refresh is not None:
            self.on_refresh(session, family)

    def peer_info(self, session: Session, negotiated: Any, local: str) -> Any:
        if self._peer_info is None:
            return None
        return self._peer_info(session, negotiated, local)

    # -- peers ------------------------------------------------------------------------------------

    def add_peer(self, settings: PeerSettings, start: bool = True) -> Session:
        if settings.name in self.sessions:
            raise ValueError(f"peer {settings.name} exists")
        s = Session(self, settings)
        self.sessions[settings.name] = s
        self._update_keys()
        if start:
            s.start()
        return s

    def remove_peer(self, name: str, subcode: int = PEER_DECONFIGURED) -> None:
        s = self.sessions.pop(name, None)
        if s is None:
            return
        s.remove("", subcode)
        self._update_keys()

    def change_peer(self, settings: PeerSettings) -> Session:
        """New settings: the session restarts (Cease 6, RFC 4486) with them."""
        self.remove_peer(settings.name, OTHER_CONFIGURATION_CHANGE)
        return self.add_peer(settings)

    def by_address(self, address: str) -> Session | None:
        for s in self.sessions.values():
            if s.settings.remote_ip == address:
                return s
        return None

    def select(self, selector: str) -> list[Session]:
        """Sessions matching a selector: `*`, a name, an address, a glob over names and addresses,
        `!TERM` to exclude, several terms separated by commas or spaces."""
        terms = [t for t in selector.replace(",", " ").split() if t]
        if not terms:
            raise ValueError("empty peer selector")
        include = [t for t in terms if not t.startswith("!")]
        exclude = [t[1:] for t in terms if t.startswith("!")]

        def match(s: Session, term: str) -> bool:
            if term == "*":
                return True
            addr = s.settings.remote_ip
            if "/" in term:
                try:
                    return ipaddress.ip_address(addr) in ipaddress.ip_network(term, strict=False)
                except ValueError:
                    return False
            return fnmatch.fnmatchcase(s.name, term) or fnmatch.fnmatchcase(addr, term)

        out = []
        for s in self.sessions.values():
            if include and not any(match(s, t) for t in include):
                continue
            if not include and not exclude:
                continue
            if any(match(s, t) for t in exclude):
                continue
            out.append(s)
        return out

    def update_route(self, selector: str, command: str) -> dict[str, int]:
        """Route text command to the selected peers: {"peers-affected", "routes-sent"}.
        ValueError (TextError) when the command or the selector is wrong."""
        sessions = self.select(selector)
        attrs, sections = parse_command(command, self.codecs)
        sent = 0
        for s in sessions:
            sent += s.originate(attrs, sections)
        return {"peers-affected": len(sessions), "routes-sent": sent}

    # -- listening ----------------------------------------------------------------------------------

    def listen(self, address: str, port: int) -> Listener:
        lst = Listener(address, port, self._lookup, self._accept)
        lst.start()
        self.listeners.append(lst)
        self._update_keys()
        log.info("listening", address=address, port=lst.port)
        return lst

    def close_listeners(self) -> None:
        for lst in self.listeners:
            lst.close()
        self.listeners = []

    def _lookup(self, address: str) -> tuple[str | None, int | None] | None:
        s = self.by_address(address)
        if s is None:
            return None
        return s.settings.md5_password, s.settings.ttl_security

    def _accept(self, sock: socket.socket, remote: str) -> None:
        s = self.by_address(remote)
        if s is None:
            sock.close()
            return
        s.accept(sock)

    def _update_keys(self) -> None:
        keys = {
            s.settings.remote_ip: s.settings.md5_password
            for s in self.sessions.values()
            if s.settings.md5_password
        }
        for lst in self.listeners:
            lst.set_keys(keys)  # type: ignore[arg-type]

    # -- stopping -------------------------------------------------------------------------------------

    async def stop(self, communication: str = "", wait: float = 1.0) -> None:
        """Every session down with Cease 2 and the communication; wait a little for the writes."""
        self.close_listeners()
        for s in self.sessions.values():
            s.stop(communication)
        deadline = self.loop.time() + wait
        while self.loop.time() < deadline and FLUSHING:
            await asyncio.sleep(0.02)
