"""The lab's traffic: UDP datagrams to a host in each announced prefix in turn, at a bounded rate
for a bounded time, then exit (`python -m ze.lab.sender`, run in the sender namespace).

Prints one JSON line when it ends: packets and bytes sent, send errors (e.g. ICMP unreachable
while ze has no route yet), seconds.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import signal
import socket
import sys
import time


def targets(base: str, count: int, plen: int) -> list[str]:
    """The first host of each of COUNT consecutive /PLEN prefixes from BASE."""
    net = ipaddress.ip_network(f"{base}/{plen}", strict=False)
    step = net.num_addresses
    first = int(net.network_address)
    return [str(ipaddress.ip_address(first + i * step + 1)) for i in range(count)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ze.lab.sender", description=__doc__)
    ap.add_argument("--base", default="198.18.0.0")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--plen", type=int, default=26)
    ap.add_argument("--pps", type=int, default=200, help="packets per second (at most 100000)")
    ap.add_argument("--seconds", type=float, default=60, help="stop after this long (at most 86400)")
    ap.add_argument("--size", type=int, default=64, help="UDP payload bytes")
    ap.add_argument("--port", type=int, default=9, help="UDP port (discard)")
    a = ap.parse_args(argv)
    pps = max(1, min(a.pps, 100_000))
    seconds = max(0.0, min(a.seconds, 86_400.0))
    dsts = targets(a.base, a.count, a.plen)
    payload = bytes(a.size)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = errors = 0
    t0 = time.monotonic()
    end = t0 + seconds
    batch = max(1, pps // 50)  # send in 50 bursts a second
    i = 0
    try:
        while not stopping:
            now = time.monotonic()
            if now >= end:
                break
            due = int((now - t0) * pps) - sent - errors
            for _ in range(min(due, batch * 4)):
                try:
                    s.sendto(payload, (dsts[i % len(dsts)], a.port))
                    sent += 1
                except OSError:
                    errors += 1
                i += 1
            time.sleep(1 / 50)
    except KeyboardInterrupt:
        pass
    s.close()
    out = {"sent": sent, "bytes": sent * len(payload), "errors": errors,
           "seconds": round(time.monotonic() - t0, 3)}  # fmt: skip
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
