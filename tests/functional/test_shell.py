"""`ze cli` driven through a pty: completion, ? help, commands, history, exit."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time

from tests.functional.conftest import ZE, peers_conf

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][AB0-2]|\x1b[=>]|\r")
FORWARD = re.compile(rb"\x1b\[(\d*)C")


def clean(raw: bytes) -> bytes:
    """Terminal output as text: cursor-forward moves become spaces, other escapes go."""
    raw = FORWARD.sub(lambda m: b" " * int(m.group(1) or 1), raw)
    return ANSI.sub(b"", raw)


class Pty:
    def __init__(self, argv, env):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.seen = b""

    def read_until(self, needle: bytes, timeout: float = 15.0) -> bytes:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = clean(self.seen)
            if needle in text:
                return text
            r, _, _ = select.select([self.master], [], [], 0.1)
            if r:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:
                    break
        raise AssertionError(f"{needle!r} not seen in {clean(self.seen)[-2000:]!r}")

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def mark(self) -> None:
        self.seen = b""

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        os.close(self.master)


def test_interactive_shell(daemon, tmp_path):
    d = daemon(peers_conf(("alpha", 2), ("beta", 3)))
    env = {
        **os.environ,
        "TERM": "xterm",
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "ZE_HISTORY": str(tmp_path / "history"),
        "ZE_SOCKET": str(d.sock),
    }
    t = Pty([*ZE, "cli"], env)
    try:
        t.read_until(b"ze>")
        # Tab completes a command word...
        t.mark()
        t.send(b"sho\t")
        t.read_until(b"show")
        # ... and an argument from the daemon: the only peer starting with 'al'.
        t.send(b" peer al\t")
        t.read_until(b"show peer alpha")
        t.mark()
        t.send(b"\r")
        out = t.read_until(b"since")
        assert b"remote.ip" in out and b"127.0.0.2" in out
        # ? lists what may follow, with help, and leaves the line as it was.
        t.read_until(b"ze>")
        t.mark()
        t.send(b"signal ?")
        out = t.read_until(b"write a status dump to the log (as SIGUSR1) and print it")
        assert b"reload  reload the config file (as SIGHUP)" in out
        # The help is printed outside the prompt; keys typed meanwhile may be lost, so let
        # the prompt come back first.
        t.read_until(b"ze> signal", timeout=15)
        time.sleep(0.5)
        t.send(b"\x15")  # ^U clears the line
        time.sleep(0.2)
        t.mark()
        t.send(b"show peers\r")
        out = t.read_until(b"beta")
        assert re.search(rb"alpha\s+-\s+127\.0\.0\.2\s+65002", out)
        t.mark()
        t.send(b"show pe\t")  # two candidates: the common prefix, and a menu with each one's help
        t.read_until(b"every configured peer and its state")
        t.read_until(b"show peer")
        # A FILE argument completes paths.
        (tmp_path / "unique-name.conf").write_text(peers_conf(("x", 9)))
        t.send(b"\x15")
        time.sleep(0.2)
        t.mark()
        t.send(f"config validate {tmp_path}/uniq\t".encode())
        t.read_until(b"unique-name.conf")
        t.mark()
        t.send(b"\r")
        t.read_until(b"unique-name.conf: ok (1 peers)")
        t.send(b"exit\r")
        assert t.proc.wait(timeout=10) == 0
    finally:
        t.close()
    history = (tmp_path / "history").read_text()
    assert "+show peer alpha" in history and "+show peers" in history
