"""`python -m ze.bpf.uninstall` (the .deb's prerm): in a namespace the test makes, programs of ours
attached (XDP and tc) come off, interfaces without ours are not touched, and the pins are removed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ze.bpf import attach, loader

pytestmark = [pytest.mark.root, pytest.mark.slow]

if os.geteuid() != 0:
    pytest.skip("needs root (namespaces, bpf(2))", allow_module_level=True)


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)}: {r.stderr}")
    return r


@pytest.fixture
def netns():
    name = f"zedebun{os.getpid() % 100000}"
    sh("ip", "netns", "add", name)
    try:
        sh("ip", "-n", name, "link", "add", "a0", "type", "veth", "peer", "name", "b0")
        sh("ip", "-n", name, "link", "add", "c0", "type", "veth", "peer", "name", "d0")
        for dev in ("a0", "b0", "c0", "d0"):
            sh("ip", "-n", name, "link", "set", dev, "up")
        yield name
    finally:
        sh("ip", "netns", "del", name, check=False)


def test_uninstall_detaches_ours_and_unpins(netns):
    pin_dir = f"{loader.BPFFS}/ze-deb-uninstall-{os.getpid()}"
    res = loader.load(pin_dir)
    try:
        if not res.ok and ("kernel headers" in res.reason or "not importable" in res.reason):
            pytest.skip(res.reason)
        assert res.ok, res.reason
        attach.attach("a0", "xdp", loader.prog_path(pin_dir, "xdp"), netns)
        attach.attach("b0", "tc", loader.prog_path(pin_dir, "tc"), netns)
        assert set(attach.attached("a0", netns)) == {"xdp"}
        assert set(attach.attached("b0", netns)) == {"ingress"}
        r = subprocess.run(
            [sys.executable, "-m", "ze.bpf.uninstall", "--pin-dir", pin_dir, "--netns", netns],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert sorted(out["detached"]) == ["a0", "b0"]
        assert len(out["unpinned"]) == 8 and not os.path.exists(pin_dir)
        assert attach.attached("a0", netns) == {} and attach.attached("b0", netns) == {}
        assert attach.attached("c0", netns) == {}  # nothing was there; nothing was done to it
    finally:
        loader.unpin(pin_dir)
