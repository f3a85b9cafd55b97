"""The passive side: a listening socket per configured address, TCP-MD5 keys for the configured
peers on it, GTSM set per accepted connection once the peer is known.

A listening socket carries one TCP-MD5 key per peer address (RFC 2385: the kernel then drops
unsigned or badly signed SYNs from those addresses); keys change at reload (`set_keys`), so the
Listener keeps its own reference to the socket. GTSM cannot be set on a shared listening socket
(the minimum TTL would apply to every peer), so `accept` looks the peer up first (`lookup`),
refuses unknown addresses, then sets the peer's hop limit on the accepted socket before any BGP
byte is read (RFC 5082 section 3: a SYN from further away still completes the handshake, but
every later segment is dropped by the kernel, so no OPEN arrives and the session never forms).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

from ze import _native
from ze.bgp.io.transport import normalize
from ze.core import log as zlog

log = zlog.get_logger("ze.bgp.io")

ACCEPTS_PER_WAKE = 16


class Listener:
    """Accept BGP connections on (address, port). `on_accept(sock, remote_address)` gets each
    connection from a known peer; `lookup(address)` -> (md5 or None, ttl_security or None) or
    None for an unknown address."""

    def __init__(
        self,
        address: str,
        port: int,
        lookup: Callable[[str], tuple[str | None, int | None] | None],
        on_accept: Callable[[socket.socket, str], None],
    ) -> None:
        self.address = address
        self.port = port
        self.lookup = lookup
        self.on_accept = on_accept
        self.sock: socket.socket | None = None
        self.keys: dict[str, str] = {}
        self.accepted = 0
        self.refused = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Bind and listen (OSError when the address is taken or not ours)."""
        fam = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        sock = socket.socket(fam, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if self.address == "::" else 1)
            # The SYN-ACK leaves from the listening socket: with TTL 255, so that a GTSM peer
            # (which only accepts TTL 255 from one hop away) sees it (RFC 5082 3).
            if fam == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
                if self.address == "::":
                    sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 255)
            else:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 255)
            sock.setblocking(False)
            sock.bind((self.address, self.port))
            sock.listen(128)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.port = sock.getsockname()[1]
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._acceptable)

    def accepts(self, peer_address: str) -> bool:
        """Whether a peer at this address can reach this listening socket (same family, or a
        dual-stack wildcard)."""
        v6 = ":" in peer_address
        if self.address == "::":
            return True
        return v6 == (":" in self.address)

    def set_keys(self, keys: dict[str, str]) -> None:
        """Install the TCP-MD5 keys (peer address -> password), removing those no longer wanted."""
        if self.sock is None:
            return
        for addr in list(self.keys):
            if addr not in keys or keys[addr] != self.keys[addr]:
                try:
                    _native.set_tcp_md5(self.sock, addr, b"")
                except OSError as e:
                    log.warning("cannot remove TCP-MD5 key", address=addr, error=str(e))
                del self.keys[addr]
        for addr, key in keys.items():
            if addr in self.keys or not self.accepts(addr):
                continue
            try:
                _native.set_tcp_md5(self.sock, addr, key)
                self.keys[addr] = key
            except OSError as e:
                log.error("cannot set TCP-MD5 key on the listening socket", address=addr, error=str(e))

    def _acceptable(self) -> None:
        assert self.sock is not None
        for _ in range(ACCEPTS_PER_WAKE):
            try:
                conn, addr = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                log.warning("accept failed", error=str(e))
                return
            remote = normalize(addr[0])
            found = self.lookup(remote)
            if found is None:
                self.refused += 1
                log.info("connection from an unknown address refused", remote=remote)
                conn.close()
                continue
            _md5, ttl = found
            try:
                conn.setblocking(False)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if ttl:
                    _native.set_gtsm(conn, ttl)
            except OSError as e:
                log.error("cannot prepare an accepted connection", remote=remote, error=str(e))
                conn.close()
                continue
            self.accepted += 1
            self.on_accept(conn, remote)

    def close(self) -> None:
        if self.sock is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(self.sock.fileno())
        self.sock.close()
        self.sock = None
        self.keys = {}
