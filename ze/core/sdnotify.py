"""systemd's notify protocol (sd_notify), stdlib only: READY=1, STATUS=, STOPPING=1, WATCHDOG=1.

Under `Type=notify` systemd passes $NOTIFY_SOCKET (a unix datagram socket; a leading "@" names
the abstract namespace) and, with `WatchdogSec=`, $WATCHDOG_USEC (and $WATCHDOG_PID, the process
meant). Without $NOTIFY_SOCKET every call does nothing, so ze runs the same by hand.

`started(loop)` is what the daemon calls once its control socket is up: READY=1 now, then
WATCHDOG=1 every half watchdog interval from the event loop itself, so a loop that hangs stops
the pings and systemd restarts ze. It returns the function to call when stopping (STOPPING=1).
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Mapping


class Notifier:
    """One connection to $NOTIFY_SOCKET (none: every send is a no-op returning False)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.path = env.get("NOTIFY_SOCKET", "")
        self.interval = watchdog_interval(env)
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.path)

    def _address(self) -> str | bytes:
        if self.path.startswith("@"):
            return b"\0" + self.path[1:].encode()
        return self.path

    def send(self, *fields: str) -> bool:
        """Send `KEY=VALUE` lines in one datagram; False when there is no socket or it fails."""
        if not self.path:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.connect(self._address())
            self._sock.send("\n".join(fields).encode())
            return True
        except OSError:
            self.close()
            return False

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1", f"MAINPID={os.getpid()}", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def ping(self) -> bool:
        return self.send("WATCHDOG=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """The watchdog timeout in seconds asked of this process, or None (none, or meant for another pid)."""
    env = os.environ if env is None else env
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and (not pid.isdigit() or int(pid) != os.getpid()):
        return None
    return int(usec) / 1_000_000


def started(
    loop: asyncio.AbstractEventLoop, status: str = "", env: Mapping[str, str] | None = None
) -> Callable[[], None]:
    """READY=1 now and WATCHDOG=1 every half interval on `loop`; returns stop() (STOPPING=1)."""
    n = Notifier(env)
    if not n.enabled:
        return lambda: None
    n.ready(status)
    handle: list[asyncio.TimerHandle] = []

    def pet() -> None:
        n.ping()
        if n.interval:
            handle[:] = [loop.call_later(n.interval / 2, pet)]

    if n.interval:
        pet()

    def stop() -> None:
        for h in handle:
            h.cancel()
        n.stopping()
        n.close()

    return stop
