"""FIB install/remove rates into a network namespace, side by side in one run.

Modes (each in a fresh namespace `ze-fib-bench-<pid>-<n>` with two veth "peers"):
  fib-kernel   ze's Service.on_best(BestBatch of N /24s) then a withdraw batch; next hops as
               nexthop objects, routes with RTA_NH_ID, batched sendmsg, errors-only replies
  raw-nhid     the ceiling: a minimal struct.pack_into loop writing the same messages (routes
               through a one-member nexthop group made with `ip nexthop`), no state, no checks
  raw-ack      the reference writer of ../shared/bench/netlink_ref.py: RTA_GATEWAY routes,
               an ACK per route, 64 KiB sendmsg chunks
  pyroute2     IPRoute().route("add"/"del") one by one on a sample (--sample), extrapolated
  bird         BIRD 2: a static protocol with N routes, enabled/disabled over birdc; its kernel
               protocol exports to the table (time from `enable` until the kernel holds N)
  frr          FRR bgpd+zebra through the peer-daemon harness (../shared/bench/bench_fib.py: a BGP
               sender -> the daemon -> the kernel; time until the namespace holds N routes);
               staticd is no way in (it needs minutes to read 10k `ip route` lines)
  bird-bgp     BIRD through the same harness, for a like-for-like line next to FRR
Plus: `repoint` (fib-kernel, N routes over an ECMP pair, one peer goes down: one nexthop delete
re-points them all; then N routes of a single peer: one delete removes them all) and `dump`
(reading N routes back: raw filtered dump vs pyroute2's).

Counts are checked in the kernel (/proc/<pid>/net/fib_triestat for the main table, a netlink
dump otherwise). Figures are printed (one JSON line per mode, then a table), never asserted.

  sudo .venv/bin/python bench/fib.py -n 100000,1000000
  sudo .venv/bin/python bench/fib.py -n 100000 --modes fib-kernel,raw-nhid,bird
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ze.bgp.events import BestBatch, NextHopSet
from ze.bgp.wire.nlri.prefix import Prefix
from ze.fib.kernel import netlink as nl
from ze.fib.kernel.service import KernelConfig, Service

MODES = ("fib-kernel", "raw-nhid", "raw-ack", "pyroute2", "bird", "frr", "bird-bgp", "repoint", "dump")
BASE = 16 << 24
GW_A, GW_B = "10.0.1.2", "10.0.2.2"
_ns_count = itertools.count()


def sh(*cmd: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r


class Netns:
    def __init__(self) -> None:
        self.name = f"ze-fib-bench-{os.getpid()}-{next(_ns_count)}"
        sh("ip", "netns", "add", self.name)
        self.ip("link", "set", "lo", "up")
        for i, dev in ((1, "pa0"), (2, "pb0")):
            self.ip("link", "add", dev, "type", "veth", "peer", "name", dev[:-1] + "1")
            self.ip("addr", "add", f"10.0.{i}.1/24", "dev", dev)
            self.ip("link", "set", dev, "up")
            self.ip("link", "set", dev[:-1] + "1", "up")

    def ip(self, *a: str) -> None:
        sh("ip", "-n", self.name, *a)

    def close(self) -> None:
        sh("ip", "netns", "del", self.name, check=False)


def v4_count(pid: int, table: int) -> int:
    """Prefixes in `table` of the namespace of process `pid` (in-kernel counter, cheap to poll)."""
    want = "Main" if table == 254 else f"Id {table}"
    sec = None
    with open(f"/proc/{pid}/net/fib_triestat") as f:
        for line in f:
            if line.rstrip().endswith(":") and not line.startswith(("\t", " ")):
                sec = line.strip()[:-1]
            elif sec == want and "Prefixes:" in line:
                return int(line.split(":")[1])
    return 0


def prefixes(n: int) -> list[Prefix]:
    return [Prefix(1, 24, BASE + (i << 8)) for i in range(n)]


def dump_count(ns: str, table: int, proto: int | None) -> int:
    w = nl.Writer(ns, table=table)
    try:
        return nl.count_routes(w, 1, proto)
    finally:
        w.close()


def install_remove(ns: Netns, table: int, install: Callable[[], int], remove: Callable[[], int]) -> dict:
    """The figures of one writer: install() timed (wall clock and this process's CPU), the
    kernel's count of protocol-186 routes, remove() timed, the count again. Both return their
    error counts."""
    c0 = time.process_time()
    t0 = time.monotonic()
    e1 = install()
    t1 = time.monotonic()
    cpu = time.process_time() - c0
    installed = dump_count(ns.name, table, 186)
    t2 = time.monotonic()
    e2 = remove()
    t3 = time.monotonic()
    left = dump_count(ns.name, table, 186)
    return {
        "install_cpu_s": cpu,
        "install_s": t1 - t0,
        "remove_s": t3 - t2,
        "installed": installed,
        "left": left,
        "errors": e1 + e2,
    }


# --- modes -----------------------------------------------------------------------------------------
def run_fib_kernel(ns: Netns, n: int, table: int) -> dict:
    svc = Service(KernelConfig(table=table), netns=ns.name)
    svc.start()
    pfx = prefixes(n)
    nhs = NextHopSet("ebgp", ((GW_A, "peer-a", ""),))
    add = BestBatch("ipv4/unicast", tuple((p, nhs) for p in pfx))
    rem = BestBatch("ipv4/unicast", (), tuple(pfx))
    try:
        return install_remove(
            ns, table, lambda: svc.on_best(add)["errors"], lambda: svc.on_best(rem)["errors"]
        )
    finally:
        svc.stop()


_V4 = struct.Struct("=IHHII BBBBBBBBI HHI HHI HHI")
_V4D = struct.Struct("=IHHII BBBBBBBBI HHI HHI")


def _raw_socket(ns: str) -> socket.socket:
    return nl.open_socket(ns)


def _drain(s: socket.socket, expect: int) -> int:
    errors = got = 0
    while True:
        try:
            data = s.recv(1 << 20, 0 if got < expect else socket.MSG_DONTWAIT)
        except BlockingIOError:
            return errors
        off = 0
        while off + 20 <= len(data):
            ln, ty = struct.unpack_from("=IH", data, off)
            if ty == 2:
                got += 1
                errors += struct.unpack_from("=i", data, off + 16)[0] != 0
            off += (ln + 3) & ~3


def run_raw_nhid(ns: Netns, n: int, table: int) -> dict:
    """The ceiling: the same messages as fib-kernel, from a bare loop."""
    ns.ip("nexthop", "add", "id", "7", "via", GW_A, "dev", "pa0")
    ns.ip("nexthop", "add", "id", "8", "group", "7")  # routes point at a group, as fib-kernel's do
    s = _raw_socket(ns.name)
    buf = bytearray(256 << 10)
    tbl8 = table if table < 256 else 252
    htonl = socket.htonl

    def write(delete: bool) -> int:
        pack = (_V4D if delete else _V4).pack_into
        size = (_V4D if delete else _V4).size
        ty, fl = (25, 1) if delete else (24, 1 | 0x400 | 0x100)
        off = errors = 0
        rng = range(n - 1, -1, -1) if delete else range(n)
        for i in rng:
            if delete:
                pack(buf, off, size, ty, fl, i + 1, 0, 2, 24, 0, 0, tbl8, 186, 0, 1, 0, 8, 1,
                     htonl(BASE + (i << 8)), 8, 15, table)  # fmt: skip
            else:
                pack(buf, off, size, ty, fl, i + 1, 0, 2, 24, 0, 0, tbl8, 186, 0, 1, 0, 8, 1,
                     htonl(BASE + (i << 8)), 8, 15, table, 8, 30, 8)  # fmt: skip
            off += size
            if off + size > len(buf):
                s.send(memoryview(buf)[:off])
                errors += _drain(s, 0)
                off = 0
        if off:
            s.send(memoryview(buf)[:off])
            errors += _drain(s, 0)
        return errors

    try:
        return install_remove(ns, table, lambda: write(False), lambda: write(True))
    finally:
        s.close()


def run_raw_ack(ns: Netns, n: int, table: int) -> dict:
    """netlink_ref.py's raw-batch: gateway routes, ACK each, 64 KiB chunks (encode included)."""
    s = _raw_socket(ns.name)
    gw = struct.unpack("=I", socket.inet_aton(GW_A))[0]
    tbl8 = table if table < 256 else 252

    def write(delete: bool) -> int:
        S = _V4D if delete else _V4
        per = 65536 // S.size
        buf = bytearray(per * S.size)
        errors = 0
        idx = list(range(n - 1, -1, -1)) if delete else list(range(n))
        for c in range(0, n, per):
            chunk = idx[c : c + per]
            off = 0
            for i in chunk:
                dst = socket.htonl(BASE + (i << 8))
                if delete:
                    S.pack_into(buf, off, S.size, 25, 5, i + 1, 0, 2, 24, 0, 0, tbl8, 186, 0, 1, 0, 8, 1,
                                dst, 8, 15, table)  # fmt: skip
                else:
                    S.pack_into(buf, off, S.size, 24, 5 | 0x600, i + 1, 0, 2, 24, 0, 0, tbl8, 186, 0, 1, 0, 8, 1,
                                dst, 8, 15, table, 8, 5, gw)  # fmt: skip
                off += S.size
            s.send(memoryview(buf)[:off])
            errors += _drain(s, len(chunk))
        return errors

    try:
        return install_remove(ns, table, lambda: write(False), lambda: write(True))
    finally:
        s.close()


def run_pyroute2(ns: Netns, n: int, table: int, sample: int) -> dict:
    from pyroute2 import IPRoute

    k = min(n, sample)
    ip = IPRoute(netns=ns.name)
    dsts = [str(p) for p in prefixes(k)]

    def add() -> int:
        for d in dsts:
            ip.route("add", dst=d, gateway=GW_A, proto=186, table=table)
        return 0

    def remove() -> int:
        for d in reversed(dsts):
            ip.route("del", dst=d, proto=186, table=table)
        return 0

    try:
        r = install_remove(ns, table, add, remove)
    finally:
        ip.close()
    f = n / k  # the sample's figures, scaled to n routes
    for key in ("install_s", "remove_s", "install_cpu_s"):
        r[key] *= f
    return {**r, "installed": round(r["installed"] * f), "sample": k, "extrapolated": k != n}


def proc_cpu(pid: int) -> float:
    """user + system CPU seconds of a process (its kernel work on netlink included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_count(pid: int, table: int, target: int, timeout: float, rising: bool) -> float | None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        c = v4_count(pid, table)
        if (c >= target) if rising else (c <= target):
            return time.monotonic()
        time.sleep(0.02)
    return None


class Proc:
    def __init__(self, ns: str, argv: list[str], log: str) -> None:
        self.log = open(log, "w")
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", ns, *argv], stdout=self.log, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(10)
        self.log.close()


def run_bird(ns: Netns, n: int, table: int, timeout: float) -> dict:
    if shutil.which("bird") is None:
        return {"skipped": "bird not installed"}
    d = tempfile.mkdtemp(prefix="ze-fib-bench-bird-")
    conf, sock = f"{d}/bird.conf", f"{d}/bird.ctl"
    with open(conf, "w") as f:
        f.write("router id 10.0.1.1;\nprotocol device { scan time 3600; }\nipv4 table t4;\n")
        f.write(f"protocol kernel k4 {{ ipv4 {{ table t4; import none; export all; }}; learn off; "
                f"scan time 3600; kernel table {table}; }}\n")  # fmt: skip
        f.write("protocol static s4 {\n  ipv4 { table t4; };\n  disabled;\n")
        for i in range(n):
            a = BASE + (i << 8)
            f.write(f"  route {a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.0/24 via {GW_A};\n")
        f.write("}\n")
    proc = Proc(ns.name, ["bird", "-f", "-c", conf, "-s", sock, "-P", f"{d}/bird.pid"], f"{d}/bird.log")
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            r = sh("birdc", "-s", sock, "show", "status", check=False, timeout=30)
            if "Daemon is up" in r.stdout:
                break
            time.sleep(0.1)
        else:
            return {"error": "bird did not start"}
        base = v4_count(proc.p.pid, table)
        c0 = proc_cpu(proc.p.pid)
        t0 = time.monotonic()
        sh("birdc", "-s", sock, "enable", "s4", timeout=60)
        t1 = _wait_count(proc.p.pid, table, base + n, timeout, True)
        cpu = proc_cpu(proc.p.pid) - c0
        installed = v4_count(proc.p.pid, table) - base
        t2 = time.monotonic()
        sh("birdc", "-s", sock, "disable", "s4", timeout=60)
        t3 = _wait_count(proc.p.pid, table, base, timeout, False)
        left = v4_count(proc.p.pid, table) - base
        version = sh("bird", "--version", check=False).stderr.strip().split()[-1]
        return {"install_s": (t1 or time.monotonic()) - t0, "remove_s": (t3 or time.monotonic()) - t2,
                "installed": installed, "left": left, "errors": 0, "version": version,
                "timed_out": t1 is None or t3 is None, "install_cpu_s": cpu}  # fmt: skip
    finally:
        proc.stop()
        shutil.rmtree(d, ignore_errors=True)


SHARED_BENCH = "/work/shared/bench"


def run_shared(dut: str, n: int, timeout: float, shared: str) -> dict:
    """The peer-daemon harness (bench_fib.py: a BGP sender -> the daemon -> its kernel FIB, time
    until the namespace holds N routes). FRR has no faster path to program N routes here: zebra
    has no bulk input but its clients, and staticd needs minutes to read 10k `ip route` lines."""
    script = os.path.join(shared, "bench_fib.py")
    if not os.path.exists(script):
        return {"skipped": f"{script} not found (--shared-bench)"}
    r = subprocess.run(
        [sys.executable, script, "--dut", dut, "-n", str(n), "--timeout", str(int(timeout))],
        capture_output=True, text=True, timeout=timeout + 120, cwd=shared,
    )  # fmt: skip
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"error": (r.stderr or r.stdout)[-300:]}
    res = json.loads(lines[-1])
    if not res.get("ok", True) or "seconds" not in res:
        return {"error": str(res.get("error", res))[:300]}
    return {"install_s": res["seconds"], "installed": n, "version": res.get("version", ""),
            "note": "BGP sender -> daemon -> kernel (shared harness)"}  # fmt: skip


def run_repoint(ns: Netns, n: int, table: int) -> dict:
    svc = Service(KernelConfig(table=table), netns=ns.name)
    svc.start()
    pfx = prefixes(n)
    ab = NextHopSet("ebgp", ((GW_A, "peer-a", ""), (GW_B, "peer-b", "")))
    svc.on_best(BestBatch("ipv4/unicast", tuple((p, ab) for p in pfx)))
    t0 = time.monotonic()
    out = svc.peer_down("peer-a")
    t1 = time.monotonic()
    kept = dump_count(ns.name, table, 186)
    svc.flush()
    only = NextHopSet("ebgp", ((GW_B, "peer-b", ""),))
    svc.on_best(BestBatch("ipv4/unicast", tuple((p, only) for p in pfx)))
    t2 = time.monotonic()
    out2 = svc.peer_down("peer-b")
    t3 = time.monotonic()
    left = dump_count(ns.name, table, 186)
    svc.stop()
    return {"repoint_s": t1 - t0, "kept": kept, "groups_repointed": out["groups-repointed"],
            "remove_by_nexthop_s": t3 - t2, "left": left, "routes_removed": out2["routes-removed"]}  # fmt: skip


def run_dump(ns: Netns, n: int, table: int, sample: int) -> dict:
    svc = Service(KernelConfig(table=table), netns=ns.name)
    svc.start()
    nhs = NextHopSet("ebgp", ((GW_A, "peer-a", ""),))
    svc.on_best(BestBatch("ipv4/unicast", tuple((p, nhs) for p in prefixes(n))))
    t0 = time.monotonic()
    c = dump_count(ns.name, table, 186)
    t1 = time.monotonic()
    out = {"raw_dump_s": t1 - t0, "raw_count": c}
    if n <= sample:
        from pyroute2 import IPRoute

        ip = IPRoute(netns=ns.name)
        t2 = time.monotonic()
        c2 = sum(1 for r in ip.route("dump", table=table) if r.get("proto") == 186)
        out.update(pyroute2_dump_s=time.monotonic() - t2, pyroute2_count=c2)
        ip.close()
    svc.flush()
    svc.stop()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", default="100000,1000000", help="route counts, comma separated")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--table", type=int, default=254, help="254 = main (the FRR mode needs it)")
    ap.add_argument("--sample", type=int, default=5000, help="pyroute2 one-by-one sample size")
    ap.add_argument("--dump-sample", type=int, default=100000, help="pyroute2 dump only up to this N")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument(
        "--repeat", type=int, default=1, help="runs per mode, interleaved; the table shows medians"
    )
    ap.add_argument("--out", help="append the JSON lines here")
    ap.add_argument("--shared-bench", default=SHARED_BENCH, help="the peer-daemon harness (frr, bird-bgp)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("bench/fib.py needs root (network namespaces)", file=sys.stderr)
        return 1
    results = []
    plan = [
        (n, mode)
        for n in (int(x) for x in a.n.split(","))
        for _rep in range(a.repeat)
        for mode in a.modes.split(",")
    ]
    for n, mode in plan:
        ns = Netns()
        try:
            if mode == "fib-kernel":
                r = run_fib_kernel(ns, n, a.table)
            elif mode == "raw-nhid":
                r = run_raw_nhid(ns, n, a.table)
            elif mode == "raw-ack":
                r = run_raw_ack(ns, n, a.table)
            elif mode == "pyroute2":
                r = run_pyroute2(ns, n, a.table, a.sample)
            elif mode == "bird":
                r = run_bird(ns, n, a.table, a.timeout)
            elif mode in ("frr", "bird-bgp"):
                r = run_shared(mode.removesuffix("-bgp"), n, a.timeout, a.shared_bench)
            elif mode == "repoint":
                r = run_repoint(ns, n, a.table)
            elif mode == "dump":
                r = run_dump(ns, n, a.table, a.dump_sample)
            else:
                raise SystemExit(f"unknown mode {mode}")
        except Exception as e:  # a mode that fails is reported, the others still run
            r = {"error": repr(e)}
        finally:
            ns.close()
        r = {"mode": mode, "n": n, "table": a.table, **{k: round(v, 4) if isinstance(v, float) else v
                                                        for k, v in r.items()}}  # fmt: skip
        for k in ("install", "remove"):
            if r.get(f"{k}_s"):
                r[f"{k}_per_s"] = round(n / r[f"{k}_s"])
        results.append(r)
        line = json.dumps(r)
        print(line, flush=True)
        if a.out:
            with open(a.out, "a") as f:
                f.write(line + "\n")
    print_table(medians(results))
    return 0


def medians(results: list[dict]) -> list[dict]:
    """One row per (mode, n): the run with the median install time (all runs when fewer than 2)."""
    out = []
    seen: dict[tuple[str, int], list[dict]] = {}
    for r in results:
        seen.setdefault((r["mode"], r["n"]), []).append(r)
    for (_m, _n), runs in seen.items():
        timed = sorted((r for r in runs if "install_s" in r), key=lambda r: r["install_s"])
        if timed:
            med = dict(timed[(len(timed) - 1) // 2])
            if len(timed) > 1:
                med["runs"] = [r["install_s"] for r in timed]
            out.append(med)
        else:
            out.append(runs[-1])
    return out


def print_table(results: list[dict]) -> None:
    print(
        "\n| mode | N | install s | install routes/s | install CPU s | remove s | remove routes/s | vs raw-nhid install | note |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    ceiling = {r["n"]: r for r in results if r["mode"] == "raw-nhid" and "install_s" in r}
    for r in results:
        if "install_s" not in r:
            extra = {k: v for k, v in r.items() if k not in ("mode", "n", "table")}
            print(f"| {r['mode']} | {r['n']:,} | | | | | | | {json.dumps(extra)} |")
            continue
        c = ceiling.get(r["n"])
        ratio = f"{c['install_s'] / r['install_s']:.2f}" if c else ""
        rem = r.get("remove_s")
        note = []
        if r.get("extrapolated"):
            note.append(f"sample {r['sample']:,}, extrapolated")
        if r.get("version"):
            note.append(r["version"])
        if r.get("note"):
            note.append(r["note"])
        if r.get("installed") is not None and r["installed"] != r["n"]:
            note.append(f"installed {r['installed']}")
        if r.get("left"):
            note.append(f"left {r['left']}")
        rem_s = "" if rem is None else f"{rem:.3f}"
        rem_rate = f"{r['remove_per_s']:,}" if r.get("remove_per_s") else ""
        cpu = f"{r['install_cpu_s']:.2f}" if "install_cpu_s" in r else ""
        print(f"| {r['mode']} | {r['n']:,} | {r['install_s']:.3f} | {r.get('install_per_s', 0):,} | {cpu} | "
              f"{rem_s} | {rem_rate} | {ratio} | {'; '.join(note)} |")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
