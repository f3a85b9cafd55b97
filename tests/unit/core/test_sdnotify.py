"""sd_notify: datagrams on a socket the test binds (path and abstract), the watchdog interval,
the pings at half of it."""

from __future__ import annotations

import asyncio
import os
import socket
import time

import pytest

from ze.core import sdnotify


@pytest.fixture
def listener(tmp_path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify"
    s.bind(str(path))
    s.settimeout(5)
    yield str(path), s
    s.close()


def recv(s: socket.socket) -> list[str]:
    return s.recv(4096).decode().split("\n")


def test_no_socket_is_a_no_op():
    n = sdnotify.Notifier({})
    assert not n.enabled
    assert n.ready() is False and n.ping() is False and n.stopping() is False
    assert sdnotify.started(asyncio.new_event_loop(), env={})() is None


def test_ready_status_watchdog_stopping(listener):
    path, s = listener
    n = sdnotify.Notifier({"NOTIFY_SOCKET": path})
    assert n.ready("serving") is True
    assert recv(s) == ["READY=1", f"MAINPID={os.getpid()}", "STATUS=serving"]
    assert n.ping() and recv(s) == ["WATCHDOG=1"]
    assert n.status("3 peers") and recv(s) == ["STATUS=3 peers"]
    assert n.stopping() and recv(s) == ["STOPPING=1"]
    n.close()


def test_abstract_socket():
    name = f"ze-test-notify-{os.getpid()}"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(b"\0" + name.encode())
    s.settimeout(5)
    try:
        n = sdnotify.Notifier({"NOTIFY_SOCKET": "@" + name})
        assert n.ready() and recv(s)[0] == "READY=1"
    finally:
        s.close()


def test_gone_socket_is_not_an_error(tmp_path):
    n = sdnotify.Notifier({"NOTIFY_SOCKET": str(tmp_path / "absent")})
    assert n.ready() is False


def test_watchdog_interval():
    pid = str(os.getpid())
    assert sdnotify.watchdog_interval({}) is None
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": pid}) == 0.5
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": "1"}) is None
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "0"}) is None
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "x"}) is None


def test_started_pets_at_half_the_interval(listener):
    path, s = listener
    loop = asyncio.new_event_loop()
    try:
        stop = sdnotify.started(loop, "up", {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
        assert recv(s)[0] == "READY=1"
        assert recv(s) == ["WATCHDOG=1"]  # at once
        t0 = time.monotonic()
        loop.run_until_complete(asyncio.sleep(0.35))
        pings = []
        s.settimeout(0.01)
        while True:
            try:
                pings.append(recv(s))
            except TimeoutError:
                break
        assert pings == [["WATCHDOG=1"]] * len(pings) and 2 <= len(pings) <= 5, (pings, time.monotonic() - t0)
        s.settimeout(5)
        stop()
        assert recv(s) == ["STOPPING=1"]
    finally:
        loop.close()
