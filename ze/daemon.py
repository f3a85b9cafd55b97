"""The composition root: config + hub + control socket (+ plugin host and discovery later).

`ze run CONFIG` builds a Daemon and runs it on uvloop. Until the speaker exists the BGP part
validates and holds the peer set. Signals: SIGHUP reloads (parse, validate, diff, apply what
changed; an invalid config keeps the running one; reloads asked while one runs coalesce into
one more), SIGTERM/SIGINT stop gracefully, SIGUSR1 writes a status dump to the log. The
control socket offers the same, and the methods of ze-api.yang.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ze import __version__
from ze.api.server import ApiError, ControlServer, Handler
from ze.bgp.subsystem import BgpSubsystem
from ze.config.datastore import Datastore
from ze.config.diff import ConfigDiff, diff
from ze.config.errors import ConfigProblems
from ze.config.parser import unknown_roots
from ze.config.plugin_yang import PluginModules
from ze.config.resolve import Config, Peer, load_config, parse_config
from ze.config.schema import Schema, load_schema
from ze.core import log as zlog
from ze.core import sdnotify
from ze.core.errors import ConfigError
from ze.hub.bus import Hub
from ze.hub.discovery import discover, yang_files
from ze.plugin.host.wiring import DaemonPlugins, PluginStartupError

log = zlog.get_logger("ze.daemon")

# How long a reload waits for more requests to fold into it.
COALESCE = 0.05


@dataclass(slots=True)
class PeerState:
    peer: Peer
    state: str = "idle"  # sessions come with the speaker; until then a peer is configured and idle
    since: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = self.peer.to_dict()
        out["state"] = self.state
        out["since"] = _iso(self.since)
        return out


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Daemon:
    def __init__(
        self,
        config_path: str | Path,
        *,
        log_level: str | None = None,
        socket_path: str | None = None,
        schema: Schema | None = None,
    ) -> None:
        self.config_path = Path(config_path).absolute()
        self.log_level_override = log_level
        self.socket_override = socket_path
        self.features = discover()
        self.schema = schema or load_schema(extra=yang_files(self.features))
        self.plugin_yang = PluginModules(yang_files(self.features))  # external plugins' own YANG
        self._yang_lock = asyncio.Lock()  # one plugin's YANG merged at a time
        self.store = Datastore(self.config_path, self.schema)
        self.hub = Hub()
        self.bgp = BgpSubsystem(self.hub)
        self.plugins = _make_plugins(self.hub, self.features)
        self.plugins.host.route_handler = self._routes  # plugins' update-route
        self.bgp.open_capabilities = self.plugins.host.open_capabilities  # plugins' OPEN capabilities
        self.bgp.validate_open = self.plugins.host.validate_open  # plugins' validate-open
        self.plugins.host.registration_check = self._plugin_registration  # plugins' own YANG
        self.plugins.host.forwarder = self.bgp.forward_cached  # plugins' forward-cached
        self.bgp.relay.filter = self.plugins.host.filter_update  # plugins' filter verdicts per UPDATE
        self.bgp.relay.filtering = lambda: self.plugins.host.has_filters
        self.config: Config | None = None
        self.peers: dict[str, PeerState] = {}
        self.server: ControlServer | None = None
        self.started = time.time()
        self.reloads = {"ok": 0, "failed": 0, "unchanged": 0}
        self.last_reload: dict[str, Any] | None = None
        self._stop = asyncio.Event()
        self._reload_wanted = asyncio.Event()
        self._waiters: list[asyncio.Future] = []

    # --- start-up ------------------------------------------------------------------------
    def load(self) -> Config:
        """Load the config file (FileNotFoundError, ConfigProblems) and apply it as the first."""
        cfg = self.store.load()
        self.config = cfg
        self._setup_logging(cfg)
        now = time.time()
        self.peers = {name: PeerState(p, since=now) for name, p in cfg.peers.items()}
        return cfg

    def _setup_logging(self, cfg: Config) -> None:
        zlog.setup(self.log_level_override or cfg.environment.log_level)

    @property
    def socket_path(self) -> str:
        assert self.config is not None
        return self.socket_override or self.config.environment.api_socket

    def handlers(self) -> dict[str, Handler]:
        """One handler per RPC of ze-api.yang, its params checked against the RPC's input."""
        return {name: self._checked(name, h) for name, h in self._handlers().items()}

    def _checked(self, name: str, handler: Handler) -> Handler:
        rpc = self.schema.rpcs.get(name)
        if rpc is None:
            raise ConfigError(f"API method {name} has no rpc in the YANG modules")

        async def checked(params: Any) -> Any:
            try:
                typed = rpc.check(params)
            except ValueError as e:
                raise ApiError("bad-params", str(e)) from None
            return await handler(typed)

        return checked

    def _handlers(self) -> dict[str, Handler]:
        return {
            "ze-api:show-peers": self._show_peers,
            "ze-api:show-peer": self._show_peer,
            "ze-api:show-config": self._show_config,
            "ze-api:show-status": self._show_status,
            "ze-api:schema-list": self._schema_list,
            "ze-api:schema-methods": self._schema_methods,
            "ze-api:signal-reload": self._signal_reload,
            "ze-api:signal-stop": self._signal_stop,
            "ze-api:signal-status": self._signal_status,
            "ze-api:config-history": self._config_history,
            "ze-api:config-rollback": self._config_rollback,
            "ze-api:update-route": self._update_route,
            "ze-api:peer-stop": self._peer_stop,
            "ze-api:peer-start": self._peer_start,
            "ze-api:peer-refresh": self._peer_refresh,
            **self.plugins.handlers(),
        }

    async def run(self) -> int:
        """Serve until stopped. The config must be loaded (load()) first."""
        assert self.config is not None
        loop = asyncio.get_running_loop()
        self.server = ControlServer(self.socket_path, self.handlers(), self.config.environment.api_mode)
        await self.server.start()
        for sig, fn in (
            (signal.SIGHUP, self.request_reload),
            (signal.SIGTERM, self.request_stop),
            (signal.SIGINT, self.request_stop),
            (signal.SIGUSR1, self.dump_status),
        ):
            loop.add_signal_handler(sig, fn)
        try:  # plugins first: they are ready (subscribed) before the first session comes up
            await self.plugins.start(self._section, self._handlers())
            self._check_deferred(fatal=True)
        except PluginStartupError:
            await self.plugins.stop()
            await self.server.close()
            self.plugin_yang.close()
            raise
        await self.bgp.start(self.config)
        self.hub.publish("config/applied", {"peers": sorted(self.peers), "initial": True})
        log.info(
            "ze started",
            pid=os.getpid(),
            version=__version__,
            config=str(self.config_path),
            peers=len(self.peers),
            socket=self.socket_path,
        )
        reloader = asyncio.create_task(self._reload_loop())
        notify_stop = sdnotify.started(loop, f"serving on {self.socket_path}")  # systemd: READY=1, watchdog
        try:
            await self._stop.wait()
        finally:
            notify_stop()
            reloader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reloader
            for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
                loop.remove_signal_handler(sig)
            await self.bgp.stop("ze shutting down")
            await self.plugins.stop()
            await self.server.close()
            self.plugin_yang.close()
            for fut in self._waiters:
                if not fut.done():
                    fut.set_result({"status": "stopped"})
            log.info("ze stopped", uptime=round(time.time() - self.started, 3))
        return 0

    # --- signals -------------------------------------------------------------------------
    def request_stop(self) -> None:
        log.info("stop requested")
        self._stop.set()

    def request_reload(self) -> asyncio.Future:
        """Ask for a reload; the future gets the result of the reload that serves it."""
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        self._reload_wanted.set()
        return fut

    async def _reload_loop(self) -> None:
        while True:
            await self._reload_wanted.wait()
            await asyncio.sleep(COALESCE)  # requests arriving now fold into this reload
            self._reload_wanted.clear()
            waiters, self._waiters = self._waiters, []
            result = await self.reload_verified()
            for fut in waiters:
                if not fut.done():
                    fut.set_result(result)

    async def reload_verified(self) -> dict[str, Any]:
        """reload(), with the plugins asked to verify the new config first (one refusal refuses
        the reload as a whole) and told to apply it after."""
        try:
            new = load_config(self.config_path, self.schema)
        except (FileNotFoundError, ConfigProblems, ConfigError, OSError):
            return self.reload()  # reports the error as usual
        problems = await self.plugins.verify(new.section)
        if problems:
            return self._reload_failed("a plugin rejected the new config", problems)
        result = self.reload()
        if result.get("status") == "ok" and self.config is not None:
            await self.plugins.apply(self._section)
            gone = [n for n in self.plugin_yang.by_plugin if n not in self.plugins.host.handles]
            if gone:  # plugins that left the config take their YANG with them
                for name in gone:
                    self.plugin_yang.remove(name)
                self.schema = self.store.schema = await asyncio.to_thread(self.plugin_yang.schema)
            self._check_deferred(fatal=False)
        return result

    # --- plugins' own YANG (docs/plugins.md "Config for your plugin") --------------------------
    def _section(self, root: str) -> dict[str, Any]:
        assert self.config is not None
        return self.config.section(root)  # the current config, re-parsed when a plugin's YANG came

    async def _plugin_registration(self, plugin: str, schema: Any, roots: list[str]) -> None:
        """At a plugin's declare-registration: merge its YANG module into the schema and parse
        the running config again with it; refuse (the plugin does not start) when the module
        does not compile or the plugin's config block does not validate (file:line:col)."""
        async with self._yang_lock:
            await self._merge_plugin_yang(plugin, schema, roots)

    async def _merge_plugin_yang(self, plugin: str, schema: Any, roots: list[str]) -> None:
        from ze.plugin.protocol.mux import RemoteError

        assert self.config is not None
        new_schema = self.schema
        if schema is not None:
            try:
                new_schema = await asyncio.to_thread(self.plugin_yang.add, plugin, schema, roots)
            except ConfigError as e:
                raise RemoteError("bad-schema", f"its YANG schema: {e}") from None
        unknown = [r for r in roots if r not in new_schema.root.children]
        if unknown:  # its sections are empty; a block in the config for them stays an error
            log.warning("plugin wants config no YANG module defines", plugin=plugin, roots=unknown)
        if new_schema is self.schema:
            return
        self.schema = self.store.schema = new_schema  # reloads check the plugin's block from now on
        try:
            cfg = parse_config(self.config.text, new_schema, self.config.source)
        except ConfigProblems as e:
            raise RemoteError("bad-config", "config: " + "; ".join(str(p) for p in e.problems)) from None
        self.config = self.store.running = cfg
        log.info("plugin schema merged", plugin=plugin, roots=self.plugin_yang.roots(plugin, new_schema))

    def _check_deferred(self, fatal: bool) -> None:
        """Top-level blocks no plugin's YANG defined are config errors (logged when a plugin that
        might define them is not running)."""
        if self.config is None or not self.config.deferred:
            return
        why = " (no plugin declared a YANG module defining it)"
        problems = [str(p) for p in unknown_roots(self.config.deferred, self.schema, why)]
        down = [h.name for h in self.plugins.host.handles.values() if h.state != "ready"]
        if fatal and not down:
            raise PluginStartupError("\n".join(problems))
        log.error("config blocks no plugin defines", problems=problems, plugins_not_ready=down)

    def reload(self) -> dict[str, Any]:
        """Parse, validate, diff and apply the config file; keep the running one on error."""
        assert self.config is not None
        log.info("reloading", config=str(self.config_path))
        try:
            new = load_config(self.config_path, self.schema)
        except FileNotFoundError:
            return self._reload_failed(f"{self.config_path}: no such file", [])
        except ConfigProblems as e:
            return self._reload_failed(
                f"{len(e.problems)} problem(s) in {self.config_path}", [str(p) for p in e.problems]
            )
        except (ConfigError, OSError) as e:
            return self._reload_failed(str(e), [])
        d = diff(self.config, new)
        try:
            self.store.record(self.config, new)
        except OSError as e:
            log.warning("cannot archive the previous config", archive=str(self.store.archive), error=str(e))
            self.store.running = new
        self.apply(new, d)
        result = {"status": "ok", "time": _iso(time.time()), "changed": not d.empty, "diff": d.to_dict()}
        self.reloads["ok" if not d.empty else "unchanged"] += 1
        self.last_reload = result
        return result

    def _reload_failed(self, error: str, problems: list[str]) -> dict[str, Any]:
        self.reloads["failed"] += 1
        log.error("reload failed; keeping the running config", error=error, problems=problems)
        self.last_reload = {
            "status": "error",
            "time": _iso(time.time()),
            "error": error,
            "problems": problems,
        }
        return self.last_reload

    def apply(self, new: Config, d: ConfigDiff) -> None:
        """Apply only what changed: peers added, removed, changed; others untouched."""
        now = time.time()
        for name in d.removed:
            del self.peers[name]
            log.info("peer removed", peer=name)
        for name in d.changed:
            self.peers[name] = PeerState(new.peers[name], since=now)
            log.info("peer changed", peer=name)
        for name in d.added:
            self.peers[name] = PeerState(new.peers[name], since=now)
            log.info("peer added", peer=name, remote=new.peers[name].remote_ip)
        self.bgp.apply(new, d.removed, d.changed, d.added)
        # Keep the config's peer order.
        self.peers = {name: self.peers[name] for name in new.peers}
        old_env = self.config.environment if self.config else None
        self.config = new
        if old_env is None or old_env.log_level != new.environment.log_level:
            self._setup_logging(new)
        if (
            old_env is not None
            and old_env.api_socket != new.environment.api_socket
            and not self.socket_override
        ):
            log.warning(
                "environment api socket changed: takes effect at the next start", socket=old_env.api_socket
            )
        if d.empty:
            log.info("reload: nothing changed")
        else:
            log.info("config applied", **d.to_dict())
        self.hub.publish("config/applied", {"peers": sorted(self.peers), "diff": d.to_dict()})

    def status(self) -> dict[str, Any]:
        assert self.config is not None
        return {
            "pid": os.getpid(),
            "version": __version__,
            "config": str(self.config_path),
            "socket": self.socket_path,
            "started": _iso(self.started),
            "uptime": round(time.time() - self.started, 3),
            "log-level": self.log_level_override or self.config.environment.log_level,
            "peers": len(self.peers),
            "peer-states": {name: self._peer(name)["state"] for name in self.peers},
            "listening": self.bgp.listening(),
            "reloads": dict(self.reloads),
            "last-reload": self.last_reload,
            "api-requests": self.server.requests if self.server else 0,
            "hub": self.hub.status(),
        }

    def dump_status(self) -> dict[str, Any]:
        st = self.status()
        log.info("status", **st)
        return st

    # --- control API handlers ------------------------------------------------------------
    def _peer(self, name: str) -> dict[str, Any]:
        out = self.peers[name].to_dict()
        live = self.bgp.describe(name)
        if live is not None:
            out.update(live)
        return out

    async def _show_peers(self, params: dict) -> Any:
        return {"peers": [self._peer(name) for name in self.peers]}

    async def _show_peer(self, params: dict) -> Any:
        name = params.get("name")
        if not isinstance(name, str) or not name:
            raise ApiError("bad-params", 'show-peer needs {"name": "<peer>"}')
        ps = self.peers.get(name)
        if ps is None:
            import difflib

            close = difflib.get_close_matches(name, list(self.peers), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ApiError("not-found", f"no peer '{name}'{hint}")
        out = self._peer(name)
        if params.get("routes"):
            out["routes-received"] = self.bgp.received(name)
        return {"peer": out}

    async def _show_config(self, params: dict) -> Any:
        assert self.config is not None
        out = self.config.to_dict()
        out["text"] = self.config.render()
        return {"config": out}

    async def _show_status(self, params: dict) -> Any:
        return {"status": self.status()}

    async def _schema_list(self, params: dict) -> Any:
        return {"modules": [m.to_dict() for m in self.schema.modules]}

    async def _schema_methods(self, params: dict) -> Any:
        return {"methods": [r.to_dict() for r in self.schema.rpcs.values()]}

    async def _signal_reload(self, params: dict) -> Any:
        return {"result": await self.request_reload()}

    async def _signal_stop(self, params: dict) -> Any:
        # Answer first, then stop: the stop runs after this response is written.
        asyncio.get_running_loop().call_later(0.05, self.request_stop)
        return {"stopping": True}

    async def _signal_status(self, params: dict) -> Any:
        return {"status": self.dump_status()}

    async def _update_route(self, params: dict) -> Any:
        from ze.plugin.protocol.mux import RemoteError

        try:
            return await self._routes(params["peer-selector"], params["command"])
        except ValueError as e:
            raise ApiError("bad-command", str(e)) from None
        except RemoteError as e:  # a plugin could not encode its family's NLRI
            raise ApiError(e.code, e.message) from None

    async def _routes(self, selector: str, command: str) -> dict[str, int]:
        """update-route, with the NLRI of families plugins encode given to them first (encode-nlri:
        their text form becomes `raw HEX`, see ze/plugin/sdk/encode.py)."""
        from ze.plugin.sdk.encode import encode_command

        host = self.plugins.host
        command = await encode_command(command, host.nlri_families("encode"), host.encode_nlri)
        return self.bgp.update_route(selector, command)

    async def _peer_stop(self, params: dict) -> Any:
        try:
            return {"peers": self.bgp.peer_stop(params["peer-selector"], params.get("message", ""))}
        except ValueError as e:
            raise ApiError("bad-params", str(e)) from None

    async def _peer_start(self, params: dict) -> Any:
        try:
            return {"peers": self.bgp.peer_start(params["peer-selector"])}
        except ValueError as e:
            raise ApiError("bad-params", str(e)) from None

    async def _peer_refresh(self, params: dict) -> Any:
        try:
            return {"peers": self.bgp.peer_refresh(params["peer-selector"], params.get("family"))}
        except ValueError as e:
            raise ApiError("bad-params", str(e)) from None

    async def _config_history(self, params: dict) -> Any:
        return {"commits": [c.to_dict() for c in self.store.history()]}

    async def _config_rollback(self, params: dict) -> Any:
        number = params.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise ApiError("bad-params", 'config-rollback needs {"number": N} with N >= 1')
        assert self.config is not None
        try:
            new = self.store.rollback(number)
        except ConfigProblems as e:
            raise ApiError("rollback-failed", str(e)) from None
        except OSError as e:
            raise ApiError("rollback-failed", f"{self.store.archive}: {e.strerror or e}") from None
        d = diff(self.config, new)
        self.apply(new, d)
        self.reloads["ok" if not d.empty else "unchanged"] += 1
        self.last_reload = {
            "status": "ok",
            "time": _iso(time.time()),
            "changed": not d.empty,
            "diff": d.to_dict(),
        }
        log.info("rolled back", number=number)
        return {"result": self.last_reload}


def _make_plugins(hub: Hub, features: dict) -> DaemonPlugins:
    """The plugin host with the SDK's in-process Plugin and event renderer."""
    from ze.plugin.sdk import Plugin, decode
    from ze.plugin.sdk.render import event_json

    plugins = DaemonPlugins(
        hub, features, make_plugin=Plugin.in_process, renderer=event_json, error_type=ApiError
    )
    host = plugins.host  # decode-update, and NLRI of families plugins decode (decode-nlri)
    host.update_decoder = lambda hexed, ctx: decode.decode_update(hexed, ctx, host.decode_nlri)
    host.event_filler = decode.event_filler(host.decode_nlri)
    host.own_families = decode.own_families()
    return plugins


GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """The cyclic garbage collector, set for a daemon that holds millions of objects (a full table)
    and makes few reference cycles. With CPython's defaults (700, 10, 10) one full table (577,700
    prefixes) cost ~5,000 collections, 17 of them scans of every object, 4.0 s of ze's 14 CPU s;
    with young collections every 50,000 allocations and full ones rare, 56 collections and 0.4 s.
    Refcounting frees everything else at once; cycles are still collected. What start-up made
    (modules, schema, config) is frozen out of the scans."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run(config_path: str, log_level: str | None = None, socket_path: str | None = None) -> int:
    """`ze run`: exit 0 after a graceful stop, 1 on a config or start-up error, 2 for a missing file."""
    import sys

    zlog.setup(log_level or "info")
    try:
        daemon = Daemon(config_path, log_level=log_level, socket_path=socket_path)
        daemon.load()
    except FileNotFoundError:
        print(f"ze: error: {config_path}: no such file", file=sys.stderr)
        return 2
    except IsADirectoryError:
        print(f"ze: error: {config_path}: is a directory", file=sys.stderr)
        return 2
    except ConfigProblems as e:
        for p in e.problems:
            print(f"ze: error: {p}", file=sys.stderr)
        return 1
    except (ConfigError, OSError) as e:
        print(f"ze: error: {e}", file=sys.stderr)
        return 1
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # uvloop is a dependency; plain asyncio keeps ze usable without it
        runner = asyncio.Runner()
    from ze.api.server import SocketInUse

    tune_gc()
    with runner:
        try:
            return runner.run(daemon.run())
        except SocketInUse as e:
            print(f"ze: error: {e}", file=sys.stderr)
            return 1
        except PluginStartupError as e:
            print(f"ze: error: {e}", file=sys.stderr)
            return 1
        except PermissionError as e:
            print(f"ze: error: control socket {daemon.socket_path}: {e.strerror}", file=sys.stderr)
            return 1
