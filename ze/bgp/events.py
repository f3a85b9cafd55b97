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
