"""BIRD 2 (Debian bird2): `bird -f` with its own control socket in the run directory.

Each peering gets its own routing table (t_<name>), a static protocol (s_<name>) holding the
routes it announces (blackhole routes; the attributes are set by the BGP export filter, per
prefix), and the BGP protocol b_<name>. Announce/withdraw rewrite the config and run
`birdc configure`. Received routes: `show route table t_<name> protocol b_<name> all`.
"""

from __future__ import annotations

import re

from tests.interop import normalise
from tests.interop.daemons.base import Daemon
from tests.interop.lab import Peering, Route, sh, wait_for

STATES = {
    "idle": "idle",
    "connect": "connect",
    "active": "active",
    "opensent": "opensent",
    "openconfirm": "openconfirm",
    "established": "established",
    "close": "idle",
    "down": "idle",
}


def _route_filter(r: Route, p: Peering) -> str:
    s = []
    if r.as_path:
        # bgp_path.prepend puts each ASN in front: prepend in reverse to keep the order
        s += [f"bgp_path.prepend({a});" for a in reversed(r.as_path)]
    if r.med is not None:
        s.append(f"bgp_med = {r.med};")
    if r.local_pref is not None and p.ibgp:
        s.append(f"bgp_local_pref = {r.local_pref};")
    for c in r.communities:
        a, b = c.split(":")
        s.append(f"bgp_community.add(({a},{b}));")
    for c in r.large_communities:
        a, b, d = c.split(":")
        s.append(f"bgp_large_community.add(({a},{b},{d}));")
    for c in r.ext_communities:
        kind, a, b = normalise.ext_community(c).split(":")
        s.append(f"bgp_ext_community.add(({kind},{a},{b}));")
    if r.next_hop:
        s.append(f"bgp_next_hop = {r.next_hop};")
    return f"    if net = {r.prefix} then {{ {' '.join(s)} }}\n"


class Bird(Daemon):
    name = "bird"
    binaries = ("bird", "birdc")

    def _config(self) -> str:
        out = [
            f'log "{self.dir}/bird.log" all;',
            f"router id {self.router_id};",
            "protocol device { scan time 60; }",
        ]
        for p in self.peerings.values():
            n, afi = p.name, p.afi
            routes = self.routes[n].values()
            statics = "".join(f"  route {r.prefix} blackhole;\n" for r in routes)
            filt = "".join(_route_filter(r, p) for r in routes)
            opts = []
            if p.passive:
                opts.append("passive on;")
            if p.md5:
                opts.append(f'password "{p.md5}";')
            if p.ttl_security:
                opts.append("ttl security on;")
                if p.ttl_security > 1:
                    opts.append(f"multihop {p.ttl_security};")
            if p.ibgp:
                opts.append("direct;")
            addpath = "add paths on;" if p.addpath else ""
            out.append(
                f"""
{afi} table t_{n};
protocol static s_{n} {{
  {afi} {{ table t_{n}; }};
{statics}}}
filter out_{n} {{
  if proto != "s_{n}" then reject;
{filt}  accept;
}}
protocol bgp b_{n} {{
  local {p.local_ip} as {p.local_as};
  neighbor {p.remote_ip} as {p.remote_as};
  hold time {p.hold_time};
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 3;
  {" ".join(opts)}
  {afi} {{ table t_{n}; import all; export filter out_{n}; {addpath} }};
}}"""
            )
        return "\n".join(out) + "\n"

    def _write(self) -> None:
        (self.dir / "bird.conf").write_text(self._config())

    def start(self) -> Bird:
        self._write()
        self.sock = str(self.dir / "bird.ctl")
        self.procs.append(
            self.lab.spawn(
                self.ns, f"bird-{self.ns}", ["bird", "-f", "-c", str(self.dir / "bird.conf"), "-s", self.sock]
            )
        )
        wait_for(lambda: "Daemon is up" in self.birdc("show status"), 15, "bird control socket")
        return self

    def birdc(self, cmd: str, check: bool = True) -> str:
        return sh("birdc", "-s", self.sock, cmd, check=check, timeout=20)

    def _sync(self, p: Peering) -> None:
        self._write()
        out = self.birdc("configure")
        if "Reconfigured" not in out and "Reconfiguration in progress" not in out:
            raise RuntimeError(f"birdc configure: {out}")

    def state(self, p: Peering | str) -> str:
        out = self.birdc(f"show protocols b_{self.peering(p).name}")
        for line in out.splitlines():
            f = line.split()
            if f and f[0] == f"b_{self.peering(p).name}":
                # name proto table state since info: "up ... Established" or "start ... Active"
                info = line.split(None, 5)[-1] if len(f) >= 6 else ""
                word = info.split()[0].lower() if info.split() else f[3].lower()
                return STATES.get(word, word)
        return "unknown"

    def shutdown_message(self, p: Peering | str) -> str | None:
        n = self.peering(p).name
        try:
            log = (self.dir / "bird.log").read_text(errors="replace")
        except OSError:
            return None
        found = None
        for line in log.splitlines():
            if f"b_{n}:" in line and "Received:" in line and "shutdown" in line.lower():
                m = re.search(r'shutdown[^"]*"(.*)"', line, re.I)
                found = m.group(1) if m else line.split("Received:", 1)[1].strip()
        return found

    def received_paths(self, p: Peering | str) -> dict[str, list[dict]]:
        n = self.peering(p).name
        out = self.birdc(f"show route table t_{n} protocol b_{n} all")
        return parse_show_route_all(out)

    def disable(self, p: Peering | str, message: str = "") -> None:
        self.birdc(
            f'disable b_{self.peering(p).name} "{message}"'
            if message
            else f"disable b_{self.peering(p).name}"
        )

    def enable(self, p: Peering | str) -> None:
        self.birdc(f"enable b_{self.peering(p).name}")

    def updates_received(self, p: Peering | str) -> int:
        out = self.birdc(f"show protocols all b_{self.peering(p).name}")
        m = re.search(r"Import updates:\s+(\d+)", out)
        return int(m.group(1)) if m else 0

    def refresh(self, p: Peering | str) -> None:
        self.birdc(f"reload in b_{self.peering(p).name}")


_ROUTE_HEAD = re.compile(r"^(\S+/\d+)\s+unicast")
_ROUTE_ALT = re.compile(r"^\s+unicast\s+\[")


def parse_show_route_all(out: str) -> dict[str, list[dict]]:
    """Parse `birdc show route ... all` (BIRD 2) into normalised routes per prefix."""
    res: dict[str, list[dict]] = {}
    cur_prefix = None
    cur: dict | None = None

    def flush() -> None:
        if cur_prefix and cur is not None:
            res.setdefault(normalise.prefix(cur_prefix), []).append(
                normalise.route(
                    as_path=cur.get("as_path", ()),
                    next_hop=cur.get("next_hop"),
                    med=cur.get("med"),
                    local_pref=cur.get("local_pref"),
                    communities=cur.get("community", ()),
                    large_communities=cur.get("large_community", ()),
                    ext_communities=cur.get("ext_community", ()),
                )
            )

    for raw in out.splitlines():
        line = re.sub(r"^\d{4}-", "", raw)
        m = _ROUTE_HEAD.match(line)
        if m or _ROUTE_ALT.match(line):
            flush()
            if m:
                cur_prefix = m.group(1)
            cur = {}
            continue
        if cur is None:
            continue
        s = line.strip()
        if not s.startswith("BGP."):
            continue
        key, _, val = s[4:].partition(":")
        val = val.strip()
        if key == "as_path":
            cur["as_path"] = [int(a) for a in re.findall(r"\d+", val)]
        elif key == "next_hop":
            cur["next_hop"] = val.split()[0] if val else None
        elif key in ("med", "local_pref"):
            cur[key] = int(val)
        elif key == "community":
            cur["community"] = re.findall(r"\(\d+,\s*\d+\)", val)
        elif key == "large_community":
            cur["large_community"] = re.findall(r"\(\d+,\s*\d+,\s*\d+\)", val)
        elif key == "ext_community":
            cur["ext_community"] = [
                f"({a}, {b}, {c})" for a, b, c in re.findall(r"\(([a-z]+),\s*([^,)]+),\s*([^)]+)\)", val)
            ]
    flush()
    return res
