"""Compile the counter programs with bcc in a short-lived child process and pin them.

bcc costs about 2.5 s and 200 MB (LLVM) per compile, so the daemon never imports it: `load()`
runs `python -m ze.bpf.loader` which compiles prog/counter.bpf.c, pins (or reuses) the maps and
pins the two programs under the pin dir, prints one JSON line and exits. The daemon then works
on the pinned objects through ze.bpf.syscall. A missing bcc or missing kernel headers come back
as a result with the exact reason, never as an exception.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

BPFFS = "/sys/fs/bpf"
DEFAULT_PIN_DIR = f"{BPFFS}/ze"
PROG_SOURCE = Path(__file__).with_name("prog") / "counter.bpf.c"
MAP_NAMES = ("ze_v4", "ze_v6", "ze_peer", "ze_misc", "ze_top", "ze_config")
PROGRAMS = {"xdp": "ze_xdp", "tc": "ze_tc"}  # pinned as <pin_dir>/prog_<kind>
MAX_PEERS = 4096
MAX_ROUTES = 2_000_000
MAX_TOP = 65536
# (key size, value size, max entries) of each map as prog/counter.bpf.c declares it: a pinned map
# left by another layout is replaced rather than reused (its counters are lost, not misread).
MAP_SHAPES = {"ze_v4": (8, 24, MAX_ROUTES), "ze_v6": (20, 24, MAX_ROUTES), "ze_peer": (4, 16, MAX_PEERS),
              "ze_misc": (4, 16, 2), "ze_top": (24, 16, MAX_TOP), "ze_config": (4, 4, 1)}  # fmt: skip


@dataclass(frozen=True)
class LoadResult:
    ok: bool
    reason: str = ""  # why not, exactly, when not ok
    pin_dir: str = ""
    programs: dict[str, str] = field(default_factory=dict)  # kind -> pinned path
    maps: dict[str, str] = field(default_factory=dict)  # name -> pinned path
    seconds: float = 0.0  # compile and load time in the child
    max_rss_kib: int = 0  # the child's peak memory
    replaced: list[str] = field(default_factory=list)  # pinned maps of another layout, made anew

    def to_dict(self) -> dict:
        return {"ok": self.ok, "reason": self.reason, "pin-dir": self.pin_dir, "programs": self.programs,
                "maps": self.maps, "seconds": round(self.seconds, 3), "max-rss-kib": self.max_rss_kib,
                "replaced": self.replaced}  # fmt: skip


def prog_path(pin_dir: str, kind: str) -> str:
    return f"{pin_dir}/prog_{kind}"


def _is_bpffs(path: str) -> bool:
    try:
        with open("/proc/self/mounts", encoding="utf-8") as f:
            return any(len(p) > 2 and p[1] == path and p[2] == "bpf" for p in (line.split() for line in f))
    except OSError:
        return False


def ensure_bpffs(root: str = BPFFS) -> str:
    """Make sure a bpf filesystem is mounted at root; mount it if not. Returns "" or the reason it
    cannot be (e.g. not root)."""
    if _is_bpffs(root):
        return ""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    try:
        os.makedirs(root, exist_ok=True)
    except OSError as e:
        return f"cannot create {root}: {e.strerror}"
    if libc.mount(b"bpf", os.fsencode(root), b"bpf", 0, None) != 0:
        e = ctypes.get_errno()
        return f"bpf filesystem not mounted at {root} and mounting it failed: {os.strerror(e)}"
    return ""


def headers_reason(release: str | None = None) -> str:
    """Why bcc cannot find kernel headers for the running kernel, or "" if they are there."""
    release = release or os.uname().release
    build = Path(f"/lib/modules/{release}/build")
    if (build / "include").is_dir() or Path("/sys/kernel/kheaders.tar.xz").exists():
        return ""
    return (
        f"kernel headers for {release} not found: {build} is missing"
        " (scripts/bootstrap installs linux-headers-amd64 and links it there)"
    )


def load(
    pin_dir: str = DEFAULT_PIN_DIR,
    *,
    python: str = sys.executable,
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
) -> LoadResult:
    """Compile and pin in a child process; the result says where things are pinned, or why not."""
    # Under /sys/fs/bpf we make sure the fs is mounted; a pin dir elsewhere is the operator's bpffs.
    reason = ensure_bpffs(BPFFS) if pin_dir.startswith(BPFFS + "/") else ""
    if reason:
        return LoadResult(False, reason)
    cmd = [python, "-m", "ze.bpf.loader", "--pin-dir", pin_dir]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return LoadResult(False, f"bpf loader timed out after {timeout:.0f} s")
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = (r.stderr.strip().splitlines() or ["no output"])[-1]
        return LoadResult(False, f"bpf loader exited {r.returncode}: {tail}")
    d = json.loads(lines[-1])
    reason = d["reason"]
    # The compiler's "error:" lines, or the verifier's verdict (the line before its "processed" tally).
    err = r.stderr.splitlines()
    errors = [ln.strip() for ln in err if "error:" in ln]
    errors += [err[i - 1].strip() for i, ln in enumerate(err) if ln.startswith("processed ") and i > 0]
    if not d["ok"] and errors:
        reason = f"{reason}: {'; '.join(errors[:3])}"
    return LoadResult(
        d["ok"], reason, d["pin-dir"], d["programs"], d["maps"], d["seconds"], d["max-rss-kib"], d["replaced"]
    )


def unpin(pin_dir: str = DEFAULT_PIN_DIR) -> list[str]:
    """Remove every pinned program and map of ours (attached programs stay attached until detached;
    the kernel frees them when the last reference goes). Returns the paths removed."""
    removed = []
    for name in (*MAP_NAMES, *(f"prog_{k}" for k in PROGRAMS)):
        path = f"{pin_dir}/{name}"
        try:
            os.unlink(path)
            removed.append(path)
        except FileNotFoundError:
            pass
    try:
        os.rmdir(pin_dir)
    except OSError:
        pass
    return removed


def drop_misshapen(pin_dir: str) -> list[str]:
    """Unpin our maps whose key/value size or capacity differ from MAP_SHAPES; returns their names."""
    from ze.bpf import syscall

    dropped = []
    for name, shape in MAP_SHAPES.items():
        path = f"{pin_dir}/{name}"
        if not os.path.exists(path):
            continue
        with syscall.Map(path) as m:
            ok = (m.key_size, m.value_size, m.max_entries) == shape
        if not ok:
            os.unlink(path)
            dropped.append(name)
    return dropped


# --- the child ---------------------------------------------------------------------------------


def compile_and_pin(pin_dir: str) -> LoadResult:
    """In the child: compile with bcc, pin programs (maps pin themselves, or are reused)."""
    import resource
    import time

    t0 = time.monotonic()
    try:
        from bcc import BPF  # heavy: LLVM
    except ImportError as e:
        return LoadResult(False, f"bcc (python3-bpfcc) not importable: {e}")
    reason = headers_reason()
    if reason:
        return LoadResult(False, reason)
    from ze.bpf import syscall

    os.makedirs(pin_dir, exist_ok=True)
    replaced = drop_misshapen(pin_dir)
    cflags = [f'-DZE_PIN_DIR="{pin_dir}"', f"-DZE_MAX_PEERS={MAX_PEERS}", f"-DZE_MAX_ROUTES={MAX_ROUTES}",
              f"-DZE_MAX_TOP={MAX_TOP}", "-w"]  # fmt: skip
    try:
        b = BPF(src_file=str(PROG_SOURCE).encode(), cflags=cflags)
        fns = {
            kind: b.load_func(fn.encode(), BPF.XDP if kind == "xdp" else BPF.SCHED_CLS)
            for kind, fn in PROGRAMS.items()
        }
    except Exception as e:  # bcc raises bare Exception for compile and verifier failures
        return LoadResult(False, f"bcc could not compile or load {PROG_SOURCE.name}: {e}")
    programs = {}
    for kind, fn in fns.items():
        path = prog_path(pin_dir, kind)
        try:
            os.unlink(path)  # a new program replaces the old pin; attachments move on re-attach
        except FileNotFoundError:
            pass
        try:
            syscall.obj_pin(fn.fd, path)
        except OSError as e:
            return LoadResult(False, f"cannot pin {path}: {e}")
        programs[kind] = path
    maps = {name: f"{pin_dir}/{name}" for name in MAP_NAMES}
    missing = [p for p in maps.values() if not os.path.exists(p)]
    if missing:
        return LoadResult(False, f"maps not pinned after load: {', '.join(missing)}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return LoadResult(True, "", pin_dir, programs, maps, time.monotonic() - t0, rss, replaced)


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m ze.bpf.loader", description=__doc__)
    ap.add_argument("--pin-dir", default=DEFAULT_PIN_DIR)
    args = ap.parse_args(argv)
    try:
        result = compile_and_pin(args.pin_dir)
    except OSError as e:
        result = LoadResult(False, f"bpf loader: {e}")
    print(json.dumps(result.to_dict()), flush=True)
    return 0 if result.ok else 1


# bcc (0.26, Debian 12) loads and pins the XDP and tc programs with these and no CAP_SYS_ADMIN
# (tried as an unprivileged user with only these: without CAP_NET_ADMIN bcc says "Need super-user
# privileges", without CAP_PERFMON loading the program gets EPERM, without CAP_BPF no map is made).
LOADER_CAPS = {"CAP_NET_ADMIN": 12, "CAP_PERFMON": 38, "CAP_BPF": 39}


def missing_caps(status: str = "/proc/self/status") -> list[str]:
    """The capabilities of LOADER_CAPS this process lacks (effective set); [] for root."""
    try:
        with open(status, encoding="ascii") as f:
            eff = next((int(ln.split()[1], 16) for ln in f if ln.startswith("CapEff:")), 0)
    except OSError:
        eff = 0
    return [name for name, bit in LOADER_CAPS.items() if not eff >> bit & 1]


if __name__ == "__main__":
    lacking = missing_caps()
    if lacking:
        why = f"the bpf loader needs root or {', '.join(LOADER_CAPS)}; it lacks {', '.join(lacking)}"
        print(json.dumps(LoadResult(False, why).to_dict()))
        sys.exit(1)
    sys.exit(main())
