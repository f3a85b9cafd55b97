"""Run `ze run` in a subprocess on a temp config with its control socket in a temp dir."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

import pytest

ZE = [sys.executable, "-m", "ze.cli.main"]


def peers_conf(*peers: tuple[str, int], level: str = "info") -> str:
    body = "\n".join(
        f"    peer {name} {{ remote {{ ip 127.0.0.{i}; as {65000 + i}; }} }}" for name, i in peers
    )
    return (
        f"environment {{ log {{ level {level}; }} }}\n"
        f"bgp {{\n    router-id 127.0.0.1;\n    local-as 65000;\n"
        # No listening socket, no connecting out: these daemons hold sessions that stay "active".
        f"    listen {{ port 0; }}\n    passive true;\n{body}\n}}\n"
    )


def wait_for(cond, timeout: float = 10.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


class Running:
    """`ze run` on tmp/ze.conf (written from `text`), its control socket and log in tmp."""

    start_timeout = 10.0  # seconds until the control socket answers

    def __init__(self, tmp: Path, text: str) -> None:
        self.dir = tmp
        self.conf = tmp / "ze.conf"
        self.conf.write_text(text)
        self.sock = tmp / "run" / "ze.sock"
        self.log = tmp / "ze.log"
        self.proc: subprocess.Popen | None = None

    def wrapper(self) -> list[str]:
        """What runs `ze run` (nothing: here; subclasses enter a network namespace)."""
        return []

    def start(self) -> Self:
        self._logf = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [*self.wrapper(), *ZE, "run", str(self.conf), "--socket", str(self.sock)],
            stdout=self._logf,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ZE_SOCKET": ""},
        )
        wait_for(lambda: self.answers() or self.proc.poll() is not None, self.start_timeout)
        assert self.proc.poll() is None, self.log.read_text()
        return self

    def answers(self) -> bool:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(str(self.sock))
            return True
        except OSError:
            return False
        finally:
            s.close()

    def ze(self, *args: str, timeout: float = 20.0) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*ZE, *args, "--socket", str(self.sock)], capture_output=True, text=True, timeout=timeout
        )

    def json(self, *args: str) -> dict:
        r = self.ze(*args, "--json")
        assert r.returncode == 0, (r.stdout, r.stderr)
        out = json.loads(r.stdout)
        assert out["status"] == "ok"
        return out["data"]

    def logs(self) -> list[dict]:
        out = []
        for line in self.log.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"text": line})
        return out

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._logf.close()


@pytest.fixture
def daemon(tmp_path):
    runs: list[Running] = []

    def start(text: str) -> Running:
        r = Running(tmp_path, text).start()
        runs.append(r)
        return r

    try:
        yield start
    finally:
        for r in runs:
            r.stop()
