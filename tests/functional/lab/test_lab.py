"""`ze lab` for real: up (namespaces, BIRD, ze, sender), status through ze's control socket and
birdc, down leaves nothing (namespaces, processes by PID, pins, files); `ze lab run` tears down on
Ctrl-C; without root it says what to do."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ze.lab import lab

pytestmark = [pytest.mark.root, pytest.mark.slow]

if os.geteuid() != 0:
    pytest.skip("the lab needs root (network namespaces)", allow_module_level=True)
if shutil.which("bird") is None:
    pytest.skip("bird2 is missing: run scripts/bootstrap", allow_module_level=True)

ZE = [sys.executable, "-m", "ze.cli.main"]
PREFIXES = 300
RUN_ARGS = ("--prefixes", "20", "--pps", "20", "--seconds", "20")


def ze(*args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ZE, *args], capture_output=True, text=True, timeout=timeout)


def status(name: str) -> dict:
    r = ze("lab", "status", "--name", name, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)["data"]


def wait_for(cond, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(step)
    return cond()


@pytest.fixture
def name():
    n = f"zedeb{os.getpid() % 100000}"
    yield n
    lab.down(n)  # whatever a failed test left


def test_up_status_down(name):
    r = ze(
        "lab", "up", "--name", name, "--prefixes", str(PREFIXES), "--pps", "100", "--seconds", "30", "--json"
    )
    assert r.returncode == 0, r.stdout + r.stderr
    st = json.loads(r.stdout)["data"]
    assert st["namespaces"] == {
        "tx": f"{name}-tx",
        "ze": f"{name}-ze",
        "up": f"{name}-up",
        "sink": f"{name}-sink",
    }
    assert {p["role"] for p in st["procs"]} == {"bird", "ze", "sender"}
    pids = [p["pid"] for p in st["procs"]]
    for ns in st["namespaces"].values():
        assert Path(f"/run/netns/{ns}").exists()
    # ze runs on the generated config with the MD5 + GTSM session; BIRD on its own with the same.
    conf = Path(st["dir"], "ze.conf").read_text()
    assert f'md5-password "{st["md5"]}";' in conf and "ttl-security 1;" in conf
    bird_conf = Path(st["dir"], "bird.conf").read_text()
    assert f'password "{st["md5"]}";' in bird_conf and "ttl security on;" in bird_conf

    # The BIRD upstream reaches its configured state: all routes in its table, the session to ze
    # configured and trying (Established once ze speaks BGP).
    snap = wait_for(lambda: (s := status(name))["bird"].get("table-routes") == PREFIXES and s, 90)
    assert snap, status(name)
    b = snap["bird"]
    assert (b["neighbor"], b["neighbor-as"], b["local-as"]) == ("192.0.2.1", "65001", "65002")
    assert b["state"] in ("Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"), b
    assert all(p["alive"] for p in snap["processes"] if p["role"] in ("bird", "ze")), snap["processes"]

    # ze's views come from its control socket; what this ze lacks is said, not invented.
    views = snap["ze"]
    peers = views["ze show peers"]["data"]["peers"]
    assert [(p["name"], p["remote"]) for p in peers] == [("upstream", {"ip": "192.0.2.2", "as": 65002})]
    # The live router: the MD5 + GTSM session is up, BIRD's routes are in ze's kernel FIB (protocol
    # 186) and in the eBPF maps, and the sender's packets are counted under the upstream peer.
    assert wait_for(lambda: status(name)["bird"]["state"] == "Established", 90), status(name)["bird"]

    def live() -> dict | None:
        v = status(name)["ze"]
        fib = v["ze show fib"].get("data") or {}
        fwd = v["ze show forwarding"].get("data") or {}
        up = ((fwd.get("counters") or {}).get("peers") or {}).get("upstream") or {}
        return v if fib.get("installed") == PREFIXES and up.get("packets", 0) >= 20 else None

    views = wait_for(live, 90)
    assert views, status(name)["ze"]
    assert views["ze show forwarding"]["data"]["routes"]["ipv4"] == PREFIXES
    assert views["ze show peers"]["data"]["peers"][0]["state"] == "established"

    # Traffic leaves the sender and enters ze's namespace.
    snap = wait_for(
        lambda: (s := status(name))["links"]["ze in (from sender)"].get("packets", 0) >= 50 and s, 60
    )
    assert snap, status(name)["links"]
    assert snap["links"]["sender tx"]["packets"] >= snap["links"]["ze in (from sender)"]["packets"] - 5

    # Human status renders.
    r = ze("lab", "status", "--name", name)
    assert r.returncode == 0 and "ze show peers" in r.stdout and "upstream" in r.stdout

    r = ze("lab", "down", "--name", name)
    assert r.returncode == 0, r.stderr
    assert_only_lab_lines(r)
    assert lab.leftovers(name) == []
    for pid in pids:
        assert not _running(pid), pid
    assert not Path(f"/sys/fs/bpf/{name}").exists()
    r = ze("lab", "status", "--name", name)
    assert r.returncode == 1 and f"no lab named {name} is up" in r.stderr


def assert_only_lab_lines(r: subprocess.CompletedProcess[str]) -> None:
    """`ze lab` said what it did, and nothing else spoke (no `ip`, nsenter or birdc noise)."""
    assert r.stdout == "", r.stdout
    noise = [ln for ln in r.stderr.splitlines() if not ln.startswith("ze lab: ")]
    assert noise == [], r.stderr


def _running(pid: int) -> bool:
    """Alive and not a zombie (orphans go to PID 1, which may not reap them on this machine)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_up_twice_is_refused_down_twice_is_fine_stale_is_cleaned(name):
    args = ("--name", name, "--prefixes", "10", "--pps", "10", "--seconds", "10")
    assert ze("lab", "up", *args).returncode == 0
    r = ze("lab", "up", *args)
    assert r.returncode == 1 and f"a lab named {name} is already up" in r.stderr
    r = ze("lab", "down", "--name", name)
    assert r.returncode == 0, r.stderr
    assert_only_lab_lines(r)
    # A second down: nothing to do, said in one line, no `ip` complaint.
    r = ze("lab", "down", "--name", name)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", f"ze lab: no lab named {name} was up\n")
    assert lab.leftovers(name) == []
    # What a crashed lab left (a namespace, no process) is cleaned by the next up.
    subprocess.run(["ip", "netns", "add", f"{name}-ze"], check=True)
    r = ze("lab", "up", *args)
    assert r.returncode == 0, r.stderr
    assert f"cleaning what a lab named {name} left behind (namespace {name}-ze)" in r.stderr
    assert ze("lab", "down", "--name", name).returncode == 0
    assert lab.leftovers(name) == []


def test_run_tears_down_on_ctrl_c(name):
    p = subprocess.Popen(
        # SIGINT ignored, as a background job of a script starts it: Ctrl-C must still tear down
        ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *ZE, "lab", "run", *RUN_ARGS, "--name", name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    out_lines: list[str] = []
    reader = threading.Thread(target=lambda: out_lines.extend(p.stdout), daemon=True)
    reader.start()
    try:
        st = wait_for(lambda: (s := lab.load_state(name)) and s.proc("sender") and s, 60)
        assert st, p.stderr.read() if p.poll() is not None else "no lab state"
        pids = [x.pid for x in st.procs]
        # The live view is up once it has drawn ze's peers.
        assert wait_for(lambda: any("ze show peers" in ln for ln in out_lines), 60), out_lines[-5:]
        os.killpg(p.pid, signal.SIGINT)  # Ctrl-C in the terminal reaches the foreground group
        p.wait(timeout=90)  # bounded: a lab that ignored Ctrl-C fails here instead of hanging
        err = p.stderr.read()
        reader.join(10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert "tearing down" in err and "nothing left behind" in err
    assert lab.leftovers(name) == []
    for pid in pids:
        assert not _running(pid), pid


def test_not_root_says_what_to_do():
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv missing")
    r = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            *ZE,
            "lab",
            "up",
            "--name",
            "zedebnoroot",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        env={**os.environ, "ZE_CACHE_DIR": "/nonexistent"},
    )
    assert r.returncode == 1
    assert "the lab needs root" in r.stderr and "sudo make run" in r.stderr
    assert not Path("/run/netns/zedebnoroot-ze").exists()
