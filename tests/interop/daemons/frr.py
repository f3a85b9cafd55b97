"""FRR (Debian frr): zebra + bgpd -n (nothing goes into the kernel), every path in the run
directory, driven with `vtysh --vty_socket DIR`. Not bgpd -Z alone: without zebra bgpd knows no
interfaces and withdraws every IPv6 route whose MP_REACH carries a link-local next hop ("sent a
v6 LL next-hop and there's no peer interface information"), which BIRD and others send on a
shared link. One `router bgp` (FRR needs every peering to share the local AS).

Routes: `network` statements; each peering's outbound route-map (out_<name>) lets through only
its own prefixes (prefix-list pl_<name>_<i>, one per route) and sets their attributes, so routes
learned from one peer are never re-advertised to another. Received routes:
`show bgp <afi> unicast json` for the prefixes from the peer, then one detailed JSON per prefix.
"""

from __future__ import annotations

import codecs
import json
import re
import shutil
from pathlib import Path

from tests.interop import normalise
from tests.interop.daemons.base import Daemon
from tests.interop.lab import Peering, Route, sh, wait_for

FRR_LIB = Path("/usr/lib/frr")

STATES = {
    s.lower(): s.lower() for s in ("Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established")
}


class Frr(Daemon):
    name = "frr"
    binaries = (str(FRR_LIB / "bgpd"), str(FRR_LIB / "zebra"), "vtysh")

    def _check(self) -> int:
        asns = {p.local_as for p in self.peerings.values()}
        if len(asns) != 1:
            raise ValueError(f"the FRR adapter runs one `router bgp`: local ASes {sorted(asns)}")
        return asns.pop()

    def _config(self) -> str:
        asn = self._check()
        lines = [
            "frr defaults traditional",
            "hostname frr",
            "log timestamp precision 3",
            "!",
            f"router bgp {asn}",
            f" bgp router-id {self.router_id}",
            " no bgp ebgp-requires-policy",
            " no bgp default ipv4-unicast",
            " no bgp network import-check",
            " bgp log-neighbor-changes",
            " coalesce-time 10",
        ]
        for p in self.peerings.values():
            n = p.remote_ip
            lines += [
                f" neighbor {n} remote-as {p.remote_as}",
                f" neighbor {n} update-source {p.local_ip}",
                f" neighbor {n} timers {max(1, p.hold_time // 3)} {p.hold_time}",
                f" neighbor {n} timers connect 1",
                f" neighbor {n} advertisement-interval 0",
            ]
            if p.passive:
                lines.append(f" neighbor {n} passive")
            if p.md5:
                lines.append(f" neighbor {n} password {p.md5}")
            if p.ttl_security:
                lines.append(f" neighbor {n} ttl-security hops {p.ttl_security}")
        for afi in ("ipv4", "ipv6"):
            lines.append(f" address-family {afi} unicast")
            for p in self.peerings.values():
                if p.afi != afi:
                    continue
                lines += [
                    f"  neighbor {p.remote_ip} activate",
                    f"  neighbor {p.remote_ip} route-map out_{p.name} out",
                ]
                if p.addpath:
                    lines.append(f"  neighbor {p.remote_ip} addpath-tx-all-paths")
            lines.append(" exit-address-family")
        lines.append("!")
        for p in self.peerings.values():
            lines.append(f"route-map out_{p.name} deny 65000")
        lines.append("!")
        return "\n".join(lines) + "\n"

    def start(self) -> Frr:
        shutil.chown(self.dir, "frr", "frr")
        conf = self.dir / "bgpd.conf"
        conf.write_text(self._config())
        shutil.chown(conf, "frr", "frr")
        zconf = self.dir / "zebra.conf"
        zconf.write_text("hostname frr\n")
        shutil.chown(zconf, "frr", "frr")
        self.log = self.dir / "bgpd.log"
        zserv = str(self.dir / "zserv.api")
        common = ["-z", zserv, "--vty_socket", str(self.dir), "-P", "0", "-u", "frr", "-g", "frr"]
        zebra = [str(FRR_LIB / "zebra"), "-f", str(zconf), "-i", str(self.dir / "zebra.pid"), *common,
                 "--log", f"file:{self.dir / 'zebra.log'}", "--log-level", "warnings"]  # fmt: skip
        self.procs.append(self.lab.spawn(self.ns, f"zebra-{self.ns}", zebra))
        wait_for((self.dir / "zserv.api").exists, 15, "zebra's zserv socket")
        argv = [
            str(FRR_LIB / "bgpd"), "-n", "-f", str(conf), "-i", str(self.dir / "bgpd.pid"), *common,
            "--log", f"file:{self.log}", "--log-level", "debugging", "-p", "179",
        ]  # fmt: skip
        self.procs.append(self.lab.spawn(self.ns, f"bgpd-{self.ns}", argv))
        self._seq: dict[str, int] = {}
        wait_for(lambda: self.alive() and "{" in self.vtysh("show bgp summary json"), 20, "bgpd vty")
        return self

    def vtysh(self, *cmds: str, check: bool = True) -> str:
        argv = ["vtysh", "--vty_socket", str(self.dir), "-d", "bgpd"]
        for c in cmds:
            argv += ["-c", c]
        return sh(*argv, check=check, timeout=20)

    def configure(self, *cmds: str) -> None:
        out = self.vtysh("configure terminal", *cmds)
        if "%" in out:
            raise RuntimeError(f"vtysh config {cmds}: {out}")

    def _neighbor_json(self, p: Peering) -> dict:
        d = json.loads(self.vtysh(f"show bgp neighbors {p.remote_ip} json") or "{}")
        return d.get(p.remote_ip, {})

    def state(self, p: Peering | str) -> str:
        st = self._neighbor_json(self.peering(p)).get("bgpState", "unknown")
        return STATES.get(st.lower(), st.lower())

    def _sync(self, p: Peering) -> None:
        """Each prefix keeps the route-map entry (and prefix-list) it got first, also after it is
        withdrawn: deleting or renumbering entries together with a `no network` makes FRR 8.4
        skip the withdrawal (its adj-out keeps the route)."""
        asn, kw = p.local_as, ("ip" if p.afi == "ipv4" else "ipv6")
        want = self.routes[p.name]
        have: dict[str, Route] = self.__dict__.setdefault("_have", {}).setdefault(p.name, {})
        entries: dict[str, Route] = self.__dict__.setdefault("_entries", {}).setdefault(p.name, {})
        seqs: dict[str, int] = self.__dict__.setdefault("_seqs", {}).setdefault(p.name, {})
        gone = [pfx for pfx in have if pfx not in want]
        cmds = []
        if gone:
            cmds += [f"router bgp {asn}", f"address-family {p.afi} unicast"]
            cmds += [f"no network {pfx}" for pfx in gone]
            cmds += ["exit-address-family", "exit"]
        changed = False
        for pfx, r in want.items():
            if entries.get(pfx) == r:
                continue
            changed = changed or pfx in have
            entries[pfx] = r
            seq = seqs.setdefault(pfx, 10 * (len(seqs) + 1))
            pl = f"pl_{p.name}_{seq}"
            cmds += [f"no route-map out_{p.name} permit {seq}", f"{kw} prefix-list {pl} seq 5 permit {pfx}"]
            cmds += [f"route-map out_{p.name} permit {seq}", f" match {kw} address prefix-list {pl}"]
            if r.as_path:
                cmds.append(" set as-path prepend " + " ".join(str(a) for a in r.as_path))
            if r.med is not None:
                cmds.append(f" set metric {r.med}")
            if r.local_pref is not None and p.ibgp:
                cmds.append(f" set local-preference {r.local_pref}")
            if r.communities:
                cmds.append(" set community " + " ".join(r.communities))
            if r.large_communities:
                cmds.append(" set large-community " + " ".join(r.large_communities))
            if r.ext_communities:
                rts = [normalise.ext_community(c).split(":", 1) for c in r.ext_communities]
                for kind in sorted({k for k, _ in rts}):
                    cmds.append(f" set extcommunity {kind} " + " ".join(v for k, v in rts if k == kind))
            if r.next_hop:
                cmds.append(f" set {kw} next-hop {'global ' if kw == 'ipv6' else ''}{r.next_hop}")
            cmds.append("exit")
        new = [pfx for pfx in want if pfx not in have]
        if new:
            cmds += [f"router bgp {asn}", f"address-family {p.afi} unicast"]
            cmds += [f"network {pfx}" for pfx in new]
            cmds += ["exit-address-family", "exit"]
        if cmds:
            self.configure(*cmds)
        have.clear()
        have.update(want)
        if changed:  # a route-map change reaches routes already sent only with a soft clear out
            self.vtysh(f"clear bgp {p.afi} unicast {p.remote_ip} soft out")

    def received_paths(self, p: Peering | str) -> dict[str, list[dict]]:
        p = self.peering(p)
        table = json.loads(self.vtysh(f"show bgp {p.afi} unicast json") or "{}").get("routes", {})
        res: dict[str, list[dict]] = {}
        for pfx, paths in table.items():
            if not any(x.get("peerId") == p.remote_ip for x in paths):
                continue
            detail = json.loads(self.vtysh(f"show bgp {p.afi} unicast {pfx} json") or "{}")
            for path in detail.get("paths", []):
                if path.get("peer", {}).get("peerId") != p.remote_ip:
                    continue
                res.setdefault(normalise.prefix(pfx), []).append(_path(path))
        return res

    def disable(self, p: Peering | str, message: str = "") -> None:
        p = self.peering(p)
        msg = f" message {message}" if message else ""
        self.configure(f"router bgp {p.local_as}", f"neighbor {p.remote_ip} shutdown{msg}")

    def enable(self, p: Peering | str) -> None:
        p = self.peering(p)
        self.configure(f"router bgp {p.local_as}", f"no neighbor {p.remote_ip} shutdown")

    def updates_received(self, p: Peering | str) -> int:
        return int(self._neighbor_json(self.peering(p)).get("messageStats", {}).get("updatesRecv", 0))

    def refresh(self, p: Peering | str) -> None:
        p = self.peering(p)
        self.vtysh(f"clear bgp {p.afi} unicast {p.remote_ip} soft in")

    def shutdown_message(self, p: Peering | str) -> str | None:
        p = self.peering(p)
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return None
        found = None
        # %NOTIFICATION: received from neighbor ADDR 6/2 (Cease/Administrative Shutdown) "TEXT"
        # (bytes outside ASCII printed as \xNN)
        pat = re.compile(rf'%NOTIFICATION: received from neighbor {re.escape(p.remote_ip)} 6/[24] .*?"(.*)"$')
        for line in text.splitlines():
            m = pat.search(line)
            if m:
                raw = codecs.escape_decode(m.group(1).encode("latin-1", "backslashreplace"))[0]
                found = raw.decode("utf-8", errors="replace")
        return found


def _path(path: dict) -> dict:
    as_path = [int(a) for a in re.findall(r"\d+", path.get("aspath", {}).get("string", ""))]
    nhs = [h.get("ip") for h in path.get("nexthops", []) if h.get("scope") != "link-local"]
    return normalise.route(
        as_path=as_path,
        next_hop=nhs[0] if nhs else None,
        med=path.get("metric"),
        local_pref=path.get("locPrf"),
        communities=path.get("community", {}).get("string", "").split(),
        large_communities=path.get("largeCommunity", {}).get("string", "").split(),
        ext_communities=path.get("extendedCommunity", {}).get("string", "").split(),
    )
