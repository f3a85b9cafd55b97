#!/usr/bin/env python3
"""The convergence pipeline in one process, without sockets or the kernel: where ze's CPU goes.

The real table of ../shared/data (the UPDATEs bench/convergence.py replays, AS 0 ones left out)
goes through each stage ze runs for it, in order, timed per stage (CPU seconds, process_time):
  validate   RFC 7606 checks (ze.bgp.validate.check_update), as the speaker does per UPDATE
  rib        bgp-rib's on_update (Adj-RIB-In, selection, the Adj-RIB-Out of the iBGP peer)
  coalesce   BestCoalescer folding the changes into large batches
  sysrib     sysrib's on_best (best route across protocols)
  fib        fib-kernel's on_best with a writer that packs the netlink messages but sends nothing
Then the RSS growth of what the tables hold, and the garbage collector's share (ze's thresholds,
ze.daemon.tune_gc, unless --default-gc). Figures are printed, never asserted.

    .venv/bin/python bench/pipeline.py [--limit N] [--profile rib|sysrib|fib|all]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import mrtfile  # noqa: E402
from convergence import DEFAULT_MRT, cut_mrt  # noqa: E402

from ze.bgp import validate  # noqa: E402
from ze.bgp.events import BestBatch, PeerInfo, PeerUpdate  # noqa: E402
from ze.bgp.wire.codecs import core  # noqa: E402
from ze.bgp.wire.context import EncodingContext  # noqa: E402
from ze.bgp.wire.update import WireUpdate  # noqa: E402
from ze.daemon import tune_gc  # noqa: E402
from ze.fib.kernel import netlink as nl  # noqa: E402
from ze.fib.kernel.service import KernelConfig, Service  # noqa: E402
from ze.fib.sysrib.service import SysRib  # noqa: E402
from ze.plugin.sdk.best import BestCoalescer  # noqa: E402
from ze.plugins.rib.resolver import StaticResolver  # noqa: E402
from ze.plugins.rib.service import RibService  # noqa: E402


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


class NullSock:
    """A netlink socket that takes every message and answers nothing (no errors queued)."""

    def send(self, data: object) -> int:
        return len(data)  # type: ignore[arg-type]

    def recv(self, n: int, flags: int = 0) -> bytes:
        raise BlockingIOError

    def close(self) -> None:
        pass


class FakeResolver:
    def resolve(self, afi: int, address: str, ifname: str = "") -> tuple[bytes, int]:
        import ipaddress

        return ipaddress.ip_address(address).packed, 2

    def close(self) -> None:
        pass


def fake_fib() -> Service:
    svc = Service(KernelConfig())
    w = nl.Writer.__new__(nl.Writer)
    w.sock, w.portid, w.table, w.protocol, w.metric = NullSock(), 1, 254, 186, None
    w.chunk, w.ack, w.buf, w.seq, w.sendmsgs = nl.CHUNK, False, bytearray(nl.CHUNK + 4096), 0, 0
    svc.writer, svc.resolver, svc.state = w, FakeResolver(), "running"
    return svc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mrt", type=Path, default=DEFAULT_MRT)
    ap.add_argument("--limit", type=int, default=0, help="prefixes (cut as bench/convergence.py does)")
    ap.add_argument("--profile", default="", help="cProfile one stage (rib, sysrib, fib, validate) or all")
    ap.add_argument("--default-gc", action="store_true", help="CPython's collector thresholds, not ze's")
    ap.add_argument("--census", action="store_true", help="count the objects the garbage collector tracks")
    args = ap.parse_args()
    if not args.default_gc:
        tune_gc()  # as `ze run` does
    data, held, _dropped = cut_mrt(mrtfile.read(args.mrt), args.limit)
    msgs = [m for _a4, _p, m in mrtfile.messages(data) if len(m) >= 19 and m[18] == 2]
    ctx = EncodingContext(asn4=True)
    updates = [WireUpdate(memoryview(m)[19:], ctx) for m in msgs]
    print(f"pipeline: {len(updates):,} UPDATEs, {held:,} prefixes")
    codecs = core()
    peer = PeerInfo("sender", "198.18.0.2", 3856, 3856, "198.18.0.2", "198.18.0.1", ctx, ctx)
    gc.collect()
    base = rss()
    gcs = {"n": 0, "s": 0.0, "t0": 0.0}

    def gc_timer(phase: str, _info: dict) -> None:
        if phase == "start":
            gcs["t0"] = time.perf_counter()
        else:
            gcs["n"] += 1
            gcs["s"] += time.perf_counter() - gcs["t0"]

    gc.callbacks.append(gc_timer)
    cpu: dict[str, float] = {}
    prof = cProfile.Profile() if args.profile else None

    def timed(stage: str, fn, *a):
        on = prof is not None and args.profile in (stage, "all")
        t = time.process_time()
        if on:
            prof.enable()  # type: ignore[union-attr]
        try:
            return fn(*a)
        finally:
            if on:
                prof.disable()  # type: ignore[union-attr]
            cpu[stage] = cpu.get(stage, 0.0) + time.process_time() - t

    def check_all() -> None:
        for u in updates:
            validate.check_update(u.view, ctx, codecs, ibgp=True)

    timed("validate", check_all)
    rib = RibService(resolver=StaticResolver())
    rib.on_peer_up(peer)
    sysrib = SysRib()
    fib = fake_fib()
    out: list[BestBatch] = []

    async def flush(b: BestBatch) -> None:
        out.append(b)

    coal = BestCoalescer(flush)

    async def feed() -> None:
        for i, u in enumerate(updates):
            batches = timed("rib", rib.on_update, PeerUpdate(peer, u, i, 0.0))
            for b in batches:
                await timed("coalesce", coal.add, b)
        await coal.flush_all()
        coal.close()

    asyncio.run(feed())
    gc.collect()
    after_rib = rss()
    n_out = len(out)
    n_sys = 0
    out.reverse()
    while out:  # batch by batch, each dropped once through (as in ze, where they are transient)
        b2 = timed("sysrib", sysrib.on_best, out.pop(), "bgp")
        if b2 is not None:
            n_sys += 1
            timed("fib", fib.on_best, b2)
        del b2
    gc.collect()
    after_fib = rss()
    n = sum(len(t) for t in fib.routes.values())
    print(f"  routes in the fib: {n:,}, batches: {n_out} rib/best, {n_sys} sysrib/best")
    for stage, sec in cpu.items():
        print(f"  {stage:9s} {sec:6.2f} CPU s")
    print(f"  {'total':9s} {sum(cpu.values()):6.2f} CPU s")
    mib = 1 << 20
    print(
        f"  RSS growth: {(after_rib - base) / mib:.0f} MiB after the rib (batches held),"
        f" {(after_fib - base) / mib:.0f} MiB with sysrib and fib (batches gone)"
    )
    print(f"  garbage collector: {gcs['n']} collections, {gcs['s']:.2f} s")
    if args.census:
        objs = gc.get_objects()
        top = Counter(type(o).__name__ for o in objs).most_common(8)
        print(f"  objects tracked by the garbage collector: {len(objs):,}: {top}")
    if prof is not None:
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
