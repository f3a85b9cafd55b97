"""The BGP subsystem: the reactor on one side, the hub on the other (DESIGN.md L4).

Publishes, per received UPDATE, one `PeerUpdate` on "bgp/update" (a WireUpdate over the body, the
session's PeerInfo, a per-daemon message id; nothing parsed) and `PeerStateChanged` on "bgp/state"
when a session comes up or goes down, and `PeerRefresh` on "bgp/refresh" when a peer asks for a
family again. Takes `PeerSend` from "bgp/send" (a feature such as the RIB sending its Adj-RIB-Out):
the messages are queued per peer and written in order by one task per peer through the session's
send path, waiting for the socket to drain (back-pressure), and dropped when the session goes
down. Routes the speaker originates itself (config `announce`, update-route) are its own
Adj-RIB-Out and go out independently: for the same prefix, the last one sent wins at the peer.
Builds the reactor's PeerSettings from the resolved config
(read by attribute: the config package is not imported here), starts the listeners, and applies a
reload's diff peer by peer (added, removed with Cease 3, changed with Cease 6; the others untouched).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from ze.bgp.events import PeerInfo, PeerRefresh, PeerSend, PeerStateChanged, PeerUpdate
from ze.bgp.reactor import MaxPrefix, PeerSettings, Reactor, Session
from ze.bgp.relay import Relay
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.header import MessageType, frame
from ze.bgp.wire.update import WireUpdate
from ze.core import log as zlog
from ze.core.family import Family
from ze.hub.bus import Hub

log = zlog.get_logger("ze.bgp")

DEFAULT_LISTEN = ("::", 179)


def settings_from_peer(peer: Any) -> PeerSettings:
    """PeerSettings from a resolved config peer (ze.config.resolve.Peer, read by attribute)."""
    max_prefix = {
        Family.parse(fam): MaxPrefix(int(limit), float(restart))
        for fam, limit, restart in getattr(peer, "max_prefix", ()) or ()
    }
    return PeerSettings(
        name=peer.name,
        remote_ip=peer.remote_ip,
        remote_as=peer.remote_as,
        local_as=peer.local_as,
        router_id=peer.router_id,
        local_address=peer.local_address,
        hold_time=peer.hold_time,
        families=tuple(Family.parse(f) for f in peer.families),
        md5_password=peer.md5_password,
        ttl_security=peer.ttl_security,
        passive=peer.passive,
        port=peer.port,
        max_prefix=max_prefix,
        announce=tuple(getattr(peer, "announce", ()) or ()),
        adj_rib_in=bool(getattr(peer, "adj_rib_in", False)),
        unnegotiated_family=getattr(peer, "unnegotiated_family", "error") or "error",
        connect_retry=float(getattr(peer, "connect_retry", 5) or 5),
        add_path={Family.parse(fam): mode for fam, mode in getattr(peer, "add_path", ()) or ()},
    )


def listen_addresses(bgp_section: dict[str, Any]) -> list[tuple[str, int]]:
    """Where to listen: `bgp { listen { ip ADDRESS; port N; } }`; port 0 turns listening off."""
    listen = bgp_section.get("listen")
    if listen is None:
        return [DEFAULT_LISTEN]
    port = int(listen.get("port", 179))
    if port == 0:
        return []
    return [(listen.get("ip") or "::", port)]


def _dotted(rid: int) -> str:
    return ".".join(str(rid >> s & 0xFF) for s in (24, 16, 8, 0))


class BgpSubsystem:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.reactor: Reactor | None = None
        self.listen: list[tuple[str, int]] = []
        self.published = 0
        self._outq: dict[str, deque[PeerSend]] = {}  # peer name -> PeerSend waiting to be written
        self._writers: dict[str, asyncio.Task] = {}
        self.sent_messages = 0
        self.dropped_messages = 0
        # plugin hooks, set by the composition root (ze.plugin is not imported here):
        # open_capabilities(peer name or address) -> [(code, payload)], and
        # await validate_open(peer dict, open json) -> (accept, reason)
        self.open_capabilities: Callable[[str], list[tuple[int, bytes]]] | None = None
        self.validate_open: Callable[[dict[str, Any], dict[str, Any]], Awaitable[tuple[bool, str]]] | None = (
            None
        )
        self._unpressure: Callable[[], None] | None = None
        # received UPDATEs on their way to the hub: plugins' filters (relay.filter/filtering,
        # set by the composition root) and the cache of recent ones for forward_cached
        self.relay = Relay(lambda pu: self.hub.publish("bgp/update", pu))
        self._paused = {"hub": False, "relay": False}

    # -- hooks from the reactor -------------------------------------------------------------

    def _peer_info(self, session: Session, neg: Any, local: str) -> PeerInfo:
        s = session.settings
        return PeerInfo(
            name=s.name,
            address=s.remote_ip,
            remote_as=neg.peer_asn,
            local_as=s.local_as,
            router_id=_dotted(neg.peer_router_id),
            local_address=local,
            recv_ctx=neg.recv_ctx,
            send_ctx=neg.send_ctx,
        )

    def _on_update(self, session: Session, body: Any, ctx: EncodingContext, msg_id: int) -> None:
        info = session.info
        upd = WireUpdate(body, ctx, session.codecs, peer=info, msg_id=msg_id)
        self.relay.received(PeerUpdate(info, upd, msg_id, time.monotonic()))

    def _on_state(self, session: Session, state: str, reason: str) -> None:
        if state == "down":
            self._drop_queue(session.name)
        self.hub.publish("bgp/state", PeerStateChanged(session.info, state, reason))

    def _on_refresh(self, session: Session, family: Family) -> None:
        self.hub.publish("bgp/refresh", PeerRefresh(session.info, family.name))

    # -- messages from features ("bgp/send") -------------------------------------------------------

    def _on_send(self, topic: str, p: Any) -> None:
        if not isinstance(p, PeerSend):
            return
        r = self.reactor
        s = r.sessions.get(p.peer) if r is not None else None
        if s is None or not s.established:
            self.dropped_messages += len(p.messages)
            _done(p, 0)
            return
        self._outq.setdefault(p.peer, deque()).append(p)
        w = self._writers.get(p.peer)
        if w is None or w.done():
            self._writers[p.peer] = asyncio.get_running_loop().create_task(
                self._write(p.peer), name=f"bgp-send-{p.peer}"
            )

    async def _write(self, name: str) -> None:
        q = self._outq.get(name)
        while q:
            p = q.popleft()
            s = self.reactor.sessions.get(name) if self.reactor is not None else None
            n = 0
            try:
                if s is not None:
                    n = await s.send_messages(p.messages)
            except RuntimeError:  # the session left Established between two writes
                n = 0
            finally:
                self.sent_messages += n
                self.dropped_messages += len(p.messages) - n
                _done(p, n)

    def _drop_queue(self, name: str) -> None:
        q = self._outq.pop(name, None)
        for p in q or ():
            self.dropped_messages += len(p.messages)
            _done(p, 0)

    def _capabilities(self, session: Session) -> list[tuple[int, bytes]]:
        if self.open_capabilities is None:
            return []
        s = session.settings
        out = self.open_capabilities(s.name)
        if s.remote_ip != s.name:
            out += [c for c in self.open_capabilities(s.remote_ip) if c not in out]
        return out

    async def _validate_open(self, session: Session, open_: Any) -> tuple[bool, str]:
        if self.validate_open is None:
            return True, ""
        s = session.settings
        peer = {"name": s.name, "address": s.remote_ip, "remote-as": s.remote_as, "local-as": s.local_as}
        return await self.validate_open(peer, open_.to_json())

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, config: Any) -> None:
        self.reactor = Reactor(on_update=self._on_update, on_state=self._on_state, peer_info=self._peer_info)
        self.reactor.on_refresh = self._on_refresh
        self._send_sub = self.hub.subscribe("bgp/send", self._on_send, owner="bgp")
        self.reactor.open_capabilities = self._capabilities
        if self.validate_open is not None:
            self.reactor.validate_open = self._validate_open
        # back-pressure: a hub queue at its bound stops the reads from every peer's socket
        # (timers, keepalives and writes go on) until every queue is back under half its bound
        # (and so does a backlog of UPDATEs waiting for plugins' filter verdicts)
        self._pause("hub", self.hub.under_pressure)
        self._unpressure = self.hub.on_pressure(lambda on: self._pause("hub", on))
        self.relay.on_backlog = lambda on: self._pause("relay", on)
        self._listen(listen_addresses(config.section("bgp")))
        for peer in config.peers.values():
            self.reactor.add_peer(settings_from_peer(peer))
        self.hub.register("bgp", self, owner="bgp")

    def _pause(self, source: str, on: bool) -> None:
        """Reads stop while the hub or the relay (filter verdicts) is backed up; resume when neither is."""
        self._paused[source] = on
        if self.reactor is not None:
            self.reactor.pause_reads(any(self._paused.values()))

    def _listen(self, addresses: list[tuple[str, int]]) -> None:
        assert self.reactor is not None
        self.reactor.close_listeners()
        self.listen = addresses
        for address, port in addresses:
            try:
                self.reactor.listen(address, port)
            except OSError as e:
                log.error("cannot listen", address=address, port=port, error=e.strerror or str(e))

    def apply(self, config: Any, removed: list[str], changed: list[str], added: list[str]) -> None:
        """A reload: only the named peers are touched."""
        r = self.reactor
        if r is None:
            return
        wanted = listen_addresses(config.section("bgp"))
        if wanted != self.listen:
            self._listen(wanted)
        for name in removed:
            r.remove_peer(name)
        for name in changed:
            r.change_peer(settings_from_peer(config.peers[name]))
        for name in added:
            r.add_peer(settings_from_peer(config.peers[name]))

    async def stop(self, communication: str = "") -> None:
        self.relay.cancel()
        for name in list(self._outq):
            self._drop_queue(name)
        for w in self._writers.values():
            w.cancel()
        if self._unpressure is not None:
            self._unpressure()
            self._unpressure = None
        if self.reactor is not None:
            await self.reactor.stop(communication)

    # -- views and operations (the control API) --------------------------------------------------

    def describe(self, name: str) -> dict[str, Any] | None:
        if self.reactor is None:
            return None
        s = self.reactor.sessions.get(name)
        return None if s is None else s.describe()

    def listening(self) -> list[dict[str, Any]]:
        if self.reactor is None:
            return []
        return [{"address": lst.address, "port": lst.port} for lst in self.reactor.listeners if lst.sock]

    def forward_cached(self, msg_id: int, peers: list[str]) -> dict[str, Any]:
        """Send the received UPDATE `msg_id` (still in the relay's cache: relay.Evicted if not)
        unchanged to `peers` (names or addresses): to each Established one whose send context
        is the context it was received in (otherwise its bytes would not mean the same there)."""
        pu = self.relay.cached(msg_id)
        message = frame(MessageType.UPDATE, pu.update.view)
        sessions = self.reactor.sessions if self.reactor is not None else {}
        by_address = {s.settings.remote_ip: n for n, s in sessions.items()}
        sent: list[str] = []
        skipped: dict[str, str] = {}
        for want in peers:
            name = want if want in sessions else by_address.get(want)
            s = sessions.get(name) if name is not None else None
            if s is None:
                skipped[want] = "no such peer"
            elif not s.established or s.info is None:
                skipped[want] = "not established"
            elif name == pu.peer.name:
                skipped[want] = "the UPDATE came from this peer"
            elif s.info.send_ctx != pu.update.ctx:
                skipped[want] = (
                    "its session encodes UPDATEs differently (ADD-PATH, ASN4 ...): re-encode instead"
                )
            else:
                self._on_send("bgp/send", PeerSend(name, [message]))
                sent.append(name)
        return {"id": msg_id, "from": pu.peer.name, "peers": sent, "skipped": skipped}

    def update_route(self, selector: str, command: str) -> dict[str, int]:
        assert self.reactor is not None
        return self.reactor.update_route(selector, command)

    def peer_stop(self, selector: str, message: str = "") -> list[str]:
        assert self.reactor is not None
        sessions = self.reactor.select(selector)
        for s in sessions:
            s.stop(message)
        return [s.name for s in sessions]

    def peer_start(self, selector: str) -> list[str]:
        assert self.reactor is not None
        sessions = self.reactor.select(selector)
        for s in sessions:
            s.start()
        return [s.name for s in sessions]

    def peer_refresh(self, selector: str, family: str | None = None) -> dict[str, int]:
        assert self.reactor is not None
        fam = Family.parse(family) if family else None
        return {s.name: s.send_refresh(fam) for s in self.reactor.select(selector)}

    def received(self, name: str, limit: int = 1000) -> dict[str, list[str]]:
        """The prefixes held from a peer (the plain Adj-RIB-In), at most `limit` per family."""
        import ipaddress

        from ze.bgp.ribin import key_prefix

        assert self.reactor is not None
        s = self.reactor.sessions[name]
        out: dict[str, list[str]] = {}
        for fam, counts in s.ribin.families.items():
            if not counts.kept:
                out[fam.name] = []
                continue
            items = []
            for key in sorted(counts.held)[:limit]:
                pid, plen, value = key_prefix(key, fam.afi)
                addr = ipaddress.IPv4Address(value) if fam.afi == 1 else ipaddress.IPv6Address(value)
                items.append(f"{addr}/{plen}" + (f" path-id {pid}" if pid else ""))
            out[fam.name] = items
        return out


def _done(p: PeerSend, n: int) -> None:
    f = p.written
    if f is not None and not f.done():
        f.set_result(n)
