"""A four-namespace lab for the forwarding counters: sender -> router -> sink A / sink B.

    sender  s0 ---- r0  router  r1 ---- a0  sink A   (peer A: 10.1.0.0/16, 2001:db8:a::/48)
                        router  r2 ---- b0  sink B   (peer B: 10.2.0.0/16, 2001:db8:b::/48)

VLAN-tagged traffic is sent as raw 802.1Q / QinQ frames on s0 (AF_PACKET): these kernels are
built without CONFIG_VLAN_8021Q, so `ip link add ... type vlan` fails ("Unknown device type").
The counters see the tagged frames on r0 all the same.

Every namespace and process is created here and removed in close(). Names carry our pid so
parallel runs do not collide.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import textwrap
from typing import Any

PEER_A = ("10.1.0.0/16", "2001:db8:a::/48")
PEER_B = ("10.2.0.0/16", "2001:db8:b::/48")
NH_A = ("10.255.1.2", "2001:db8:f1::2")
NH_B = ("10.255.2.2", "2001:db8:f2::2")


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=20)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r


class Lab:
    """The four namespaces, joined and addressed; subclasses rename them (PREFIX, ROLES, SINK_DEV)
    and may leave out the router's static routes to the sinks (when they come from BGP)."""

    PREFIX = "ze"  # namespace names: PREFIX + role + pid
    ROLES = ("s", "r", "a", "b")  # sender, router, sink A, sink B
    SINK_DEV = ("a0", "b0")  # each sink's end of its veth pair
    STATIC_ROUTES = True  # PEER_A/PEER_B routed on the router via NH_A/NH_B

    def __init__(self) -> None:
        tag = f"{os.getpid() % 100000}"
        self.namespaces = [f"{self.PREFIX}{x}{tag}" for x in self.ROLES]
        self.sender, self.router, self.sink_a, self.sink_b = self.namespaces
        self.created: list[str] = []
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def ns(self, name: str, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return sh("ip", "netns", "exec", name, *cmd, check=check)

    def _build(self) -> None:
        for n in self.namespaces:
            sh("ip", "netns", "add", n)
            self.created.append(n)
            self.ns(n, "ip", "link", "set", "lo", "up")
        s, r, a, b = self.namespaces
        a0, b0 = self.SINK_DEV
        for left, lns, right, rns in (("s0", s, "r0", r), ("r1", r, a0, a), ("r2", r, b0, b)):
            sh("ip", "link", "add", left, "netns", lns, "type", "veth", "peer", "name", right, "netns", rns)
        addrs = {
            (s, "s0"): ("192.0.2.2/24", "2001:db8:1::2/64"),
            (r, "r0"): ("192.0.2.1/24", "2001:db8:1::1/64"),
            (r, "r1"): ("10.255.1.1/30", "2001:db8:f1::1/64"),
            (a, a0): ("10.255.1.2/30", "2001:db8:f1::2/64"),
            (r, "r2"): ("10.255.2.1/30", "2001:db8:f2::1/64"),
            (b, b0): ("10.255.2.2/30", "2001:db8:f2::2/64"),
        }
        for (n, dev), (v4, v6) in addrs.items():
            sh("ip", "-n", n, "addr", "add", v4, "dev", dev)
            sh("ip", "-n", n, "addr", "add", v6, "dev", dev, "nodad")
        for n, dev in addrs:
            sh("ip", "-n", n, "link", "set", dev, "up")
        self.ns(r, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        self.ns(r, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        if self.STATIC_ROUTES:
            for pfx, nh in zip((*PEER_A, *PEER_B), (*NH_A, *NH_B)):
                sh("ip", "-n", r, "route", "add", pfx, "via", nh)
        sh("ip", "-n", s, "route", "add", "10.0.0.0/8", "via", "192.0.2.1")
        sh("ip", "-n", s, "route", "add", "2001:db8::/32", "via", "2001:db8:1::1")
        # Static neighbours: no ARP/ND needed before the counted packets leave the sender.
        self.router_mac = _mac(r, "r0")
        self.sender_mac = _mac(s, "s0")
        for gw in ("192.0.2.1", "2001:db8:1::1"):
            sh(
                "ip",
                "-n",
                s,
                "neigh",
                "replace",
                gw,
                "lladdr",
                self.router_mac,
                "dev",
                "s0",
                "nud",
                "permanent",
            )
        for n, dev, sink_dev, nh in ((a, "r1", a0, NH_A), (b, "r2", b0, NH_B)):
            mac = _mac(n, sink_dev)
            for addr in nh:
                sh("ip", "-n", r, "neigh", "replace", addr, "lladdr", mac, "dev", dev, "nud", "permanent")

    def send(self, plan: list[dict]) -> None:
        """Send from the sender namespace; plan items: {"dst", "proto": udp|icmp, "count", "payload"}
        (sockets), or {"frame": HEX, "count"} (raw frames on s0, e.g. double-tagged)."""
        r = self.ns(self.sender, sys.executable, "-c", SENDER, json.dumps(plan))
        if r.stdout.strip() != "sent":
            raise RuntimeError(f"sender: {r.stdout[-500:]} {r.stderr[-1000:]}")

    def link_rx(self, dev: str = "r0") -> int:
        info = json.loads(sh("ip", "-n", self.router, "-s", "-j", "link", "show", dev).stdout)[0]
        return info["stats64"]["rx"]["packets"]

    def close(self) -> None:
        for n in reversed(self.created):
            sh("ip", "netns", "del", n, check=False)
        self.created.clear()


def _mac(ns: str, dev: str) -> str:
    return json.loads(sh("ip", "-n", ns, "-j", "link", "show", dev).stdout)[0]["address"]


def frame(lab: Any, tags: list[int], l3: bytes) -> str:
    """An Ethernet frame from the sender to the router with 802.1Q/802.1ad tags before l3."""
    dst = bytes.fromhex(lab.router_mac.replace(":", ""))
    src = bytes.fromhex(lab.sender_mac.replace(":", ""))
    out = dst + src
    tpids = [0x88A8, 0x8100] if len(tags) == 2 else [0x8100] * len(tags)
    for tpid, vid in zip(tpids, tags):
        out += tpid.to_bytes(2, "big") + vid.to_bytes(2, "big")
    return (out + (0x0800 if l3[0] >> 4 == 4 else 0x86DD).to_bytes(2, "big") + l3).hex().upper()


def ipv4_udp(dst: str, size: int) -> bytes:
    total = 20 + 8 + size
    head = bytes([0x45, 0, *total.to_bytes(2, "big"), 0, 0, 0, 0, 64, 17, 0, 0])
    return (
        head + ipaddress.ip_address("192.0.2.2").packed + ipaddress.ip_address(dst).packed + bytes(8 + size)
    )


def ipv6_icmp(dst: str, size: int) -> bytes:
    plen = 8 + size
    head = bytes([0x60, 0, 0, 0, *plen.to_bytes(2, "big"), 58, 64])
    body = bytes([128, 0, 0, 0, 0, 1, 0, 1]) + bytes(size)
    return head + ipaddress.ip_address("2001:db8:1::2").packed + ipaddress.ip_address(dst).packed + body


SENDER = textwrap.dedent(
    r"""
    import json, socket, sys, time

    def csum(b):
        if len(b) % 2:
            b += b"\0"
        s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return (~s) & 0xFFFF

    sent = 0
    for item in json.loads(sys.argv[1]):
        if "frame" in item:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind((item["dev"], 0))
            frame = bytes.fromhex(item["frame"])
            for i in range(item["count"]):
                s.send(frame)
                if i % 32 == 31:
                    time.sleep(0.002)
            continue
        v6 = ":" in item["dst"]
        fam = socket.AF_INET6 if v6 else socket.AF_INET
        payload = bytes(item["payload"])  # a length: that many zero bytes
        if item["proto"] == "udp":
            s = socket.socket(fam, socket.SOCK_DGRAM)
            data = payload
        else:
            proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
            s = socket.socket(fam, socket.SOCK_RAW, proto)
            head = bytes([128 if v6 else 8, 0, 0, 0, 0, 1, 0, 1])
            data = head + payload
            if not v6:  # the kernel fills in the ICMPv6 checksum, not the ICMP one
                c = csum(data)
                data = data[:2] + c.to_bytes(2, "big") + data[4:]
        port = 9 if item["proto"] == "udp" else 0  # raw sockets take port 0
        for i in range(item["count"]):
            s.sendto(data, (item["dst"], port))
            if i % 32 == 31:
                time.sleep(0.002)
        s.close()
    print("sent")
    """
)
