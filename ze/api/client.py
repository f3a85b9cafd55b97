"""A blocking client of the control socket (the `ze` CLI uses it; scripts may too)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

from ze.core.errors import ZeError
from ze.plugin.protocol import line

DEFAULT_SOCKET = "/run/ze/ze.sock"


def default_socket() -> str:
    return os.environ.get("ZE_SOCKET") or DEFAULT_SOCKET


class Unreachable(ZeError):
    """No ze answers on the socket."""


class RemoteError(ZeError):
    """The daemon answered `error`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Client:
    def __init__(self, path: str | Path | None = None, timeout: float = 30.0) -> None:
        self.path = str(path or default_socket())
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._decoder = line.LineDecoder()
        self._next_id = 1

    def connect(self) -> Client:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.path)
        except FileNotFoundError:
            s.close()
            raise Unreachable(f"ze is not running (no control socket at {self.path})") from None
        except ConnectionRefusedError:
            s.close()
            raise Unreachable(f"ze is not running (nobody answers at {self.path})") from None
        except PermissionError:
            s.close()
            raise Unreachable(f"permission denied on {self.path} (are you in ze's group?)") from None
        except OSError as e:
            s.close()
            raise Unreachable(f"cannot reach ze at {self.path}: {e.strerror or e}") from None
        self._sock = s
        return self

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Client:
        return self.connect() if self._sock is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Send one request and wait for its response; RemoteError on `error`."""
        if self._sock is None:
            self.connect()
        assert self._sock is not None
        mid = self._next_id
        self._next_id += 1
        self._sock.sendall(line.request(mid, method, params))
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Unreachable(f"no answer from ze within {self.timeout:g}s")
            self._sock.settimeout(left)
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                raise Unreachable(f"no answer from ze within {self.timeout:g}s") from None
            if not data:
                raise Unreachable("ze closed the connection")
            for item in self._decoder.feed(data):
                if isinstance(item, line.ProtocolError):
                    raise RemoteError(item.code, f"bad line from ze: {item.message}")
                if item.id != mid:
                    continue
                if item.verb == line.ERROR:
                    p = item.payload if isinstance(item.payload, dict) else {}
                    raise RemoteError(str(p.get("code", "error")), str(p.get("message", "")))
                return item.payload


def call(
    method: str, params: dict[str, Any] | None = None, path: str | None = None, timeout: float = 30.0
) -> Any:
    """One request on a fresh connection."""
    with Client(path, timeout) as c:
        return c.call(method, params)
