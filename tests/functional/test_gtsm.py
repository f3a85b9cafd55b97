"""GTSM (RFC 5082) for real, in network namespaces this test creates:

    client c0 ---------------------------- s0 server        (one hop)
    client c1 ---- r0 router r1 ---------- s1 server        (two hops: the router decrements TTL)

The server listens with set_gtsm(hops=1) on one port and hops=2 on another; the client uses the
same hops as the port it calls (both ends check: its SYN-ACK comes back through the router too).
Direct: accepted. Through the router: the SYN arrives with TTL 254 and the kernel drops it on the
hops=1 port, while the hops=2 port accepts it. IPv4 and IPv6.
The server runs the cffi backend and the client the pure twin, so both are exercised.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys

import pytest

P1, P2 = 1791, 1792
TAG = f"zg{os.getpid() % 100000}"
NS = {"c": f"{TAG}c", "r": f"{TAG}r", "s": f"{TAG}s"}

SERVER = r"""
import socket, sys
from ze._native import set_gtsm
socks = []
for family, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    for port, hops in ((int(sys.argv[1]), 1), (int(sys.argv[2]), 2)):
        s = socket.socket(family, socket.SOCK_STREAM)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        set_gtsm(s, hops)  # before listen: the SYN of a peer too far away is dropped
        s.bind((host, port))
        s.listen(8)
        socks.append(s)
print("ready", flush=True)
import select
while True:
    for s in select.select(socks, [], [], 30)[0]:
        conn, peer = s.accept()
        print("accepted", peer[0], s.getsockname()[1], flush=True)
        conn.close()
"""

CLIENT = r"""
import socket, sys
from ze._native import BACKEND, set_gtsm
assert BACKEND == "pure", BACKEND
for target in sys.argv[1:]:
    host, port, hops = target.split(",")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as c:
        set_gtsm(c, int(hops))
        c.settimeout(1.0)
        try:
            c.connect((host, int(port)))
            print(target, "connected", flush=True)
        except TimeoutError:
            print(target, "timeout", flush=True)
"""


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=20)


def nsx(ns: str, *args: str) -> None:
    sh("ip", "netns", "exec", NS[ns], *args)


def link(a: str, an: str, b: str, bn: str) -> None:
    sh("ip", "link", "add", an, "netns", NS[a], "type", "veth", "peer", "name", bn, "netns", NS[b])


def addr(ns: str, dev: str, *addrs: str) -> None:
    for a in addrs:
        extra = ["nodad"] if ":" in a else []
        nsx(ns, "ip", "addr", "add", a, "dev", dev, *extra)
    nsx(ns, "ip", "link", "set", dev, "up")


@pytest.fixture
def topology():
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    made: list[str] = []
    try:
        for name in NS.values():
            sh("ip", "netns", "add", name)
            made.append(name)
            sh("ip", "-n", name, "link", "set", "lo", "up")
        link("c", "c0", "s", "s0")
        link("c", "c1", "r", "r0")
        link("r", "r1", "s", "s1")
        addr("c", "c0", "10.255.1.1/24", "fd00:1::1/64")
        addr("s", "s0", "10.255.1.2/24", "fd00:1::2/64")
        addr("c", "c1", "10.255.2.1/24", "fd00:2::1/64")
        addr("r", "r0", "10.255.2.2/24", "fd00:2::2/64")
        addr("r", "r1", "10.255.3.1/24", "fd00:3::1/64")
        addr("s", "s1", "10.255.3.2/24", "fd00:3::2/64")
        nsx("r", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        nsx("r", "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        nsx("c", "ip", "route", "add", "10.255.3.0/24", "via", "10.255.2.2")
        nsx("c", "ip", "-6", "route", "add", "fd00:3::/64", "via", "fd00:2::2")
        nsx("s", "ip", "route", "add", "10.255.2.0/24", "via", "10.255.3.1")
        nsx("s", "ip", "-6", "route", "add", "fd00:2::/64", "via", "fd00:3::1")
        yield
    finally:
        for name in made:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=20)


def test_gtsm_one_hop_connects_two_hops_refused(topology):
    env = {**os.environ}
    env.pop("ZE_NATIVE", None)
    server = subprocess.Popen(
        ["ip", "netns", "exec", NS["s"], sys.executable, "-c", SERVER, str(P1), str(P2)],
        stdout=subprocess.PIPE,
        env=env,
    )
    fd = server.stdout.fileno()

    def lines(n: int) -> list[str]:
        got = b""
        while got.count(b"\n") < n and select.select([fd], [], [], 10)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            got += chunk
        return got.decode().splitlines()

    try:
        assert lines(1) == ["ready"]
        targets = [
            f"10.255.1.2,{P1},1",  # one hop, hops=1
            f"10.255.3.2,{P1},1",  # two hops, hops=1: dropped
            f"10.255.3.2,{P2},2",  # two hops, hops=2
            f"fd00:1::2,{P1},1",
            f"fd00:3::2,{P1},1",
            f"fd00:3::2,{P2},2",
        ]
        client = subprocess.run(
            ["ip", "netns", "exec", NS["c"], sys.executable, "-c", CLIENT, *targets],
            capture_output=True,
            text=True,
            timeout=30,
            env={**env, "ZE_NATIVE": "pure"},
        )
        assert client.returncode == 0, client.stderr
        assert client.stdout.splitlines() == [
            f"10.255.1.2,{P1},1 connected",
            f"10.255.3.2,{P1},1 timeout",
            f"10.255.3.2,{P2},2 connected",
            f"fd00:1::2,{P1},1 connected",
            f"fd00:3::2,{P1},1 timeout",
            f"fd00:3::2,{P2},2 connected",
        ]
        assert lines(4) == [
            f"accepted 10.255.1.1 {P1}",
            f"accepted 10.255.2.1 {P2}",
            f"accepted fd00:1::1 {P1}",
            f"accepted fd00:2::1 {P2}",
        ]
    finally:
        server.kill()  # by PID; the namespaces go in the fixture
        server.wait(10)
        server.stdout.close()
