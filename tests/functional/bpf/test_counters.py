"""The forwarding counters against the real kernel: a lab of four namespaces (lab.py), programs
compiled by the loader child, maps synced directly by the test, exact per-peer counts."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.functional.bpf.lab import NH_A, NH_B, PEER_A, PEER_B, Lab, frame, ipv4_udp, ipv6_icmp, sh
from ze.bgp.wire.nlri.prefix import Prefix
from ze.bpf import attach, loader
from ze.bpf.forwarding import Forwarding
from ze.bpf.plugin import BpfConfig, Service
from ze.core.clock import FakeClock

pytestmark = [pytest.mark.root, pytest.mark.slow]

if os.geteuid() != 0:  # CI and these machines run as root; say so rather than fail obscurely
    pytest.skip("the bpf lab needs root (namespaces, bpf(2))", allow_module_level=True)

ETH = 14


def ip(text: str) -> int:
    return int(ipaddress.ip_address(text))


def changes(prefixes: tuple[str, ...], peer: int, hops: tuple[str, ...]) -> list:
    return [(Prefix.parse(p), peer, ip(h)) for p, h in zip(prefixes, hops)]


@pytest.fixture(scope="module")
def lab():
    lab = Lab()
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture(scope="module")
def pinned(tmp_path_factory):
    pin_dir = f"{loader.BPFFS}/ze-test-{os.getpid()}"
    res = loader.load(pin_dir)
    try:
        assert res.ok, res.reason
        assert res.programs == {"xdp": f"{pin_dir}/prog_xdp", "tc": f"{pin_dir}/prog_tc"}
        yield pin_dir, str(tmp_path_factory.mktemp("state"))
    finally:
        loader.unpin(pin_dir)


@pytest.fixture
def fw(lab, pinned):
    pin_dir, state = pinned
    fw = Forwarding(pin_dir, state)
    a, b = fw.peer_index("peer-a"), fw.peer_index("peer-b")
    fw.resync(changes(PEER_A, a, NH_A) + changes(PEER_B, b, NH_B))
    fw.set_per_prefix(True)
    fw.clear()
    try:
        yield fw
    finally:
        attach.detach("r0", lab.router)
        fw.close()


def send_known(lab: Lab) -> dict[str, tuple[int, int]]:
    """Send the plan; returns what each peer must have counted: (packets, bytes on the wire)."""
    plan = [
        {"dst": "10.1.0.5", "proto": "udp", "count": 120, "payload": 100},  # A: 14+20+8+100
        {"dst": "10.1.77.1", "proto": "icmp", "count": 40, "payload": 56},  # A: 14+20+8+56
        {"dst": "2001:db8:a::9", "proto": "icmp", "count": 30, "payload": 64},  # A: 14+40+8+64
        {"dst": "10.2.3.4", "proto": "udp", "count": 50, "payload": 200},  # B: 14+20+8+200
        {"dst": "2001:db8:b:1::1", "proto": "udp", "count": 60, "payload": 10},  # B: 14+40+8+10
        {"dev": "s0", "frame": frame(lab, [100], ipv4_udp("10.1.9.9", 30)), "count": 25},  # A: +4 tag
        {"dev": "s0", "frame": frame(lab, [200, 300], ipv6_icmp("2001:db8:b::7", 20)), "count": 15},  # B
        {"dev": "s0", "frame": frame(lab, [100], ipv4_udp("10.9.9.9", 30)), "count": 11},  # unmatched
    ]
    lab.send(plan)
    a = (120 + 40 + 30 + 25, 120 * 142 + 40 * 98 + 30 * 126 + 25 * (18 + 58))
    b = (50 + 60 + 15, 50 * 242 + 60 * 72 + 15 * (22 + 68))
    return {"peer-a": a, "peer-b": b, "unmatched": (11, 11 * 76)}


def wait_counted(fw: Forwarding, packets: int) -> dict:
    """The counters are written by the time the frame is past the program; allow the softirq a beat."""
    deadline = time.monotonic() + 2
    while True:
        view = fw.show()
        if view["total"]["packets"] >= packets or time.monotonic() > deadline:
            return view
        time.sleep(0.02)


def assert_exact(view: dict, want: dict) -> None:
    for name in ("peer-a", "peer-b"):
        got = view["peers"][name]
        assert (got["packets"], got["bytes"]) == want[name], name
    pa, pb = want["peer-a"], want["peer-b"]
    assert (view["total"]["packets"], view["total"]["bytes"]) == (pa[0] + pb[0], pa[1] + pb[1])
    # Unmatched holds what we sent to no peer's prefix plus any IPv6 housekeeping (MLD, RS) the
    # sender's kernel chose to emit: never less than ours.
    assert view["unmatched"]["packets"] >= want["unmatched"][0]
    assert view["unmatched"]["bytes"] >= want["unmatched"][1]


@pytest.mark.parametrize(
    ("mode", "opts", "how"),
    [
        ("xdp", {"xdp_mode": "auto"}, "native"),
        ("xdp", {"xdp_mode": "generic"}, "generic"),
        ("tc", {}, "ingress"),
    ],
)
def test_counts_per_peer_exactly(lab, pinned, fw, mode, opts, how):
    pin_dir, _ = pinned
    assert attach.attach("r0", mode, loader.prog_path(pin_dir, mode), lab.router, **opts) == how
    on = attach.attached("r0", lab.router)
    key = "xdp" if mode == "xdp" else "ingress"
    assert on[key]["name"] == f"ze_{mode}"
    want = send_known(lab)
    view = wait_counted(fw, want["peer-a"][0] + want["peer-b"][0])
    assert_exact(view, want)
    # Per prefix: the matched prefixes, with exactly their share.
    rows = {r["prefix"]: (r["peer"], r["packets"], r["bytes"]) for r in fw.prefixes()}
    assert rows == {
        "10.1.0.0/16": ("peer-a", 185, 120 * 142 + 40 * 98 + 25 * 76),
        "2001:db8:a::/48": ("peer-a", 30, 30 * 126),
        "10.2.0.0/16": ("peer-b", 50, 50 * 242),
        "2001:db8:b::/48": ("peer-b", 75, 60 * 72 + 15 * 90),
    }
    assert [r["prefix"] for r in fw.prefixes(top=1)] == ["10.1.0.0/16"]
    # Clearing zeroes everything.
    fw.clear()
    cleared = fw.show()
    assert cleared["peers"]["peer-a"]["packets"] == 0 and cleared["total"]["bytes"] == 0
    assert fw.prefixes() == []


def test_moving_a_prefix_moves_subsequent_counts(lab, pinned, fw):
    pin_dir, _ = pinned
    attach.attach("r0", "xdp", loader.prog_path(pin_dir, "xdp"), lab.router)
    a, b = fw.peer_index("peer-a"), fw.peer_index("peer-b")
    fw.clock = clock = FakeClock()
    fw.show()  # the rates' starting point
    plan = [{"dst": "10.1.0.5", "proto": "udp", "count": 20, "payload": 100}]
    lab.send(plan)
    deadline = time.monotonic() + 2
    while fw.counters.peer_count(a)[0] < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    clock.advance(2.0)
    view = fw.show()
    assert view["peers"]["peer-a"] == {
        "index": a, "packets": 20, "bytes": 2840, "packets-per-second": 10.0, "bits-per-second": 11360.0
    }  # fmt: skip
    assert fw.show(peer="peer-a") == {
        "peers": {
            "peer-a": {
                "index": a,
                "packets": 20,
                "bytes": 2840,
                "packets-per-second": 0.0,
                "bits-per-second": 0.0,
            }
        }
    }  # same clock reading: no interval, no rate
    # 10.1.0.0/16 now follows peer B's route (and its next hop).
    st = fw.sync([(Prefix.parse("10.1.0.0/16"), b, ip(NH_B[0]))])
    assert st.to_dict() == {"updated": 1, "withdrawn": 0, "syscalls": 1}
    lab.send(plan)
    view = wait_counted(fw, 40)
    assert (view["peers"]["peer-a"]["packets"], view["peers"]["peer-b"]["packets"]) == (20, 20)
    assert view["peers"]["peer-b"]["bytes"] == 20 * 142
    # Withdrawn: the same traffic is unmatched.
    before = view["unmatched"]["packets"]
    fw.sync([(Prefix.parse("10.1.0.0/16"), 0, None)])
    lab.send(plan)
    deadline = time.monotonic() + 2
    while fw.show()["unmatched"]["packets"] < before + 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    view = fw.show()
    assert (view["peers"]["peer-a"]["packets"], view["peers"]["peer-b"]["packets"]) == (20, 20)
    assert view["unmatched"]["packets"] >= before + 20
    assert (Prefix.parse("10.1.0.0/16"), b, ip(NH_B[0])) not in fw.routes.routes()
    fw.sync(changes(PEER_A, a, NH_A))


def test_counters_survive_loader_exit_and_daemon_restart(lab, pinned, fw):
    pin_dir, state = pinned
    attach.attach("r0", "tc", loader.prog_path(pin_dir, "tc"), lab.router)
    lab.send([{"dst": "2001:db8:b::5", "proto": "udp", "count": 33, "payload": 50}])
    wait_counted(fw, 33)
    fw.close()  # the "daemon" goes away; the loader child exited long ago
    res = loader.load(pin_dir)  # a restart reloads the programs: the pinned maps are reused
    assert res.ok, res.reason
    again = Forwarding(pin_dir, state)  # a fresh daemon object, through bpf(2) only
    try:
        assert again.peer_index("peer-b") == fw.peers.get("peer-b")  # stable index from the state file
        view = again.show()
        assert (view["peers"]["peer-b"]["packets"], view["peers"]["peer-b"]["bytes"]) == (33, 33 * 112)
        # The old program is still attached and still counts into the same maps.
        lab.send([{"dst": "2001:db8:b::5", "proto": "udp", "count": 7, "payload": 50}])
        view = wait_counted(again, 40)
        assert view["peers"]["peer-b"]["packets"] == 40
        assert "bcc" not in sys.modules
        # And from another process altogether: the operator command over the same pins.
        r = subprocess.run(
            [sys.executable, "-m", "ze.bpf.plugin", "--pin-dir", pin_dir, "--state-dir", state, "show"],
            capture_output=True, text=True, timeout=30, cwd=str(Path(__file__).resolve().parents[3]),
        )  # fmt: skip
        shown = json.loads(r.stdout)
        assert shown["status"] == "ok", r.stderr
        assert {k: shown["data"]["peers"]["peer-b"][k] for k in ("index", "packets", "bytes")} == {
            "index": fw.peers.get("peer-b"), "packets": 40, "bytes": 40 * 112
        }  # fmt: skip
    finally:
        again.close()


def bpftool_net(lab: Lab) -> dict:
    """`bpftool net show` in the router namespace, or the ip/tc view when bpftool is absent."""
    if not shutil.which("bpftool"):
        pytest.skip("bpftool not installed (scripts/bootstrap installs it)")
    r = subprocess.run(
        ["nsenter", f"--net=/run/netns/{lab.router}", "bpftool", "-j", "net", "show"],
        capture_output=True, text=True, timeout=10, check=True,
    )  # fmt: skip
    return json.loads(r.stdout)[0]


def test_service_attaches_and_detach_leaves_nothing(lab, tmp_path):
    pin_dir = f"{loader.BPFFS}/ze-svc-{os.getpid()}"
    cfg = BpfConfig.from_json(
        {
            "counters": {
                "interface": [{"name": "r0", "mode": "xdp"}, {"name": "r1", "mode": "tc"}],
                "per-prefix": True,
            }
        },
        pin_dir=pin_dir,
        state_dir=str(tmp_path),
        detach_on_stop=True,
    )
    svc = Service(cfg, netns=lab.router)
    try:
        status = svc.start()
        assert status["state"] == "running", status
        assert status["interfaces"] == {
            "r0": {"mode": "xdp", "attached": "native"},
            "r1": {"mode": "tc", "attached": "ingress"},
        }
        assert status["per-prefix"] is True and status["loader"]["seconds"] > 0
        assert attach.attached("r0", lab.router)["xdp"]["name"] == "ze_xdp"
        assert attach.attached("r1", lab.router)["ingress"]["name"] == "ze_tc"
        net = bpftool_net(lab)
        assert [(x["devname"], x["mode"]) for x in net["xdp"]] == [("r0", "driver")]
        assert [(x["devname"], x["kind"], x["name"]) for x in net["tc"]] == [
            ("r1", "clsact/ingress", "prog_tc:[*fsobj]")
        ]
        # A reload: r1 goes, r2 comes in xdp mode, r0 stays as it was (same program id).
        r0_id = attach.attached("r0", lab.router)["xdp"]["id"]
        cfg2 = BpfConfig(
            interfaces={"r0": "xdp", "r2": "xdp"},
            pin_dir=pin_dir,
            state_dir=str(tmp_path),
            detach_on_stop=True,
        )
        assert svc.reconfigure(cfg2)["interfaces"] == {
            "r0": {"mode": "xdp", "attached": "native"},
            "r2": {"mode": "xdp", "attached": "native"},
        }
        assert attach.attached("r1", lab.router) == {}
        assert attach.attached("r0", lab.router)["xdp"]["id"] == r0_id
        assert svc.forwarding.counters.per_prefix() is False
        svc.stop()
        assert svc.status()["state"] == "stopped"
        for dev in ("r0", "r1", "r2"):
            assert attach.attached(dev, lab.router) == {}
            link = lab.ns(lab.router, "ip", "-d", "link", "show", dev).stdout
            assert "xdp" not in link, link
            assert lab.ns(lab.router, "tc", "filter", "show", "dev", dev, "ingress").stdout == ""
        assert bpftool_net(lab) == {"xdp": [], "tc": [], "flow_dissector": []}
        assert not Path(pin_dir).exists()
    finally:
        svc.detach()


def test_missing_bcc_gives_the_reason_and_does_not_raise(tmp_path, caplog):
    fake = tmp_path / "fake"
    (fake / "bcc").mkdir(parents=True)
    (fake / "bcc" / "__init__.py").write_text("raise ImportError(\"No module named 'bcc'\", name='bcc')\n")
    root = str(Path(__file__).resolve().parents[3])
    env = {**os.environ, "PYTHONPATH": f"{fake}:{root}"}
    svc = Service(
        BpfConfig(pin_dir=f"{loader.BPFFS}/ze-nobcc-{os.getpid()}", state_dir=str(tmp_path)), loader_env=env
    )
    status = svc.start()
    assert status == {
        "state": "unavailable",
        "reason": "bcc (python3-bpfcc) not importable: No module named 'bcc'",
        "pin-dir": f"{loader.BPFFS}/ze-nobcc-{os.getpid()}",
        "per-prefix": False,
        "interfaces": {},
    }
    assert svc.forwarding is None
    logged = [(r.getMessage(), r.fields) for r in caplog.records if r.name == "ze.bpf"]
    assert logged == [
        (
            "forwarding counters unavailable",
            {"error": "bcc (python3-bpfcc) not importable: No module named 'bcc'"},
        )
    ]
    sh("rmdir", f"{loader.BPFFS}/ze-nobcc-{os.getpid()}", check=False)


def test_tc_egress_counts_forwarded_traffic(lab, pinned, fw):
    pin_dir, _ = pinned
    assert (
        attach.attach("r1", "tc", loader.prog_path(pin_dir, "tc"), lab.router, direction="egress") == "egress"
    )
    try:
        assert attach.attached("r1", lab.router)["egress"]["name"] == "ze_tc"
        send_known(lab)
        # Only what the router forwarded towards sink A leaves r1: the untagged peer-A traffic (the
        # tagged frames have no VLAN device to be routed from), same sizes, TTL aside.
        view = wait_counted(fw, 190)
        assert (view["peers"]["peer-a"]["packets"], view["peers"]["peer-a"]["bytes"]) == (
            190,
            120 * 142 + 40 * 98 + 30 * 126,
        )
        assert view["peers"]["peer-b"]["packets"] == 0
    finally:
        attach.detach("r1", lab.router)
    assert attach.attached("r1", lab.router) == {}


def test_xdp_falls_back_to_generic_without_driver_support(lab, pinned):
    pin_dir, _ = pinned
    # macvlan has no native XDP: "auto" must fall back to generic, "native" must say why not.
    lab.ns(lab.router, "ip", "link", "add", "link", "r2", "name", "mv0", "type", "macvlan")
    try:
        with pytest.raises(attach.AttachError, match=r"cannot attach XDP to mv0: xdpdrv: "):
            attach.attach("mv0", "xdp", loader.prog_path(pin_dir, "xdp"), lab.router, xdp_mode="native")
        assert attach.attach("mv0", "xdp", loader.prog_path(pin_dir, "xdp"), lab.router) == "generic"
        assert attach.attached("mv0", lab.router)["xdp"]["mode"] == "generic"
        attach.detach("mv0", lab.router)
        assert attach.attached("mv0", lab.router) == {}
    finally:
        lab.ns(lab.router, "ip", "link", "del", "mv0", check=False)


def test_loader_mounts_the_bpf_filesystem_when_missing():
    # In a private mount namespace: unmount /sys/fs/bpf there, and ensure_bpffs mounts it back.
    code = (
        "import subprocess, sys; from ze.bpf import loader;"
        "subprocess.run(['umount', '/sys/fs/bpf'], check=True);"
        "print(loader._is_bpffs('/sys/fs/bpf'), repr(loader.ensure_bpffs()), loader._is_bpffs('/sys/fs/bpf'))"
    )
    r = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", sys.executable, "-c", code],
        capture_output=True, text=True, timeout=30, cwd=str(Path(__file__).resolve().parents[3]),
    )  # fmt: skip
    assert r.stdout.split() == ["False", "''", "True"], r.stderr
    assert loader._is_bpffs("/sys/fs/bpf")  # ours untouched


def test_missing_kernel_headers_give_the_reason(tmp_path):
    # In a private mount namespace, hide /lib/modules/$(uname -r) behind an empty directory.
    release = os.uname().release
    pin_dir = f"{loader.BPFFS}/ze-nohdr-{os.getpid()}"
    code = (
        "import json, subprocess, sys; from ze.bpf import loader;"
        f"subprocess.run(['mount', '--bind', {str(tmp_path)!r}, '/lib/modules/{release}'], check=True);"
        f"print(json.dumps(loader.load({pin_dir!r}).to_dict()))"
    )
    r = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", sys.executable, "-c", code],
        capture_output=True, text=True, timeout=60, cwd=str(Path(__file__).resolve().parents[3]),
    )  # fmt: skip
    sh("rmdir", pin_dir, check=False)
    got = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else r.stderr
    assert got["ok"] is False, got
    assert got["reason"] == (
        f"kernel headers for {release} not found: /lib/modules/{release}/build is missing"
        " (scripts/bootstrap installs linux-headers-amd64 and links it there)"
    )


def test_a_resync_batch_replaces_its_family_only(pinned, tmp_path):
    from ze.bgp.events import BestBatch, NextHopSet
    from ze.bpf.plugin import apply_batch

    pin_dir, _ = pinned
    fw = Forwarding(pin_dir, tmp_path)
    try:
        a, b = fw.peer_index("pa"), fw.peer_index("pb")
        fw.resync(changes(("10.1.0.0/16", "10.2.0.0/16"), a, NH_A + NH_A) + changes(PEER_A[1:], a, NH_A[1:]))
        via_b = NextHopSet("ebgp", ((NH_B[0], "pb", ""),))
        st = apply_batch(fw, BestBatch("ipv4/unicast", ((Prefix.parse("10.2.0.0/16"), via_b),), (), True))
        assert st.to_dict() == {"updated": 1, "withdrawn": 1, "syscalls": 2}
        assert sorted(fw.routes.routes()) == sorted(
            [(Prefix.parse("10.2.0.0/16"), b, ip(NH_B[0])), (Prefix.parse(PEER_A[1]), a, ip(NH_A[1]))]
        )  # 10.1.0.0/16 is gone (not in the table), the IPv6 route stays (another family)
        apply_batch(fw, BestBatch("ipv6/unicast", (), (Prefix.parse(PEER_A[1]),)))
        assert fw.routes.count() == {"ipv4": 1, "ipv6": 0}
    finally:
        fw.resync([])
        fw.close()
