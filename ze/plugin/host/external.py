"""External plugins: spawn (`/bin/sh -c RUN` with the ZE_PLUGIN_* environment), the TLS 1.3
listener they connect back to, and their authentication.

The listener binds the configured hub server (`plugin { hub { server NAME { ip; port; } } }`)
or, when none is configured, 127.0.0.1 on a free port. Each plugin gets a fresh random token
bound to its name; the first line of a connection must be
`#0 auth {"token":"...","name":"..."}` and is answered `#0 ok` or
`#0 error {"code":"auth-failed",...}` and closed. Tokens are compared in constant time
(hmac.compare_digest, also against a dummy for unknown names); at most `max_unauth`
connections may be unauthenticated at once and each has `auth_timeout` seconds. Every
refusal is logged with the remote address and the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import secrets
import shlex
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ze.core.log import get_logger
from ze.plugin.host import tls
from ze.plugin.protocol import line

if TYPE_CHECKING:
    from ze.plugin.host.engine import PluginHandle, PluginHost

log = get_logger("ze.plugin.host")

_DUMMY = secrets.token_urlsafe(32)


def find_executable(run: str, search_dirs: list[str]) -> str:
    """A `run` whose first word is a bare name is looked up in the search dirs (then PATH is
    left to the shell); a path (with a "/") is used as is."""
    try:
        words = shlex.split(run)
    except ValueError:
        return run
    if not words or "/" in words[0]:
        return run
    for d in search_dirs:
        cand = Path(d) / words[0]
        if cand.is_file() and os.access(cand, os.X_OK):
            return shlex.join([str(cand), *words[1:]])
    return run


class Listener:
    def __init__(
        self,
        host: PluginHost,
        server: dict[str, Any],
        *,
        max_unauth: int = 16,
        auth_timeout: float = 5.0,
    ) -> None:
        self.host = host
        first = next(iter((server or {}).values()), {}) if isinstance(server, dict) else {}
        self.ip = str(first.get("ip", "127.0.0.1"))
        self.port = int(first.get("port", 0)) if first else 0
        self.max_unauth = max_unauth
        self.auth_timeout = auth_timeout
        self.material: tls.Material | None = None
        self._server: asyncio.AbstractServer | None = None
        self.tokens: dict[str, str] = {}
        self.waiting: dict[str, asyncio.Future] = {}
        self.unauth = 0
        self.refused = 0
        self.accepted = 0

    async def start(self) -> None:
        self.material = tls.make()
        self._server = await asyncio.start_server(
            self._conn, self.ip, self.port, ssl=self.material.server_context(), limit=line.MAX_LINE + 2
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("plugin hub listening", ip=self.ip, port=self.port, fingerprint=self.material.fingerprint)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    def status(self) -> dict[str, Any]:
        return {
            "ip": self.ip,
            "port": self.port,
            "fingerprint": self.material.fingerprint if self.material else "",
            "accepted": self.accepted,
            "refused": self.refused,
            "unauthenticated": self.unauth,
        }

    def env(self, name: str, token: str) -> dict[str, str]:
        assert self.material is not None
        ip = self.ip if self.ip not in ("0.0.0.0", "::") else "127.0.0.1"
        return {
            "ZE_PLUGIN_HUB_HOST": ip,
            "ZE_PLUGIN_HUB_PORT": str(self.port),
            "ZE_PLUGIN_HUB_TOKEN": token,
            "ZE_PLUGIN_CERT_FP": self.material.fingerprint,
            "ZE_PLUGIN_NAME": name,
        }

    # --- authentication ------------------------------------------------------------------
    def _refuse(self, writer: asyncio.StreamWriter, peer: Any, name: str, reason: str) -> None:
        self.refused += 1
        log.warning("plugin connection refused", remote=str(peer), plugin=name, reason=reason)
        with contextlib.suppress(Exception):
            writer.write(line.error(0, "auth-failed", reason))
            writer.close()

    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        if self.unauth >= self.max_unauth:
            self._refuse(writer, peer, "", f"too many unauthenticated connections ({self.max_unauth})")
            return
        self.unauth += 1
        try:
            try:
                raw = await asyncio.wait_for(reader.readline(), self.auth_timeout)
            except (TimeoutError, OSError, ValueError) as e:
                self._refuse(
                    writer, peer, "", f"no auth line within {self.auth_timeout} s ({type(e).__name__})"
                )
                return
        finally:
            self.unauth -= 1
        if not raw:
            self.refused += 1
            log.info("plugin connection closed before auth", remote=str(peer))
            writer.close()
            return
        try:
            msg = line.decode(raw)
        except line.ProtocolError as e:
            self._refuse(writer, peer, "", f"bad auth line: {e.message}")
            return
        p = msg.payload if isinstance(msg.payload, dict) else {}
        name, token = str(p.get("name", "")), str(p.get("token", ""))
        if msg.id != 0 or msg.verb != "auth":
            self._refuse(writer, peer, name, "the first line must be #0 auth {...}")
            return
        expected = self.tokens.get(name)
        good = hmac.compare_digest(token.encode(), (expected or _DUMMY).encode())
        if expected is None or not good:
            why = "unknown plugin name" if expected is None else "wrong token for this plugin name"
            self._refuse(writer, peer, name, why)
            return
        fut = self.waiting.get(name)
        if fut is None or fut.done():
            self._refuse(writer, peer, name, "not expecting a connection for this plugin now")
            return
        self.accepted += 1
        writer.write(line.ok(0))
        fut.set_result((reader, writer))

    # --- processes -----------------------------------------------------------------------
    async def launch(self, h: PluginHandle) -> Any:
        """Spawn the plugin, wait for its authenticated connection, wire its Mux; returns the
        cleanup (close the connection, stop the process group)."""
        loop = asyncio.get_running_loop()
        token = secrets.token_urlsafe(32)
        self.tokens[h.name] = token
        fut = loop.create_future()
        self.waiting[h.name] = fut
        env = {**os.environ, **self.env(h.name, token)}
        proc = await asyncio.create_subprocess_exec(
            "/bin/sh", "-c", h.spec.run,
            env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        h.pid = proc.pid
        logs = [
            loop.create_task(_relay(proc.stdout, h, "stdout")),
            loop.create_task(_relay(proc.stderr, h, "stderr")),
        ]
        exited = loop.create_task(proc.wait())
        state: dict[str, Any] = {"writer": None, "pump": None}

        async def cleanup() -> None:
            self.waiting.pop(h.name, None)
            self.tokens.pop(h.name, None)  # a token is good for one connection of one run
            if state["writer"] is not None:
                state["writer"].close()
            if state["pump"] is not None:
                state["pump"].cancel()
            await _stop_process(proc)
            exited.cancel()
            await asyncio.wait(logs, timeout=1.0)  # they end at EOF; then the pipes are closed
            for t in logs:
                t.cancel()

        def kill(reason: str) -> None:
            h.lost(reason)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

        h.kill = kill
        try:
            done, _ = await asyncio.wait({fut, exited}, timeout=self.host.stage_timeout,
                                         return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
            if fut not in done:
                fut.cancel()
                if exited in done:
                    raise RuntimeError(f"exited with status {proc.returncode} before connecting")
                raise RuntimeError(f"did not connect within {self.host.stage_timeout} s")
        except BaseException:
            await cleanup()
            raise
        reader, writer = fut.result()
        state["writer"] = writer
        mux = self.host.connect(h, writer.write)

        async def pump() -> None:
            reason = "connection closed"
            try:
                while True:
                    data = await reader.read(1 << 16)
                    if not data:
                        break
                    mux.feed(data)
            except (OSError, ConnectionError) as e:
                reason = f"connection error: {e}"
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(exited), 0.5)  # an exit status says more
            if proc.returncode is not None:
                reason = f"process exited with status {proc.returncode}"
            h.lost(reason)

        state["pump"] = loop.create_task(pump())

        def on_exit(t: asyncio.Task) -> None:
            if not t.cancelled():
                h.lost(f"process exited with status {proc.returncode}")

        exited.add_done_callback(on_exit)
        return cleanup


async def _relay(stream: asyncio.StreamReader | None, h: PluginHandle, which: str) -> None:
    if stream is None:
        return
    with contextlib.suppress(Exception):
        while True:
            raw = await stream.readline()
            if not raw:
                return
            text = raw.decode("utf-8", "replace").rstrip()
            if text:
                h.output.append(text)
                log.info("plugin output", plugin=h.name, stream=which, line=text[:2000])


async def _stop_process(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            await asyncio.wait_for(proc.wait(), wait)
            return
        except TimeoutError:
            continue
    print(f"ze: plugin process {proc.pid} did not stop", file=sys.stderr)
