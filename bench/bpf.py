"""Forwarding counters: what they cost. Figures are printed, never asserted.

1. Throughput across the router namespace of the bpf lab (tests/functional/bpf/lab.py) with a UDP
   blaster (a small C sendmmsg loop, compiled here, bounded in time): no program, the XDP counter
   (native and generic) and the tc counter, in the same run. Packets/s as received by sink A.
2. Map sync of 100k and 1M prefixes into the pinned LPM trie through bpf(2) batches, plus the
   loader child's compile time and peak memory against this (bcc-free) process's.

Run as root: `make bench-bpf` (or `.venv/bin/python bench/bpf.py [--seconds S]`).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.functional.bpf.lab import NH_A, NH_B, PEER_A, PEER_B, Lab  # noqa: E402
from ze.bgp.wire.nlri.prefix import Prefix  # noqa: E402
from ze.bpf import attach, loader  # noqa: E402
from ze.bpf.forwarding import Forwarding  # noqa: E402
from ze.core.family import AFI  # noqa: E402

BLASTER = r"""
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
/* blaster DST SECONDS SIZE: UDP to DST:9 (and DST+1..255 ports vary) for SECONDS; prints packets sent */
int main(int argc, char **argv) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
    inet_pton(AF_INET, argv[1], &to.sin_addr);
    double secs = atof(argv[2]);
    int size = atoi(argv[3]);
    static char buf[2048];
    enum { B = 64 };
    struct mmsghdr msgs[B];
    struct iovec iov[B];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < B; i++) {
        iov[i].iov_base = buf; iov[i].iov_len = size;
        msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &to; msgs[i].msg_hdr.msg_namelen = sizeof to;
    }
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long long sent = 0;
    for (;;) {
        int n = sendmmsg(fd, msgs, B, 0);
        if (n > 0) sent += n;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 >= secs) break;
    }
    printf("%llu\n", sent);
    return 0;
}
"""


def build_blaster(tmp: Path) -> str:
    src, exe = tmp / "blaster.c", tmp / "blaster"
    src.write_text(BLASTER)
    subprocess.run(["gcc", "-O2", "-o", str(exe), str(src)], check=True)
    return str(exe)


def sink_rx(lab: Lab) -> int:
    out = lab.ns(lab.sink_a, "cat", "/sys/class/net/a0/statistics/rx_packets").stdout
    return int(out)


def throughput(lab: Lab, blaster: str, seconds: float, size: int) -> tuple[float, float]:
    """(sent/s, received-at-sink/s) for one bounded blast."""
    before = sink_rx(lab)
    t0 = time.monotonic()
    r = lab.ns(lab.sender, blaster, "10.1.0.5", str(seconds), str(size))
    dt = time.monotonic() - t0
    time.sleep(0.05)
    got = sink_rx(lab) - before
    return int(r.stdout) / seconds, got / dt


def forwarding_bench(seconds: float, rounds: int, size: int, pin_dir: str, state: str) -> None:
    print(
        f"== forwarding throughput: UDP {size} B payload, median of {rounds} x {seconds:.1f} s per mode,"
        " sender -> router -> sink A"
    )
    lab = Lab()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            blaster = build_blaster(Path(tmp))
            fw = Forwarding(pin_dir, state)
            a, b = fw.peer_index("peer-a"), fw.peer_index("peer-b")
            fw.resync(
                [(Prefix.parse(p), a, int(ipaddress.ip_address(h))) for p, h in zip(PEER_A, NH_A)]
                + [(Prefix.parse(p), b, int(ipaddress.ip_address(h))) for p, h in zip(PEER_B, NH_B)]
            )
            runs = [("no program", None, {}), ("xdp native", "xdp", {"xdp_mode": "native"}),
                    ("xdp generic", "xdp", {"xdp_mode": "generic"}), ("tc ingress", "tc", {})]  # fmt: skip
            throughput(lab, blaster, 0.3, size)  # warm-up: neighbours, caches
            got: dict[str, list[tuple[float, float, float]]] = {label: [] for label, _, _ in runs}
            for _ in range(rounds):  # interleaved rounds: a noisy VM hurts every mode alike
                for label, mode, opts in runs:
                    if mode:
                        attach.attach("r0", mode, loader.prog_path(pin_dir, mode), lab.router, **opts)
                    fw.clear()
                    sent, fwd = throughput(lab, blaster, seconds, size)
                    counted = fw.show()["peers"]["peer-a"]["packets"] / seconds
                    attach.detach("r0", lab.router)
                    got[label].append((sent, fwd, counted))
            base = statistics.median(f for _, f, _ in got["no program"])
            for label, mode, _ in runs:
                sent = statistics.median(s for s, _, _ in got[label])
                fwd = statistics.median(f for _, f, _ in got[label])
                spread = f"{min(f for _, f, _ in got[label]):>9,.0f}..{max(f for _, f, _ in got[label]):,.0f}"
                extra = ""
                if mode:
                    counted = statistics.median(c for _, _, c in got[label])
                    extra = f"  counted {counted:>10,.0f}/s  vs none {100 * (fwd / base - 1):+5.1f}%"
                print(
                    f"  {label:12} sent {sent:>10,.0f}/s  forwarded {fwd:>10,.0f}/s (range {spread}){extra}"
                )
            fw.close()
    finally:
        lab.close()


def prefixes(n: int) -> Iterator[Prefix]:
    """n distinct /24s from 1.0.0.0 upward (an IPv4 table is ~1M prefixes), made as consumed."""
    return (Prefix(AFI.IPV4, 24, (1 << 24) + (i << 8)) for i in range(n))


def sync_bench(pin_dir: str, state: str) -> None:
    print("== map sync into the pinned LPM trie (bpf(2) batches from this process)")
    fw = Forwarding(pin_dir, state)
    peer = fw.peer_index("peer-a")
    nh = int(ipaddress.ip_address("192.0.2.1"))
    for n in (100_000, 1_000_000):
        t0 = time.perf_counter()
        st = fw.sync((p, peer, nh) for p in prefixes(n))
        t_add = time.perf_counter() - t0
        t0 = time.perf_counter()
        st2 = fw.sync((p, peer + 1, nh) for p in prefixes(n))  # every route moves to another peer
        t_move = time.perf_counter() - t0
        t0 = time.perf_counter()
        st3 = fw.sync((p, 0, None) for p in prefixes(n))
        t_del = time.perf_counter() - t0
        print(
            f"  {n:>9,} prefixes: add {t_add:6.2f} s ({n / t_add:>9,.0f}/s, {st.syscalls} syscalls)"
            f"  move {t_move:6.2f} s ({n / t_move:>9,.0f}/s)  withdraw {t_del:6.2f} s ({n / t_del:>9,.0f}/s,"
            f" {st3.syscalls} syscalls)"
        )
        assert st2.updated == n
    fw.sync((p, peer, nh) for p in prefixes(100_000))
    t0 = time.perf_counter()
    st = fw.resync((p, peer, nh) for p in prefixes(50_000))
    print(
        f"  resync 100,000 -> 50,000 (walks every key): {time.perf_counter() - t0:.2f} s, {st.withdrawn} stale removed"
    )
    fw.resync([])
    fw.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--size", type=int, default=64)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench/bpf.py needs root (namespaces, bpf(2))", file=sys.stderr)
        return 1
    pin_dir = f"{loader.BPFFS}/ze-bench-{os.getpid()}"
    with tempfile.TemporaryDirectory() as state:
        res = loader.load(pin_dir)
        if not res.ok:
            print(f"counters unavailable: {res.reason}", file=sys.stderr)
            return 1
        try:
            print(
                f"== loader child: compile+load+pin {res.seconds:.2f} s, peak RSS {res.max_rss_kib / 1024:.0f} MiB"
            )
            forwarding_bench(args.seconds, args.rounds, args.size, pin_dir, state)
            sync_bench(pin_dir, state)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print(
                f"== this process (no bcc imported: {'bcc' not in sys.modules}): peak RSS {rss / 1024:.0f} MiB"
            )
        finally:
            loader.unpin(pin_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
