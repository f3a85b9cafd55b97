"""A reusable interop lab: two network namespaces joined by one veth, real BGP daemons inside.

    netns <tag>a  ("left": ze, or a daemon)        netns <tag>b  ("right": the daemon under test)
      <tag>l  192.0.2.(10+k)/24  2001:db8::a:k  <-veth->  <tag>r  192.0.2.(100+k)/24  2001:db8::d:k

Each test scenario takes a slot k: its own address pair on both sides, so one daemon config holds
every scenario as a separate neighbour (eBGP, iBGP, passive, MD5, GTSM, ADD-PATH, IPv6 transport)
and the daemon is started once per module. The namespaces have no link to the host: port 179
never clashes and no packet leaves them. Names carry the pid and a counter (unique per run);
close() stops every process by PID, then deletes the namespaces (also at exit).

Daemon adapters (tests/interop/daemons/) all speak the same small API (see daemons/base.py);
what they report is normalised to one dict form, see normalise.py.
"""

from __future__ import annotations

import atexit
import itertools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

_COUNTER = itertools.count()
SLOTS = 24


def sh(*cmd: str, check: bool = True, timeout: float = 30, input: str | None = None) -> str:
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, input=input)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} (rc {r.returncode}): {(r.stderr or r.stdout).strip()[:600]}")
    return r.stdout


def missing_facility(binaries: Sequence[str] = ()) -> str | None:
    """Why the lab cannot run here (None when it can)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if not shutil.which("ip"):
        return "iproute2 (ip) is not installed"
    for b in binaries:
        if not (shutil.which(b) or os.path.exists(b)):
            return f"{b} is not installed (scripts/bootstrap installs it)"
    return None


def wait_for(pred: Callable[[], object], timeout: float, what: str, interval: float = 0.1) -> object:
    """Poll pred() until it returns something truthy; bounded in time. Returns that value."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:
            last_exc = e
        if time.monotonic() >= deadline:
            extra = f" (last error: {last_exc})" if last_exc else ""
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}{extra}")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# What a session and a route are, from one side's point of view
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Peering:
    """One BGP session as configured on one side: `local_*` is this side, `remote_*` the other."""

    name: str  # short id, [a-z0-9]
    local_ip: str
    remote_ip: str
    local_as: int
    remote_as: int
    router_id: str = ""
    passive: bool = False
    md5: str | None = None
    ttl_security: int | None = None  # GTSM: the most hops away the peer may be
    addpath: bool = False  # ADD-PATH send and receive
    hold_time: int = 30

    @property
    def afi(self) -> str:
        return "ipv6" if ":" in self.local_ip else "ipv4"

    @property
    def ibgp(self) -> bool:
        return self.local_as == self.remote_as

    def mirror(self, **changes: object) -> Peering:
        """The same session seen from the other side (passive flips unless given)."""
        m = replace(
            self,
            local_ip=self.remote_ip,
            remote_ip=self.local_ip,
            local_as=self.remote_as,
            remote_as=self.local_as,
            router_id="",
            passive=not self.passive,
        )
        return replace(m, **changes) if changes else m


@dataclass(frozen=True)
class Route:
    """A route to announce. as_path: the ASNs after the announcer's own (an eBGP speaker prepends
    its AS); next_hop None means the announcer's own address (next-hop self)."""

    prefix: str
    next_hop: str | None = None
    as_path: tuple[int, ...] = ()
    med: int | None = None
    local_pref: int | None = None
    communities: tuple[str, ...] = ()  # "65000:1"
    large_communities: tuple[str, ...] = ()  # "65000:1:2"
    ext_communities: tuple[str, ...] = ()  # "rt:65000:1" (route target, 2-octet AS)

    @property
    def afi(self) -> str:
        return "ipv6" if ":" in self.prefix else "ipv4"


# ---------------------------------------------------------------------------------------------
# Processes: started by us, stopped by PID
# ---------------------------------------------------------------------------------------------
def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def _descendants(pid: int) -> list[int]:
    res: list[int] = []
    todo = [pid]
    while todo and len(res) < 200:
        for c in _children(todo.pop()):
            if c not in res:
                res.append(c)
                todo.append(c)
    return res


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process, wait, then SIGKILL it and whatever it started (by PID)."""
        kids = _descendants(self.pid)
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(signal.SIGTERM)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        for k in kids:
            if _alive(k):
                try:
                    os.kill(k, signal.SIGKILL)
                except OSError:
                    pass

    def tail(self, n: int | None = None) -> str:
        try:
            text = self.log.read_text(errors="replace")
            return text[-n:] if n else text
        except OSError:
            return ""


# ---------------------------------------------------------------------------------------------
# The lab
# ---------------------------------------------------------------------------------------------
@dataclass
class Slot:
    k: int
    left4: str
    right4: str
    left6: str
    right6: str

    def pair(self, afi: str) -> tuple[str, str]:
        return (self.left4, self.right4) if afi == "ipv4" else (self.left6, self.right6)


def stop_and_delete(procs: list[Proc], namespaces: list[str]) -> None:
    """Teardown shared by the labs: stop the processes (last started first, by PID), then delete
    the namespaces (last made first); both lists are emptied."""
    for pr in reversed(procs):
        try:
            pr.stop(5.0)
        except Exception:
            pass
    procs.clear()
    for ns in reversed(namespaces):
        sh("ip", "netns", "del", ns, check=False)
    namespaces.clear()


@dataclass
class Lab:
    """Two namespaces (left, right) with one veth; every process started through it is stopped
    by PID in close()."""

    tag: str = ""
    procs: list[Proc] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.tag:
            self.tag = f"zi{os.getpid()}x{next(_COUNTER)}"  # <= 13 chars: interface names too
        self.left, self.right = f"{self.tag}a", f"{self.tag}b"
        self.left_if, self.right_if = f"{self.tag}l", f"{self.tag}r"
        self.dir = Path(tempfile.mkdtemp(prefix=f"ze-interop-{self.tag}-"))
        os.chmod(self.dir, 0o755)
        self._made: list[str] = []
        self._closed = False
        self.started = time.monotonic()
        atexit.register(self.close)
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _build(self) -> None:
        for ns in (self.left, self.right):
            sh("ip", "netns", "add", ns)
            self._made.append(ns)
            for k in ("all", "default"):
                self.ns(ns, "sysctl", "-qw", f"net.ipv6.conf.{k}.accept_dad=0")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh(
            "ip", "link", "add", self.left_if, "netns", self.left, "type", "veth",
            "peer", "name", self.right_if, "netns", self.right,
        )  # fmt: skip
        left = right = ""
        for k in range(SLOTS):
            s = self.slot(k)
            left += (
                f"addr add {s.left4}/24 dev {self.left_if}\naddr add {s.left6}/64 dev {self.left_if} nodad\n"
            )
            right += f"addr add {s.right4}/24 dev {self.right_if}\naddr add {s.right6}/64 dev {self.right_if} nodad\n"
        sh("ip", "-n", self.left, "-batch", "-", input=left)
        sh("ip", "-n", self.right, "-batch", "-", input=right)
        sh("ip", "-n", self.left, "link", "set", self.left_if, "up")
        sh("ip", "-n", self.right, "link", "set", self.right_if, "up")

    @staticmethod
    def slot(k: int) -> Slot:
        if not 0 <= k < SLOTS:
            raise ValueError(f"slot {k} out of range")
        return Slot(
            k, f"192.0.2.{10 + k}", f"192.0.2.{100 + k}", f"2001:db8::a:{k + 1}", f"2001:db8::d:{k + 1}"
        )

    def peering(
        self,
        k: int,
        name: str,
        *,
        afi: str = "ipv4",
        left_as: int = 65001,
        right_as: int = 65002,
        **kw: object,
    ) -> Peering:
        """The peering of slot k as the RIGHT side sees it (mirror() gives the left side's)."""
        left_ip, right_ip = self.slot(k).pair(afi)
        return Peering(
            name=name, local_ip=right_ip, remote_ip=left_ip, local_as=right_as, remote_as=left_as, **kw
        )

    def age(self) -> float:
        """Seconds since the lab was built (a negative check need not wait once this is long)."""
        return time.monotonic() - self.started

    def ns(self, ns: str, *cmd: str, check: bool = True, timeout: float = 30) -> str:
        return sh("ip", "netns", "exec", ns, *cmd, check=check, timeout=timeout)

    def rundir(self, name: str) -> Path:
        d = self.dir / name
        d.mkdir(exist_ok=True)
        os.chmod(d, 0o755)
        return d

    def spawn(
        self,
        ns: str,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Proc:
        """Start argv inside netns `ns` (ip netns exec execs, so the PID is the program's own)."""
        log = self.dir / f"{name}.out"
        with open(log, "ab") as out:
            p = subprocess.Popen(
                ["ip", "netns", "exec", ns, *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd or self.dir,
                start_new_session=True,
            )
        pr = Proc(name, p, log)
        self.procs.append(pr)
        return pr

    def stop(self, pr: Proc, timeout: float = 10.0) -> None:
        pr.stop(timeout)
        if pr in self.procs:
            self.procs.remove(pr)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for fn in reversed(self.closers):
            try:
                fn()
            except Exception:
                pass
        stop_and_delete(self.procs, self._made)
        if not os.environ.get("ZE_INTEROP_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# After a hard kill: namespaces of runs that are gone
# ---------------------------------------------------------------------------------------------
_STALE = re.compile(r"^zi(\d+)x\d+[ab]$")


def cleanup_stale() -> list[str]:
    """Delete the lab namespaces of runs whose process is gone (zi<pid>x<n>a|b), after stopping,
    by PID, every process still inside them. Returns the namespaces deleted."""
    gone = []
    for line in sh("ip", "netns", "list", check=False).splitlines():
        ns = line.split()[0] if line.split() else ""
        m = _STALE.match(ns)
        if not m or _alive(int(m.group(1))):
            continue
        try:
            inode = os.stat(f"/run/netns/{ns}").st_ino
        except OSError:
            continue
        pids = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if os.stat(f"/proc/{d}/ns/net").st_ino == inode:
                        pids.append(int(d))
                except OSError:
                    pass
        for pid in pids:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if not _alive(pid):
                    break
                try:
                    os.kill(pid, sig)
                except OSError:
                    break
                deadline = time.monotonic() + 3
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
        sh("ip", "netns", "del", ns, check=False)
        gone.append(ns)
    for d in Path(tempfile.gettempdir()).glob("ze-interop-zi*x*-*"):
        m = re.match(r"ze-interop-zi(\d+)x", d.name)
        if m and not _alive(int(m.group(1))) and not os.environ.get("ZE_INTEROP_KEEP"):
            shutil.rmtree(d, ignore_errors=True)
    return gone


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--cleanup"]:
        sys.exit("usage: python -m tests.interop.lab --cleanup")
    print("\n".join(cleanup_stale()) or "nothing to clean")
