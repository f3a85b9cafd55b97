"""Two (or more) `ze run` daemons on 127.0.0.x, each in its own directory, peering for real."""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

from tests.functional.conftest import Running, wait_for


def free_port(*addresses: str) -> int:
    """A TCP port free on every address (checked by binding)."""
    for _ in range(50):
        port = random.randint(20000, 60000)
        socks = []
        try:
            for a in addresses:
                s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
                socks.append(s)
                s.bind((a, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port")


def unique_net() -> int:
    """A /24 inside 127.0.0.0/8 unlikely to be used by a test running at the same time."""
    return 100 + (os.getpid() % 100)


def conf(
    name: str,
    me: str,
    asn: int,
    port: int,
    peers: list[tuple[str, str, int]],
    extra: str = "",
    peer_extra: str = "",
    level: str = "info",
) -> str:
    body = "\n".join(
        f"    peer {pname} {{ remote {{ ip {ip}; as {pas}; }} port {port}; local-address {me}; {peer_extra} }}"
        for pname, ip, pas in peers
    )
    return (
        f"environment {{ log {{ level {level}; }} }}\n"
        f"bgp {{\n    router-id {me};\n    local-as {asn};\n    listen {{ ip {me}; port {port}; }}\n"
        f"    connect-retry 1;\n{extra}\n{body}\n}}\n"
    )


def start(tmp: Path, name: str, text: str) -> Running:
    d = tmp / name
    d.mkdir(exist_ok=True)
    return Running(d, text).start()


def peer(r: Running, name: str) -> dict:
    return r.json("show", "peer", name)["peer"]


def established(r: Running, name: str, timeout: float = 20.0) -> dict:
    return wait_for(lambda: (p := peer(r, name))["state"] == "established" and p, timeout)


def received(r: Running, name: str, family: str = "ipv4/unicast") -> int:
    return peer(r, name)["prefixes"].get(family, {}).get("received", 0)
