"""How a plugin reaches ze: TLS connect-back (with certificate pinning), stdin/stdout, or the
in-memory pipe of an in-process plugin. Each `open(feed, lost)` returns the send function;
`feed(bytes)` gets what ze writes, `lost(reason)` is called once when the connection ends."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import ssl
import sys
from collections.abc import Callable
from typing import Any

from ze.core.errors import ZeError
from ze.plugin.protocol import line
from ze.plugin.protocol.mux import MemoryEnd

Feed = Callable[[bytes], None]
Lost = Callable[[str], None]


class ConnectError(ZeError):
    """The plugin could not connect or authenticate."""


class Transport:
    kind = "none"

    async def open(self, feed: Feed, lost: Lost) -> Callable[[bytes], None]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class MemoryTransport(Transport):
    kind = "memory"

    def __init__(self, end: MemoryEnd) -> None:
        self.end = end

    async def open(self, feed: Feed, lost: Lost) -> Callable[[bytes], None]:
        self.end.on_data = feed
        self.end.on_close = lost
        return self.end.write

    def close(self) -> None:
        self.end.close("plugin closed")


async def _pump(reader: asyncio.StreamReader, feed: Feed, lost: Lost) -> None:
    reason = "ze closed the connection"
    try:
        while True:
            data = await reader.read(1 << 16)
            if not data:
                break
            feed(data)
    except (ConnectionError, ssl.SSLError, OSError) as e:
        reason = f"connection error: {e}"
    finally:
        lost(reason)


class TlsTransport(Transport):
    """TLS 1.3 to ze's hub listener; the server certificate must hash to `fingerprint`
    (lowercase hex SHA-256 of its DER) unless `pin` is False."""

    kind = "tls"

    def __init__(
        self, host: str, port: int, token: str, name: str, fingerprint: str, pin: bool = True
    ) -> None:
        self.host, self.port, self.token, self.name = host, port, token, name
        self.fingerprint = fingerprint.lower()
        self.pin = pin
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task | None = None

    async def open(self, feed: Feed, lost: Lost) -> Callable[[bytes], None]:
        if self.pin and not self.fingerprint:
            raise ConnectError("no ZE_PLUGIN_CERT_FP to pin ze's certificate to (pin=False to skip pinning)")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # self-signed: the pin below is the check
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, ssl=ctx, limit=line.MAX_LINE + 2), 10
            )
        except (OSError, TimeoutError) as e:
            raise ConnectError(f"cannot connect to ze at {self.host}:{self.port}: {e}") from None
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        got = hashlib.sha256(der).hexdigest()
        if self.pin and got != self.fingerprint:
            writer.close()
            raise ConnectError(f"ze's certificate fingerprint {got} is not the pinned {self.fingerprint}")
        writer.write(line.encode(0, "auth", {"token": self.token, "name": self.name}))
        try:
            raw = await asyncio.wait_for(reader.readline(), 10)
        except (OSError, TimeoutError) as e:
            writer.close()
            raise ConnectError(f"no answer to auth: {e}") from None
        try:
            reply = line.decode(raw)
        except line.ProtocolError:
            writer.close()
            raise ConnectError(f"bad answer to auth: {raw[:200]!r}") from None
        if reply.verb != line.OK:
            writer.close()
            msg = reply.payload.get("message", "") if isinstance(reply.payload, dict) else ""
            raise ConnectError(f"ze refused the plugin: {msg or reply.payload}")
        self._writer = writer
        self._task = asyncio.get_running_loop().create_task(_pump(reader, feed, lost))
        return writer.write

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._task is not None:
            self._task.cancel()


class StdioTransport(Transport):
    """The debug mode: the same lines on stdin (from ze) and stdout (to ze)."""

    kind = "stdio"

    def __init__(self) -> None:
        self._task: asyncio.Task | None = None

    async def open(self, feed: Feed, lost: Lost) -> Callable[[bytes], None]:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=line.MAX_LINE + 2)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        out = sys.stdout.buffer

        def send(data: bytes) -> None:
            with contextlib.suppress(BrokenPipeError):
                out.write(data)
                out.flush()

        self._task = loop.create_task(_pump(reader, feed, lost))
        return send

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()


def from_env(name: str | None, pin: bool = True, env: Any = None) -> tuple[str, Transport]:
    """The plugin's name and transport from ZE_PLUGIN_*; the token is removed from os.environ."""
    environ = os.environ if env is None else env
    pname = environ.get("ZE_PLUGIN_NAME") or name
    if not pname:
        raise ConnectError("no plugin name: pass one or set ZE_PLUGIN_NAME")
    port = environ.get("ZE_PLUGIN_HUB_PORT")
    if not port or environ.get("ZE_PLUGIN_STDIO") == "1":
        return pname, StdioTransport()
    token = environ.pop("ZE_PLUGIN_HUB_TOKEN", "")
    if not token:
        raise ConnectError("ZE_PLUGIN_HUB_TOKEN is not set (was the plugin started by ze?)")
    if environ.get("ZE_PLUGIN_INSECURE") == "1":
        pin = False
    host = environ.get("ZE_PLUGIN_HUB_HOST", "127.0.0.1")
    return pname, TlsTransport(host, int(port), token, pname, environ.get("ZE_PLUGIN_CERT_FP", ""), pin)
