"""The control socket server: dispatch, every bad request answered, socket ownership."""

from __future__ import annotations

import asyncio
import os
import socket
import stat

import pytest

from ze.api.client import Client, RemoteError, Unreachable
from ze.api.server import ApiError, ControlServer, SocketInUse, claim


async def _echo(params):
    return {"echo": params}


async def _fail(params):
    raise ApiError("not-found", "no such thing")


async def _crash(params):
    raise RuntimeError("bug")


HANDLERS = {"t:echo": _echo, "t:fail": _fail, "t:crash": _crash}


def _raw(path, data: bytes) -> bytes:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(str(path))
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    s.close()
    return out


def test_dispatch_and_errors(tmp_path):
    path = tmp_path / "s" / "ze.sock"

    async def main():
        server = ControlServer(path, HANDLERS, mode=0o600)
        await server.start()
        try:
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
            loop = asyncio.get_running_loop()
            raw = await loop.run_in_executor(
                None,
                _raw,
                path,
                b'#1 t:echo {"a":1}\n#2 t:fail\n#3 t:crash\n#4 t:ecoh\nnot a line\n#5 ok\n#6 t:echo [1]\n#7 t:echo {bad\n#8 t:echo\n',
            )
            assert raw.decode().splitlines() == [
                '#1 ok {"echo":{"a":1}}',
                '#2 error {"code":"not-found","message":"no such thing"}',
                '#3 error {"code":"internal","message":"t:crash failed: bug"}',
                '#4 error {"code":"unknown-method","message":"no method t:ecoh (did you mean t:echo?)"}',
                '#0 error {"code":"bad-line","message":"a line starts with \'#<id> \'"}',
                '#5 error {"code":"unexpected-response","message":"no request #5 is waiting for a response"}',
                '#6 error {"code":"bad-params","message":"the payload of a request is a JSON object"}',
                '#7 error {"code":"bad-json","message":"payload is not JSON: JSON is malformed: object keys must be strings (byte 1)"}',
                '#8 ok {"echo":{}}',
            ]

            def client_calls():
                with Client(path, timeout=5) as c:
                    assert c.call("t:echo", {"x": [1, 2]}) == {"echo": {"x": [1, 2]}}
                    with pytest.raises(RemoteError) as e:
                        c.call("t:fail")
                    assert (e.value.code, e.value.message) == ("not-found", "no such thing")
                    assert c.call("t:echo") == {"echo": {}}

            await loop.run_in_executor(None, client_calls)
            # A second server on the same path is refused while the first answers.
            with pytest.raises(SocketInUse, match="is in use: another ze is running"):
                claim(path)
        finally:
            await server.close()
        assert not path.exists()

    asyncio.run(main())


def test_stale_socket_is_taken_over(tmp_path):
    path = tmp_path / "ze.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()  # the file stays, nobody listens
    assert path.exists()
    claim(path)
    assert not path.exists()


def test_non_socket_is_refused(tmp_path):
    path = tmp_path / "ze.sock"
    path.write_text("x")
    with pytest.raises(SocketInUse, match="exists and is not a socket"):
        claim(path)


def test_client_unreachable(tmp_path):
    with pytest.raises(Unreachable, match=r"ze is not running \(no control socket at "):
        Client(tmp_path / "none.sock").connect()
