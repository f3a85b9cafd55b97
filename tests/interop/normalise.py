"""One form for the routes every daemon reports, whatever its CLI prints.

    {prefix: {"as-path": [65002, 65099], "next-hop": "192.0.2.102", "med": 10, "local-pref": 100,
              "communities": ["65000:1"], "large-communities": ["65000:1:2"],
              "ext-communities": ["rt:65000:1"]}}

Prefixes and addresses are in Python's compressed form; community lists are sorted; an absent
attribute is None (med, local-pref) or [] (the lists). An IPv6 next hop is the global address
(a link-local one, sent as the second half of the MP_REACH next hop, is dropped).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping

from tests.interop.lab import Peering, Route

KEYS = ("as-path", "next-hop", "med", "local-pref", "communities", "large-communities", "ext-communities")

# names daemons give extended community types -> ours
_EXT_TYPES = {"rt": "rt", "target": "rt", "route-target": "rt", "ro": "soo", "soo": "soo", "origin": "soo"}


def prefix(p: str) -> str:
    return str(ipaddress.ip_network(p.strip(), strict=False))


def address(a: str | None) -> str | None:
    if a is None or a == "":
        return None
    return str(ipaddress.ip_address(a.strip()))


def ext_community(s: str) -> str:
    """'RT:65000:1', 'target:65000:1', '(rt, 65000, 1)', 'rt 65000:1' -> 'rt:65000:1'."""
    parts = [p for p in re.split(r"[\s:,()]+", s.strip()) if p]
    if len(parts) != 3:
        raise ValueError(f"unrecognised extended community {s!r}")
    kind = _EXT_TYPES.get(parts[0].lower())
    if kind is None:
        raise ValueError(f"unrecognised extended community type in {s!r}")
    return f"{kind}:{parts[1]}:{parts[2]}"


def community(s: str) -> str:
    """'65000:1', '(65000,1)', '(65000, 1)' -> '65000:1'."""
    parts = [p for p in re.split(r"[\s:,()]+", s.strip()) if p]
    if len(parts) != 2:
        raise ValueError(f"unrecognised community {s!r}")
    return f"{int(parts[0])}:{int(parts[1])}"


def large_community(s: str) -> str:
    parts = [p for p in re.split(r"[\s:,()]+", s.strip()) if p]
    if len(parts) != 3:
        raise ValueError(f"unrecognised large community {s!r}")
    return ":".join(str(int(p)) for p in parts)


def route(
    *,
    as_path: Iterable[int] = (),
    next_hop: str | None = None,
    med: int | None = None,
    local_pref: int | None = None,
    communities: Iterable[str] = (),
    large_communities: Iterable[str] = (),
    ext_communities: Iterable[str] = (),
) -> dict:
    """Build one normalised route from raw daemon values."""
    nh = next_hop
    if nh is not None and "," in nh:  # "global,link-local" style
        nh = nh.split(",")[0]
    nh_addr = address(nh)
    return {
        "as-path": [int(a) for a in as_path],
        "next-hop": nh_addr,
        "med": None if med is None else int(med),
        "local-pref": None if local_pref is None else int(local_pref),
        "communities": sorted(community(c) for c in communities),
        "large-communities": sorted(large_community(c) for c in large_communities),
        "ext-communities": sorted(ext_community(c) for c in ext_communities),
    }


def expected(r: Route, announcer: Peering) -> dict:
    """What the receiving side of `announcer`'s session should report for route r. For eBGP the
    receiver's LOCAL_PREF is its own business, so the key is left out (compare with matches())."""
    want = route(
        as_path=(r.as_path if announcer.ibgp else (announcer.local_as, *r.as_path)),
        next_hop=r.next_hop or announcer.local_ip,
        med=r.med,
        local_pref=(r.local_pref if r.local_pref is not None else 100) if announcer.ibgp else None,
        communities=r.communities,
        large_communities=r.large_communities,
        ext_communities=r.ext_communities,
    )
    if not announcer.ibgp:
        del want["local-pref"]
    return want


def expected_table(routes: Iterable[Route], announcer: Peering) -> dict[str, dict]:
    return {prefix(r.prefix): expected(r, announcer) for r in routes}


def mismatches(got: Mapping[str, dict], want: Mapping[str, dict]) -> list[str]:
    """Human-readable differences: missing or extra prefixes, and every attribute that differs
    (only the keys present in `want` are compared)."""
    out = []
    for p in sorted(set(want) - set(got)):
        out.append(f"{p}: missing")
    for p in sorted(set(got) - set(want)):
        out.append(f"{p}: unexpected {got[p]}")
    for p in sorted(set(want) & set(got)):
        for k, v in want[p].items():
            if got[p].get(k) != v:
                out.append(f"{p} {k}: got {got[p].get(k)!r}, want {v!r}")
    return out
