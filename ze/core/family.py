"""Address families: AFI/SAFI numbers (IANA) and the "afi/safi" names used in JSON and config."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple


class AFI(IntEnum):
    IPV4 = 1
    IPV6 = 2
    L2VPN = 25
    BGP_LS = 16388


class SAFI(IntEnum):
    UNICAST = 1
    MULTICAST = 2
    MPLS_LABEL = 4
    MCAST_VPN = 5
    VPLS = 65
    EVPN = 70
    BGP_LS = 71
    BGP_LS_VPN = 72
    MPLS_VPN = 128
    VPN_MULTICAST = 129
    RTC = 132
    FLOWSPEC = 133
    FLOWSPEC_VPN = 134


AFI_NAMES = {AFI.IPV4: "ipv4", AFI.IPV6: "ipv6", AFI.L2VPN: "l2vpn", AFI.BGP_LS: "bgp-ls"}
SAFI_NAMES = {
    SAFI.UNICAST: "unicast",
    SAFI.MULTICAST: "multicast",
    SAFI.MPLS_LABEL: "mpls-label",
    SAFI.MCAST_VPN: "mcast-vpn",
    SAFI.VPLS: "vpls",
    SAFI.EVPN: "evpn",
    SAFI.BGP_LS: "bgp-ls",
    SAFI.BGP_LS_VPN: "bgp-ls-vpn",
    SAFI.MPLS_VPN: "mpls-vpn",
    SAFI.VPN_MULTICAST: "vpn-multicast",
    SAFI.RTC: "rtc",
    SAFI.FLOWSPEC: "flowspec",
    SAFI.FLOWSPEC_VPN: "flowspec-vpn",
}
_AFI_BY_NAME = {v: int(k) for k, v in AFI_NAMES.items()}
_SAFI_BY_NAME = {v: int(k) for k, v in SAFI_NAMES.items()}


def afi_name(afi: int) -> str:
    return AFI_NAMES.get(afi, f"afi-{afi}")  # type: ignore[call-overload]


def safi_name(safi: int) -> str:
    return SAFI_NAMES.get(safi, f"safi-{safi}")  # type: ignore[call-overload]


class Family(NamedTuple):
    """An (AFI, SAFI) pair; hashable, cheap, and named "afi/safi"."""

    afi: int
    safi: int

    @property
    def name(self) -> str:
        return f"{afi_name(self.afi)}/{safi_name(self.safi)}"

    def __str__(self) -> str:
        return self.name

    @property
    def addr_len(self) -> int:
        """Address width in bytes for IP families (4 or 16), 0 otherwise."""
        return 4 if self.afi == AFI.IPV4 else 16 if self.afi == AFI.IPV6 else 0

    @classmethod
    def parse(cls, text: str) -> Family:
        """Accept "ipv4/unicast", "ipv4 unicast" or numbers ("1/1", "afi-1/safi-1")."""
        parts = text.replace(" ", "/").split("/")
        if len(parts) != 2:
            raise ValueError(f"family {text!r}: expected afi/safi, e.g. ipv4/unicast")
        return cls(_parse_part(parts[0], _AFI_BY_NAME, "afi"), _parse_part(parts[1], _SAFI_BY_NAME, "safi"))


def _parse_part(text: str, names: dict[str, int], kind: str) -> int:
    text = text.strip().lower()
    if text in names:
        return names[text]
    if text.startswith(kind + "-"):
        text = text[len(kind) + 1 :]
    if text.isdigit():
        return int(text)
    raise ValueError(f"unknown {kind} {text!r} (known: {', '.join(sorted(names))})")


IPV4_UNICAST = Family(AFI.IPV4, SAFI.UNICAST)
IPV6_UNICAST = Family(AFI.IPV6, SAFI.UNICAST)
IPV4_MULTICAST = Family(AFI.IPV4, SAFI.MULTICAST)
IPV6_MULTICAST = Family(AFI.IPV6, SAFI.MULTICAST)
