"""The engine side of plugins: start them (in dependency tiers), run the five stages, serve
their requests, deliver hub events, supervise and restart them.

In-process plugins: the host makes an in-memory line pipe, builds the SDK `Plugin` on the
plugin end (`make_plugin(name, end)`, handed in by the daemon: the host never imports the
SDK), resolves the feature's manifest `entry` ("module:attr") and runs
`await entry(plugin)` as a task. The entry registers its handlers and calls
`await plugin.run(Registration(...))`. The stages are lines over the pipe; at `ready` the
plugin has put its event callable in the pipe's `direct` slot and from then on events are
Python objects (no JSON).

External plugins: see ze.plugin.host.external (spawn, TLS connect-back, auth); once
authenticated they speak exactly the same lines over TLS.

Events reach a plugin through its own hub queue (ordered, batched, bounded with
back-pressure); for an external plugin a batch becomes one `deliver-batch` whose events are
rendered by `renderer(topic, payload, fmt)` once per payload and format (cached), so ten
plugins asking for "parsed" cost one rendering. A plugin that crashes, hangs (no answer
within `call_timeout`) or exits is restarted with exponential backoff; its queue keeps its
events meanwhile (nothing lost) and its subscriptions are replayed when it is ready again.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ze.core.errors import ZeError
from ze.core.log import get_logger
from ze.hub.bus import Hub, QueueSubscription
from ze.plugin.host.fasthook import FastHook
from ze.plugin.protocol.line import Message
from ze.plugin.protocol.manifest import resolve
from ze.plugin.protocol.mux import ConnectionLost, MemoryEnd, Mux, RemoteError, memory_pipe

log = get_logger("ze.plugin.host")

ENGINE = "ze-plugin-engine"
CALLBACK = "ze-plugin-callback"

Renderer = Callable[[str, Any, str], Any]
RouteHandler = Callable[[str, str], Any]  # -> dict, or an awaitable of one
CommandHandler = Callable[[str, list[str]], Awaitable[Any]]
SectionsFor = Callable[[list[str]], list[dict[str, Any]]]
MakePlugin = Callable[[str, MemoryEnd], Any]
# (plugin, its declared "schema" or None, the config roots it wants) -> None; raises
# RemoteError to refuse the registration (a YANG module that does not compile, a config
# block that does not validate against it: the message says where and why)
RegistrationCheck = Callable[[str, Any, list[str]], Awaitable[None]]
# decode-update: (hex, context) -> {"update": ...}; ValueError when it is not a valid UPDATE
UpdateDecoder = Callable[[str, Any], Awaitable[dict[str, Any]]]
# (topic, payload, rendered event) -> the event with NLRI that plugins decode filled in
EventFiller = Callable[[str, Any, Any], Awaitable[Any]]
# forward-cached: (message id, peers) -> {"peers": [...], "skipped": {...}}; LookupError when evicted
Forwarder = Callable[[int, list[str]], dict[str, Any]]
NLRI_MODES = {"decode": ("decode", "both"), "encode": ("encode", "both")}


class PluginStartupError(ZeError):
    """A required plugin failed to start: start-up stops."""


class PluginUnavailable(Exception):
    """The plugin cannot run here (missing requirements): not retried."""


@dataclass
class PluginSpec:
    name: str
    kind: str  # "internal" | "external"
    required: bool = False
    run: str = ""  # external: the command line (/bin/sh -c)
    entry: str = ""  # internal: "module:attr"
    depends: tuple[str, ...] = ()
    config_roots: tuple[str, ...] = ()
    unavailable: str = ""  # why it cannot run here (internal features whose requires are missing)


@dataclass
class PluginHandle:
    spec: PluginSpec
    state: str = "configured"
    stage: int = 0
    restarts: int = 0
    last_error: str = ""
    since: float = field(default_factory=time.time)
    mux: Mux | None = None
    declared: dict[str, Any] = field(default_factory=dict)
    capabilities: list[dict[str, Any]] = field(default_factory=list)
    subscribe: dict[str, Any] = field(default_factory=dict)
    patterns: list[str] = field(default_factory=list)  # replayed on restart
    peers: set[str] = field(default_factory=set)
    queue: QueueSubscription | None = None
    direct: Callable[[list[tuple[str, Any]]], Awaitable[None]] | None = None
    fast_hook: FastHook | None = None
    pid: int | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Future | None = None
    first: asyncio.Future | None = None
    task: asyncio.Task | None = None
    stage_evt: dict[int, asyncio.Event] = field(default_factory=dict)
    kill: Callable[[str], None] | None = None
    delivered_batches: int = 0
    output: deque = field(default_factory=lambda: deque(maxlen=20))  # its last stdout/stderr lines
    refusal: str = ""  # why ze refused its registration (this run)

    @property
    def roots(self) -> list[str]:
        """The config roots it gets in configure / config-verify / config-apply."""
        return list(dict.fromkeys([*self.spec.config_roots, *self.declared.get("wants-config", [])]))

    @property
    def name(self) -> str:
        return self.spec.name

    def lost(self, reason: str) -> None:
        if self.mux is not None:
            self.mux.close(reason)
        if self.ended is not None and not self.ended.done():
            self.ended.set_result(reason)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.spec.kind,
            "required": self.spec.required,
            "state": self.state,
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.since)),
            "restarts": self.restarts,
            "last-error": self.last_error,
            "commands": [c.get("name") for c in self.declared.get("commands", [])],
            "subscriptions": list(self.patterns),
            "bridge": "direct" if self.direct is not None else "json",
        }
        if self.pid is not None:
            out["pid"] = self.pid
        if self.spec.run:
            out["run"] = self.spec.run
        q = self.queue
        if q is not None:
            out.update({"queue-depth": q.depth, "queue-bound": q.bound, "at-bound": "pause" if q.pause else "log",
                        "delivered": q.delivered, "high-water": q.high_water, "pauses": q.pauses})  # fmt: skip
        if self.fast_hook is not None:
            out["fast-hook"] = self.fast_hook.status()
        return out


def tiers(specs: list[PluginSpec]) -> list[list[PluginSpec]]:
    """Dependency tiers: each plugin after the ones it depends on (unknown deps are ignored,
    a cycle is an error naming its members)."""
    by = {s.name: s for s in specs}
    left = dict(by)
    done: set[str] = set()
    out = []
    while left:
        tier = [s for s in left.values() if all(d in done or d not in by for d in s.depends)]
        if not tier:
            raise PluginStartupError(f"plugins depend on each other in a cycle: {', '.join(sorted(left))}")
        out.append(tier)
        for s in tier:
            done.add(s.name)
            del left[s.name]
    return out


def _default_renderer(topic: str, payload: Any, fmt: str) -> Any:
    if isinstance(payload, dict):
        return payload
    to_json = getattr(payload, "to_json", None)
    ns = topic.split("/", 1)[0]
    return {"type": ns, ns: {"topic": topic, "data": to_json() if callable(to_json) else repr(payload)}}


class PluginHost:
    def __init__(
        self,
        hub: Hub,
        *,
        make_plugin: MakePlugin | None = None,
        renderer: Renderer | None = None,
        stage_timeout: float = 10.0,
        call_timeout: float = 30.0,
        queue_bound: int | None = None,
        batch: int = 256,
        backoff: tuple[float, float] = (0.5, 30.0),
        hook_timeout: float = 0.05,
        hook_fail_open: bool = True,
        pause_at_bound: bool = True,
    ) -> None:
        self.hub = hub
        self.make_plugin = make_plugin
        self.renderer = renderer or _default_renderer
        self.stage_timeout = stage_timeout
        self.call_timeout = call_timeout
        self.queue_bound = queue_bound
        self.batch = batch
        self.backoff = backoff
        self.hook_timeout = hook_timeout
        self.hook_fail_open = hook_fail_open
        self.pause_at_bound = pause_at_bound
        self.handles: dict[str, PluginHandle] = {}
        self.commands: dict[str, str] = {}  # command words -> plugin name
        self.sections_for: SectionsFor = lambda roots: []
        self.registration_check: RegistrationCheck | None = None
        self.update_decoder: UpdateDecoder | None = None
        self.event_filler: EventFiller | None = None
        self.forwarder: Forwarder | None = None
        self.filter_stats = {"calls": 0, "failures": 0, "timeouts": 0, "last-error": ""}
        # filter-update calls in flight per plugin (the timeout runs from the send, and a plugin
        # answers its requests one at a time: more in flight would only time out waiting)
        self._filter_slots: dict[str, asyncio.Semaphore] = {}
        self.nlri_calls = {"decode": 0, "encode": 0, "failed": 0}
        self.own_families: frozenset[str] = frozenset()  # those ze has codecs for: never asked
        self.route_handler: RouteHandler | None = None
        self.builtin: CommandHandler | None = None  # the daemon's own commands ("show peers" ...)
        self.builtin_names: list[str] = []
        self.external: Any = None  # ze.plugin.host.external.Listener, made on first need
        self.stopping = False
        self._cache: OrderedDict[tuple[int, str], tuple[Any, bytes]] = OrderedDict()
        self._enc = msgspec.json.Encoder()
        self.render_hits = 0
        self.render_misses = 0

    # --- configuration -------------------------------------------------------------------
    def specs_from_config(
        self, plugin: dict[str, Any], process: dict[str, Any], features: dict[str, Any]
    ) -> list[PluginSpec]:
        """PluginSpecs for `plugin { internal NAME; }` and `process NAME { run; required; }`;
        `features` is discovery's {name: Feature}. Unknown internal names are a config error."""
        from ze.plugin.host.external import find_executable

        specs = []
        for name in plugin.get("internal", []):
            f = features.get(name)
            if f is None:
                import difflib

                close = difflib.get_close_matches(name, list(features), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                known = ", ".join(sorted(features)) or "none"
                raise PluginStartupError(f"plugin internal {name}: no such feature{hint}; known: {known}")
            r = f.registration
            specs.append(PluginSpec(name, "internal", True, entry=r.entry, depends=tuple(r.depends),
                                    config_roots=tuple(r.config_roots),
                                    unavailable="; ".join(f.missing)))  # fmt: skip
        dirs = list(plugin.get("search-dir", []))
        for name, p in process.items():
            specs.append(
                PluginSpec(
                    name, "external", bool(p.get("required", False)), run=find_executable(p["run"], dirs)
                )
            )
        return specs

    # --- start and stop ------------------------------------------------------------------
    async def start(
        self, specs: list[PluginSpec], hub_server: dict[str, Any] | None = None, *, reload: bool = False
    ) -> list[str]:
        """Start every plugin, tier by tier; each tier must be ready (or have failed) before the
        next starts. A required plugin that fails raises PluginStartupError (after stopping
        the others); an optional one is logged and retried in the background. With `reload`
        (plugins added by a reload) a required one that fails is removed and reported instead."""
        problems: list[str] = []
        if any(s.kind == "external" for s in specs):
            await self.listen(hub_server or {})
        for tier in tiers(specs):
            firsts = []
            for spec in tier:
                h = self._handle(spec)
                firsts.append((h, h.first))
            for h, first in firsts:
                try:
                    await first
                except Exception as e:
                    if h.spec.required and not h.spec.unavailable:
                        if reload:
                            problems.append(f"required plugin {h.name} failed to start: {e}")
                            await self.remove(h.name)
                            continue
                        await self.stop()
                        raise PluginStartupError(f"required plugin {h.name} failed to start: {e}") from None
                    log.error("plugin failed to start; going on without it", plugin=h.name, error=str(e))
        started = {s.name for s in specs}
        for h in self.handles.values():
            if h.name in started and h.state == "ready" and h.mux is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(h.mux.request(f"{CALLBACK}:post-startup"), self.stage_timeout)
        return problems

    async def remove(self, name: str, reason: str = "removed from the config") -> None:
        """Stop one plugin (bye, then its process or task) and forget it: its queue, commands
        and hooks go with it."""
        h = self.handles.pop(name, None)
        if h is None:
            return
        await self._bye(h, reason)
        if h.task is not None:
            h.task.cancel()
        await self._release(h)
        for cmd in [c for c, o in self.commands.items() if o == name]:
            del self.commands[cmd]
        log.info("plugin removed", plugin=name, reason=reason)

    async def _bye(self, h: PluginHandle, reason: str) -> None:
        """Tell a ready plugin it is being stopped (at most a second; it may be gone already)."""
        if h.mux is not None and h.state == "ready":
            with contextlib.suppress(Exception):
                await asyncio.wait_for(h.mux.request(f"{CALLBACK}:bye", {"reason": reason}), 1.0)

    async def _release(self, h: PluginHandle) -> None:
        """After its task was cancelled: wait for it to end, drop its queue and fast hook."""
        if h.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await h.task
        if h.queue is not None:
            self.hub.unsubscribe(h.queue)
            h.queue = None
        if h.fast_hook is not None:
            h.fast_hook.close()
        h.state = "stopped"

    async def listen(self, server: dict[str, Any]) -> None:
        if self.external is None:
            from ze.plugin.host.external import Listener

            self.external = Listener(self, server)
            await self.external.start()

    def _handle(self, spec: PluginSpec) -> PluginHandle:
        if spec.name in self.handles:
            raise PluginStartupError(f"plugin {spec.name} is configured twice")
        loop = asyncio.get_running_loop()
        h = PluginHandle(spec)
        h.first = loop.create_future()
        self.handles[spec.name] = h
        h.task = loop.create_task(self._supervise(h), name=f"plugin-{spec.name}")
        return h

    def can_attach(self, name: str) -> str:
        """Why a plugin started outside ze may not attach under `name` ("" when it may)."""
        h = self.handles.get(name)
        if h is not None and h.spec.kind != "attached":
            return "that name belongs to a plugin ze runs"
        if h is not None and h.state not in ("detached", "failed"):
            return "a plugin with that name is attached already"
        return ""

    def attach(self, name: str, reader: Any, writer: Any) -> PluginHandle:
        """A plugin that authenticated with the hub's shared secret: the five stages, then it
        runs like the others, but is not restarted when it goes (it is "detached")."""
        self.handles.pop(name, None)
        h = self._handle(PluginSpec(name, "attached", False))
        h._conn = (reader, writer)  # type: ignore[attr-defined]
        return h

    async def stop(self) -> None:
        self.stopping = True
        for h in self.handles.values():
            await self._bye(h, "ze stopping")
        for h in self.handles.values():
            if h.task is not None:
                h.task.cancel()
        for h in self.handles.values():
            await self._release(h)
        if self.external is not None:
            await self.external.close()

    # --- supervision ---------------------------------------------------------------------
    async def _supervise(self, h: PluginHandle) -> None:
        attempt = 0
        loop = asyncio.get_running_loop()
        try:
            while not self.stopping:
                h.ended = loop.create_future()
                h.ready.clear()
                h.direct = None
                h.stage = 0
                h.refusal = ""
                h.stage_evt = {n: asyncio.Event() for n in (1, 3, 5)}
                cleanup: Callable[[], Awaitable[None]] | None = None
                try:
                    if h.spec.unavailable:
                        raise PluginUnavailable(h.spec.unavailable)
                    h.state = "starting"
                    cleanup = await self._launch(h)
                    await self._stages(h)
                    h.state, h.since = "ready", time.time()
                    attempt = 0
                    if h.first is not None and not h.first.done():
                        h.first.set_result(True)
                    h.ready.set()
                    log.info("plugin ready", plugin=h.name, kind=h.spec.kind, restarts=h.restarts)
                    reason = await h.ended
                except PluginUnavailable as e:
                    h.state, h.last_error = "unavailable", str(e)
                    log.warning("plugin unavailable", plugin=h.name, reason=str(e))
                    if h.first is not None and not h.first.done():
                        h.first.set_exception(e)
                    return
                except (Exception, TimeoutError) as e:
                    reason = str(e) or type(e).__name__
                    if isinstance(e, TimeoutError):
                        reason = f"stage {h.stage} timed out after {self.stage_timeout} s"
                    if h.output and not h.refusal:  # a refusal says it all; its traceback echoes it
                        reason += f" (its last output: {h.output[-1][:300]})"
                finally:
                    h.ready.clear()
                    h.direct = None
                    if cleanup is not None:
                        with contextlib.suppress(Exception):
                            await cleanup()
                if self.stopping:
                    return
                h.last_error = reason
                if h.spec.kind == "attached":  # not ours to restart
                    h.state = "detached" if h.first is None or h.first.done() else "failed"
                    if h.first is not None and not h.first.done():
                        h.first.set_exception(PluginStartupError(reason))
                    for cmd in [c for c, o in self.commands.items() if o == h.name]:
                        del self.commands[cmd]
                    if h.queue is not None:
                        self.hub.unsubscribe(h.queue)
                        h.queue = None
                    log.info("attached plugin detached", plugin=h.name, reason=reason)
                    return
                if h.first is not None and not h.first.done():
                    h.first.set_exception(PluginStartupError(reason))
                    if h.spec.required:
                        h.state = "failed"
                        return
                attempt += 1
                h.restarts += 1
                delay = min(self.backoff[0] * 2 ** (attempt - 1), self.backoff[1])
                h.state = "restarting"
                log.error(
                    "plugin down; restarting", plugin=h.name, reason=reason, delay=delay, restarts=h.restarts
                )
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            pass

    async def _launch(self, h: PluginHandle) -> Callable[[], Awaitable[None]]:
        """Start the plugin and connect its Mux; returns the cleanup to run when it ends."""
        loop = asyncio.get_running_loop()
        if h.spec.kind == "external":
            assert self.external is not None
            return await self.external.launch(h)
        if h.spec.kind == "attached":
            from ze.plugin.host.external import pump

            reader, writer = h._conn  # type: ignore[attr-defined]
            task = loop.create_task(pump(h, self.connect(h, writer.write), reader))
            h.kill = lambda reason: (h.lost(reason), writer.close())

            async def detach() -> None:
                writer.close()
                task.cancel()

            return detach
        if self.make_plugin is None:
            raise PluginStartupError("in-process plugins need the SDK (make_plugin)")
        mine, theirs = memory_pipe(loop.call_soon)
        entry = resolve(h.spec.entry)
        plugin = self.make_plugin(h.name, theirs)
        theirs.publish = self.hub.publish  # the direct bridge for what the plugin publishes
        self.connect(h, mine.write)
        mine.on_data = h.mux.feed  # type: ignore[union-attr]
        mine.on_close = h.lost

        async def body() -> None:
            try:
                await entry(plugin)
                h.lost("the plugin's entry returned")
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.error("in-process plugin crashed", plugin=h.name, error=repr(e))
                h.lost(f"crashed: {e!r}")

        task = loop.create_task(body(), name=f"plugin-body-{h.name}")
        h.pid = None
        h._pipe = mine  # type: ignore[attr-defined]

        def kill(reason: str) -> None:
            task.cancel()
            h.lost(reason)

        h.kill = kill

        async def cleanup() -> None:
            mine.close("ze closed the pipe")
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

        return cleanup

    def connect(self, h: PluginHandle, send: Callable[[bytes], Any]) -> Mux:
        loop = asyncio.get_running_loop()

        async def handler(msg: Message) -> Any:
            return await self._handle_request(h, msg)

        h.mux = Mux(send, handler, loop.create_future, loop.create_task,
                    concurrent=frozenset({f"{ENGINE}:decode-update"}))  # fmt: skip
        return h.mux

    async def _stages(self, h: PluginHandle) -> None:
        t = self.stage_timeout
        assert h.mux is not None and h.ended is not None

        async def until(aw: Awaitable[Any]) -> Any:
            """aw, unless the plugin ends first."""
            fut = asyncio.ensure_future(aw)
            done, _ = await asyncio.wait({fut, h.ended}, timeout=t, return_when=asyncio.FIRST_COMPLETED)
            if fut in done:
                return fut.result()
            fut.cancel()
            if h.refusal:
                raise PluginStartupError(h.refusal)
            if h.ended in done:
                raise PluginStartupError(f"ended in stage {h.stage}: {h.ended.result()}")
            raise TimeoutError

        h.stage = 1
        await until(h.stage_evt[1].wait())
        h.stage = 2
        try:
            await until(h.mux.request(f"{CALLBACK}:configure", {"sections": self.sections_for(h.roots)}))
        except RemoteError as e:
            raise PluginStartupError(f"rejected its configuration: {e.message}") from None
        h.stage = 3
        await until(h.stage_evt[3].wait())
        h.stage = 4
        await until(h.mux.request(f"{CALLBACK}:share-registry", {"commands": self.registry()}))
        h.stage = 5
        await until(h.stage_evt[5].wait())

    # --- requests from plugins -----------------------------------------------------------
    async def _handle_request(self, h: PluginHandle, msg: Message) -> Any:
        verb = msg.verb
        p = msg.payload if isinstance(msg.payload, dict) else {}
        module, _, rpc = verb.partition(":")
        if module != ENGINE:
            raise RemoteError("unknown-method", f"ze has no method {verb}")
        if rpc == "declare-registration":
            self._expect(h, 1, rpc)
            await self._check_registration(h, p)
            self._declare(h, p)
            h.stage_evt[1].set()
            return None
        if rpc == "declare-capabilities":
            self._expect(h, 3, rpc)  # (or 2: configure's ok may still be on its way to _stages)
            caps = p.get("capabilities", [])
            for c in caps:
                if not isinstance(c, dict) or not isinstance(c.get("code"), int):
                    raise RemoteError("bad-params", f"capability {c!r:.80}: needs an integer code")
                bytes.fromhex(str(c.get("payload", "")))
            h.capabilities = list(caps)
            h.stage_evt[3].set()
            return None
        if rpc == "ready":
            self._expect(h, 5, rpc)  # (or 4, likewise)
            self._ready(h, p)
            h.stage_evt[5].set()
            return None
        if h.stage < 5:
            raise RemoteError("not-ready", f"{rpc} before ready")
        if rpc == "update-route":
            if self.route_handler is None:
                raise RemoteError("unavailable", "no BGP speaker to send routes")
            try:
                res = self.route_handler(str(p.get("peer-selector", "*")), str(p.get("command", "")))
                return await res if inspect.isawaitable(res) else res
            except ValueError as e:  # the text syntax's errors (TextError) and bad selectors
                raise RemoteError("bad-command", str(e)) from None
        if rpc == "decode-update":
            if self.update_decoder is None:
                raise RemoteError("unavailable", "ze has no UPDATE decoder here")
            try:
                return await self.update_decoder(str(p.get("hex", "")), p.get("context"))
            except ValueError as e:
                raise RemoteError("bad-update", str(e)) from None
        if rpc == "forward-cached":
            if self.forwarder is None:
                raise RemoteError("unavailable", "no BGP speaker to forward UPDATEs")
            msg_id, peers = p.get("id"), p.get("peers") or []
            if not isinstance(msg_id, int) or isinstance(msg_id, bool) or not isinstance(peers, list):
                raise RemoteError("bad-params", 'forward-cached needs {"id": N, "peers": [name, ...]}')
            try:
                return self.forwarder(msg_id, [str(x) for x in peers])
            except LookupError as e:
                raise RemoteError("evicted", str(e.args[0] if e.args else e)) from None
        if rpc == "dispatch-command":
            return await self.dispatch(str(p.get("command", "")), list(p.get("args") or []))
        if rpc == "emit-event":
            return {"delivered": self.emit(p)}
        if rpc == "subscribe-events":
            self._subscribe(h, list(p.get("events", [])), p.get("peers"))
            return {"subscriptions": list(h.patterns)}
        if rpc == "unsubscribe-events":
            for ev in p.get("events", []):
                pat = _topic(ev)
                if pat in h.patterns:
                    h.patterns.remove(pat)
                if h.queue is not None:
                    h.queue.remove_pattern(pat)
            return {"subscriptions": list(h.patterns)}
        raise RemoteError("unknown-method", f"ze has no method {verb}")

    @staticmethod
    def _expect(h: PluginHandle, stage: int, rpc: str) -> None:
        # The plugin sends stage N+1 right after answering stage N's callback; both lines may
        # arrive in one read, before the stage coroutine has seen the answer.
        if h.stage not in (stage, stage - 1) or (stage == 1 and h.stage != 1):
            raise RemoteError("out-of-order", f"{rpc} is stage {stage}; the plugin is at stage {h.stage}")

    async def _check_registration(self, h: PluginHandle, p: dict[str, Any]) -> None:
        """The daemon's check of the plugin's schema and config; a refusal ends this run (the
        plugin gets the error; one that does not go is dropped a second later)."""
        if self.registration_check is None:
            return
        roots = list(dict.fromkeys([*h.spec.config_roots, *(p.get("wants-config") or [])]))
        try:
            await self.registration_check(h.name, p.get("schema"), [str(r) for r in roots])
        except RemoteError as e:
            h.refusal = e.message
            h.last_error = e.message
            log.error("plugin registration refused", plugin=h.name, code=e.code, reason=e.message)
            mux, why = h.mux, e.message

            def drop() -> None:
                if h.mux is mux:  # still this run
                    h.lost(why)

            asyncio.get_running_loop().call_later(1.0, drop)
            raise

    def _declare(self, h: PluginHandle, p: dict[str, Any]) -> None:
        cmds = p.get("commands", [])
        names = []
        for c in cmds:
            name = " ".join(str(c.get("name", "")).split()) if isinstance(c, dict) else ""
            if not name:
                raise RemoteError("bad-params", f"command {c!r:.80} has no name")
            owner = self.commands.get(name)
            if (owner is not None and owner != h.name) or name in self.builtin_names:
                raise RemoteError(
                    "duplicate-command", f"command {name!r} is already provided by {owner or 'ze'}"
                )
            names.append(name)
        for name, owner in list(self.commands.items()):
            if owner == h.name:
                del self.commands[name]  # a restarted plugin declares afresh
        for name in names:
            self.commands[name] = h.name
        h.declared = dict(p)

    def _ready(self, h: PluginHandle, p: dict[str, Any]) -> None:
        sub = p.get("subscribe") or {}
        h.subscribe = dict(sub)
        fmt = sub.get("format", "parsed")
        if fmt not in ("parsed", "hex", "full", "summary"):
            raise RemoteError("bad-params", f"format {fmt!r}: expected parsed, hex, full or summary")
        pipe = getattr(h, "_pipe", None)
        if h.spec.kind == "internal" and pipe is not None and pipe.peer is not None:
            h.direct = pipe.peer.direct
        # subscriptions are registered with readiness: events from now on reach the plugin;
        # those of a previous run (still queued) and runtime subscribe-events are kept.
        self._subscribe(h, list(sub.get("events", [])), sub.get("peers"))
        hook = p.get("fast-hook")
        if isinstance(hook, dict) and hook.get("socket"):
            if h.fast_hook is not None:
                h.fast_hook.close()
            h.fast_hook = FastHook(str(hook["socket"]), timeout=self.hook_timeout,
                                   fail_open=self.hook_fail_open, owner=h.name)  # fmt: skip

    def _subscribe(self, h: PluginHandle, events: list[str], peers: Any) -> None:
        for ev in events:
            pat = _topic(ev)
            if pat not in h.patterns:
                h.patterns.append(pat)
        if peers:
            h.peers = {str(x) for x in peers}
        if not h.patterns:
            return
        if h.queue is None:
            h.queue = self.hub.subscribe_queue(
                list(h.patterns), lambda items: self._sink(h, items), owner=f"plugin:{h.name}",
                bound=self.queue_bound, batch=self.batch, pause=self.pause_at_bound,
            )  # fmt: skip
        else:
            for pat in h.patterns:
                h.queue.add_pattern(pat)

    def emit(self, p: dict[str, Any]) -> int:
        ns, etype = str(p.get("namespace", "")), str(p.get("event-type", ""))
        if not ns or not etype or "/" in ns:
            raise RemoteError("bad-params", "emit-event needs a namespace and an event-type")
        body: dict[str, Any] = {"message": {"type": etype}}
        if p.get("direction"):
            body["message"]["direction"] = p["direction"]
        if p.get("peer-address"):
            body["peer"] = {"address": p["peer-address"]}
        body[etype] = p.get("event")
        return self.hub.publish(f"{ns}/{etype}", {"type": ns, ns: body})

    # --- events to plugins ---------------------------------------------------------------
    async def _sink(self, h: PluginHandle, items: list[tuple[str, Any]]) -> None:
        if h.peers:
            items = [it for it in items if _peer_matches(it[1], h.peers)]
            if not items:
                return
        while not self.stopping:
            if not h.ready.is_set():
                await h.ready.wait()
                continue
            if h.direct is not None:
                await h.direct(items)
                h.delivered_batches += 1
                return
            mux = h.mux
            assert mux is not None
            fmt = h.subscribe.get("format", "parsed")
            if self.event_filler is not None and fmt in ("parsed", "full") and self.nlri_families():
                body = await self._batch_body_filled(items, fmt)
            else:
                body = self._batch_body(items, fmt)
            try:
                await asyncio.wait_for(mux.request_raw(f"{CALLBACK}:deliver-batch", body), self.call_timeout)
                h.delivered_batches += 1
                return
            except ConnectionLost:
                h.ready.clear()  # redelivered to the restarted plugin
            except TimeoutError:
                h.ready.clear()
                if h.kill is not None:
                    h.kill(f"hung: no answer to deliver-batch within {self.call_timeout} s")
            except RemoteError as e:
                log.error("plugin refused events", plugin=h.name, events=len(items), error=e.message)
                h.last_error = f"deliver-batch: {e.message}"
                return

    def _batch_body(self, items: list[tuple[str, Any]], fmt: str) -> bytes:
        parts = []
        cache = self._cache
        for topic, payload in items:
            key = (id(payload), fmt)
            hit = cache.get(key)
            if hit is not None and hit[0] is payload:
                self.render_hits += 1
                parts.append(hit[1])
                continue
            self.render_misses += 1
            try:
                enc = self._enc.encode(self.renderer(topic, payload, fmt))
            except Exception as e:  # a payload that cannot render (a malformed UPDATE): say so
                enc = self._enc.encode({"type": "error", "error": {"topic": topic, "message": str(e)}})
            cache[key] = (payload, enc)
            if len(cache) > 8192:
                cache.popitem(last=False)
            parts.append(enc)
        return b'{"events":[' + b",".join(parts) + b"]}"

    async def _batch_body_filled(self, items: list[tuple[str, Any]], fmt: str) -> bytes:
        """_batch_body, with NLRI of families a plugin decodes filled in (event_filler)."""
        assert self.event_filler is not None
        parts = []
        key_fmt = f"{fmt}+nlri"
        for topic, payload in items:
            key = (id(payload), key_fmt)
            hit = self._cache.get(key)
            if hit is not None and hit[0] is payload:
                self.render_hits += 1
                parts.append(hit[1])
                continue
            self.render_misses += 1
            try:
                event = await self.event_filler(topic, payload, self.renderer(topic, payload, fmt))
                enc = self._enc.encode(event)
            except Exception as e:  # as in _batch_body: a payload that cannot render says so
                enc = self._enc.encode({"type": "error", "error": {"topic": topic, "message": str(e)}})
            self._cache[key] = (payload, enc)
            if len(self._cache) > 8192:
                self._cache.popitem(last=False)
            parts.append(enc)
        return b'{"events":[' + b",".join(parts) + b"]}"

    # --- commands ------------------------------------------------------------------------
    def registry(self) -> list[dict[str, str]]:
        out = [{"name": n, "plugin": "ze"} for n in self.builtin_names]
        out += [{"name": n, "plugin": p} for n, p in sorted(self.commands.items())]
        return out

    def command_owner(self, command: str) -> tuple[str | None, str, list[str]]:
        words = command.split()
        for n in range(len(words), 0, -1):
            name = " ".join(words[:n])
            if name in self.commands:
                return self.commands[name], name, words[n:]
        return None, "", words

    async def dispatch(self, command: str, args: list[str] | None = None) -> dict[str, Any]:
        """Run a command by its words: a plugin's (execute-command) or ze's own (builtin)."""
        owner, name, rest = self.command_owner(command)
        if owner is not None:
            h = self.handles[owner]
            if not h.ready.is_set() or h.mux is None:
                raise RemoteError("unavailable", f"plugin {owner} is {h.state}")
            try:
                res = await asyncio.wait_for(
                    h.mux.request(
                        f"{CALLBACK}:execute-command", {"command": name, "args": [*rest, *(args or [])]}
                    ),
                    self.call_timeout,
                )
            except TimeoutError:
                raise RemoteError("timeout", f"plugin {owner} did not answer {name!r}") from None
            except ConnectionLost as e:
                raise RemoteError("unavailable", f"plugin {owner}: {e}") from None
            data = res.get("data") if isinstance(res, dict) else res
            return {"status": "done", "plugin": owner, "data": data}
        if self.builtin is not None:
            try:
                return {"status": "done", "plugin": "ze", "data": await self.builtin(command, args or [])}
            except KeyError:
                pass
        import difflib

        known = [*self.builtin_names, *self.commands]
        close = difflib.get_close_matches(command, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise RemoteError("unknown-command", f"no command {command!r}{hint}")

    # --- config reload -------------------------------------------------------------------
    def _wanting(self) -> list[tuple[PluginHandle, list[str]]]:
        out = []
        for h in self.handles.values():
            roots = h.roots
            if roots and h.state == "ready" and h.mux is not None:
                out.append((h, roots))
        return out

    async def verify_config(self, sections_for: SectionsFor) -> list[str]:
        """Ask every ready plugin that wants config to verify the new one; the refusals."""
        problems = []
        for h, roots in self._wanting():
            try:
                await asyncio.wait_for(
                    h.mux.request(f"{CALLBACK}:config-verify", {"sections": sections_for(roots)}),  # type: ignore[union-attr]
                    self.stage_timeout,
                )
            except RemoteError as e:
                problems.append(f"plugin {h.name} rejected the config: {e.message}")
            except (TimeoutError, ConnectionLost) as e:
                problems.append(f"plugin {h.name} did not verify the config: {e or 'timeout'}")
        return problems

    async def apply_config(self, sections_for: SectionsFor) -> list[str]:
        self.sections_for = sections_for
        errors = []
        for h, roots in self._wanting():
            try:
                await asyncio.wait_for(
                    h.mux.request(f"{CALLBACK}:config-apply", {"sections": sections_for(roots)}),  # type: ignore[union-attr]
                    self.stage_timeout,
                )
            except (RemoteError, TimeoutError, ConnectionLost) as e:
                errors.append(f"plugin {h.name}: config-apply failed: {e}")
                log.error("plugin config-apply failed", plugin=h.name, error=str(e))
        return errors

    # --- hooks for the BGP speaker -------------------------------------------------------
    def open_capabilities(self, peer: str) -> list[tuple[int, bytes]]:
        """Capabilities plugins asked to put in the OPEN sent to `peer` (name or address)."""
        out = []
        for h in self.handles.values():
            if h.state != "ready":
                continue
            for c in h.capabilities:
                peers = c.get("peers") or []
                if not peers or peer in peers:
                    out.append((int(c["code"]), bytes.fromhex(str(c.get("payload", "")))))
        return out

    async def validate_open(self, peer: dict[str, Any], open_json: dict[str, Any]) -> tuple[bool, str]:
        """Ask each plugin that wants to validate OPENs; the first refusal wins."""
        for h in self.handles.values():
            if h.state != "ready" or h.mux is None or not h.declared.get("wants-validate-open"):
                continue
            try:
                res = await asyncio.wait_for(
                    h.mux.request(f"{CALLBACK}:validate-open", {"peer": peer, "open": open_json}),
                    self.stage_timeout,
                )
            except (RemoteError, TimeoutError, ConnectionLost) as e:
                log.error("validate-open failed; accepting", plugin=h.name, error=str(e))
                continue
            if isinstance(res, dict) and res.get("accept") is False:
                return False, f"{h.name}: {res.get('reason', 'refused')}"
        return True, ""

    # --- NLRI codecs provided by plugins (decode-nlri / encode-nlri) ---------------------------
    def nlri_plugin(self, family: str, what: str) -> PluginHandle | None:
        """The first ready plugin that registered `family` with a mode that does `what`
        ("decode" or "encode"), in start order."""
        modes = NLRI_MODES[what]
        for h in self.handles.values():
            if h.state != "ready" or h.mux is None:
                continue
            for f in h.declared.get("families") or ():
                if isinstance(f, dict) and f.get("name") == family and f.get("mode", "both") in modes:
                    return h
        return None

    def nlri_families(self, what: str = "decode") -> set[str]:
        """Families ready plugins decode (or encode) that ze has no codec for."""
        return {
            str(f.get("name"))
            for h in self.handles.values()
            if h.state == "ready"
            for f in h.declared.get("families") or ()
            if isinstance(f, dict)
            and f.get("mode", "both") in NLRI_MODES[what]
            and f.get("name") not in self.own_families
        }

    async def decode_nlri(self, family: str, data: bytes, add_path: bool = False) -> list[str] | None:
        """The texts of packed NLRI `data` of `family`, from the plugin that decodes it; None
        when no plugin does or it failed (logged; the caller keeps the raw hex)."""
        h = self.nlri_plugin(family, "decode")
        if h is None:
            return None
        self.nlri_calls["decode"] += 1
        params = {"family": family, "hex": data.hex().upper(), "add-path": add_path}
        try:
            res = await asyncio.wait_for(h.mux.request(f"{CALLBACK}:decode-nlri", params), self.call_timeout)  # type: ignore[union-attr]
            texts = res.get("nlri") if isinstance(res, dict) else None
            if not isinstance(texts, list):
                raise RemoteError("bad-result", f"decode-nlri answered {res!r:.100}")
            return [str(t) for t in texts]
        except (RemoteError, TimeoutError, ConnectionLost) as e:
            self.nlri_calls["failed"] += 1
            log.warning(
                "decode-nlri failed; keeping the raw NLRI", plugin=h.name, family=family, error=str(e)
            )
            return None

    async def encode_nlri(self, family: str, texts: list[str], add_path: bool = False) -> list[bytes]:
        """One packed NLRI per text, from the plugin that encodes `family`; RemoteError when no
        plugin does, it refuses (bad text) or does not answer."""
        h = self.nlri_plugin(family, "encode")
        if h is None:
            raise RemoteError("no-codec", f"no plugin encodes {family} NLRI")
        self.nlri_calls["encode"] += 1
        params = {"family": family, "nlri": list(texts), "add-path": add_path}
        try:
            res = await asyncio.wait_for(h.mux.request(f"{CALLBACK}:encode-nlri", params), self.call_timeout)  # type: ignore[union-attr]
        except TimeoutError:
            raise RemoteError("timeout", f"plugin {h.name} did not encode {family} in time") from None
        except ConnectionLost as e:
            raise RemoteError("unavailable", f"plugin {h.name}: {e}") from None
        packed = res.get("hex") if isinstance(res, dict) else None
        if not isinstance(packed, list) or len(packed) != len(texts):
            raise RemoteError("bad-result", f"plugin {h.name}: encode-nlri answered {res!r:.100}")
        try:
            return [bytes.fromhex(str(x)) for x in packed]
        except ValueError:
            raise RemoteError("bad-result", f"plugin {h.name}: encode-nlri answered non-hex") from None

    async def filter_update(self, peer: dict[str, Any], update: bytes, msg_id: int = 0) -> dict[str, Any]:
        """Run the UPDATE body through every plugin that filters, in start order: its fast hook
        (msgpack frames) or, for one that declared `filters`, `filter-update` over its
        connection, with the same timeout and default verdict. A reject stops, a modify passes
        the new body on. -> {"verdict", "update"?, "reason"?}."""
        verdict: dict[str, Any] = {"verdict": "accept"}
        body = update
        for h in self.handles.values():
            if h.state != "ready":
                continue
            if h.fast_hook is not None:
                v = await h.fast_hook.call({"peer": peer, "update": body})
            elif h.declared.get("filters") and h.mux is not None:
                v = await self._filter_json(h, peer, body, msg_id)
            else:
                continue
            if v.get("verdict") == "reject":
                return v
            if v.get("verdict") == "modify" and isinstance(v.get("update"), bytes):
                body = v["update"]
                verdict = {"verdict": "modify", "update": body}
            if v.get("reason"):
                verdict["reason"] = v["reason"]  # e.g. a default verdict: say why
        return verdict

    async def _filter_json(
        self, h: PluginHandle, peer: dict[str, Any], body: bytes, msg_id: int
    ) -> dict[str, Any]:
        st = self.filter_stats
        st["calls"] += 1
        params = {"id": msg_id, "hex": body.hex().upper(), "peer": peer}
        why = ""
        slots = self._filter_slots.get(h.name)
        if slots is None:
            slots = self._filter_slots[h.name] = asyncio.Semaphore(2)
        try:
            async with slots:
                res = await asyncio.wait_for(
                    h.mux.request(f"{CALLBACK}:filter-update", params),  # type: ignore[union-attr]
                    self.hook_timeout,
                )
            if isinstance(res, dict) and res.get("verdict") in ("accept", "reject"):
                return res
            if isinstance(res, dict) and res.get("verdict") == "modify":
                return {**res, "update": bytes.fromhex(str(res.get("hex", "")))}
            why = f"bad verdict {res!r:.100}"
        except TimeoutError:
            st["timeouts"] += 1
            why = f"no verdict within {self.hook_timeout * 1000:.0f} ms"
        except (RemoteError, ConnectionLost, ValueError) as e:
            why = f"{type(e).__name__}: {e}"
        st["failures"] += 1
        st["last-error"] = why
        v = "accept" if self.hook_fail_open else "reject"
        return {"verdict": v, "reason": f"filter {h.name}: {why} ({v} by default)"}

    @property
    def has_fast_hooks(self) -> bool:
        return any(h.fast_hook is not None for h in self.handles.values())

    @property
    def has_filters(self) -> bool:
        """Whether any ready plugin filters UPDATEs (a fast hook or declared filters)."""
        return any(
            h.state == "ready" and (h.fast_hook is not None or bool(h.declared.get("filters")))
            for h in self.handles.values()
        )

    # --- status --------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return {
            "plugins": [h.to_dict() for h in self.handles.values()],
            "commands": self.registry(),
            "listener": self.external.status() if self.external is not None else None,
            "render-cache": {"hits": self.render_hits, "misses": self.render_misses},
            "filter-update": dict(self.filter_stats),
            "nlri-codec-calls": dict(self.nlri_calls),
        }


def _topic(ev: Any) -> str:
    """An event name as a hub pattern: "bgp/update", "bgp/" and "*" as is; a bare word is a
    bgp event ("update" -> "bgp/update")."""
    ev = str(ev)
    if ev == "*" or "/" in ev:
        return ev
    return f"bgp/{ev}"


def _peer_matches(payload: Any, peers: set[str]) -> bool:
    """A payload about a peer passes when the peer's name or address is in `peers`; others pass."""
    peer = getattr(payload, "peer", None)
    if peer is None:
        return True
    return getattr(peer, "name", None) in peers or getattr(peer, "address", None) in peers
