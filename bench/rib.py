#!/usr/bin/env python3
"""bgp-rib benchmark: a real full table into the RIB, from one peer and then from a second one.

Input: the full IPv4 table in /work/shared/data (../shared/data from the repository): one RIPE RIS
session, about 89,700 UPDATEs and 577,700 prefixes, 2-byte AS numbers. Without it, 500k generated
prefixes in UPDATEs of 10 prefixes each (with a mix of 2,000 attribute sets).

Phases, each timed on the same messages (WireUpdate objects made beforehand):
  load A        every UPDATE as received from eBGP peer A (each prefix becomes a best path)
  load B        the same UPDATEs from eBGP peer B, which wins every tie (lower router id and
                address), so every best path changes: best-path changes/s
  export        an eBGP peer C comes up: its Adj-RIB-Out and the UPDATE messages for it
  show          `show rib` streamed over the whole table (text rows), then `--json`
  down A, B     each session goes down: all its routes withdrawn in batch
Memory: RSS growth per route held (one and two peers), pools and sets counted, peak RSS.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import struct
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import mrtfile  # noqa: E402

from ze.bgp.events import PeerInfo, PeerUpdate  # noqa: E402
from ze.bgp.wire.context import EncodingContext  # noqa: E402
from ze.bgp.wire.nlri.flat import BACKEND  # noqa: E402
from ze.bgp.wire.update import WireUpdate  # noqa: E402
from ze.plugins.rib import show  # noqa: E402
from ze.plugins.rib.resolver import StaticResolver  # noqa: E402
from ze.plugins.rib.service import RibService  # noqa: E402
from ze.plugins.rib.table import RibConfig  # noqa: E402

_NAME = "ripe-updates.et-header.2015.gz"
# ../shared/data from the main checkout, ../../shared/data from a worktree under /work/wt
DATA = next(
    (p / "shared" / "data" / _NAME for p in HERE.parents if (p / "shared" / "data" / _NAME).exists()),
    HERE.parent.parent / "shared" / "data" / _NAME,
)


def rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def synthetic(n: int) -> tuple[bool, list[bytes]]:
    rng = random.Random(7)
    sets = []
    for i in range(2000):
        path = [rng.randint(1, 64000) for _ in range(rng.randint(1, 6))]
        seg = struct.pack(f"!BB{len(path)}H", 2, len(path), *path)
        attrs = b"\x40\x01\x01\x00" + b"\x40\x02" + bytes([len(seg)]) + seg
        attrs += b"\x40\x03\x04" + bytes([10, 0, i >> 8 & 255, i & 255])
        sets.append(attrs)
    msgs = []
    for base in range(0, n, 10):
        nlri = b"".join(
            bytes([24]) + ((0x0B000000 + ((base + j) << 8)) >> 8).to_bytes(3, "big") for j in range(10)
        )
        attrs = sets[rng.randrange(len(sets))]
        body = b"\x00\x00" + struct.pack("!H", len(attrs)) + attrs + nlri
        msgs.append(b"\xff" * 16 + struct.pack("!HB", 19 + len(body), 2) + body)
    return False, msgs


def figure(name: str, value: str) -> None:
    print(f"  {name:<44} {value}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--file", type=Path, default=DATA)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N UPDATEs")
    ap.add_argument("--maximum-paths", type=int, default=1)
    args = ap.parse_args()

    if args.file.exists():
        flags = [
            (a4, m)
            for a4, _peer, m in mrtfile.messages(mrtfile.read(args.file))
            if len(m) >= 19 and m[18] == 2
        ]
        as4 = sum(a4 for a4, _ in flags) * 2 >= len(flags)  # the subtype most records carry
        msgs = [m for _, m in flags]
        source = f"{args.file.name}"
    else:
        as4, msgs = synthetic(500_000)
        source = "synthetic (no MRT file)"
    if args.limit:
        msgs = msgs[: args.limit]
    ctx = EncodingContext(asn4=as4)
    updates = [WireUpdate(memoryview(m)[19:], ctx) for m in msgs]
    print(f"bgp-rib benchmark: {source}, {len(updates)} UPDATEs, NLRI walk backend {BACKEND}")

    # B wins every tie: lower router id, and lower address (the table's routes carry ORIGINATOR_ID,
    # which stands for the router id, so the neighbour address decides).
    a = PeerInfo("peer-a", "192.0.2.2", 65001, 65000, "192.0.2.102", recv_ctx=ctx)
    b = PeerInfo("peer-b", "192.0.2.1", 65001, 65000, "192.0.2.101", recv_ctx=ctx)
    c = PeerInfo("peer-c", "192.0.2.3", 65003, 65000, "192.0.2.3", "192.0.2.254")
    rib = RibService(RibConfig(maximum_paths=args.maximum_paths), StaticResolver())
    gc.collect()
    base = rss()

    cpu: dict[str, float] = {}

    def load(peer: PeerInfo) -> tuple[float, int, int]:
        changes0 = rib.counters.best_changes
        published = 0
        t, c = time.perf_counter(), time.process_time()
        for i, u in enumerate(updates):
            for batch in rib.on_update(PeerUpdate(peer, u, i, 0.0)):
                published += len(batch.announce) + len(batch.withdraw)
        cpu[peer.name] = time.process_time() - c
        return time.perf_counter() - t, rib.counters.best_changes - changes0, published

    announced0 = rib.counters.announced
    dt, changes, published = load(a)
    routes_a = rib.peers["peer-a"].route_count()
    announced = rib.counters.announced - announced0
    gc.collect()
    grow1 = rss() - base
    print("one peer")
    figure("prefixes announced (incl. repeats)", f"{announced:,}")
    figure("routes held (Adj-RIB-In), Loc-RIB size", f"{routes_a:,}, {len(rib.loc[min(rib.loc)]):,}")
    figure("load time (wall, CPU)", f"{dt:.2f} s, {cpu['peer-a']:.2f} s")
    figure("routes/s (announced NLRI; wall, CPU)", f"{announced / dt:,.0f}, {announced / cpu['peer-a']:,.0f}")
    figure("UPDATEs/s (wall)", f"{len(updates) / dt:,.0f}")
    figure("best-path changes, published prefixes", f"{changes:,}, {published:,}")
    figure(
        "attribute sets, interned values", f"{rib.store.sets:,}, {rib.store.stats()['attribute-values']:,}"
    )
    figure("RSS growth", f"{grow1 / 2**20:.1f} MiB = {grow1 / max(routes_a, 1):.0f} bytes/route")

    announced0 = rib.counters.announced
    dt, changes, published = load(b)
    announced = rib.counters.announced - announced0
    gc.collect()
    grow2 = rss() - base
    routes = sum(p.route_count() for p in rib.peers.values())
    print("second peer (wins every tie)")
    figure("load time (wall, CPU)", f"{dt:.2f} s, {cpu['peer-b']:.2f} s")
    figure("routes/s (announced NLRI; wall, CPU)", f"{announced / dt:,.0f}, {announced / cpu['peer-b']:,.0f}")
    figure(
        "best-path changes/s (wall, CPU)",
        f"{changes / dt:,.0f}, {changes / cpu['peer-b']:,.0f} ({changes:,} changes, {published:,} published)",
    )
    figure("routes held (both peers)", f"{routes:,}")
    figure("RSS growth (both peers)", f"{grow2 / 2**20:.1f} MiB = {grow2 / max(routes, 1):.0f} bytes/route")
    figure("RSS for the second copy", f"{(grow2 - grow1) / max(routes - routes_a, 1):.0f} bytes/route")

    print("export to an eBGP peer")
    t = time.perf_counter()
    rib.on_peer_up(c, EncodingContext())
    t_out = time.perf_counter() - t
    n_out = sum(len(x) for x in rib.peers["peer-c"].out.values())
    t = time.perf_counter()
    nmsg = nbytes = 0
    for m in rib.updates_for("peer-c"):
        nmsg += 1
        nbytes += len(m)
    t_msg = time.perf_counter() - t
    figure("Adj-RIB-Out fill", f"{n_out:,} routes in {t_out:.2f} s = {n_out / t_out:,.0f} routes/s")
    figure(
        "UPDATEs built",
        f"{nmsg:,} ({nbytes / 2**20:.1f} MiB) in {t_msg:.2f} s = {n_out / t_msg:,.0f} routes/s",
    )

    print("show rib (streamed)")
    for label, words in (("text", []), ("json", ["--json"]), ("best", ["best"])):
        t = time.perf_counter()
        rows = sum(1 for _ in show.run(rib, "show rib", words))
        dt = time.perf_counter() - t
        figure(
            f"show rib {' '.join(words) or '(all)'} ({label})",
            f"{rows:,} rows in {dt:.2f} s = {rows / dt:,.0f} rows/s",
        )

    print("sessions down")
    for peer in (a, b):
        held = rib.peers[peer.name].route_count()
        t = time.perf_counter()
        batches = rib.on_peer_down(peer)
        dt = time.perf_counter() - t
        n = sum(len(x.announce) + len(x.withdraw) for x in batches)
        figure(
            f"{peer.name} down",
            f"{held:,} routes in {dt:.2f} s = {held / dt:,.0f} routes/s, {len(batches)} batches, {n:,} prefixes published",
        )
    rib.on_peer_down(c)
    figure(
        "left after both down",
        f"sets {rib.store.sets}, values {rib.store.stats()['attribute-values']}, selections {len(rib._selections)}",
    )
    figure("peak RSS", f"{peak_rss() / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
