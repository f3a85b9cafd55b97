"""Two (or more) `ze run` daemons on 127.0.0.x, each in its own directory, peering for real."""

from __future__ import annotations

import contextlib
import os
import random
import socket
from collections.abc import Iterator
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
        f"    connect-retry 1;\n    adj-rib-in true;\n{extra}\n{body}\n}}\n"
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


class NetnsRunning(Running):
    """`ze run` inside a network namespace (the control socket is a path: reachable from here)."""

    def __init__(self, tmp: Path, text: str, netns: str) -> None:
        super().__init__(tmp, text)
        self.netns = netns

    def wrapper(self) -> list[str]:
        return ["ip", "netns", "exec", self.netns]


@contextlib.contextmanager
def daemons(tmp: Path, specs: dict[str, tuple[str, str | None]]) -> Iterator[dict[str, Running]]:
    """`ze run` for each NAME: (config text, network namespace or None for here), started in
    order in tmp/NAME; all of them stopped on the way out (one stopped earlier is left as is)."""
    runs: dict[str, Running] = {}
    try:
        for name, (text, ns) in specs.items():
            d = tmp / name
            d.mkdir(exist_ok=True)
            runs[name] = (NetnsRunning(d, text, ns) if ns else Running(d, text)).start()
        yield runs
    finally:
        for r in runs.values():
            r.stop()


def netns_pair(tag: str) -> tuple[str, str]:
    """Namespaces NS-a (10.99.0.1/24, fd99::1/64) and NS-b (.2, ::2) joined by a veth pair."""
    import subprocess

    a, b = f"{tag}-a", f"{tag}-b"
    cmds = [
        f"ip netns add {a}",
        f"ip netns add {b}",
        f"ip link add va netns {a} type veth peer name vb netns {b}",
        f"ip -n {a} addr add 10.99.0.1/24 dev va",
        f"ip -n {b} addr add 10.99.0.2/24 dev vb",
        f"ip -n {a} -6 addr add fd99::1/64 dev va nodad",
        f"ip -n {b} -6 addr add fd99::2/64 dev vb nodad",
        f"ip -n {a} link set va up",
        f"ip -n {b} link set vb up",
        f"ip -n {a} link set lo up",
        f"ip -n {b} link set lo up",
    ]
    for c in cmds:
        subprocess.run(c.split(), check=True, capture_output=True)
    return a, b


def netns_delete(*names: str) -> None:
    import subprocess

    for n in names:
        subprocess.run(["ip", "netns", "delete", n], capture_output=True)


def have_netns() -> str | None:
    """Why namespaces cannot be used here, or None."""
    import shutil
    import subprocess

    if os.geteuid() != 0:
        return "needs root for network namespaces"
    if shutil.which("ip") is None:
        return "iproute2 (ip) is not installed"
    probe = f"zespk-probe-{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True)
    if r.returncode:
        return f"ip netns add failed: {r.stderr.decode().strip()}"
    netns_delete(probe)
    return None
