"""What a BGP session tells the code around it: the fsm's output events and its states.

Frozen dataclasses named as past-tense nouns; `ze.bgp.fsm.Fsm.next_event()` hands them out in
the order they happened. States follow RFC 4271 section 8.2.2 (numbered as in the BGP MIB).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ze.bgp.negotiation import Negotiated
from ze.bgp.wire.context import ContextID, EncodingContext
from ze.bgp.wire.open import Open
from ze.core.family import Family


class State(IntEnum):
    Idle = 1
    Connect = 2
    Active = 3
    OpenSent = 4
    OpenConfirm = 5
    Established = 6


@dataclass(frozen=True, slots=True)
class StateChanged:
    old: State
    new: State


@dataclass(frozen=True, slots=True)
class ConnectRequested:
    """Open a TCP connection to the peer (abandoning an attempt still pending, if any)."""


@dataclass(frozen=True, slots=True)
class OpenReceived:
    """The peer's OPEN passed every check; `negotiated` holds the session's terms.
    The reactor runs collision detection (RFC 4271 6.8) on this event."""

    open: Open
    negotiated: Negotiated


@dataclass(frozen=True, slots=True)
class SessionEstablished:
    peer: Any
    recv_ctx: EncodingContext
    send_ctx: EncodingContext
    negotiated: Negotiated


@dataclass(frozen=True, slots=True)
class UpdateReceived:
    """An UPDATE body (the bytes after the 19-byte header), not parsed; `ctx` is the ContextID
    it is encoded in; `verdict` is what the fsm's check_update hook returned (None without one)."""

    update: memoryview
    ctx: ContextID
    verdict: Any = None


@dataclass(frozen=True, slots=True)
class KeepaliveReceived:
    pass


@dataclass(frozen=True, slots=True)
class RouteRefreshReceived:
    """RFC 2918; subtype 0 normal, 1 BoRR, 2 EoRR (RFC 7313)."""

    family: Family
    subtype: int


@dataclass(frozen=True, slots=True)
class NotificationReceived:
    code: int
    subcode: int
    data: bytes
    communication: str | None = None  # RFC 9003 shutdown communication (cease 2 and 4)


@dataclass(frozen=True, slots=True)
class NotificationSent:
    code: int
    subcode: int
    data: bytes
    communication: str | None = None
    reason: str = ""  # why we sent it, for the logs (the WireError message, "hold timer expired" ...)


@dataclass(frozen=True, slots=True)
class SessionDown:
    """The fsm went back to Idle: close the connection once data_to_send() is written.
    `notification` is the NOTIFICATION that ended it (sent or received), if any."""

    reason: str
    notification: NotificationSent | NotificationReceived | None = None
    was_established: bool = False


Event = (
    StateChanged
    | ConnectRequested
    | OpenReceived
    | SessionEstablished
    | UpdateReceived
    | KeepaliveReceived
    | RouteRefreshReceived
    | NotificationReceived
    | NotificationSent
    | SessionDown
)


# --- what crosses the hub ------------------------------------------------------------------------
# The speaker publishes these; features (rib, sysrib, fib, bpf, plugins) consume them. They are
# the contract between the BGP subsystem and everything around it, so they live here (features may
# import ze.bgp.events, never the speaker).


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """Who a session is with, as the features need it (one object per session, shared)."""

    name: str
    address: str  # the peer's IP address
    remote_as: int
    local_as: int
    router_id: str = ""  # the peer's BGP identifier, dotted quad ("" before OPEN)
    local_address: str = ""
    recv_ctx: EncodingContext | None = None  # how its UPDATEs are encoded (ADD-PATH, ASN4 ...)
    send_ctx: EncodingContext | None = None  # how UPDATEs to it must be encoded (for Adj-RIB-Out)

    @property
    def ibgp(self) -> bool:
        return self.remote_as == self.local_as


@dataclass(frozen=True, slots=True)
class PeerUpdate:
    """Hub topic "bgp/update": one UPDATE received from an Established peer, not parsed.
    `update` is a ze.bgp.wire.update.WireUpdate over the message body; `msg_id` counts per daemon."""

    peer: PeerInfo
    update: Any
    msg_id: int
    received: float  # monotonic seconds


@dataclass(frozen=True, slots=True)
class PeerStateChanged:
    """Hub topic "bgp/state": a session reached Established ("up") or left it ("down")."""

    peer: PeerInfo
    state: str  # "up" | "down"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class NextHopSet:
    """Where a best route points: the next hops of its (ECMP) paths and the peers they came from.
    Interned by whoever builds them, so a full table shares a handful of these."""

    protocol: str  # "ebgp" | "ibgp" | "static" | "connected"
    hops: tuple[tuple[str, str, str], ...]  # (next-hop address, peer name, interface or "")


@dataclass(frozen=True, slots=True)
class BestBatch:
    """Hub topics "rib/best" (the BGP RIB's best paths) and "sysrib/best" (the best across protocols):
    changes of the best route per prefix, in one family. Prefixes are
    ze.bgp.wire.nlri.prefix.Prefix (afi, length, value as an int)."""

    family: str  # "ipv4/unicast" | "ipv6/unicast"
    announce: tuple[tuple[Any, NextHopSet], ...] = ()  # (Prefix, where) new or changed best
    withdraw: tuple[Any, ...] = ()  # Prefix with no best route any more
    resync: bool = False  # True: this batch is the whole table (replace everything)


@dataclass(frozen=True, slots=True)
class PeerRefresh:
    """Hub topic "bgp/refresh": the peer asked for a family again (RFC 2918 ROUTE-REFRESH, normal
    subtype). The speaker resends what it originates itself; a RIB resends its Adj-RIB-Out."""

    peer: PeerInfo
    family: str  # "ipv4/unicast" ...


@dataclass(frozen=True, slots=True)
class PeerSend:
    """Hub topic "bgp/send" (features -> speaker): whole BGP messages (header included, encoded in
    the peer's send context) for the named peer's current session, written in order.

    `written`, when given, is an asyncio.Future the speaker completes with the number of messages
    written once they are handed to the socket and its buffer drained under the high-water mark
    (0 when the peer is not Established): awaiting it is the sender's back-pressure. Messages for
    a session that goes down before they are written are dropped (the sender resends the whole
    table when it comes up again)."""

    peer: str
    messages: list[bytes]
    written: Any = None
