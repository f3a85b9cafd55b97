"""The .deb on this machine: build it (packaging/build-deb), lintian with no errors, install it
(dpkg -i), check what it installs, verify the unit, start ze as the unit says (user ze, the unit's
capabilities through setpriv, NOTIFY_SOCKET bound here: READY=1), reload it as ExecReload does,
load the eBPF programs as user ze (no CAP_SYS_ADMIN), then remove and purge it: no process, no
user, no files left.

`make test-deb` runs this (CI after `make test`; ZE_TEST_DEB=1, else it skips). ZE_DEB=path
reuses a built package. Needs root and Debian's dpkg tools (scripts/bootstrap installs them); the
tests run in order, on one install.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
UNIT = Path("/lib/systemd/system/ze.service")
VENV = Path("/opt/venvs/ze")
CLEAN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"

pytestmark = [pytest.mark.root, pytest.mark.slow]

if os.environ.get("ZE_TEST_DEB") != "1":
    pytest.skip(
        "the package tests install it on this machine: run them with make test-deb", allow_module_level=True
    )
if os.geteuid() != 0:
    pytest.skip("installing the .deb needs root", allow_module_level=True)
for tool in ("dpkg-buildpackage", "dh_virtualenv", "lintian", "setpriv", "systemd-analyze"):
    if shutil.which(tool, path=CLEAN_PATH) is None:
        pytest.skip(f"{tool} is missing: run scripts/bootstrap", allow_module_level=True)


def run(*cmd: str, check: bool = True, timeout: float = 120, **kw) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, cwd="/", **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {r.returncode}: {r.stdout[-2000:]} {r.stderr[-2000:]}")
    return r


def installed() -> bool:
    r = run("dpkg-query", "-W", "-f=${Status}", "ze", check=False)
    return r.stdout.startswith("install ok installed")


def ze_processes() -> list[int]:
    """PIDs running the package's interpreter (what prerm stops)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].startswith(str(VENV / "bin" / "python").encode()):
                out.append(int(d.name))
    return out


def purge() -> None:
    run("dpkg", "--purge", "ze", check=False, timeout=120)


@pytest.fixture(scope="module")
def deb(tmp_path_factory) -> Path:
    given = os.environ.get("ZE_DEB")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("deb")
    t0 = time.monotonic()
    r = run(str(TOP / "packaging" / "build-deb"), str(out), timeout=600)
    print(f"\nbuild-deb: {time.monotonic() - t0:.0f} s")
    return Path(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def package(deb):
    purge()  # a previous run's leftovers
    run("dpkg", "-i", str(deb), timeout=300)
    try:
        yield deb
    finally:
        purge()


def unit_settings(path: Path = UNIT) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            k, v = line.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def test_lintian_has_no_errors(deb):
    r = run("lintian", "--tag-display-limit", "0", str(deb), check=False, timeout=300)
    errors = [ln for ln in r.stdout.splitlines() if ln.startswith("E:")]
    assert errors == [], "\n".join(errors)
    assert r.returncode == 0, r.stdout + r.stderr


def test_package_metadata(deb):
    fields = run("dpkg-deb", "-f", str(deb), "Package", "Version", "Architecture", "Depends").stdout
    assert "Package: ze\n" in fields and "Architecture: amd64" in fields
    from ze import __version__

    assert f"Version: {__version__}" in fields
    depends = fields.split("Depends:", 1)[1]
    for dep in ("python3-bpfcc", "python3 (>= 3.11)", "iproute2", "adduser"):
        assert dep in depends
    assert run("dpkg-deb", "-I", str(deb), "conffiles").stdout.split() == ["/etc/ze/ze.conf"]


def test_installed_files(package):
    assert os.readlink("/usr/bin/ze") == str(VENV / "bin" / "ze")
    assert sorted(p.name for p in Path("/usr/share/ze/yang").glob("*.yang")) == sorted(
        p.name for p in (TOP / "yang").glob("*.yang")
    )
    assert Path("/etc/ze/ze.conf").read_text() == (TOP / "packaging" / "etc" / "ze.conf").read_text()
    assert UNIT.read_text() == (TOP / "packaging" / "systemd" / "ze.service").read_text()
    # What the unit's Documentation= names.
    assert Path("/usr/share/doc/ze/README.md").read_text() == (TOP / "README.md").read_text()
    assert Path("/usr/share/man/man1/ze.1.gz").is_file()
    # The venv: Debian's python3, Debian's bcc through one symlink, the C helper compiled.
    assert os.readlink(VENV / "bin" / "python3") == "/usr/bin/python3"
    site = next((VENV / "lib").glob("python3.*/site-packages"))
    assert os.readlink(site / "bcc") == "/usr/lib/python3/dist-packages/bcc"
    py = str(VENV / "bin" / "python")
    r = run(py, "-c", "import bcc, ze, ze._native as n, msgspec, uvloop; print(n.BACKEND, ze.__file__)")
    backend, where = r.stdout.split()
    assert backend == "cffi" and where.startswith(str(site))
    # Nothing of the build tree leaked into the package.
    r = run("grep", "-rIl", "--exclude=*.pyc", str(TOP / "build"), str(VENV), check=False)
    assert r.stdout == ""


def test_user_and_permissions(package):
    pw = pwd.getpwnam("ze")
    assert pw.pw_dir == "/var/lib/ze" and pw.pw_shell == "/usr/sbin/nologin" and pw.pw_uid < 1000
    st = os.stat("/etc/ze/ze.conf")
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, pw.pw_gid, 0o640)
    st = os.stat("/var/lib/ze")
    assert (st.st_uid, st.st_gid) == (pw.pw_uid, pw.pw_gid)


def test_cli(package):
    from ze import __version__

    assert run("ze", "--version", env={"PATH": CLEAN_PATH}).stdout.strip() == f"ze {__version__}"
    r = run("ze", "config", "validate", "/etc/ze/ze.conf", env={"PATH": CLEAN_PATH})
    assert r.stdout.startswith("/etc/ze/ze.conf: ok")
    # Package data beyond the code: the lab's templates, the eBPF program source.
    site = next((VENV / "lib").glob("python3.*/site-packages"))
    for rel in ("ze/lab/ze-lab.conf.in", "ze/lab/bird.conf.in", "ze/bpf/prog/counter.bpf.c"):
        assert (site / rel).is_file(), rel
    r = run("ze", "lab", "status", "--name", "ze-deb-none", check=False, env={"PATH": CLEAN_PATH})
    assert (r.returncode, r.stderr) == (
        1,
        "ze: error: no lab named ze-deb-none is up (ze lab up --name ze-deb-none)\n",
    )


def test_unit_verifies(package):
    r = run("systemd-analyze", "verify", str(UNIT), check=False)
    assert r.returncode == 0, r.stderr
    u = unit_settings()
    assert u["Type"] == ["notify"] and u["User"] == ["ze"] and u["RuntimeDirectory"] == ["ze"]
    assert u["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    caps = {"CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_BPF", "CAP_PERFMON"}
    assert set(u["AmbientCapabilities"][0].split()) == caps
    assert set(u["CapabilityBoundingSet"][0].split()) == caps
    # systemd's own rating of the sandbox (0 best, 10 worst), read offline from the file.
    r = run("systemd-analyze", "security", "--offline=yes", str(UNIT), check=False)
    m = re.search(r"Overall exposure level for ze.service: ([0-9.]+)", r.stdout)
    assert m, r.stdout[-500:] + r.stderr
    print(f"\nsystemd-analyze security: exposure {m.group(1)}")
    assert float(m.group(1)) <= 3.5


class Service:
    """What systemd does for ze.service, by hand: runtime/state/cache directories, ExecStartPre
    with "+", then ExecStart as User= with the unit's capabilities, Environment=, UMask= and a
    NOTIFY_SOCKET of ours."""

    def __init__(self, tmp: Path) -> None:
        self.u = unit_settings()
        # Where user ze can reach it (pytest's tmp dirs are private to root), as systemd's is.
        self.notify_dir = Path(tempfile.mkdtemp(prefix="ze-deb-notify-", dir="/run"))
        self.notify_dir.chmod(0o755)
        self.notify_path = self.notify_dir / "notify"
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(self.notify_path))
        os.chmod(self.notify_path, 0o777)  # user ze writes to it
        self.notify.settimeout(30)
        self.log = tmp / "ze.log"
        self.proc: subprocess.Popen | None = None
        self.pw = pwd.getpwnam(self.u["User"][0])

    def caps(self) -> str:
        names = self.u["AmbientCapabilities"][0].split()
        return ",".join(["-all", *(f"+{c.removeprefix('CAP_').lower()}" for c in names)])

    def wrap(self, argv: list[str]) -> list[str]:
        caps = self.caps()
        return ["setpriv", f"--reuid={self.pw.pw_uid}", f"--regid={self.pw.pw_gid}", "--init-groups",
                f"--inh-caps={caps}", f"--ambient-caps={caps}", f"--bounding-set={caps}",
                "--no-new-privs", "--", *argv]  # fmt: skip

    def env(self) -> dict[str, str]:
        env = {"PATH": CLEAN_PATH, "LANG": "C.UTF-8", "HOME": self.pw.pw_dir, "USER": "ze",
               "LOGNAME": "ze", "NOTIFY_SOCKET": str(self.notify_path)}  # fmt: skip
        usec = int(self.u["WatchdogSec"][0].removesuffix("s")) * 1_000_000
        env["WATCHDOG_USEC"] = str(usec)
        for item in self.u.get("Environment", []):
            for kv in item.split():
                k, v = kv.split("=", 1)
                env[k] = v
        return env

    def start(self) -> list[str]:
        for d, mode in (
            ("/run", self.u["RuntimeDirectoryMode"][0]),
            ("/var/lib", "0750"),
            ("/var/cache", "0755"),
        ):
            run("install", "-d", "-o", "ze", "-g", "ze", "-m", mode, f"{d}/ze")
        for pre in self.u.get("ExecStartPre", []):
            assert pre.startswith("+"), pre  # only privileged pre-steps in this unit
            run(*pre[1:].split())
        umask = self.u["UMask"][0]
        self.proc = subprocess.Popen(
            ["sh", "-c", f'umask {umask} && exec "$@"', "sh", *self.wrap(self.u["ExecStart"][0].split())],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=open(self.log, "wb"),
            stderr=subprocess.STDOUT,
            cwd="/",
        )
        return self.recv()

    def recv(self) -> list[str]:
        try:
            return self.notify.recv(4096).decode().split("\n")
        except TimeoutError:
            raise AssertionError(f"no notification; log: {self.log.read_text()[-2000:]}") from None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.notify.close()
        shutil.rmtree(self.notify_dir, ignore_errors=True)


def test_service_starts_reloads_and_loads_bpf(package, tmp_path):
    svc = Service(tmp_path)
    try:
        ready = svc.start()
        assert ready[:2] == ["READY=1", f"MAINPID={svc.proc.pid}"], ready
        assert svc.recv() == ["WATCHDOG=1"]
        # The control socket: /run/ze/ze.sock, group ze, 0660; the CLI talks to it.
        st = os.stat("/run/ze/ze.sock")
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (svc.pw.pw_uid, svc.pw.pw_gid, 0o660)
        status = json.loads(run("ze", "show", "status", "--json", env={"PATH": CLEAN_PATH}).stdout)
        assert status["data"]["status"]["pid"] == svc.proc.pid
        # The process: user ze with exactly the unit's capabilities.
        proc_status = Path(f"/proc/{svc.proc.pid}/status").read_text()
        fields = dict(ln.split(":\t", 1) for ln in proc_status.splitlines() if ":\t" in ln)
        assert fields["Uid"].split()[0] == str(svc.pw.pw_uid)
        # NET_BIND_SERVICE 10, NET_ADMIN 12, NET_RAW 13, PERFMON 38, BPF 39
        want = (1 << 10) | (1 << 12) | (1 << 13) | (1 << 38) | (1 << 39)
        assert int(fields["CapEff"], 16) == want and int(fields["CapBnd"], 16) == want
        # ExecReload: SIGHUP reloads.
        os.kill(svc.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status = json.loads(run("ze", "show", "status", "--json").stdout)["data"]["status"]
            if status["reloads"]["unchanged"] == 1:
                break
            time.sleep(0.1)
        assert status["reloads"] == {"ok": 0, "failed": 0, "unchanged": 1}
        # bcc as user ze with the unit's capabilities: no CAP_SYS_ADMIN needed.
        pin = "/sys/fs/bpf/ze"
        assert os.stat(pin).st_uid == svc.pw.pw_uid  # ExecStartPre made it for ze
        r = run(*svc.wrap([str(VENV / "bin" / "python"), "-m", "ze.bpf.loader", "--pin-dir", pin]),
                env=svc.env(), check=False, timeout=120)  # fmt: skip
        if "kernel headers" in r.stdout or "not importable" in r.stdout:
            pytest.skip(f"bcc cannot run here: {r.stdout}")
        result = json.loads(r.stdout.strip().splitlines()[-1])
        assert result["ok"], result
        assert sorted(os.listdir(pin)) == sorted(
            ["prog_tc", "prog_xdp", "ze_config", "ze_misc", "ze_peer", "ze_top", "ze_v4", "ze_v6"]
        )
    finally:
        svc.stop()
    assert svc.proc.returncode == 0, svc.log.read_text()[-2000:]


def test_remove_stops_ze_and_purge_leaves_nothing(package, tmp_path):
    svc = Service(tmp_path)
    try:
        assert svc.start()[0] == "READY=1"
        assert svc.proc.pid in ze_processes()
        run("dpkg", "-r", "ze", timeout=120)
        # prerm stopped ze (no systemd here to do it) and unpinned the counters.
        assert svc.proc.wait(15) == 0
        assert ze_processes() == []
        assert not os.path.exists("/sys/fs/bpf/ze")
        assert not os.path.exists("/usr/bin/ze") and not VENV.exists() and not UNIT.exists()
        assert os.path.exists("/etc/ze/ze.conf")  # a conffile stays until purge
        run("dpkg", "--purge", "ze", timeout=120)
        for path in ("/etc/ze", "/var/lib/ze", "/var/cache/ze", "/run/ze", "/opt/venvs/ze", "/usr/share/ze",
                     "/etc/systemd/system/multi-user.target.wants/ze.service"):  # fmt: skip
            assert not os.path.lexists(path), path
        with pytest.raises(KeyError):
            pwd.getpwnam("ze")
        assert run("getent", "group", "ze", check=False).returncode == 2
        assert not installed()
    finally:
        svc.stop()
