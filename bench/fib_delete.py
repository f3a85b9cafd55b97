"""How the order of IPv4 route deletes changes the kernel's time (fib-kernel's own batched writer).

A namespace `ze-withdraw-bench-<pid>-<n>` per case; N dense /24s (16.0.0.0 upward, as bench/fib.py
and the daemon FIB lab use) installed through one nexthop object into TABLE, then deleted with
netlink.Writer.delete_routes in one of these orders:

  desc          all N in one call, highest prefix first (what fib-kernel does with one batch)
  asc           all N, lowest first
  random        all N shuffled
  chunks-desc   CHUNK-route chunks going up, each chunk descending (fib-kernel today when the RIB
                hands it ascending withdraw batches: each batch is sorted descending)
  chunks-rand   chunks going up, each shuffled
  chunks-asc    chunks going up, each ascending
  chunks-down   chunks going down, each ascending
  service       fib-kernel's Service.on_best fed CHUNK-route withdraw batches going up (the
                daemon path, whatever order the service emits); with --hops H the routes go
                through H next hops taken in turn (a flush clones each object its chunk uses)

Plus `latency` (with --latency): with N routes installed and fib-kernel's monitor thread running,
the time until one withdrawal has been written to the kernel, alone and right after a stream of
withdrawals in 500-route batches (when deletes are held up to HOLD_DELETES).

Each case prints one JSON line (seconds, routes/s, routes left, kernel CPU of the run); figures are
printed, never asserted.

  sudo .venv/bin/python bench/fib_delete.py -n 200000 --tables 100,254
  sudo .venv/bin/python bench/fib_delete.py -n 1000000 --orders desc,random,chunks-desc,service
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ze.bgp.events import BestBatch, NextHopSet
from ze.bgp.wire.nlri.prefix import Prefix
from ze.fib.kernel import netlink as nl
from ze.fib.kernel.service import KernelConfig, Service

ORDERS = ("desc", "asc", "random", "chunks-desc", "chunks-rand", "chunks-asc", "chunks-down", "service")
BASE = 16 << 24
GW = "10.0.1.2"
_ns_count = itertools.count()


def sh(*cmd: str) -> None:
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=120)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")


class Netns:
    def __init__(self) -> None:
        self.name = f"ze-withdraw-bench-{os.getpid()}-{next(_ns_count)}"
        sh("ip", "netns", "add", self.name)
        for a in (
            ("link", "set", "lo", "up"),
            ("link", "add", "pa0", "type", "veth", "peer", "name", "pa1"),
            ("addr", "add", "10.0.1.1/24", "dev", "pa0"),
            ("link", "set", "pa0", "up"),
            ("link", "set", "pa1", "up"),
        ):
            sh("ip", "-n", self.name, *a)

    def close(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=120)


def kernel_cpu() -> float:
    """System CPU seconds of the whole machine (the deletes run in the kernel, in this thread)."""
    t = os.times()
    return t.system


def keys(n: int) -> list[int]:
    return [nl.route_key(1, BASE + (i << 8), 24) for i in range(n)]


def order(name: str, n: int, chunk: int, rng: random.Random) -> list[list[int]]:
    """The deletes as a list of calls (each a list of route keys)."""
    ks = keys(n)
    if name == "desc":
        return [ks[::-1]]
    if name == "asc":
        return [ks]
    if name == "random":
        rng.shuffle(ks)
        return [ks]
    parts = [ks[i : i + chunk] for i in range(0, n, chunk)]
    if name == "chunks-desc":
        return [p[::-1] for p in parts]
    if name == "chunks-rand":
        for p in parts:
            rng.shuffle(p)
        return parts
    if name == "chunks-asc":
        return parts
    if name == "chunks-down":  # chunks going down, each ascending
        return parts[::-1]
    raise ValueError(name)


def run(name: str, n: int, table: int, chunk: int, seed: int, hops: int = 1) -> dict:
    ns = Netns()
    try:
        if name == "service":
            return run_service(ns, n, table, chunk, hops)
        sh("ip", "-n", ns.name, "nexthop", "add", "id", "7", "via", GW, "dev", "pa0", "proto", "186")
        w = nl.Writer(ns.name, table=table)
        try:
            res = w.replace_routes(1, [(1, 24, BASE + (i << 8), None) for i in range(n)], [7] * n)
            assert not res.errors, res.errors[:3]
            calls = order(name, n, chunk, random.Random(seed))
            c0, t0 = kernel_cpu(), time.monotonic()
            errors = sum(len(w.delete_routes(1, c).errors) for c in calls)
            dt, cpu = time.monotonic() - t0, kernel_cpu() - c0
            left = nl.count_routes(w, 1, 186)
        finally:
            w.close()
        return {"order": name, "n": n, "table": table, "chunk": chunk, "seconds": round(dt, 3),
                "routes_per_s": round(n / dt), "kernel_cpu_s": round(cpu, 2), "left": left, "errors": errors}  # fmt: skip
    finally:
        ns.close()


def run_service(ns: Netns, n: int, table: int, chunk: int, hops: int = 1) -> dict:
    svc = Service(KernelConfig(table=table), netns=ns.name)
    svc.start()
    try:
        pfx = [Prefix(1, 24, BASE + (i << 8)) for i in range(n)]
        sets = [
            NextHopSet("ebgp", ((GW if hops == 1 else f"10.0.1.{10 + j}", "peer-a", ""),))
            for j in range(hops)
        ]
        for j, nhs in enumerate(sets):
            svc.on_best(BestBatch("ipv4/unicast", tuple((p, nhs) for p in pfx[j::hops])))
        c0, t0 = kernel_cpu(), time.monotonic()
        errors = 0
        for i in range(0, n, chunk):
            errors += svc.on_best(BestBatch("ipv4/unicast", (), tuple(pfx[i : i + chunk])))["errors"]
        flush = getattr(svc, "flush_withdrawn", None)  # deletes the service may still hold
        if flush is not None:
            flush()
        dt, cpu = time.monotonic() - t0, kernel_cpu() - c0
        assert svc.writer is not None
        left = nl.count_routes(svc.writer, 1, 186)
    finally:
        svc.stop()
    return {"order": "service", "n": n, "table": table, "chunk": chunk, "hops": hops, "seconds": round(dt, 3),
            "routes_per_s": round(n / dt), "kernel_cpu_s": round(cpu, 2), "left": left, "errors": errors}  # fmt: skip


def run_latency(n: int, table: int) -> dict:
    """One withdrawal's time to the kernel: quiet, and at the end of a withdrawal stream."""
    import threading

    ns = Netns()
    svc = Service(KernelConfig(table=table), netns=ns.name)
    svc.start()
    stop = threading.Event()
    svc.run_monitor(stop)
    try:
        pfx = [Prefix(1, 24, BASE + (i << 8)) for i in range(n)]
        nhs = NextHopSet("ebgp", ((GW, "peer-a", ""),))
        svc.on_best(BestBatch("ipv4/unicast", tuple((p, nhs) for p in pfx)))

        def gone(p: Prefix) -> float:
            """Seconds from the withdrawal until its delete is written (writes are synchronous: a
            delete no longer held is in the kernel); checked with `ip route show exact` after."""
            t0 = time.monotonic()
            svc.on_best(BestBatch("ipv4/unicast", (), (p,)))
            for _ in range(20000):  # bounded: 10 s
                if not svc.held:
                    break
                time.sleep(0.0005)
            dt = time.monotonic() - t0
            r = subprocess.run(["ip", "-n", ns.name, "route", "show", "table", str(table), "exact", str(p)],
                               capture_output=True, text=True, timeout=30)  # fmt: skip
            assert r.stdout.strip() == "", r.stdout
            return dt

        quiet = gone(pfx[-1])
        for i in range(0, 20000, 500):  # a stream, then one more right after it
            svc.on_best(BestBatch("ipv4/unicast", (), tuple(pfx[i : i + 500])))
        streamed = gone(pfx[-2])
    finally:
        stop.set()
        svc.stop()
        ns.close()
    return {"order": "latency", "n": n, "table": table, "quiet_ms": round(quiet * 1000, 2),
            "after_stream_ms": round(streamed * 1000, 2)}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", default="200000", help="route counts, comma separated")
    ap.add_argument("--orders", default=",".join(ORDERS))
    ap.add_argument("--tables", default="100,254")
    ap.add_argument("--chunk", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hops", type=int, default=1, help="next hops the service case's routes use")
    ap.add_argument("--latency", action="store_true", help="also one withdrawal's time to the kernel")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    for n in (int(x) for x in a.n.split(",")):
        for table in (int(x) for x in a.tables.split(",")):
            for name in a.orders.split(","):
                print(json.dumps(run(name, n, table, a.chunk, a.seed, a.hops)), flush=True)
            if a.latency:
                print(json.dumps(run_latency(n, table)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
