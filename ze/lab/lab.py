"""The lab: four network namespaces, BIRD upstream, ze in the middle, a bounded traffic sender.

    sender  ze0 -------- tx0  router (ze)  up0 -------- ze0  upstream (BIRD)  sink0 -------- up0  sink
    198.51.100.2/24   198.51.100.1/24   192.0.2.1/30   192.0.2.2/30      203.0.113.1/24   203.0.113.2/24

(each device is named after the namespace at its other end)

BIRD announces COUNT static /PLEN routes carved from 198.18.0.0/15 (RFC 2544's benchmarking
range) to ze over eBGP (AS 65002 -> AS 65001) with TCP-MD5 and GTSM. The upstream's kernel
forwards that range to the sink, which counts what arrives. The sender sends UDP at a bounded
rate for a bounded time to hosts of those prefixes, through ze's namespace: the packets reach
the sink only once ze has installed the routes in its namespace's kernel FIB.

Everything is made by `up()` and recorded in a state file under /run/ze-lab/NAME/ (namespaces,
PIDs with their start times, pin dir); `down()` stops the processes by PID (never by name),
deletes the namespaces and the eBPF pins and the state dir, and also finds what a crashed `up`
left (namespaces are named after the lab).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

RUN_DIR = Path("/run/ze-lab")
BPFFS = "/sys/fs/bpf"
DEFAULT_NAME = "ze-lab"
ROLES = ("tx", "ze", "up", "sink")  # sender, router (ze), upstream (BIRD), sink
ZE_AS, UP_AS = 65001, 65002
ZE_IP, UP_IP = "192.0.2.1", "192.0.2.2"
TX_NET = ("198.51.100.2/24", "198.51.100.1/24")  # sender, router
SINK_NET = ("203.0.113.1/24", "203.0.113.2/24")  # upstream, sink
ROUTE_BASE = ipaddress.ip_network("198.18.0.0/15")
# (namespace role, device) pairs of each veth link, and the address on each end.
LINKS = ((("tx", "ze0"), ("ze", "tx0")), (("ze", "up0"), ("up", "ze0")), (("up", "sink0"), ("sink", "up0")))
ADDRESSES = {
    ("tx", "ze0"): TX_NET[0],
    ("ze", "tx0"): TX_NET[1],
    ("ze", "up0"): f"{ZE_IP}/30",
    ("up", "ze0"): f"{UP_IP}/30",
    ("up", "sink0"): SINK_NET[0],
    ("sink", "up0"): SINK_NET[1],
}
TEMPLATES = Path(__file__).parent


class LabError(Exception):
    """The lab cannot be made or reached; the message says why and what to do."""


@dataclass
class Proc:
    role: str
    pid: int
    start: str  # /proc/PID/stat start time: a recycled PID is not ours
    argv: list[str]
    log: str


@dataclass
class State:
    name: str
    dir: str
    namespaces: dict[str, str]  # role -> namespace name
    socket: str
    bird_socket: str
    pin_dir: str
    prefixes: int
    plen: int
    pps: int
    seconds: int
    md5: str
    started: float = 0.0
    procs: list[Proc] = field(default_factory=list)
    config_left_out: dict[str, str] = field(default_factory=dict)  # block -> why

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> State:
        d = dict(d)
        d["procs"] = [Proc(**p) for p in d.get("procs", [])]
        return cls(**d)

    def proc(self, role: str) -> Proc | None:
        return next((p for p in self.procs if p.role == role), None)


def namespaces_of(name: str) -> dict[str, str]:
    return {role: f"{name}-{role}" for role in ROLES}


def state_dir(name: str) -> Path:
    return RUN_DIR / name


def load_state(name: str) -> State | None:
    try:
        return State.from_dict(json.loads((state_dir(name) / "state.json").read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError, TypeError, KeyError):
        return None


def save_state(st: State) -> None:
    path = Path(st.dir) / "state.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(st.to_dict(), indent=1), encoding="utf-8")
    tmp.replace(path)


# --- preconditions ---------------------------------------------------------------------------


def check_can_run() -> None:
    """Raise LabError with what to do when this machine or user cannot make the lab."""
    if os.geteuid() != 0:
        raise LabError(
            "the lab needs root: it makes network namespaces, veth links, runs BIRD and loads eBPF. "
            "Run it as root (sudo make run, or sudo ze lab up), on Linux with iproute2 and bird2 "
            "(scripts/bootstrap installs them)."
        )
    for tool, pkg in (("ip", "iproute2"), ("nsenter", "util-linux"), ("bird", "bird2"), ("birdc", "bird2")):
        if shutil.which(tool) is None:
            raise LabError(f"{tool} not found: install {pkg} (scripts/bootstrap does: apt-get install {pkg})")
    probe = f"ze-lab-probe-{os.getpid()}"
    try:
        r = _run(["ip", "netns", "add", probe], check=False)
        if r.returncode != 0:
            raise LabError(
                f"cannot make a network namespace here ({r.stderr.strip()}): the lab needs CAP_SYS_ADMIN "
                "and a kernel with network namespaces; in a container, run it privileged, or on a VM"
            )
    finally:  # also after a timeout: the namespace may appear late
        if Path(f"/run/netns/{probe}").exists():
            _run(["ip", "netns", "del", probe], check=False)


# --- small helpers ---------------------------------------------------------------------------


def _run(cmd: list[str], check: bool = True, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    # Generous: namespace creation waits on the kernel's clean-up of deleted ones on a busy machine.
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise LabError(
            f"{' '.join(cmd)}: no answer within {timeout:.0f} s (the machine is very busy?)"
        ) from None
    if check and r.returncode != 0:
        raise LabError(f"{' '.join(cmd)}: {r.stderr.strip() or r.stdout.strip()}")
    return r


def in_ns(ns: str, *cmd: str) -> list[str]:
    # nsenter, not `ip netns exec`: that remounts /sys and would hide the bpf fs from ze.
    return ["nsenter", f"--net=/run/netns/{ns}", "--", *cmd]


def ns_run(ns: str, *cmd: str, check: bool = True, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return _run(in_ns(ns, *cmd), check=check, timeout=timeout)


def proc_start(pid: int) -> str:
    """The start time of PID (field 22 of /proc/PID/stat), or "" when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return raw.rsplit(")", 1)[1].split()[19]


def alive(p: Proc) -> bool:
    start = proc_start(p.pid)
    if not start or start != p.start:
        return False
    try:  # a zombie child of ours counts as gone
        return Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def render(template: str, **values: object) -> str:
    """Replace {key} for the given keys only (config blocks use braces of their own)."""
    for k, v in values.items():
        template = template.replace("{" + k + "}", str(v))
    return template


def routes(count: int, plen: int) -> list[ipaddress.IPv4Network]:
    """COUNT consecutive /PLEN prefixes from ROUTE_BASE."""
    subnets = ROUTE_BASE.subnets(new_prefix=plen)
    out = []
    for _ in range(count):
        out.append(next(subnets))
    return out


# --- the config ze runs on ------------------------------------------------------------------


def blocks(text: str) -> dict[str, tuple[int, int]]:
    """name -> (first line, last line) of each `# lab-block NAME` ... `# lab-end` (1-based, inclusive)."""
    out = {}
    start: tuple[str, int] | None = None
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("# lab-block "):
            start = (s.split()[2], i)
        elif s == "# lab-end" and start:
            out[start[0]] = (start[1], i)
            start = None
    return out


def drop_block(text: str, name: str, why: str) -> str:
    first, last = blocks(text)[name]
    lines = text.splitlines()
    note = [f"# lab-block {name} left out: {why}"]
    return "\n".join(lines[: first - 1] + note + lines[last:]) + "\n"


def ze_config(st: State, validate: object = None) -> tuple[str, dict[str, str]]:
    """The lab's config for ze, and the blocks left out because this ze refuses them (with why).

    `validate(text) -> list[(line, message)]` checks a text (default: ze's own config loader)."""
    text = render(
        (TEMPLATES / "ze-lab.conf.in").read_text(encoding="utf-8"),
        socket=st.socket,
        ze_ip=ZE_IP,
        ze_as=ZE_AS,
        up_ip=UP_IP,
        up_as=UP_AS,
        md5=st.md5,
        tx_dev="tx0",
        pin_dir=st.pin_dir,  # the lab's own pins (down removes them), never a system ze's
        state_dir=st.dir,
    )
    check = validate or _validate
    left: dict[str, str] = {}
    for _ in range(len(blocks(text)) + 1):
        problems = check(text)
        if not problems:
            return text, left
        spans = blocks(text)
        hit = {}
        for line, msg in problems:
            for name, (a, b) in spans.items():
                if a <= line <= b:
                    hit.setdefault(name, msg)
        if not hit:
            raise LabError("the lab's config for ze is refused: " + "; ".join(m for _, m in problems[:3]))
        for name, msg in hit.items():
            text = drop_block(text, name, msg)
            left[name] = msg
    raise LabError("the lab's config for ze is still refused after leaving out every optional block")


def _validate(text: str) -> list[tuple[int, str]]:
    import tempfile

    from ze.config.errors import ConfigProblems
    from ze.config.resolve import load_config
    from ze.config.schema import load_schema

    try:  # the schema the daemon runs on: the core modules and those of the features discovered
        from ze.hub.discovery import discover, yang_files

        schema = load_schema(extra=yang_files(discover()))
    except ImportError:  # a ze without discovery: the core modules
        schema = load_schema()
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
        f.write(text)
        f.flush()
        try:
            load_config(Path(f.name), schema)
        except ConfigProblems as e:
            return [(p.loc.line if p.loc else 0, p.message) for p in e.problems]
    return []


def bird_config(st: State) -> str:
    lines = "\n".join(f"    route {n} blackhole;" for n in routes(st.prefixes, st.plen))
    return render(
        (TEMPLATES / "bird.conf.in").read_text(encoding="utf-8"),
        routes=lines,
        count=st.prefixes,
        plen=st.plen,
        up_ip=UP_IP,
        up_as=UP_AS,
        ze_ip=ZE_IP,
        ze_as=ZE_AS,
        md5=st.md5,
    )


# --- up and down ----------------------------------------------------------------------------


def _make_network(st: State) -> None:
    ns = st.namespaces
    for role in ROLES:
        _run(["ip", "netns", "add", ns[role]])
        ns_run(ns[role], "ip", "link", "set", "lo", "up")
    for (ra, da), (rb, db) in LINKS:
        _run(["ip", "link", "add", da, "netns", ns[ra], "type", "veth", "peer", "name", db, "netns", ns[rb]])
    for (role, dev), addr in ADDRESSES.items():
        ns_run(ns[role], "ip", "addr", "add", addr, "dev", dev)
        ns_run(ns[role], "ip", "link", "set", dev, "up")
    for role in ("ze", "up"):
        ns_run(ns[role], "sysctl", "-qw", "net.ipv4.ip_forward=1")
        ns_run(ns[role], "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0")
    ns_run(ns["tx"], "ip", "route", "add", "default", "via", TX_NET[1].split("/")[0])
    ns_run(ns["up"], "ip", "route", "add", str(ROUTE_BASE), "via", SINK_NET[1].split("/")[0])
    ns_run(ns["up"], "ip", "route", "add", TX_NET[0].rsplit(".", 1)[0] + ".0/24", "via", ZE_IP)


def _spawn(st: State, role: str, argv: list[str], log_name: str, env: dict[str, str] | None = None) -> Proc:
    log = Path(st.dir) / log_name
    with open(log, "ab") as out:
        p = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives `ze lab up`; Ctrl-C in a terminal does not reach it
            env=env,
            cwd=st.dir,
        )
    proc = Proc(role, p.pid, "", argv, str(log))
    for _ in range(50):
        proc.start = proc_start(p.pid)
        if proc.start:
            break
        time.sleep(0.01)
    st.procs.append(proc)
    save_state(st)
    return proc


def _wait(cond, timeout: float, what: str, log: str | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    tail = ""
    if log:
        with contextlib.suppress(OSError):
            tail = ": " + " | ".join(Path(log).read_text(errors="replace").strip().splitlines()[-5:])
    raise LabError(f"{what} did not happen within {timeout:.0f} s{tail}")


def up(
    name: str = DEFAULT_NAME,
    *,
    prefixes: int = 2000,
    plen: int = 26,
    pps: int = 200,
    seconds: int = 3600,
    python: str = sys.executable,
    say=lambda msg: None,
) -> State:
    """Make the lab; on any failure, undo what was made and raise LabError."""
    check_can_run()
    if not 1 <= prefixes <= 2 ** (plen - ROUTE_BASE.prefixlen):
        raise LabError(f"{prefixes} /{plen} prefixes do not fit in {ROUTE_BASE}")
    old = load_state(name)
    if old is not None and any(alive(p) for p in old.procs):
        raise LabError(
            f"a lab named {name} is already up: `ze lab status --name {name}`, or `ze lab down --name {name}`"
        )
    if old is not None or leftovers(name):
        say(f"cleaning what a lab named {name} left behind ({', '.join(leftovers(name))})")
        down(name)
    d = state_dir(name)
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o750)
    st = State(
        name=name,
        dir=str(d),
        namespaces=namespaces_of(name),
        socket=str(d / "ze.sock"),
        bird_socket=str(d / "bird.ctl"),
        pin_dir=f"{BPFFS}/{name}",
        prefixes=prefixes,
        plen=plen,
        pps=pps,
        seconds=seconds,
        md5=f"lab-{os.urandom(6).hex()}",
        started=time.time(),
    )
    save_state(st)
    try:
        say(f"namespaces {', '.join(st.namespaces.values())}")
        _make_network(st)
        ns = st.namespaces
        say(f"BIRD in {ns['up']}: {prefixes} routes /{plen} from {ROUTE_BASE}, eBGP with TCP-MD5 and GTSM")
        (d / "bird.conf").write_text(bird_config(st), encoding="utf-8")
        _run(["bird", "-p", "-c", str(d / "bird.conf")])  # parse check
        bird = _spawn(st, "bird", in_ns(ns["up"], "bird", "-f", "-c", str(d / "bird.conf"), "-s", st.bird_socket),
                      "bird.log")  # fmt: skip
        _wait(
            lambda: os.path.exists(st.bird_socket) or not alive(bird), 15, "BIRD's control socket", bird.log
        )
        if not alive(bird):
            raise LabError(f"BIRD exited: see {bird.log}")
        text, left = ze_config(st)
        st.config_left_out = left
        for block, why in left.items():
            say(f"config: block {block} left out: this ze refuses it ({why})")
        (d / "ze.conf").write_text(text, encoding="utf-8")
        ze = _start_ze(st, python, say)
        if not alive(ze) and "plugin" in blocks(text) and "plugin" in _last_line(ze.log):
            # ze refused to run with its plugins: run it without them, and say why.
            why = _last_line(ze.log).removeprefix("ze: error: ")
            st.procs.remove(ze)
            text = drop_block(text, "plugin", f"ze exited at start with it: {why}")
            st.config_left_out["plugin"] = f"ze exited at start with it: {why}"
            say(f"config: block plugin left out: ze exited at start with it ({why})")
            (d / "ze.conf").write_text(text, encoding="utf-8")
            ze = _start_ze(st, python, say)
        if not alive(ze):
            raise LabError(f"ze exited: {' | '.join(Path(ze.log).read_text().strip().splitlines()[-5:])}")
        say(f"sender in {ns['tx']}: UDP at {pps} packets/s for at most {seconds} s")
        _spawn(st, "sender", in_ns(ns["tx"], python, "-m", "ze.lab.sender", "--pps", str(pps),
               "--seconds", str(seconds), "--count", str(prefixes), "--plen", str(plen),
               "--base", str(ROUTE_BASE.network_address)), "sender.log")  # fmt: skip
        save_state(st)
        return st
    except BaseException:
        down(name)
        raise


STARTUP_GRACE = 3.0  # seconds ze must stay up after its control socket answers (plugins start then)


def _start_ze(st: State, python: str, say) -> Proc:
    d = Path(st.dir)
    say(f"ze in {st.namespaces['ze']}: {python} -m ze.cli.main run {d / 'ze.conf'}")
    env = {**os.environ, "ZE_SOCKET": st.socket}  # pin and state dirs are in its config
    env.pop("NOTIFY_SOCKET", None)
    argv = in_ns(st.namespaces["ze"], python, "-m", "ze.cli.main", "run", str(d / "ze.conf"))
    ze = _spawn(st, "ze", argv, "ze.log", env)
    _wait(lambda: _answers(st.socket) or not alive(ze), 60, "ze's control socket", ze.log)
    deadline = time.monotonic() + STARTUP_GRACE
    while alive(ze) and time.monotonic() < deadline:
        time.sleep(0.1)
    return ze


def _last_line(log: str) -> str:
    """ze's last `ze: error:` line in its log ("" if none)."""
    try:
        lines = [
            ln for ln in Path(log).read_text(errors="replace").splitlines() if ln.startswith("ze: error:")
        ]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def _answers(path: str) -> bool:
    import socket

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(0.5)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def stop(p: Proc, timeout: float = 10.0) -> bool:
    """SIGTERM the process (and its session: nsenter's child), SIGKILL after timeout. True if it was alive."""
    if not alive(p):
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, sig)  # its own session and group (start_new_session): nsenter and its child
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else 5)
        while time.monotonic() < deadline and alive(p):
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(p.pid, os.WNOHANG)
            time.sleep(0.05)
        if not alive(p):
            return True
    return True


def ns_pids(ns: str) -> list[int]:
    r = _run(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in r.stdout.split() if x.isdigit()]


def down(name: str = DEFAULT_NAME, say=lambda msg: None) -> dict:
    """Stop the lab's processes by PID, delete its namespaces, pins and state; what was removed."""
    st = load_state(name)
    out: dict[str, list] = {"stopped": [], "namespaces": [], "unpinned": [], "dirs": []}
    nss = namespaces_of(name)
    if st is not None:
        # Sender first, ze next (it may detach and unpin), BIRD last.
        order = {"sender": 0, "ze": 1, "bird": 2}
        for p in sorted(st.procs, key=lambda p: order.get(p.role, 9)):
            if stop(p):
                out["stopped"].append(f"{p.role} {p.pid}")
                say(f"stopped {p.role} (pid {p.pid})")
    for role, ns in nss.items():
        if not Path(f"/run/netns/{ns}").exists():
            continue
        # Anything still running inside (started by hand in the lab): by PID, in this namespace only.
        for pid in ns_pids(ns):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                out["stopped"].append(f"{role}-ns {pid}")
        _run(["ip", "netns", "del", ns], check=False)
        out["namespaces"].append(ns)
        say(f"deleted namespace {ns}")
    pin_dir = Path(st.pin_dir if st else f"{BPFFS}/{name}")
    if pin_dir.is_dir():
        for f in sorted(pin_dir.iterdir()):
            with contextlib.suppress(OSError):
                f.unlink()
                out["unpinned"].append(str(f))
        with contextlib.suppress(OSError):
            pin_dir.rmdir()
        say(f"removed the eBPF pins {pin_dir}")
    d = state_dir(name)
    if d.exists():
        shutil.rmtree(d, ignore_errors=True)
        out["dirs"].append(str(d))
    with contextlib.suppress(OSError):
        RUN_DIR.rmdir()  # only when no other lab is up
    return out


def leftovers(name: str = DEFAULT_NAME) -> list[str]:
    """What of a lab is still there (nothing after down())."""
    out = [f"namespace {n}" for n in namespaces_of(name).values() if Path(f"/run/netns/{n}").exists()]
    if state_dir(name).exists():
        out.append(f"dir {state_dir(name)}")
    if Path(f"{BPFFS}/{name}").exists():
        out.append(f"pins {BPFFS}/{name}")
    return out
