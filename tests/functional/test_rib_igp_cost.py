"""The IGP cost of a BGP next hop from the real kernel (KernelResolver over rtnetlink), in a
network namespace this test creates, and best-path selection following a kernel route change:

    v0 (a veth, peer v1 in the same namespace) 10.99.0.1/24, 2001:db8:99::1/64
    10.200.0.0/16 via 10.99.0.2 metric 50     10.201.0.0/16 via 10.99.0.3 metric 10
    2001:db8:200::/48 via 2001:db8:99::2 metric 70

The resolver runs inside the namespace (ip netns exec); the script prints JSON the test checks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

NS = f"ze-rib-{os.getpid() % 100000}"

SCRIPT = r"""
import json, subprocess, sys, time
from ze.plugins.rib.resolver import KernelResolver
from ze.plugins.rib.service import RibService
from ze.bgp.events import PeerInfo, PeerUpdate
from ze.bgp.wire.text import encode_text
from ze.bgp.wire.update import WireUpdate
from ze.bgp.wire.context import DEFAULT

out = {}
r = KernelResolver()
out["costs"] = {nh: r.cost(nh) for nh in ("10.200.1.1", "10.201.1.1", "10.99.0.7", "10.99.0.1", "192.0.2.1", "2001:db8:200::5", "2001:db8:99::9")}
out["changed-before"] = sorted(r.changed())

rib = RibService(resolver=r)
a = PeerInfo("a", "10.99.0.2", 65000, 65000, "10.0.0.1")
b = PeerInfo("b", "10.99.0.3", 65000, 65000, "10.0.0.2")
for p, nh in ((a, "10.200.1.1"), (b, "10.201.1.1")):
    for m in encode_text(f"update text origin set igp as-path set [1] local-preference set 100 nhop set {nh} nlri ipv4/unicast add 10.0.0.0/24", DEFAULT):
        rib.on_update(PeerUpdate(p, WireUpdate(m[19:], DEFAULT), 0, 0.0))
sel = rib.loc[next(iter(rib.loc))][10 << 32 | 24]
out["best-before"] = sel.paths[0][0].name

# the kernel moves: 10.201/16 becomes more expensive than 10.200/16
subprocess.run(["ip", "route", "replace", "10.201.0.0/16", "via", "10.99.0.3", "metric", "10"], check=True)
subprocess.run(["ip", "route", "del", "10.201.0.0/16", "via", "10.99.0.3", "metric", "10"], check=True)
subprocess.run(["ip", "route", "add", "10.201.0.0/16", "via", "10.99.0.3", "metric", "90"], check=True)
changed = set()
deadline = time.monotonic() + 5
while time.monotonic() < deadline and "10.201.1.1" not in changed:
    changed |= r.changed()
    time.sleep(0.05)
out["changed"] = sorted(changed)
out["cost-after"] = r.cost("10.201.1.1")
batches = rib.on_next_hops_changed(changed)
out["announced"] = [[str(p), list(map(list, nhs.hops))] for bt in batches for p, nhs in bt.announce]
r.close()
print(json.dumps(out))
"""


def _ip(*args: str) -> None:
    subprocess.run(["ip", "-n", NS, *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def netns():
    if os.geteuid() != 0:
        pytest.skip("needs root to create a network namespace")
    if shutil.which("ip") is None:
        pytest.skip("iproute2 (ip) not installed")
    subprocess.run(["ip", "netns", "add", NS], check=True, timeout=10)
    try:
        _ip("link", "set", "lo", "up")
        _ip("link", "add", "v0", "type", "veth", "peer", "name", "v1")  # both ends stay here
        _ip("link", "set", "v0", "up")
        _ip("link", "set", "v1", "up")
        _ip("addr", "add", "10.99.0.1/24", "dev", "v0")
        _ip("-6", "addr", "add", "2001:db8:99::1/64", "dev", "v0", "nodad")
        _ip("route", "add", "10.200.0.0/16", "via", "10.99.0.2", "metric", "50")
        _ip("route", "add", "10.201.0.0/16", "via", "10.99.0.3", "metric", "10")
        _ip("-6", "route", "add", "2001:db8:200::/48", "via", "2001:db8:99::2", "metric", "70")
        yield NS
    finally:
        subprocess.run(["ip", "netns", "del", NS], timeout=10)


def test_kernel_igp_cost_and_reselection(netns):
    r = subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["costs"] == {
        "10.200.1.1": 50,
        "10.201.1.1": 10,
        "10.99.0.7": 0,  # connected
        "10.99.0.1": 0,  # our own address (local)
        "192.0.2.1": None,  # no route: unreachable, not a candidate
        "2001:db8:200::5": 70,
        "2001:db8:99::9": 256,  # IPv6 connected routes carry metric 256
    }
    assert out["changed-before"] == []
    assert out["best-before"] == "b"  # IGP cost 10 < 50
    assert "10.201.1.1" in out["changed"]
    assert out["cost-after"] == 90
    assert out["announced"] == [["10.0.0.0/24", [["10.200.1.1", "a", ""]]]]
