"""A lab for the daemon-level FIB tests: `ze run` (bgp-rib, sysrib, fib-kernel) in a router
namespace, two BIRD peers in namespaces of their own, one veth each.

    <tag>a (BIRD, AS 65002)            <tag>r (ze, AS 65001)             <tag>b (BIRD, AS 65002)
    r 10.1.0.2 2001:db8:1::2  <--->  pa 10.1.0.1 2001:db8:1::1
                                     pb 10.2.0.1 2001:db8:2::1  <--->  r 10.2.0.2 2001:db8:2::2

Each BIRD peer has an IPv4 session (z4) and an IPv6 session (z6) to ze. What it announces is its
`routes` (prefix -> AS_PATH prepends, IPv4 and IPv6) plus `bulk` generated IPv4 /24s from
16.0.0.0 (a static protocol of its own); a change rewrites bird.conf and runs `birdc configure`.

Names carry "fiblab", the pid and a counter; close() stops every process by PID and deletes the
namespaces. ze writes table TABLE with protocol 186; the kernel view used by the tests is
`ip -j route show table TABLE proto 186` with nexthop ids resolved through `ip -j nexthop show`,
and a netlink dump for the big counts.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.functional.conftest import Running
from tests.functional.speaker.lab import NetnsRunning
from tests.interop.lab import Proc, stop_and_delete, wait_for

TABLE = 100
PROTO = 186
ZE_AS, PEER_AS = 65001, 65002
BULK_BASE = int(ipaddress.IPv4Address("16.0.0.0"))
SIDES = {
    "a": {
        "dev": "pa",
        "ze4": "10.1.0.1",
        "peer4": "10.1.0.2",
        "ze6": "2001:db8:1::1",
        "peer6": "2001:db8:1::2",
    },
    "b": {
        "dev": "pb",
        "ze4": "10.2.0.1",
        "peer4": "10.2.0.2",
        "ze6": "2001:db8:2::1",
        "peer6": "2001:db8:2::2",
    },
}
_count = itertools.count()


def sh(*cmd: str, check: bool = True, timeout: float = 120, input: str | None = None) -> str:
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, input=input)
    if check and r.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)[:200]} (rc {r.returncode}): {(r.stderr or r.stdout).strip()[:600]}"
        )
    return r.stdout


def missing() -> str | None:
    """Why this lab cannot run here (None when it can)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for b in ("ip", "bird", "birdc"):
        if shutil.which(b) is None:
            return f"{b} is not installed (scripts/bootstrap installs iproute2 and bird2)"
    return None


def ze_conf(*, stale_time: int = 60, maximum_paths: int = 2, sides: tuple[str, ...] = ("a", "b")) -> str:
    peers = []
    for s in sides:
        x = SIDES[s]
        peers.append(
            f"    peer {s}4 {{ remote {{ ip {x['peer4']}; as {PEER_AS}; }} local-address {x['ze4']}; "
            f"family {{ ipv4 unicast; }} }}\n"
            f"    peer {s}6 {{ remote {{ ip {x['peer6']}; as {PEER_AS}; }} local-address {x['ze6']}; "
            f"family {{ ipv6 unicast; }} }}"
        )
    return (
        "environment { log { level info; } }\n"
        f"bgp {{\n    router-id 10.1.0.1;\n    local-as {ZE_AS};\n    connect-retry 1;\n"
        + "\n".join(peers)
        + "\n}\n"
        "plugin { internal bgp-rib; internal sysrib; internal fib-kernel; }\n"
        f"rib {{ igp-cost none; best-path {{ maximum-paths {maximum_paths}; }} }}\n"
        f"fib {{ kernel {{ table {TABLE}; stale-time {stale_time}; }} }}\n"
    )


class Bird:
    """BIRD 2 in one peer namespace: sessions z4 and z6 to ze, statics s4, s6 and bulk."""

    def __init__(self, lab: FibLab, side: str) -> None:
        self.lab = lab
        self.side = side
        self.ns = lab.ns[side]
        self.x = SIDES[side]
        self.dir = lab.dir / f"bird-{side}"
        self.dir.mkdir(exist_ok=True)
        self.sock = str(self.dir / "bird.ctl")
        self.routes: dict[str, int] = {}  # prefix -> extra AS_PATH prepends
        self.bulk = 0
        self.proc: Proc | None = None

    def _config(self) -> str:
        x = self.x
        v4 = [p for p in self.routes if ":" not in p]
        v6 = [p for p in self.routes if ":" in p]
        filt = "".join(
            f"  if net = {p} then {{ {' '.join(f'bgp_path.prepend({PEER_AS});' for _ in range(n))} }}\n"
            for p, n in self.routes.items()
            if n
        )
        bulk = "".join(
            f"  route {ipaddress.IPv4Address(BULK_BASE + (i << 8))}/24 blackhole;\n" for i in range(self.bulk)
        )
        s4 = "".join(f"  route {p} blackhole;\n" for p in v4)
        s6 = "".join(f"  route {p} blackhole;\n" for p in v6)
        out = f"""log "{self.dir}/bird.log" {{ info, warning, error, fatal }};
router id {x["peer4"]};
protocol device {{ scan time 60; }}
protocol static s4 {{ ipv4;
{s4}}}
protocol static s6 {{ ipv6;
{s6}}}
protocol static bulk {{ ipv4;
{bulk}}}
filter to_ze {{
  if proto != "s4" && proto != "s6" && proto != "bulk" then reject;
{filt}  accept;
}}
"""
        for afi, local, remote in (("ipv4", x["peer4"], x["ze4"]), ("ipv6", x["peer6"], x["ze6"])):
            out += f"""protocol bgp z{afi[-1]} {{
  local {local} as {PEER_AS};
  neighbor {remote} as {ZE_AS};
  hold time 30;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
  {afi} {{ import none; export filter to_ze; }};
}}
"""
        return out

    def write(self) -> None:
        (self.dir / "bird.conf").write_text(self._config())

    def start(self) -> Bird:
        self.write()
        self.proc = self.lab.spawn(
            self.ns, f"bird-{self.side}", ["bird", "-f", "-c", str(self.dir / "bird.conf"), "-s", self.sock]
        )

        def up() -> bool:
            if not self.proc.alive():
                raise RuntimeError(f"bird {self.side} exited: {self.proc.tail(2000)}")
            return "Daemon is up" in self.birdc("show status", check=False)

        wait_for(up, 30, "bird control socket")
        return self

    def birdc(self, cmd: str, check: bool = True) -> str:
        return sh("birdc", "-s", self.sock, cmd, check=check, timeout=120)

    def configure(self) -> None:
        self.write()
        out = self.birdc("configure")
        if "Reconfigured" not in out and "Reconfiguration in progress" not in out:
            raise RuntimeError(f"birdc configure: {out}")

    def announce(self, routes: dict[str, int]) -> None:
        self.routes.update(routes)
        self.configure()

    def withdraw(self, *prefixes: str) -> None:
        for p in prefixes:
            self.routes.pop(p, None)
        self.configure()

    def set_bulk(self, n: int) -> None:
        self.bulk = n
        self.configure()

    def exported(self, proto: str = "z4") -> int:
        """Routes BIRD says it exported on session `proto` (`show protocols all`: Routes: ... exported)."""
        out = self.birdc(f"show protocols all {proto}", check=False)
        for line in out.splitlines():
            if "Routes:" in line and "exported" in line:
                for part in line.split("Routes:", 1)[1].split(","):
                    f = part.split()
                    if len(f) == 2 and f[1] == "exported":
                        return int(f[0])
        return -1

    def state(self, proto: str = "z4") -> str:
        for line in self.birdc(f"show protocols {proto}", check=False).splitlines():
            f = line.split()
            if f and f[0] == proto:
                return f[-1] if len(f) >= 6 else f[3]
        return "unknown"

    def established(self, *protos: str, timeout: float = 60) -> None:
        for p in protos or ("z4", "z6"):
            wait_for(lambda p=p: self.state(p) == "Established", timeout, f"bird {self.side} {p} Established")

    def disable(self, proto: str = "z4") -> None:
        self.birdc(f"disable {proto}")

    def enable(self, proto: str = "z4") -> None:
        self.birdc(f"enable {proto}")


class FibLab:
    """Namespaces r (ze), a and b (BIRD); ze started with start_ze(), BIRD with bird()."""

    def __init__(self, tmp: Path) -> None:
        self.tag = f"fiblab{os.getpid()}x{next(_count)}"
        self.ns = {k: f"{self.tag}{k}" for k in ("r", "a", "b")}
        self.dir = tmp
        self.procs: list[Proc] = []
        self.zes: list[Running] = []
        self.birds: dict[str, Bird] = {}
        self._made: list[str] = []
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _build(self) -> None:
        r = self.ns["r"]
        for ns in self.ns.values():
            sh("ip", "netns", "add", ns)
            self._made.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            for k in ("all", "default"):
                sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{k}.accept_dad=0")
        for side, x in SIDES.items():
            ns = self.ns[side]
            sh("ip", "link", "add", x["dev"], "netns", r, "type", "veth", "peer", "name", "r", "netns", ns)
            sh("ip", "-n", r, "addr", "add", f"{x['ze4']}/24", "dev", x["dev"])
            sh("ip", "-n", r, "addr", "add", f"{x['ze6']}/64", "dev", x["dev"], "nodad")
            sh("ip", "-n", ns, "addr", "add", f"{x['peer4']}/24", "dev", "r")
            sh("ip", "-n", ns, "addr", "add", f"{x['peer6']}/64", "dev", "r", "nodad")
            sh("ip", "-n", r, "link", "set", x["dev"], "up")
            sh("ip", "-n", ns, "link", "set", "r", "up")

    # --- processes --------------------------------------------------------------------------
    def spawn(self, ns: str, name: str, argv: list[str]) -> Proc:
        log = self.dir / f"{name}.out"
        with open(log, "ab") as out:
            p = subprocess.Popen(
                ["ip", "netns", "exec", ns, *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                start_new_session=True,
            )
        pr = Proc(name, p, log)
        self.procs.append(pr)
        return pr

    def bird(self, side: str) -> Bird:
        if side not in self.birds:
            self.birds[side] = Bird(self, side).start()
        return self.birds[side]

    def start_ze(self, conf: str) -> NetnsRunning:
        d = self.dir / f"ze{len(self.zes)}"
        d.mkdir()
        z = NetnsRunning(d, conf, self.ns["r"])
        self.zes.append(z)
        z.start()
        # the control socket answers before the plugins are configured: wait for fib-kernel
        wait_for(lambda: self.fib("summary").get("state") == "running", 30, "fib-kernel running")
        return z

    @property
    def ze(self) -> NetnsRunning:
        return self.zes[-1]

    def show(self, *args: str) -> Any:
        """`ze show ARGS --json`: the answering plugin's data."""
        data = self.ze.json("show", *args)
        return data["result"]["data"] if isinstance(data, dict) and "result" in data else data

    def fib(self, *args: str) -> Any:
        """`ze show fib ARGS --json`: fib-kernel's data."""
        return self.show("fib", *args)

    def ze_established(self, *peers: str, timeout: float = 60) -> None:
        def up(p: str) -> bool:
            r = self.ze.ze("show", "peer", p, "--json")
            return r.returncode == 0 and json.loads(r.stdout)["data"]["peer"]["state"] == "established"

        for p in peers:
            wait_for(lambda p=p: up(p), timeout, f"ze peer {p} established")

    # --- the kernel's view ----------------------------------------------------------------
    def ip(self, *args: str, check: bool = True) -> str:
        return sh("ip", "-n", self.ns["r"], *args, check=check)

    def nexthops(self) -> dict[int, dict]:
        return {n["id"]: n for n in json.loads(self.ip("-j", "nexthop", "show") or "[]")}

    def gateways(self, route: dict, nhs: dict[int, dict] | None = None) -> set[str]:
        """The gateways a route forwards to: its own, its multipath nexthops, or its nexthop object's
        (a group's members resolved)."""
        if route.get("gateway"):
            return {route["gateway"]}
        if route.get("nexthops"):
            return {h["gateway"] for h in route["nexthops"] if h.get("gateway")}
        nhid = route.get("nhid")
        if nhid is None:
            return set()
        nhs = self.nexthops() if nhs is None else nhs
        n = nhs.get(nhid, {})
        if "group" in n:
            return {nhs.get(m["id"], {}).get("gateway", f"?{m['id']}") for m in n["group"]}
        return {n["gateway"]} if n.get("gateway") else set()

    def kernel(self, family: str = "-4") -> dict[str, dict]:
        """ze's routes in TABLE: prefix -> the `ip -j route` entry plus "gateways" (a set)."""
        r = subprocess.run(
            [
                "ip",
                "-n",
                self.ns["r"],
                "-j",
                family,
                "route",
                "show",
                "table",
                str(TABLE),
                "proto",
                str(PROTO),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if r.returncode != 0 and "does not exist" not in r.stderr:  # no route in the table yet
            raise RuntimeError(f"ip route show: {r.stderr.strip()}")
        routes = json.loads(r.stdout or "[]") if r.returncode == 0 else []
        nhs = self.nexthops()
        out = {}
        for r in routes:
            r["gateways"] = self.gateways(r, nhs)
            out[r["dst"]] = r
        return out

    def count(self, afi: int = 1) -> int:
        """ze's routes in TABLE by a netlink dump (fast enough for a million)."""
        from ze.fib.kernel import netlink as nl

        w = nl.Writer(self.ns["r"], table=TABLE, protocol=PROTO)
        try:
            return nl.count_routes(w, afi, PROTO)
        finally:
            w.close()

    def count_ip(self) -> int:
        """`ip route show table TABLE proto 186 | wc -l`."""
        out = sh(
            "sh", "-c", f"ip -n {self.ns['r']} route show table {TABLE} proto {PROTO} | wc -l", timeout=300
        )
        return int(out.strip())

    # --- teardown ---------------------------------------------------------------------------
    def close(self) -> None:
        for z in self.zes:
            try:
                z.stop()
            except Exception:
                pass
        stop_and_delete(self.procs, self._made)


_STALE = re.compile(r"^fiblab(\d+)x\d+[rab]$")


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cleanup_stale() -> list[str]:
    """The namespaces of runs that were killed before their clean-up (fiblab<pid>x<n>r|a|b with that
    pid gone): every process inside is stopped by PID, then the namespace is deleted."""
    gone = []
    for line in sh("ip", "netns", "list", check=False).splitlines():
        ns = line.split()[0] if line.split() else ""
        m = _STALE.match(ns)
        if not m or _alive(int(m.group(1))):
            continue
        try:
            inode = os.stat(f"/run/netns/{ns}").st_ino
        except OSError:
            continue
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                if os.stat(f"/proc/{d}/ns/net").st_ino == inode:
                    os.kill(int(d), signal.SIGKILL)
            except OSError:
                pass
        sh("ip", "netns", "del", ns, check=False)
        gone.append(ns)
    return gone


def timed(fn, timeout: float, what: str, interval: float = 0.05) -> float:
    """Seconds until fn() is truthy (bounded)."""
    t0 = time.monotonic()
    wait_for(fn, timeout, what, interval=interval)
    return time.monotonic() - t0


class Listener:
    """Counts the kernel's route and nexthop notifications in the router namespace (every writer,
    ze included): RTM_NEWROUTE / RTM_DELROUTE of TABLE, RTM_NEWNEXTHOP / RTM_DELNEXTHOP, and
    datagrams lost to a full socket buffer (ENOBUFS: many events at once)."""

    def __init__(self, ns: str) -> None:
        import threading

        from ze.fib.kernel import netlink as nl

        self.nl = nl
        self.sock = nl.open_socket(
            ns, groups=(nl.RTNLGRP_IPV4_ROUTE, nl.RTNLGRP_IPV6_ROUTE, nl.RTNLGRP_NEXTHOP), bufsize=8 << 20
        )
        self.sock.settimeout(0.1)
        self.counts: dict[str, int] = {
            "newroute": 0,
            "delroute": 0,
            "newnexthop": 0,
            "delnexthop": 0,
            "lost": 0,
        }
        self.last = time.monotonic()
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        nl = self.nl
        names = {
            nl.RTM_NEWROUTE: "newroute",
            nl.RTM_DELROUTE: "delroute",
            nl.RTM_NEWNEXTHOP: "newnexthop",
            nl.RTM_DELNEXTHOP: "delnexthop",
        }
        while not self.stop_ev.is_set():
            try:
                data = self.sock.recv(1 << 20)
            except TimeoutError:
                continue
            except OSError as e:
                if e.errno == 105:  # ENOBUFS
                    self.counts["lost"] += 1
                    continue
                return
            self.last = time.monotonic()
            for ev in nl.parse_route_events(data):
                if isinstance(ev, tuple):
                    self.counts[names[ev[0]]] += 1
                elif ev.table == TABLE:
                    self.counts[names[ev.type]] += 1

    def quiet(self, seconds: float) -> bool:
        """No notification for `seconds`."""
        return time.monotonic() - self.last >= seconds

    def snapshot(self) -> dict[str, int]:
        return dict(self.counts)

    def close(self) -> None:
        self.stop_ev.set()
        self.thread.join(2)
        self.sock.close()
