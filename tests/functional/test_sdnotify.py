"""ze under systemd's notify protocol, without systemd: the test binds NOTIFY_SOCKET, starts
`ze run` with WATCHDOG_USEC and reads READY=1 (once the control socket is up), WATCHDOG=1 at half
the interval, and STOPPING=1 on SIGTERM."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest


@pytest.fixture
def listener(tmp_path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify"
    s.bind(str(path))
    yield str(path), s
    s.close()


def recv(s: socket.socket) -> list[str]:
    return s.recv(4096).decode().split("\n")


def test_daemon_notifies(listener, tmp_path):
    path, s = listener
    conf = tmp_path / "ze.conf"
    conf.write_text("bgp { router-id 127.0.0.1; local-as 65000; }\n")
    sock = tmp_path / "ze.sock"
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000", "ZE_SOCKET": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ze.cli.main", "run", str(conf), "--socket", str(sock)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        s.settimeout(20)
        first = recv(s)
        assert first[:2] == ["READY=1", f"MAINPID={proc.pid}"]
        assert first[2] == f"STATUS=serving on {sock}"
        assert sock.exists()  # READY only once the control socket answers
        s.settimeout(2)
        assert [recv(s), recv(s), recv(s)] == [["WATCHDOG=1"]] * 3
        proc.terminate()
        got = []
        while got != ["STOPPING=1"]:
            got = recv(s)
            assert got in (["WATCHDOG=1"], ["STOPPING=1"])
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
