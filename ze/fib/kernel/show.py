"""`ze show fib [summary]`, `ze show fib PREFIX`, `ze show fib nexthops`: views of a running
Service as dicts (JSON keys kebab-case) and their human tables, so the CLI stays thin."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from ze.fib.kernel.service import AFI_NAME, Service, prefix_text, route_key


def summary(svc: Service) -> dict[str, Any]:
    return svc.status()


def summary_text(view: dict[str, Any]) -> str:
    rows = [("family", "installed", "stale")]
    for fam, r in view["families"].items():
        rows.append((fam, str(r["installed"]), str(r["stale"])))
    head = (
        f"table {view['table']} protocol {view['protocol']} state {view['state']}\n"
        f"installed {view['installed']}  pending {view['pending']}  failed {view['failed']}  "
        f"stale {view['stale']}  nexthops {view['nexthops']}  groups {view['groups']}"
    )
    if view.get("errors"):
        head += "\nerrors " + " ".join(f"{k}={v}" for k, v in sorted(view["errors"].items()))
    return head + "\n" + _table(rows)


def _gw(afi: int, gw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET if len(gw) == 4 else socket.AF_INET6, gw) if gw else ""


def _hop_view(svc: Service, hid: int) -> dict[str, Any]:
    h = svc.hops[hid]
    return {
        "id": h.id,
        "address": h.address,
        "interface": h.ifname,
        "via": _gw(h.afi, h.gateway),
        "oif": h.oif,
        "peers": sorted(h.peers),
    }


def route(svc: Service, text: str) -> dict[str, Any]:
    """One prefix: its state (installed, failed, pending, stale or absent) and where it points."""
    net = ipaddress.ip_network(text.strip(), strict=False)
    afi = 1 if net.version == 4 else 2
    k = route_key(int(net.network_address), net.prefixlen)
    out: dict[str, Any] = {"prefix": str(net), "family": AFI_NAME[afi]}
    with svc.lock:
        gid = svc.routes[afi].get(k)
        if (afi, k) in svc.failed:
            e, msg = svc.failed[(afi, k)]
            out.update(state="failed", error=msg or str(e))
        elif gid is not None:
            out["state"] = "installed"
        elif (afi, k) in svc.pending:
            out["state"] = "pending"
        elif k in svc.stale[afi]:
            out.update(state="stale", **{"nexthop-id": svc.stale[afi][k]})
        else:
            out["state"] = "absent"
        if gid is not None and gid in svc.groups:
            out["nexthop-id"] = gid
            out["nexthops"] = [_hop_view(svc, h) for h in svc.groups[gid].members if h in svc.hops]
    return out


def route_text(view: dict[str, Any]) -> str:
    line = f"{view['prefix']} {view['state']}"
    if "nexthop-id" in view:
        line += f" nhid {view['nexthop-id']}"
    if view.get("error"):
        line += f" ({view['error']})"
    for h in view.get("nexthops", []):
        dev = f" dev {h['interface']}" if h["interface"] else ""
        via = f" via {h['via']}" if h["via"] and h["via"] != h["address"] else ""
        line += f"\n  next hop {h['address']}{dev}{via} peers {','.join(h['peers']) or '-'}"
    return line


def nexthops(svc: Service) -> list[dict[str, Any]]:
    """One row per nexthop group: its members and how many routes use it."""
    with svc.lock:
        return [
            {
                "id": g.id,
                "family": AFI_NAME[g.afi],
                "routes": g.routes,
                "members": [_hop_view(svc, h) for h in g.members if h in svc.hops],
            }
            for g in sorted(svc.groups.values(), key=lambda g: g.id)
        ]


def nexthops_text(rows: list[dict[str, Any]]) -> str:
    out = [("group", "family", "routes", "next hops")]
    for r in rows:
        hops = ", ".join(
            f"{m['address']}{'%' + m['interface'] if m['interface'] else ''} ({','.join(m['peers']) or '-'})"
            for m in r["members"]
        )
        out.append((str(r["id"]), r["family"], str(r["routes"]), hops))
    return _table(out)


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


__all__ = ["nexthops", "nexthops_text", "prefix_text", "route", "route_text", "summary", "summary_text"]
