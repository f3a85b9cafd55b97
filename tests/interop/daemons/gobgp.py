"""GoBGP (Debian gobgpd: gobgpd + the gobgp CLI), gRPC API on 127.0.0.1:<port> inside its netns.

GoBGP has one global RIB and per-peer policies only for route-server clients, so the global
export policy holds one statement per peering (ex_<name>): destination in ns_<name> and prefix
in ps_<name> -> accept; anything else is rejected (so received routes are not re-advertised).
announce adds the prefix to the set, then the path to the RIB. Received routes: `gobgp -j neighbor ADDR adj-in -a AFI`.
"""

from __future__ import annotations

import json
import re

from tests.interop import normalise
from tests.interop.daemons.base import Daemon
from tests.interop.lab import Peering, Route, wait_for

API_PORT = 50051
_DUMMY = {"ipv4": "198.51.100.255/32", "ipv6": "2001:db8:ffff::/128"}


class GoBGP(Daemon):
    name = "gobgp"
    binaries = ("gobgpd", "gobgp")
    sends_route_refresh = False

    _have: dict[str, dict[str, Route]]

    def start(self) -> GoBGP:
        self._have = {}
        return self._start()

    def _config(self) -> str:
        ps = list(self.peerings.values())
        first = ps[0]
        out = [
            "[global.config]",
            f"  as = {first.local_as}",
            f'  router-id = "{self.router_id}"',
            "  port = 179",
            "[global.apply-policy.config]",
            "  export-policy-list = [" + ", ".join(f'"ex_{p.name}"' for p in ps) + "]",
            '  default-export-policy = "reject-route"',
            "",
        ]
        for p in ps:
            out += [
                "[[defined-sets.prefix-sets]]",
                f'  prefix-set-name = "ps_{p.name}"',
                "  [[defined-sets.prefix-sets.prefix-list]]",
                f'    ip-prefix = "{_DUMMY[p.afi]}"',
                "",
                "[[defined-sets.neighbor-sets]]",
                f'  neighbor-set-name = "ns_{p.name}"',
                f'  neighbor-info-list = ["{p.remote_ip}"]',
                "",
                "[[policy-definitions]]",
                f'  name = "ex_{p.name}"',
                "  [[policy-definitions.statements]]",
                f'    name = "st_{p.name}"',
                "    [policy-definitions.statements.conditions.match-prefix-set]",
                f'      prefix-set = "ps_{p.name}"',
                '      match-set-options = "any"',
                "    [policy-definitions.statements.conditions.match-neighbor-set]",
                f'      neighbor-set = "ns_{p.name}"',
                '      match-set-options = "any"',
                "    [policy-definitions.statements.actions]",
                '      route-disposition = "accept-route"',
                "",
            ]
        for p in ps:
            afisafi = f"{p.afi}-unicast"
            out += [
                "[[neighbors]]",
                "  [neighbors.config]",
                f'    neighbor-address = "{p.remote_ip}"',
                f"    peer-as = {p.remote_as}",
                f"    local-as = {p.local_as}",
            ]
            if p.md5:
                out.append(f'    auth-password = "{p.md5}"')
            out += [
                "  [neighbors.timers.config]",
                f"    hold-time = {p.hold_time}",
                f"    keepalive-interval = {max(1, p.hold_time // 3)}",
                "    connect-retry = 1",
                "  [neighbors.transport.config]",
                f'    local-address = "{p.local_ip}"',
                f"    passive-mode = {'true' if p.passive else 'false'}",
            ]
            if p.ttl_security:
                out += [
                    "  [neighbors.ttl-security.config]",
                    "    enabled = true",
                    f"    ttl-min = {256 - p.ttl_security}",
                ]
            out += [
                "  [[neighbors.afi-safis]]",
                "    [neighbors.afi-safis.config]",
                f'      afi-safi-name = "{afisafi}"',
            ]
            if p.addpath:
                out += [
                    "    [neighbors.afi-safis.add-paths.config]",
                    "      receive = true",
                    "      send-max = 8",
                ]
            out.append("")
        return "\n".join(out) + "\n"

    def _start(self) -> GoBGP:
        conf = self.dir / "gobgpd.toml"
        conf.write_text(self._config())
        self.procs.append(
            self.lab.spawn(
                self.ns,
                f"gobgpd-{self.ns}",
                [
                    "gobgpd",
                    "-f",
                    str(conf),
                    "-t",
                    "toml",
                    "--api-hosts",
                    f"127.0.0.1:{API_PORT}",
                    "--pprof-disable",
                    "-l",
                    "debug",
                    "--log-plain",
                ],
            )
        )
        wait_for(lambda: self.alive() and self.gobgp("global"), 15, "gobgpd API")
        return self

    def gobgp(self, *args: str, check: bool = True) -> str:
        return self.lab.ns(
            self.ns, "gobgp", "-u", "127.0.0.1", "-p", str(API_PORT), *args, check=check, timeout=20
        )

    def state(self, p: Peering | str) -> str:
        p = self.peering(p)
        try:
            d = json.loads(self.gobgp("-j", "neighbor", p.remote_ip))
        except (RuntimeError, ValueError):
            return "unknown"
        st = d.get("state", {}).get("session_state", "")
        if isinstance(st, int):
            st = ["unknown", "idle", "connect", "active", "opensent", "openconfirm", "established"][st]
        return str(st).lower().removeprefix("session_state_")

    sends_paths = True

    def send_paths(self, p: Peering | str, prefix: str, meds: dict[int, int]) -> None:
        p = self.peering(p)
        self.gobgp("policy", "prefix", "add", f"ps_{p.name}", prefix)
        for pid, med in meds.items():
            self.gobgp("global", "rib", "-a", p.afi, "add", prefix, "identifier", str(pid),
                       "origin", "igp", "nexthop", p.local_ip, "med", str(med))  # fmt: skip

    def _sync(self, p: Peering) -> None:
        want = self.routes[p.name]
        have = self._have.setdefault(p.name, {})
        for pfx in list(have):
            if pfx not in want or want[pfx] != have[pfx]:
                self.gobgp("global", "rib", "-a", p.afi, "del", pfx)
                del have[pfx]
        for pfx, r in want.items():
            if pfx in have:
                continue
            self.gobgp("policy", "prefix", "add", f"ps_{p.name}", pfx)
            self.gobgp("global", "rib", "-a", p.afi, "add", *self._route_args(r, p))
            have[pfx] = r

    @staticmethod
    def _route_args(r: Route, p: Peering) -> list[str]:
        a = [r.prefix, "origin", "igp", "nexthop", r.next_hop or p.local_ip]
        if r.as_path:
            a += ["aspath", ",".join(str(x) for x in r.as_path)]
        if r.med is not None:
            a += ["med", str(r.med)]
        if r.local_pref is not None:
            a += ["local-pref", str(r.local_pref)]
        if r.communities:
            a += ["community", ",".join(r.communities)]
        if r.large_communities:
            a += ["large-community", ",".join(r.large_communities)]
        for c in r.ext_communities:
            kind, x, y = normalise.ext_community(c).split(":")
            a += [kind, f"{x}:{y}"]
        return a

    def received_paths(self, p: Peering | str) -> dict[str, list[dict]]:
        p = self.peering(p)
        out = self.gobgp("-j", "neighbor", p.remote_ip, "adj-in", "-a", p.afi)
        return parse_rib_json(out)

    def disable(self, p: Peering | str, message: str = "") -> None:
        self.gobgp(
            "neighbor", self.peering(p).remote_ip, "disable", *(["--reason", message] if message else [])
        )

    def enable(self, p: Peering | str) -> None:
        self.gobgp("neighbor", self.peering(p).remote_ip, "enable")

    def updates_received(self, p: Peering | str) -> int:
        d = json.loads(self.gobgp("-j", "neighbor", self.peering(p).remote_ip))
        return int(d.get("state", {}).get("messages", {}).get("received", {}).get("update", 0))

    def refresh(self, p: Peering | str) -> None:
        # `softresetin` re-runs GoBGP's import policy over its own Adj-RIB-In: no ROUTE-REFRESH
        # goes out, so GoBGP cannot be the side that asks for one.
        raise NotImplementedError("gobgp softresetin does not send a ROUTE-REFRESH")

    def shutdown_message(self, p: Peering | str) -> str | None:
        p = self.peering(p)
        found = None
        for line in self.logs().splitlines():
            if f"Key={p.remote_ip} " in line and "received notification" in line:
                m = re.search(r'Communicated-Reason="([^"]*)"', line)
                if m:
                    found = m.group(1)
        return found


def parse_rib_json(out: str) -> dict[str, list[dict]]:
    """`gobgp -j ... adj-in|rib`: {prefix: [path, ...]}, each path with an "attrs" list."""
    if not out.strip():
        return {}
    d = json.loads(out)
    res: dict[str, list[dict]] = {}
    for pfx, paths in d.items():
        for path in paths:
            if path.get("withdrawal"):
                continue
            kw: dict = {}
            for a in path.get("attrs", []):
                t = a.get("type")
                if t == 2:  # AS_PATH
                    kw["as_path"] = [asn for seg in a.get("as_paths", []) for asn in seg.get("asns", [])]
                elif t == 3:
                    kw["next_hop"] = a.get("nexthop")
                elif t == 4:
                    kw["med"] = a.get("metric")
                elif t == 5:
                    kw["local_pref"] = a.get("value")
                elif t == 8:
                    kw["communities"] = [f"{c >> 16}:{c & 0xFFFF}" for c in a.get("communities", [])]
                elif t == 14:  # MP_REACH_NLRI
                    kw["next_hop"] = a.get("nexthop")
                elif t == 16:
                    kw["ext_communities"] = [_ext(v) for v in a.get("value", [])]
                elif t == 32:
                    kw["large_communities"] = [
                        f"{v['ASN']}:{v['LocalData1']}:{v['LocalData2']}" for v in a.get("value", [])
                    ]
            res.setdefault(normalise.prefix(pfx), []).append(normalise.route(**kw))
    return res


def _ext(v: dict) -> str:
    # {"type":0,"subtype":2,"asn":65000,"local_admin":1, ...}
    kinds = {2: "rt", 3: "soo"}
    kind = kinds.get(v.get("subtype"), f"t{v.get('type')}s{v.get('subtype')}")
    if "value" in v:  # "65000:7"
        return f"{kind}:{v['value']}"
    glob = v.get("asn", v.get("ipv4", v.get("global_admin")))
    return f"{kind}:{glob}:{v.get('local_admin')}"
