"""A namespace for fib-kernel tests: two "peer" links (veth pairs, both ends inside it) with IPv4,
IPv6 and link-local addresses. Named with our pid so parallel runs do not collide."""

from __future__ import annotations

import itertools
import json
import os
import subprocess

PEER_A = {"dev": "pa0", "v4": "10.0.1.2", "v6": "2001:db8:1::2"}
PEER_B = {"dev": "pb0", "v4": "10.0.2.2", "v6": "2001:db8:2::2"}
_count = itertools.count()


def sh(*cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r


class Lab:
    def __init__(self, tag: str = "fib") -> None:
        self.ns = f"ze-{tag}-{os.getpid()}-{next(_count)}"
        sh("ip", "netns", "add", self.ns)
        try:
            self.ip("link", "set", "lo", "up")
            for i, p in enumerate((PEER_A, PEER_B), 1):
                dev = p["dev"]
                far = dev[:-1] + "1"
                self.ip("link", "add", dev, "type", "veth", "peer", "name", far)
                self.ip("addr", "add", f"10.0.{i}.1/24", "dev", dev)
                self.ip("addr", "add", f"2001:db8:{i}::1/64", "dev", dev, "nodad")
                self.ip("addr", "add", f"fe80::{i}:1/64", "dev", dev, "nodad")
                self.ip("link", "set", dev, "up")
                self.ip("link", "set", far, "up")
        except BaseException:
            self.close()
            raise

    def ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return sh("ip", "-n", self.ns, *args, check=check)

    def routes(self, table: int | str, family: str = "-4", proto: int | None = 186) -> list[dict]:
        """`ip -j route show table T [proto P]` (proto None: every protocol)."""
        extra = () if proto is None else ("proto", str(proto))
        r = self.ip("-j", family, "route", "show", "table", str(table), *extra)
        return json.loads(r.stdout or "[]")

    def nexthops(self) -> list[dict]:
        return json.loads(self.ip("-j", "nexthop", "show").stdout or "[]")

    def close(self) -> None:
        sh("ip", "netns", "del", self.ns, check=False)
