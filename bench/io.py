"""Receive-path benchmark: the C helper's framed reads vs a plain asyncio StreamReader framing loop,
on the same stream of realistic UPDATEs sent over loopback by another process; then NLRI walks in C
vs the pure-Python twin. Prints figures, asserts nothing.

    python bench/io.py [--mb 1024] [--walk-seconds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import socket
import struct
import time

from ze._native import compiled, pure

MARKER = b"\xff" * 16


def attr(flags: int, code: int, value: bytes) -> bytes:
    if len(value) > 255:
        return struct.pack("!BBH", flags | 0x10, code, len(value)) + value
    return struct.pack("!BBB", flags, code, len(value)) + value


def update(rng: random.Random) -> bytes:
    """An IPv4 UPDATE as a full table feed has them: ORIGIN, AS_PATH (4-byte ASNs), NEXT_HOP, MED,
    LOCAL_PREF sometimes, COMMUNITIES, then 1..40 prefixes of /16../24."""
    path = [rng.randrange(1, 400000) for _ in range(rng.randrange(1, 7))]
    attrs = attr(0x40, 1, bytes([rng.randrange(3)]))
    attrs += attr(0x40, 2, struct.pack("!BB", 2, len(path)) + struct.pack(f"!{len(path)}I", *path))
    attrs += attr(0x40, 3, struct.pack("!4B", 192, 0, 2, rng.randrange(1, 255)))
    attrs += attr(0x80, 4, struct.pack("!I", rng.randrange(1000)))
    if rng.random() < 0.3:
        attrs += attr(0x40, 5, struct.pack("!I", 100))
    comms = [rng.randrange(2**32) for _ in range(rng.randrange(0, 8))]
    if comms:
        attrs += attr(0xC0, 8, struct.pack(f"!{len(comms)}I", *comms))
    nlri = bytearray()
    for _ in range(rng.randrange(1, 41)):
        plen = rng.randrange(16, 25)
        nlri.append(plen)
        nlri += rng.randrange(1, 2**32).to_bytes(4, "big")[: (plen + 7) // 8]
    body = struct.pack("!H", 0) + struct.pack("!H", len(attrs)) + attrs + bytes(nlri)
    return MARKER + struct.pack("!HB", 19 + len(body), 2) + body


def block(size: int, seed: int = 1) -> tuple[bytes, int]:
    rng = random.Random(seed)
    out, n = bytearray(), 0
    while len(out) < size:
        out += update(rng)
        n += 1
    return bytes(out), n


def sender(port: int, data: bytes, repeat: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as s:
        for _ in range(repeat):
            s.sendall(data)


def start_sender(data: bytes, repeat: int) -> tuple[socket.socket, multiprocessing.Process]:
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    proc = multiprocessing.get_context("fork").Process(
        target=sender, args=(lst.getsockname()[1], data, repeat), daemon=True
    )
    proc.start()
    conn, _ = lst.accept()
    lst.close()
    conn.setblocking(False)
    return conn, proc


async def c_reads(conn: socket.socket) -> tuple[int, int]:
    loop = asyncio.get_running_loop()
    pool = compiled.BufferPool()
    buf = pool.acquire()
    view = buf.view
    done = loop.create_future()
    count = nbytes = 0

    def readable() -> None:
        nonlocal count, nbytes
        r = compiled.read_frames(conn, buf)
        f = r.frames
        for i in range(0, len(f), 3):
            off = f[i]
            msg = view[off : off + f[i + 1]]  # what a session wraps as a WireUpdate
            nbytes += len(msg)
        count += len(f) // 3
        if r.error is not None or r.status == compiled.common.EOF:
            loop.remove_reader(conn.fileno())
            done.set_result(None)

    loop.add_reader(conn.fileno(), readable)
    await done
    print(f"  pool kind: {pool.kind}")
    return count, nbytes


async def stream_reads(conn: socket.socket) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection(sock=conn, limit=256 * 1024)
    count = nbytes = 0
    while True:
        try:
            head = await reader.readexactly(19)
        except asyncio.IncompleteReadError:
            break
        if head[:16] != MARKER:
            raise SystemExit("bad marker")
        length = (head[16] << 8) | head[17]
        body = await reader.readexactly(length - 19)
        count += 1
        nbytes += 19 + len(body)
    writer.close()
    return count, nbytes


def run_io(name: str, fn, data: bytes, repeat: int) -> tuple[float, float]:
    conn, proc = start_sender(data, repeat)
    t0 = time.perf_counter()
    count, nbytes = asyncio.run(fn(conn))
    dt = time.perf_counter() - t0
    proc.join(10)
    conn.close()
    if nbytes != len(data) * repeat:
        raise SystemExit(f"{name}: got {nbytes} bytes, sent {len(data) * repeat}")
    mps, mbs = count / dt, nbytes / dt / 1e6
    print(
        f"{name:28s} {count:>10,d} msgs {nbytes / 1e6:>8.0f} MB {dt:6.2f} s {mps:>12,.0f} msg/s {mbs:8.1f} MB/s"
    )
    return mps, mbs


def bench_walk(seconds: float) -> None:
    from ze.bgp.wire.nlri import prefix

    rng = random.Random(2)
    regions = {}
    v4 = bytearray()
    for _ in range(1000):
        plen = rng.randrange(8, 33)
        v4.append(plen)
        v4 += rng.randrange(2**32).to_bytes(4, "big")[: (plen + 7) // 8]
    regions["ipv4"] = (bytes(v4), 1)
    v6 = bytearray()
    for _ in range(1000):
        plen = rng.randrange(16, 65)
        v6.append(plen)
        v6 += rng.randrange(2**128).to_bytes(16, "big")[: (plen + 7) // 8]
    regions["ipv6"] = (bytes(v6), 2)
    print("NLRI walk, 1000 prefixes per call:")
    for fam, (data, afi) in regions.items():
        rates = {}
        for name, fn in (
            ("C (cffi)", lambda d=data, a=afi: compiled.walk_nlri(d, 0, len(d), a, False)),
            ("pure twin", lambda d=data, a=afi: pure.walk_nlri(d, 0, len(d), a, False)),
            ("wire prefix.walk", lambda d=data, a=afi: list(prefix.walk(d, 0, len(d), a, False))),
        ):
            n, t0 = 0, time.perf_counter()
            while (dt := time.perf_counter() - t0) < seconds:
                fn()
                n += 1000
            rates[name] = n / dt
            print(f"  {fam} {name:18s} {n / dt:>14,.0f} prefixes/s")
        print(f"  {fam} C / pure twin: {rates['C (cffi)'] / rates['pure twin']:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=1024, help="megabytes streamed per receiver (default 1024)")
    ap.add_argument("--walk-seconds", type=float, default=2.0)
    args = ap.parse_args()
    data, per = block(8 * 1024 * 1024)
    repeat = max(1, args.mb * 1024 * 1024 // len(data))
    print(
        f"stream: {per * repeat:,d} UPDATEs, avg {len(data) / per:.0f} bytes, {len(data) * repeat / 1e6:.0f} MB per receiver"
    )
    c = run_io("C read_frames (asyncio)", c_reads, data, repeat)
    s = run_io("asyncio StreamReader", stream_reads, data, repeat)
    print(f"C / StreamReader: {c[0] / s[0]:.1f}x messages/s, {c[1] / s[1]:.1f}x MB/s")
    bench_walk(args.walk_seconds)


if __name__ == "__main__":
    main()
