"""A BGP speaker for tests and benchmarks, on plain blocking sockets, built on ze.bgp.wire: it opens a
session (or sends a deliberately bad OPEN), keeps it alive from a thread, floods pre-encoded
UPDATEs in chunks cut on message boundaries, and collects what the other side sends."""

from __future__ import annotations

import random
import socket
import struct
import threading
import time

from ze.bgp.negotiation import LocalConfig, build_open
from ze.bgp.wire.header import HEADER_LEN, MessageType, frame

KEEPALIVE = frame(MessageType.KEEPALIVE, b"")
CHUNK = 256 * 1024


def flood(
    n: int, per_update: int = 10, seed: int = 1, next_hop: str = "192.0.2.2", first_as: int = 65002
) -> tuple[bytes, int]:
    """n IPv4 /24s from 16.0.0.0 in UPDATEs of 1..2*per_update prefixes, each UPDATE its own attribute
    set (ORIGIN, AS_PATH of 2-6 ASNs starting with first_as, NEXT_HOP, sometimes MED and COMMUNITY).
    Returns (the messages back to back, the number of UPDATEs)."""
    rnd = random.Random(seed)
    nh = socket.inet_aton(next_hop)
    out = bytearray()
    i = 0
    count = 0
    while i < n:
        k = min(n - i, rnd.randint(1, 2 * per_update - 1))
        asns = [first_as] + [rnd.randint(1, 400000) for _ in range(rnd.randint(1, 5))]
        path = bytes((2, len(asns))) + struct.pack(f"!{len(asns)}I", *asns)
        attrs = bytearray(b"\x40\x01\x01\x00")
        attrs += bytes((0x40, 2, len(path))) + path
        attrs += b"\x40\x03\x04" + nh
        if rnd.random() < 0.3:
            attrs += b"\x80\x04\x04" + struct.pack("!I", rnd.randint(0, 1000))
        if rnd.random() < 0.5:
            comms = struct.pack("!2I", (first_as << 16) | rnd.randint(1, 999), (first_as << 16) | 100)
            attrs += bytes((0xC0, 8, len(comms))) + comms
        nlri = bytearray()
        for j in range(i, i + k):
            nlri += b"\x18" + ((16 << 16) + j).to_bytes(3, "big")
        body = b"\x00\x00" + struct.pack("!H", len(attrs)) + attrs + nlri
        out += b"\xff" * 16 + struct.pack("!HB", HEADER_LEN + len(body), 2) + body
        i += k
        count += 1
    return bytes(out), count


class RawPeer:
    def __init__(
        self,
        remote: str,
        port: int,
        *,
        local: str,
        asn: int,
        peer_as: int,
        hold_time: int = 90,
        router_id: str | None = None,
    ) -> None:
        self.remote = remote
        self.port = port
        self.local = local
        self.config = LocalConfig(asn=asn, router_id=router_id or local, peer_as=peer_as, hold_time=hold_time)
        self.sock: socket.socket | None = None
        self.lock = threading.Lock()
        self.received: list[tuple[int, bytes]] = []
        self.closed = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.keepalives_received = 0

    # -- connecting ------------------------------------------------------------------------------

    def connect(self, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((self.local, 0))
            s.settimeout(2.0)
            try:
                s.connect((self.remote, self.port))
                break
            except OSError:
                s.close()
                if time.monotonic() > end:
                    raise
                time.sleep(0.1)
        s.settimeout(None)
        self.sock = s
        t = threading.Thread(target=self._reader, daemon=True)
        t.start()
        self._threads.append(t)

    def open_session(self, timeout: float = 10.0) -> None:
        """Connect, OPEN, KEEPALIVE; returns once the other side's KEEPALIVE arrived."""
        self.connect(timeout)
        self.send(build_open(self.config).to_bytes())
        self.wait(lambda: MessageType.OPEN in self.types(), timeout)
        self.send(KEEPALIVE)
        self.wait(lambda: MessageType.KEEPALIVE in self.types(), timeout)

    def keepalives(self, interval: float) -> None:
        """Send KEEPALIVEs every `interval` seconds from a thread until close()."""

        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    self.send(KEEPALIVE)
                except OSError:
                    return

        t = threading.Thread(target=run, daemon=True)
        t.start()
        self._threads.append(t)

    # -- I/O ----------------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        assert self.sock is not None
        with self.lock:
            self.sock.sendall(data)

    def send_stream(self, blob: bytes) -> None:
        """Messages back to back, in chunks that end on message boundaries (keepalives fit between)."""
        view = memoryview(blob)
        pos = 0
        n = len(blob)
        while pos < n:
            end = pos
            while end < n and end - pos < CHUNK:
                end += int.from_bytes(view[end + 16 : end + 18], "big")
            self.send(view[pos:end])
            pos = end

    def _reader(self) -> None:
        buf = b""
        assert self.sock is not None
        try:
            while not self._stop.is_set():
                data = self.sock.recv(65536)
                if not data:
                    break
                buf += data
                while len(buf) >= HEADER_LEN:
                    length = int.from_bytes(buf[16:18], "big")
                    if len(buf) < length:
                        break
                    mtype = buf[18]
                    if mtype == MessageType.KEEPALIVE:
                        self.keepalives_received += 1
                    self.received.append((mtype, buf[HEADER_LEN:length]))
                    buf = buf[length:]
        except OSError:
            pass
        self.closed.set()

    def types(self) -> list[int]:
        return [t for t, _ in list(self.received)]

    def notifications(self) -> list[bytes]:
        return [b for t, b in list(self.received) if t == MessageType.NOTIFICATION]

    def wait(self, cond, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise AssertionError(f"timed out; received types {self.types()}")
            time.sleep(0.01)

    def close(self) -> None:
        self._stop.set()
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
        for t in self._threads:
            t.join(timeout=2)
