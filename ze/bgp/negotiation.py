"""What two speakers agree on: our OPEN from local config, and `Negotiated` from the peer's OPEN.

Pure functions, no I/O. `build_open(local)` writes the OPEN we send; `negotiate(local, peer_open)`
checks the peer's OPEN against our config and computes the session's terms, raising WireError with
the OPEN NOTIFICATION a refusal calls for (the fsm turns it into the NOTIFICATION):

    peer AS not the one configured              2/2  Bad Peer AS (RFC 4271 6.2)
    same BGP identifier as ours on iBGP         2/3  Bad BGP Identifier (RFC 6286 2.2)
    hold time below our configured minimum      2/6  Unacceptable Hold Time (RFC 4271 6.2)
    a capability we require is missing         2/7  Unsupported Capability (RFC 5492 5; data:
                                                     our own encoding of what is missing)
    BGP Role pair not in RFC 9234 Table 2,
    several roles that differ, or no role
    from the peer in strict mode                2/11 Role Mismatch (RFC 9234 4.2)

The terms (RFC sections): families, the intersection of Multiprotocol capabilities (RFC 4760 8;
a peer that sent none is taken as ipv4/unicast only, unless told otherwise); 4-octet ASNs when
both sides announce them (RFC 6793); hold time, the smaller of the two (RFC 4271 4.2), keepalive a
third of it; ADD-PATH per family and direction (RFC 7911 4: we receive path ids when we announced
receive and the peer send, we send them when we announced send and the peer receive); extended
message when both announce it (RFC 8654); extended next hop (RFC 8950 4: we may receive what we
announced, we may send what both announced); route refresh and enhanced route refresh when both
announce them (RFC 2918, RFC 7313); the peer's graceful restart and long-lived graceful restart
capabilities (RFC 4724, RFC 9494); roles (RFC 9234); hostname, software version and link-local
next hop (drafts). The two EncodingContexts, one per direction, come out of these terms.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ze.bgp.wire.capability.addpath import BOTH, RECEIVE, SEND, AddPath, mode_value
from ze.bgp.wire.capability.asn4 import ASN4
from ze.bgp.wire.capability.base import Capability
from ze.bgp.wire.capability.enhanced_route_refresh import EnhancedRouteRefresh
from ze.bgp.wire.capability.extended_message import ExtendedMessage
from ze.bgp.wire.capability.extended_nexthop import ExtendedNexthop
from ze.bgp.wire.capability.graceful_restart import GracefulRestart
from ze.bgp.wire.capability.hostname import Hostname
from ze.bgp.wire.capability.link_local_nexthop import LinkLocalNexthop
from ze.bgp.wire.capability.llgr import LLGR
from ze.bgp.wire.capability.multiprotocol import Multiprotocol
from ze.bgp.wire.capability.role import NAMES as ROLE_NAMES
from ze.bgp.wire.capability.role import PAIRS as ROLE_PAIRS
from ze.bgp.wire.capability.role import ROLE_MISMATCH, Role
from ze.bgp.wire.capability.route_refresh import RouteRefresh
from ze.bgp.wire.capability.software_version import SoftwareVersion
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.errors import open_error
from ze.bgp.wire.open import Open
from ze.core.family import IPV4_UNICAST, Family

# OPEN error subcodes used here (RFC 4271 6.2).
BAD_PEER_AS = 2
BAD_BGP_IDENTIFIER = 3
UNACCEPTABLE_HOLD_TIME = 6
UNSUPPORTED_CAPABILITY = 7  # RFC 5492 5

__all__ = ["LocalConfig", "Negotiated", "build_open", "negotiate", "ROLE_MISMATCH"]


@dataclass(frozen=True, eq=False)
class LocalConfig:
    """What we offer one peer. Families, modes and capabilities are what we announce in our OPEN.

    peer_as: the AS the peer must announce (None: any). addpath: family -> RECEIVE/SEND/BOTH (or
    "receive"/"send"/"both"). extended_nexthop: (NLRI family, next-hop AFI) pairs (RFC 8950).
    graceful_restart/llgr: the capability to announce, built by the caller (its flags and timers
    are the caller's policy). role: ours (0-4, RFC 9234), role_strict: the peer must announce one.
    ipv4_without_mp: a peer that sends no Multiprotocol capability negotiates ipv4/unicast alone
    (RFC 4760 8) when True, nothing when False. min_hold_time: the smallest non-zero hold time we
    accept from the peer. extra_capabilities: announced as given (features' capabilities).
    required_capabilities: codes the peer must announce too (1, multiprotocol: every family of ours).
    """

    asn: int
    router_id: int | str
    peer_as: int | None = None
    hold_time: int = 90
    min_hold_time: int = 0
    families: tuple[Family, ...] = (IPV4_UNICAST,)
    asn4: bool = True
    addpath: Mapping[Family, int | str] = field(default_factory=dict)
    extended_message: bool = False
    extended_nexthop: tuple[tuple[Family, int], ...] = ()
    route_refresh: bool = True
    enhanced_route_refresh: bool = False
    graceful_restart: GracefulRestart | None = None
    llgr: LLGR | None = None
    role: int | None = None
    role_strict: bool = False
    hostname: str | None = None
    domain: str = ""
    software_version: str | None = None
    link_local_nexthop: bool = False
    ipv4_without_mp: bool = True
    extra_capabilities: tuple[Capability, ...] = ()
    required_capabilities: frozenset[int] = frozenset()

    @property
    def router_id_int(self) -> int:
        rid = self.router_id
        return int(ipaddress.IPv4Address(rid)) if isinstance(rid, str) else rid

    @property
    def ibgp(self) -> bool | None:
        """True/False when the peer AS is configured, None when any AS is accepted."""
        return None if self.peer_as is None else self.peer_as == self.asn


def build_open(local: LocalConfig) -> Open:
    """Our OPEN. Capabilities in this order: multiprotocol (one per family), route refresh,
    enhanced route refresh, extended message, extended next hop, 4-octet AS, ADD-PATH, graceful
    restart, LLGR, role (not on iBGP), hostname, software version, link-local next hop, extras."""
    if not local.asn4 and local.asn > 0xFFFF:
        raise ValueError(f"asn {local.asn} needs the 4-octet AS capability")
    caps: list[Capability] = [Multiprotocol.from_value(f) for f in local.families]
    if local.route_refresh:
        caps.append(RouteRefresh.from_value())
    if local.enhanced_route_refresh:
        caps.append(EnhancedRouteRefresh.from_value())
    if local.extended_message:
        caps.append(ExtendedMessage.from_value())
    if local.extended_nexthop:
        caps.append(ExtendedNexthop.from_value(local.extended_nexthop))
    if local.asn4:
        caps.append(ASN4.from_value(local.asn))
    if local.addpath:
        caps.append(AddPath.from_value(local.addpath.items()))
    if local.graceful_restart is not None:
        caps.append(local.graceful_restart)
    if local.llgr is not None:
        caps.append(local.llgr)
    if local.role is not None and local.ibgp is not True:
        caps.append(Role.from_value(local.role))
    if local.hostname is not None:
        caps.append(Hostname.from_value(local.hostname, local.domain))
    if local.software_version is not None:
        caps.append(SoftwareVersion.from_value(local.software_version))
    if local.link_local_nexthop:
        caps.append(LinkLocalNexthop.from_value())
    caps.extend(local.extra_capabilities)
    return Open.from_value(local.asn, local.hold_time, local.router_id, caps)


@dataclass(frozen=True, eq=False)
class Negotiated:
    """The terms of one session (both OPENs seen). `recv_ctx` decodes what the peer sends,
    `send_ctx` encodes what we send."""

    local_asn: int
    peer_asn: int
    local_router_id: int
    peer_router_id: int
    ibgp: bool
    hold_time: int
    keepalive_time: int
    families: tuple[Family, ...]
    asn4: bool
    addpath_receive: frozenset[Family]
    addpath_send: frozenset[Family]
    extended_message: bool
    extended_nexthop_receive: frozenset[tuple[Family, int]]
    extended_nexthop_send: frozenset[tuple[Family, int]]
    route_refresh: bool
    enhanced_route_refresh: bool
    peer_route_refresh: bool
    graceful_restart: bool
    peer_graceful_restart: GracefulRestart | None
    peer_llgr: LLGR | None
    local_role: int | None
    peer_role: int | None
    peer_hostname: tuple[str, str] | None
    peer_software_version: str | None
    link_local_nexthop: bool
    recv_ctx: EncodingContext
    send_ctx: EncodingContext

    def describe(self) -> dict[str, Any]:
        """JSON view for `ze show peer` (kebab-case keys)."""
        return {
            "local-as": self.local_asn,
            "peer-as": self.peer_asn,
            "peer-router-id": _dotted(self.peer_router_id),
            "ibgp": self.ibgp,
            "hold-time": self.hold_time,
            "keepalive-time": self.keepalive_time,
            "families": [f.name for f in self.families],
            "asn4": self.asn4,
            "add-path": {
                "receive": sorted(f.name for f in self.addpath_receive),
                "send": sorted(f.name for f in self.addpath_send),
            },
            "extended-message": self.extended_message,
            "route-refresh": self.route_refresh,
            "enhanced-route-refresh": self.enhanced_route_refresh,
            "graceful-restart": self.graceful_restart,
            "llgr": self.peer_llgr is not None,
            "role": {
                "local": _role_name(self.local_role),
                "peer": _role_name(self.peer_role),
            },
            "hostname": None if self.peer_hostname is None else ".".join(p for p in self.peer_hostname if p),
            "software-version": self.peer_software_version,
            "link-local-next-hop": self.link_local_nexthop,
            "receive": self.recv_ctx.describe(),
            "send": self.send_ctx.describe(),
        }


def _dotted(rid: int) -> str:
    return ".".join(str(rid >> s & 0xFF) for s in (24, 16, 8, 0))


def _role_name(role: int | None) -> str | int | None:
    return None if role is None else ROLE_NAMES.get(role, role)


def _modes(local: LocalConfig) -> dict[Family, int]:
    return {f: mode_value(m) for f, m in local.addpath.items()}


def _check_required(local: LocalConfig, peer: Open, families: tuple[Family, ...]) -> None:
    codes = set(peer.capability_codes())
    missing: list[Capability] = []
    for cap in build_open(local).capabilities():
        code = cap.CODE
        if code not in local.required_capabilities:
            continue
        if isinstance(cap, Multiprotocol):
            if cap.family not in families:
                missing.append(cap)
        elif code not in codes:
            missing.append(cap)
    if missing:
        names = ", ".join(c.family.name if isinstance(c, Multiprotocol) else c.NAME for c in missing)
        raise open_error(
            f"peer lacks required capabilities: {names}",
            UNSUPPORTED_CAPABILITY,
            None,
            b"".join(c.to_bytes() for c in missing),
        )


def negotiate(local: LocalConfig, peer: Open) -> Negotiated:
    """The session's terms, or WireError (OPEN NOTIFICATION 2/x) when the OPEN is refused.
    `peer` has passed Open.from_wire (version, AS 0, identifier 0, hold 1-2 already checked)."""
    caps = list(peer.capabilities())
    by_type: dict[type, list[Capability]] = {}
    for cap in caps:
        by_type.setdefault(type(cap), []).append(cap)

    def first(cls: type) -> Any:
        found = by_type.get(cls)
        return found[0] if found else None

    peer_asn4 = first(ASN4)
    peer_asn = peer_asn4.asn if peer_asn4 is not None else peer.asn
    asn4 = local.asn4 and peer_asn4 is not None
    if not local.asn4:
        peer_asn = peer.asn  # we speak 2-octet ASNs only: the peer is what its OPEN field says
    if local.peer_as is not None and peer_asn != local.peer_as:
        raise open_error(f"peer AS {peer_asn}, expected {local.peer_as}", BAD_PEER_AS, None, b"")
    ibgp = peer_asn == local.asn
    local_rid = local.router_id_int
    if ibgp and peer.router_id_int == local_rid:
        raise open_error(f"iBGP peer uses our BGP identifier {peer.router_id}", BAD_BGP_IDENTIFIER)
    if peer.hold_time and peer.hold_time < local.min_hold_time:
        raise open_error(
            f"hold time {peer.hold_time} below our minimum {local.min_hold_time}",
            UNACCEPTABLE_HOLD_TIME,
            None,
        )

    # Roles (RFC 9234 4.2): eBGP only.
    roles = {c.role for c in by_type.get(Role, ())}
    peer_role = next(iter(roles)) if len(roles) == 1 else None
    if not ibgp:
        if len(roles) > 1:
            raise open_error(f"peer announced several roles {sorted(roles)}", ROLE_MISMATCH)
        if local.role is not None:
            if peer_role is None and local.role_strict:
                raise open_error("peer announced no role (strict mode)", ROLE_MISMATCH)
            if peer_role is not None and ROLE_PAIRS.get(local.role) != peer_role:
                raise open_error(
                    f"peer role {_role_name(peer_role)} does not pair with ours, {_role_name(local.role)}",
                    ROLE_MISMATCH,
                )

    mp = by_type.get(Multiprotocol)
    if mp:
        peer_families = {c.family for c in mp}
    else:
        peer_families = {IPV4_UNICAST} if local.ipv4_without_mp else set()
    families = tuple(f for f in local.families if f in peer_families)
    if local.required_capabilities:
        _check_required(local, peer, families)
    negotiated_families = frozenset(families)

    hold = min(local.hold_time, peer.hold_time)
    keepalive = hold // 3

    peer_addpath = first(AddPath)
    ours = _modes(local)
    if peer_addpath is not None:
        peer_modes: dict[Family, int] = {}
        for fam, mode in peer_addpath.families():
            if mode in (RECEIVE, SEND, BOTH):  # RFC 7911 4: other values are ignored
                peer_modes.setdefault(fam, mode)
    else:
        peer_modes = {}
    addpath_receive = frozenset(
        f for f in negotiated_families if ours.get(f, 0) & RECEIVE and peer_modes.get(f, 0) & SEND
    )
    addpath_send = frozenset(
        f for f in negotiated_families if ours.get(f, 0) & SEND and peer_modes.get(f, 0) & RECEIVE
    )

    extended_message = local.extended_message and ExtendedMessage in by_type
    enh_peer = first(ExtendedNexthop)
    peer_enh = set(enh_peer.entries()) if enh_peer is not None else set()
    enh_receive = frozenset(e for e in local.extended_nexthop if e[0] in negotiated_families)
    enh_send = frozenset(e for e in enh_receive if e in peer_enh)

    peer_rr = RouteRefresh in by_type
    peer_gr = first(GracefulRestart)
    hostname = first(Hostname)
    softver = first(SoftwareVersion)

    recv_ctx = EncodingContext(
        asn4=asn4,
        addpath=addpath_receive,
        extended_message=extended_message,
        extended_nexthop=enh_receive,
    )
    send_ctx = EncodingContext(
        asn4=asn4,
        addpath=addpath_send,
        extended_message=extended_message,
        extended_nexthop=enh_send,
    )
    return Negotiated(
        local_asn=local.asn,
        peer_asn=peer_asn,
        local_router_id=local_rid,
        peer_router_id=peer.router_id_int,
        ibgp=ibgp,
        hold_time=hold,
        keepalive_time=keepalive,
        families=families,
        asn4=asn4,
        addpath_receive=addpath_receive,
        addpath_send=addpath_send,
        extended_message=extended_message,
        extended_nexthop_receive=enh_receive,
        extended_nexthop_send=enh_send,
        route_refresh=local.route_refresh and peer_rr,
        enhanced_route_refresh=local.enhanced_route_refresh and EnhancedRouteRefresh in by_type,
        peer_route_refresh=peer_rr,
        graceful_restart=local.graceful_restart is not None and peer_gr is not None,
        peer_graceful_restart=peer_gr,
        peer_llgr=first(LLGR),
        local_role=None if ibgp else local.role,
        peer_role=None if ibgp else peer_role,
        peer_hostname=None if hostname is None else (hostname.hostname, hostname.domain),
        peer_software_version=None if softver is None else softver.version,
        link_local_nexthop=local.link_local_nexthop and LinkLocalNexthop in by_type,
        recv_ctx=recv_ctx,
        send_ctx=send_ctx,
    )
