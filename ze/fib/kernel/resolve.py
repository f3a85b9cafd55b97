"""What pyroute2 does for fib-kernel: links and next-hop resolution (a few calls per next hop, not
per route), where its convenience costs nothing."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any


class ResolveError(LookupError):
    pass


class Resolver:
    def __init__(self, netns: str | None = None) -> None:
        from pyroute2 import IPRoute

        self.ip = IPRoute(netns=netns) if netns else IPRoute()
        # a raw lookup (netlink.Writer.route_get) when the service has one: next hops of a full
        # table number in thousands, and pyroute2's `route get` costs ~1.5 ms of CPU each
        self.route_get: Any = None

    def close(self) -> None:
        self.ip.close()

    def ifindex(self, name: str) -> int:
        found = self.ip.link_lookup(ifname=name)
        if not found:
            raise ResolveError(f"no interface {name}")
        return int(found[0])

    def ifname(self, index: int) -> str:
        try:
            links = self.ip.link("get", index=index)
        except Exception:  # a vanished link: show an index
            return str(index)
        return str(links[0].get("IFLA_IFNAME")) if links else str(index)

    def vrf_table(self, name: str) -> int:
        """The routing table of VRF device `name`."""
        links = self.ip.link("get", index=self.ifindex(name))
        info = links[0].get("IFLA_LINKINFO") if links else None
        data = info.get("IFLA_INFO_DATA") if info else None
        table = data.get("IFLA_VRF_TABLE") if data else None
        if not table:
            raise ResolveError(f"{name} is not a VRF device")
        return int(table)

    def resolve(self, afi: int, address: str, ifname: str = "") -> tuple[bytes, int]:
        """(gateway bytes, outgoing interface index) for a BGP next hop: on-link next hops as they
        are, others through the route the kernel would use (one level of recursion)."""
        addr = ipaddress.ip_address(address)
        family = socket.AF_INET if afi == 1 else socket.AF_INET6
        if ifname:
            return addr.packed, self.ifindex(ifname)
        if addr.version == 6 and addr.is_link_local:
            raise ResolveError(f"link-local next hop {address} needs an interface")
        if self.route_get is not None:
            try:
                rtype, gw, oif = self.route_get(afi, addr.packed)
            except OSError as e:
                raise ResolveError(f"next hop {address}: {e}") from None
            if rtype != 1:
                raise ResolveError(f"next hop {address}: not reachable (route type {rtype})")
            if not oif:
                raise ResolveError(f"next hop {address}: no outgoing interface")
            return (gw or addr.packed), int(oif)
        try:
            got = self.ip.route("get", dst=address, family=family)
        except Exception as e:
            raise ResolveError(f"next hop {address}: {e}") from None
        if not got:
            raise ResolveError(f"next hop {address}: no route")
        r = got[0]
        if r.get("type", 1) != 1:
            raise ResolveError(f"next hop {address}: not reachable (route type {r.get('type')})")
        oif = r.get("RTA_OIF")
        if not oif:
            raise ResolveError(f"next hop {address}: no outgoing interface")
        gw = r.get("RTA_GATEWAY")
        return (ipaddress.ip_address(gw).packed if gw else addr.packed), int(oif)
