"""Forwarding counters through the whole daemon: peers' routes -> bgp-rib -> sysrib -> bpf-counters.

    sender S  s0 ---- r0  router R (`ze run`, XDP counter on r0)  r1 ---- p0  peer P1 (`ze run`, AS 65001)
                                                                  r2 ---- p0  peer P2 (`ze run`, AS 65002)

P1 and P2 announce different prefixes with `ze bgp update-route`; R learns them over eBGP and
installs them in its kernel (fib-kernel) and in the pinned LPM tries (bpf-counters). S sends known
counts of UDP and ICMP packets, IPv4 and IPv6, some 802.1Q / QinQ tagged (raw frames), to
addresses in each peer's prefixes: `ze show forwarding --json` on R must count exactly those per
peer. Traffic the test did not send (IPv6 housekeeping of the sender, ARP) lands in "unmatched" /
"other" and is allowed only there. Then a prefix moves from P1 to P2, `ze clear forwarding`
zeroes, and stopping R (detach-on-stop) leaves no program attached and nothing pinned.

R runs with `nsenter --net` rather than `ip netns exec` so that it sees the host's bpf filesystem:
its pin dir is a unique directory under /sys/fs/bpf (the config's `pin-dir`), never /sys/fs/bpf/ze.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.functional.bpf.lab import Lab, frame, ipv4_udp, ipv6_icmp
from tests.functional.conftest import ZE, Running, wait_for
from tests.functional.speaker.lab import NetnsRunning, conf, established, have_netns

pytestmark = [
    pytest.mark.root,
    pytest.mark.slow,
    pytest.mark.skipif(bool(have_netns()), reason=have_netns() or ""),
]

P1_V4, P1_V6, P1_MOVING = "10.1.0.0/16", "2001:db8:a::/48", "10.3.0.0/16"
P2_V4, P2_V6 = "10.2.0.0/16", "2001:db8:b::/48"


def bcc_missing() -> str | None:
    r = subprocess.run([ZE[0], "-c", "import bcc"], capture_output=True, text=True, timeout=60)
    return None if r.returncode == 0 else f"bcc (python3-bpfcc) is not importable: {r.stderr.strip()[-200:]}"


class ForwardingLab(Lab):
    """Sender, router and two peer namespaces; no static routes: the routes come from BGP."""

    PREFIX = "zefwd"
    ROLES = ("s", "r", "p1", "p2")
    SINK_DEV = ("p0", "p0")
    STATIC_ROUTES = False

    def __init__(self) -> None:
        super().__init__()
        self.p1, self.p2 = self.sink_a, self.sink_b


class NsenterRunning(NetnsRunning):
    """`ze run` in the router namespace through nsenter: same network namespace, host mounts (the
    bpf filesystem at /sys/fs/bpf is the real one, so the test sees what ze pinned)."""

    start_timeout = 30.0

    def wrapper(self) -> list[str]:
        return ["nsenter", f"--net=/run/netns/{self.netns}"]

    def terminate(self, timeout: float = 20.0) -> int:
        """A graceful stop (SIGTERM), as systemd does it."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


def router_conf(pin_dir: str, state_dir: str, mode: str = "xdp") -> str:
    peers = "\n".join(
        f"    peer {name} {{ remote {{ ip {ip}; as {asn}; }} local-address {me}; family {{ ipv4 unicast; ipv6 unicast; }} }}"
        for name, ip, asn, me in (
            ("p1", "10.255.1.2", 65001, "10.255.1.1"),
            ("p2", "10.255.2.2", 65002, "10.255.2.1"),
        )
    )
    return (
        "environment { log { level info; } }\n"
        "bgp {\n    router-id 192.0.2.1;\n    local-as 65000;\n    listen { port 179; }\n"
        f"    connect-retry 1;\n{peers}\n}}\n"
        "plugin { internal bgp-rib; internal sysrib; internal fib-kernel; internal bpf-counters; }\n"
        "rib { igp-cost none; }\n"
        "fib { kernel { table main; } }\n"
        f"bpf {{\n    counters {{\n        interface r0 {{ mode {mode}; }}\n"
        "        per-prefix true;\n"
        f'        pin-dir "{pin_dir}";\n        state-dir "{state_dir}";\n        detach-on-stop true;\n'
        "    }\n}\n"
    )


def peer_conf(name: str, me: str, asn: int, router: str) -> str:
    return conf(
        name, me, asn, 179, [("r", router, 65000)], peer_extra="family { ipv4 unicast; ipv6 unicast; }"
    )


def announce(peer: NetnsRunning, nhop4: str, nhop6: str, v4: list[str], v6: list[str]) -> None:
    cmds = []
    if v4:
        cmds.append(f"update text origin set igp nhop set {nhop4} nlri ipv4/unicast add {' '.join(v4)}")
    if v6:
        cmds.append(f"update text origin set igp nhop set {nhop6} nlri ipv6/unicast add {' '.join(v6)}")
    for c in cmds:
        r = peer.ze("bgp", "update-route", "r", c)
        assert r.returncode == 0, r.stdout + r.stderr


def kernel_has(ns: str, prefixes: set[str]) -> bool:
    got = set()
    for fam in ("-4", "-6"):
        out = subprocess.run(
            ["ip", "-n", ns, fam, "-j", "route", "show", "proto", "186"], capture_output=True, text=True
        ).stdout
        got |= {r["dst"] for r in json.loads(out or "[]")}
    return prefixes <= got


def forwarding(r: NetnsRunning, *args: str) -> dict:
    out = r.json("show", "forwarding", *args)
    return out["result"]["data"] if "result" in out else out


def forwarding_started(r: NetnsRunning) -> dict | None:
    """`ze show forwarding`, or None while the bpf-counters plugin is still starting (a loaded
    machine can take seconds); any other error fails the test."""
    res = r.ze("show", "forwarding", "--json")
    if res.returncode != 0 and "plugin bpf-counters is starting" in res.stdout:
        return None
    assert res.returncode == 0, (res.stdout, res.stderr)
    out = json.loads(res.stdout)["data"]
    return out["result"]["data"] if "result" in out else out


def counted(view: dict, name: str) -> tuple[int, int]:
    row = view["counters"]["peers"].get(name, {"packets": 0, "bytes": 0})
    return row["packets"], row["bytes"]


def wait_total(r: NetnsRunning, packets: int, timeout: float = 3.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        view = forwarding(r)
        if view["counters"]["total"]["packets"] >= packets or time.monotonic() > deadline:
            return view
        time.sleep(0.05)


def attached_progs(ns: str, dev: str) -> str:
    """What `ip -d link` and tc say is attached to dev (empty when nothing)."""
    link = subprocess.run(
        ["ip", "-n", ns, "-d", "-j", "link", "show", dev], capture_output=True, text=True
    ).stdout
    xdp = json.loads(link)[0].get("xdp")
    tc = subprocess.run(
        ["nsenter", f"--net=/run/netns/{ns}", "tc", "filter", "show", "dev", dev, "ingress"],
        capture_output=True,
        text=True,
    ).stdout
    return (json.dumps(xdp) if xdp else "") + tc.strip()


def test_daemon_counts_traffic_per_peer(tmp_path):
    why = bcc_missing()
    if why:
        pytest.skip(why)
    pin_dir = f"/sys/fs/bpf/ze-fwdlab-{os.getpid()}"
    lab = ForwardingLab()
    runs: list[NetnsRunning] = []
    try:
        for n in ("r", "p1", "p2", "state"):
            (tmp_path / n).mkdir()
        r = NsenterRunning(tmp_path / "r", router_conf(pin_dir, str(tmp_path / "state")), lab.router).start()
        runs.append(r)
        p1 = NetnsRunning(tmp_path / "p1", peer_conf("p1", "10.255.1.2", 65001, "10.255.1.1"), lab.p1).start()
        runs.append(p1)
        p2 = NetnsRunning(tmp_path / "p2", peer_conf("p2", "10.255.2.2", 65002, "10.255.2.1"), lab.p2).start()
        runs.append(p2)
        established(r, "p1", 30)
        established(r, "p2", 30)

        view = forwarding(r)
        assert view["state"] == "running", view
        assert view["pin-dir"] == pin_dir
        assert view["interfaces"] == {"r0": {"mode": "xdp", "attached": "native"}}, view
        assert Path(pin_dir, "prog_xdp").exists()

        announce(p1, "10.255.1.2", "2001:db8:f1::2", [P1_V4, P1_MOVING], [P1_V6])
        announce(p2, "10.255.2.2", "2001:db8:f2::2", [P2_V4], [P2_V6])
        wait_for(lambda: kernel_has(lab.router, {P1_V4, P1_MOVING, P1_V6, P2_V4, P2_V6}), 20)
        r.ze("clear", "forwarding")
        start = forwarding(r)["counters"]

        plan = [
            {"dst": "10.1.0.5", "proto": "udp", "count": 120, "payload": 100},  # P1: 14+20+8+100
            {"dst": "10.1.77.1", "proto": "icmp", "count": 40, "payload": 56},  # P1: 14+20+8+56
            {"dst": "10.3.1.1", "proto": "udp", "count": 10, "payload": 100},  # P1 (moves later)
            {"dst": "2001:db8:a::9", "proto": "icmp", "count": 30, "payload": 64},  # P1: 14+40+8+64
            {"dst": "10.2.3.4", "proto": "udp", "count": 50, "payload": 200},  # P2: 14+20+8+200
            {"dst": "2001:db8:b:1::1", "proto": "udp", "count": 60, "payload": 10},  # P2: 14+40+8+10
            {"dev": "s0", "frame": frame(lab, [100], ipv4_udp("10.1.9.9", 30)), "count": 25},  # P1 +4
            {"dev": "s0", "frame": frame(lab, [200, 300], ipv6_icmp("2001:db8:b::7", 20)), "count": 15},  # P2
            {"dev": "s0", "frame": frame(lab, [100], ipv4_udp("10.9.9.9", 30)), "count": 11},  # no route
        ]
        want_p1 = (120 + 40 + 10 + 30 + 25, 120 * 142 + 40 * 98 + 10 * 142 + 30 * 126 + 25 * 76)
        want_p2 = (50 + 60 + 15, 50 * 242 + 60 * 72 + 15 * 90)
        lab.send(plan)
        view = wait_total(r, want_p1[0] + want_p2[0])
        c = view["counters"]
        assert counted(view, "p1") == want_p1, c
        assert counted(view, "p2") == want_p2, c
        assert (c["total"]["packets"], c["total"]["bytes"]) == (
            want_p1[0] + want_p2[0],
            want_p1[1] + want_p2[1],
        ), c
        # What the test did not send to a peer's prefix (our 11 unrouted frames, the sender's own
        # IPv6 housekeeping, ARP) is counted apart, never under a peer.
        assert c["unmatched"]["packets"] - start["unmatched"]["packets"] >= 11, c
        assert view["routes"] == {"ipv4": 3, "ipv6": 2}, view
        one = forwarding(r, "peer", "p2")["counters"]
        assert list(one["peers"]) == ["p2"] and (one["peers"]["p2"]["packets"]) == want_p2[0]
        assert forwarding(r, "p1")["counters"]["peers"]["p1"]["packets"] == want_p1[0]
        unknown = r.ze("show", "forwarding", "peer", "nobody", "--json")
        assert unknown.returncode == 1 and "no forwarding counters for peer 'nobody'" in unknown.stdout
        rows = {
            x["prefix"]: (x["peer"], x["packets"], x["bytes"]) for x in forwarding(r, "prefixes")["prefixes"]
        }
        assert rows == {
            P1_V4: ("p1", 185, 120 * 142 + 40 * 98 + 25 * 76),
            P1_MOVING: ("p1", 10, 10 * 142),
            P1_V6: ("p1", 30, 30 * 126),
            P2_V4: ("p2", 50, 50 * 242),
            P2_V6: ("p2", 75, 60 * 72 + 15 * 90),
        }, rows
        assert [x["prefix"] for x in forwarding(r, "prefixes", "top", "1")["prefixes"]] == [P1_V4]

        # 10.3.0.0/16 moves from P1 to P2: P1 withdraws it, P2 announces it.
        r1 = p1.ze("bgp", "update-route", "r", f"update text nlri ipv4/unicast del {P1_MOVING}")
        assert r1.returncode == 0, r1.stdout + r1.stderr
        announce(p2, "10.255.2.2", "", [P1_MOVING], [])

        def moved() -> bool:
            out = subprocess.run(
                ["ip", "-n", lab.router, "-j", "route", "get", "10.3.1.1"], capture_output=True, text=True
            ).stdout
            return json.loads(out or "[{}]")[0].get("gateway") == "10.255.2.2"

        wait_for(moved, 20)
        time.sleep(0.3)  # the map sync follows the same sysrib batch as the kernel; allow a beat
        lab.send([{"dst": "10.3.1.1", "proto": "udp", "count": 33, "payload": 100}])
        view = wait_total(r, want_p1[0] + want_p2[0] + 33)
        assert counted(view, "p1") == want_p1, view["counters"]
        assert counted(view, "p2") == (want_p2[0] + 33, want_p2[1] + 33 * 142), view["counters"]
        assert view["routes"] == {"ipv4": 3, "ipv6": 2}, view

        cleared = r.ze("clear", "forwarding", "--json")
        assert cleared.returncode == 0, cleared.stdout + cleared.stderr
        view = forwarding(r)
        assert counted(view, "p1") == (0, 0) and counted(view, "p2") == (0, 0)
        assert view["counters"]["total"]["packets"] == 0

        # A reload moves r0 to the tc program: the XDP one goes, the counts go on (same maps).
        assert '"mode"' in attached_progs(lab.router, "r0")  # XDP attached
        r.conf.write_text(router_conf(pin_dir, str(tmp_path / "state"), mode="tc"))
        reload = r.ze("signal", "reload", "--json")
        assert reload.returncode == 0, reload.stdout + reload.stderr
        wait_for(lambda: forwarding(r)["interfaces"] == {"r0": {"mode": "tc", "attached": "ingress"}}, 15)
        on = attached_progs(lab.router, "r0")
        assert '"mode"' not in on and "ze_tc" in on, on
        lab.send(
            [
                {"dst": "10.2.3.4", "proto": "udp", "count": 21, "payload": 200},  # P2
                {"dev": "s0", "frame": frame(lab, [100], ipv4_udp("10.1.9.9", 30)), "count": 9},  # P1, tagged
                {"dst": "2001:db8:a::9", "proto": "icmp", "count": 4, "payload": 64},  # P1
            ]
        )
        view = wait_total(r, 34)
        assert counted(view, "p1") == (13, 9 * 76 + 4 * 126), view["counters"]
        assert counted(view, "p2") == (21, 21 * 242), view["counters"]

        # A graceful stop with detach-on-stop: nothing attached, nothing pinned.
        assert r.terminate() == 0, r.log.read_text()[-3000:]
        assert attached_progs(lab.router, "r0") == ""
        if shutil.which("bpftool"):
            net = subprocess.run(
                ["nsenter", f"--net=/run/netns/{lab.router}", "bpftool", "-j", "net", "show"],
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout
            assert json.loads(net)[0]["xdp"] == [], net
        assert not Path(pin_dir).exists()
    finally:
        for run in runs:
            run.stop()
        lab.close()
        if Path(pin_dir).exists():
            from ze.bpf import loader

            loader.unpin(pin_dir)


def test_daemon_without_bcc_runs_and_says_why(tmp_path):
    # A bcc that cannot be imported (what a machine without python3-bpfcc gives the loader child).
    fake = tmp_path / "fake"
    (fake / "bcc").mkdir(parents=True)
    (fake / "bcc" / "__init__.py").write_text("raise ImportError(\"No module named 'bcc'\", name='bcc')\n")
    pin_dir = f"/sys/fs/bpf/ze-fwdnobcc-{os.getpid()}"
    text = (
        "bgp { router-id 127.0.0.1; local-as 65000; listen { port 0; } }\n"
        "plugin { internal bpf-counters; }\n"
        f'bpf {{ counters {{ interface lo; pin-dir "{pin_dir}"; state-dir "{tmp_path}"; }} }}\n'
    )
    root = str(Path(__file__).resolve().parents[2])
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = f"{fake}:{root}"
    try:
        r = Running(tmp_path, text).start()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = old
    try:
        why = "bcc (python3-bpfcc) not importable: No module named 'bcc'"
        view = wait_for(
            lambda: (v := forwarding_started(r)) is not None and v["state"] != "stopped" and v, 30
        )
        assert (view["state"], view["reason"]) == ("unavailable", why), view
        assert "counters" not in view
        assert r.json("show", "peers") is not None  # the rest of ze answers
        logged = [x for x in r.logs() if x.get("message") == "forwarding counters unavailable"]
        assert [x.get("error") for x in logged] == [why], logged
        cleared = r.ze("clear", "forwarding", "--json")
        assert cleared.returncode == 1 and "no forwarding counters are running" in cleared.stdout
    finally:
        r.stop()
        subprocess.run(["rmdir", pin_dir], capture_output=True)
