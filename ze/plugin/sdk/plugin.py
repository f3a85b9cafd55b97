"""The plugin author's API: one `Plugin` object, the same code in-process or as a process.

    from ze.plugin.sdk import Plugin, Registration

    plugin = Plugin.from_env("my-plugin")          # external: TLS connect-back from ZE_PLUGIN_*

    @plugin.on_event
    def seen(event):                                # event.topic, event.json (dict), event.payload
        print(event.json["bgp"]["update"])

    @plugin.on_command("show seen", "how many updates")
    def show_seen(args):
        return {"count": 1}

    plugin.set_startup_subscriptions(events=["bgp/update"])
    asyncio.run(plugin.run(Registration(families=["ipv4/unicast"])))

`run()` completes the five start-up stages (declare-registration, configure,
declare-capabilities, share-registry, ready) and then serves ze's requests until ze says
`bye` or the connection ends. In-process (the host gives the plugin an in-memory pipe) the
stages are the same lines; after `ready` events arrive as Python objects through the direct
bridge: `event.payload` is the hub payload (a ze.bgp.events.PeerUpdate ...) and `event.json`
renders the protocol's JSON only if asked.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ze.core.log import get_logger
from ze.plugin.protocol.line import Message
from ze.plugin.protocol.mux import MemoryEnd, Mux, RemoteError
from ze.plugin.sdk import transport as tr
from ze.plugin.sdk.render import event_json, topic_of

ENGINE = "ze-plugin-engine"
CALLBACK = "ze-plugin-callback"

log = get_logger("ze.plugin.sdk")

# ze's requests served beside the ordered queue: a handler awaiting decode_update may need them
_CONCURRENT = frozenset({f"{CALLBACK}:decode-nlri", f"{CALLBACK}:encode-nlri"})


class Reject(Exception):
    """Raise from on_configure / on_verify / on_validate_open to refuse (with the message)."""


@dataclass
class Registration:
    """What stage 1 declares (commands come from on_command, validate-open from on_validate_open)."""

    families: list[str] = field(default_factory=list)  # "ipv4/unicast" or "ipv4/unicast:decode"
    dependencies: list[str] = field(default_factory=list)
    wants_config: list[str] = field(default_factory=list)  # config roots it gets in configure
    schema: dict[str, str] | None = None  # {"module", "namespace", "yang-text"}
    filters: list[str] = field(default_factory=list)


@dataclass
class Command:
    name: str
    description: str
    args: list[str]
    fn: Callable[..., Any]


class Event:
    """One event: `topic` ("bgp/update"), `payload` (the hub object, in-process only) and
    `json` (the protocol's event dict; rendered on first use in-process)."""

    __slots__ = ("_json", "fmt", "payload", "topic")

    def __init__(
        self, topic: str, payload: Any = None, json: dict | None = None, fmt: str = "parsed"
    ) -> None:
        self.topic = topic
        self.payload = payload
        self._json = json
        self.fmt = fmt

    @property
    def json(self) -> dict[str, Any]:
        if self._json is None:
            self._json = event_json(self.topic, self.payload, self.fmt)
        return self._json

    def __repr__(self) -> str:
        return f"Event({self.topic!r})"


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    r = fn(*args)
    if inspect.isawaitable(r):
        r = await r
    return r


class Plugin:
    def __init__(self, name: str, transport: tr.Transport) -> None:
        self.name = name
        self.transport = transport
        self.stage = 0
        self.commands: dict[str, Command] = {}
        self.registry: list[dict[str, Any]] = []  # every command ze knows (share-registry)
        self.capabilities: list[dict[str, Any]] = []
        self.config: dict[str, Any] = {}  # root -> data, as last configured/applied
        self.subscribe: dict[str, Any] = {"events": [], "format": "parsed", "encoding": "json"}
        self.fast_hook: Callable[[dict], Any] | None = None
        self.fast_hook_path: str | None = None
        self._event_fns: list[Callable[[Event], Any]] = []
        self._configure_fns: list[Callable[[dict], Any]] = []
        self._verify_fns: list[Callable[[dict], Any]] = []
        self._open_fns: list[Callable[[dict], Any]] = []
        self._started_fns: list[Callable[[], Any]] = []
        self._decode_nlri: Callable[..., Any] | None = None
        self._encode_nlri: Callable[..., Any] | None = None
        self._filter_fn: Callable[[dict], Any] | None = None
        self._mux: Mux | None = None
        self._stage_done: dict[int, asyncio.Event] = {}
        self._done: asyncio.Future | None = None
        self._fast_server: Any = None
        self.bye_reason = ""

    # --- construction --------------------------------------------------------------------
    @classmethod
    def from_env(cls, name: str | None = None, *, pin: bool = True) -> Plugin:
        """External plugin: connect back to ze as ZE_PLUGIN_* say (stdin/stdout without them)."""
        pname, t = tr.from_env(name, pin)
        return cls(pname, t)

    @classmethod
    def stdio(cls, name: str) -> Plugin:
        return cls(name, tr.StdioTransport())

    @classmethod
    def in_process(cls, name: str, end: MemoryEnd) -> Plugin:
        """What the host builds for an in-process plugin (the plugin side of the pipe)."""
        return cls(name, tr.MemoryTransport(end))

    # --- declarations --------------------------------------------------------------------
    def on_event(self, fn: Callable[[Event], Any]) -> Callable[[Event], Any]:
        self._event_fns.append(fn)
        return fn

    def on_configure(self, fn: Callable[[dict], Any]) -> Callable[[dict], Any]:
        """fn(sections: {root: data}) at start-up (stage 2) and on each applied reload."""
        self._configure_fns.append(fn)
        return fn

    def on_verify(self, fn: Callable[[dict], Any]) -> Callable[[dict], Any]:
        """fn(sections) before a reload is applied; raise Reject to refuse the whole reload."""
        self._verify_fns.append(fn)
        return fn

    def on_validate_open(self, fn: Callable[[dict], Any]) -> Callable[[dict], Any]:
        """fn({"peer", "open"}) for each OPEN received; raise Reject to refuse the session."""
        self._open_fns.append(fn)
        return fn

    def on_started(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """fn() when every plugin is ready (post-startup)."""
        self._started_fns.append(fn)
        return fn

    def on_decode_nlri(self, fn: Callable[[str, bytes, bool], Any]) -> Callable[[str, bytes, bool], Any]:
        """fn(family, nlri: bytes, add_path) -> [text, ...]: ze asks (`decode-nlri`) for the NLRI
        of a family this plugin registered with mode "decode" (or "both") and ze has no codec
        for; the texts replace {"raw": HEX} in the event JSON ze renders and in decode-update."""
        self._decode_nlri = fn
        return fn

    def on_encode_nlri(
        self, fn: Callable[[str, list[str], bool], Any]
    ) -> Callable[[str, list[str], bool], Any]:
        """fn(family, [text, ...], add_path) -> [bytes, ...] (one packed NLRI per text): ze asks
        (`encode-nlri`) for a family registered with mode "encode" (or "both")."""
        self._encode_nlri = fn
        return fn

    def on_filter_update(self, fn: Callable[[dict], Any]) -> Callable[[dict], Any]:
        """fn({"id", "peer": {"name","address","remote-as"}, "update": body bytes}) ->
        {"verdict": "accept"|"reject"|"modify", "reason"?, "update"?: new body bytes}, for
        each UPDATE ze receives, before it reaches the hub (`filter-update` over the plugin's
        connection; declares `filters`). Must answer within the fast-hook timeout (50 ms by
        default) or the configured default verdict applies; set_fast_hook is the faster path."""
        self._filter_fn = fn
        return fn

    def on_command(self, name: str, description: str = "", args: list[str] | None = None) -> Callable:
        """Decorator: fn(args: list[str]) answers `name` (words, e.g. "show forwarding")."""

        def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.commands[name] = Command(name, description, list(args or []), fn)
            return fn

        return deco

    def add_capability(self, code: int, payload: bytes = b"", peers: list[str] | None = None) -> None:
        """A capability to put in the OPEN ze sends (to `peers`, or every peer)."""
        self.capabilities.append(
            {"code": code, "encoding": "hex", "payload": payload.hex().upper(), "peers": list(peers or [])}
        )

    def set_startup_subscriptions(
        self,
        events: list[str] | None = None,
        peers: list[str] | None = None,
        format: str = "parsed",
        encoding: str = "json",
    ) -> None:
        """What `ready` subscribes to, atomically with readiness (no event missed)."""
        self.subscribe = {"events": list(events or []), "format": format, "encoding": encoding}
        if peers:
            self.subscribe["peers"] = list(peers)

    def set_fast_hook(self, fn: Callable[[dict], Any], path: str | None = None) -> None:
        """fn(request) -> {"verdict": "accept"|"reject"|"modify", ...}, served on a unix socket
        advertised in `ready` (see ze.plugin.sdk.fasthook)."""
        self.fast_hook = fn
        self.fast_hook_path = path

    # --- running -------------------------------------------------------------------------
    async def run(self, registration: Registration | None = None) -> str:
        """The five stages, then serve until `bye` or the connection ends; returns why it ended."""
        reg = registration or Registration()
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        self._stage_done = {2: asyncio.Event(), 4: asyncio.Event()}
        self._mux = None

        def feed(data: bytes) -> None:
            if self._mux is not None:
                self._mux.feed(data)

        send = await self.transport.open(feed, self._lost)
        self._mux = Mux(send, self._handle, loop.create_future, loop.create_task, concurrent=_CONCURRENT)
        try:
            self.stage = 1
            await self._request(f"{ENGINE}:declare-registration", self._declaration(reg))
            await self._wait_stage(2)
            self.stage = 3
            await self._request(f"{ENGINE}:declare-capabilities", {"capabilities": self.capabilities})
            await self._wait_stage(4)
            self.stage = 5
            ready: dict[str, Any] = {"subscribe": self.subscribe}
            if self.fast_hook is not None:
                from ze.plugin.sdk import fasthook

                self._fast_server, path = await fasthook.serve(self.fast_hook, self.fast_hook_path, self.name)
                ready["fast-hook"] = {"socket": path}
            if isinstance(self.transport, tr.MemoryTransport):
                self.transport.end.direct = self._deliver_direct  # the bridge, from ready on
            await self._request(f"{ENGINE}:ready", ready)
            self.stage = 6
            return await self._done
        finally:
            if self._fast_server is not None:
                self._fast_server.close()
            self.transport.close()
            if self._mux is not None:
                self._mux.close("plugin stopped")

    async def _wait_stage(self, n: int) -> None:
        waiter = asyncio.ensure_future(self._stage_done[n].wait())
        assert self._done is not None
        await asyncio.wait({waiter, self._done}, return_when=asyncio.FIRST_COMPLETED)
        if not waiter.done():
            waiter.cancel()
            raise tr.ConnectError(f"ze went away before stage {n}: {self._done.result()}")

    def _lost(self, reason: str) -> None:
        if self._mux is not None:
            self._mux.close(reason)
        if self._done is not None and not self._done.done():
            self._done.set_result(reason)

    def stop(self, reason: str = "stopped") -> None:
        self._lost(reason)

    def _declaration(self, reg: Registration) -> dict[str, Any]:
        fams = []
        for f in reg.families:
            name, _, mode = f.partition(":")
            fams.append({"name": name, "mode": mode or "both"})
        out: dict[str, Any] = {
            "families": fams,
            "commands": [
                {"name": c.name, "description": c.description, "args": c.args} for c in self.commands.values()
            ],
            "dependencies": list(reg.dependencies),
            "wants-config": list(reg.wants_config),
            "wants-validate-open": bool(self._open_fns),
            "filters": list(reg.filters) or (["update"] if self._filter_fn is not None else []),
        }
        if reg.schema:
            out["schema"] = reg.schema
        return out

    async def _request(self, method: str, params: Any = None, timeout: float = 30.0) -> Any:
        if self._mux is None:
            raise tr.ConnectError("the plugin is not running (call run() first)")
        return await asyncio.wait_for(self._mux.request(method, params), timeout)

    # --- what ze asks ----------------------------------------------------------------------
    async def _handle(self, msg: Message) -> Any:
        verb = msg.verb
        p = msg.payload if isinstance(msg.payload, dict) else {}
        if verb == f"{CALLBACK}:deliver-batch":
            fmt = self.subscribe.get("format", "parsed")
            for e in p.get("events", ()):
                await self._dispatch_event(Event(topic_of(e), None, e, fmt))
            return None
        if verb == f"{CALLBACK}:execute-command":
            return await self._execute(str(p.get("command", "")), list(p.get("args") or []))
        if verb == f"{CALLBACK}:configure":
            await self._configure(p, self._configure_fns)
            self._stage_done[2].set()
            return None
        if verb == f"{CALLBACK}:share-registry":
            self.registry = list(p.get("commands", []))
            self._stage_done[4].set()
            return None
        if verb == f"{CALLBACK}:config-verify":
            await self._configure(p, self._verify_fns, keep=False)
            return None
        if verb == f"{CALLBACK}:config-apply":
            await self._configure(p, self._configure_fns)
            return None
        if verb == f"{CALLBACK}:validate-open":
            try:
                for fn in self._open_fns:
                    await _call(fn, p)
            except Reject as e:
                return {"accept": False, "reason": str(e)}
            return {"accept": True}
        if verb == f"{CALLBACK}:filter-update":
            return await self._filter(p)
        if verb == f"{CALLBACK}:decode-nlri":
            return await self._nlri(self._decode_nlri, "decode", p)
        if verb == f"{CALLBACK}:encode-nlri":
            return await self._nlri(self._encode_nlri, "encode", p)
        if verb == f"{CALLBACK}:post-startup":
            for fn in self._started_fns:
                await _call(fn)
            return None
        if verb == f"{CALLBACK}:bye":
            self.bye_reason = str(p.get("reason", ""))
            asyncio.get_running_loop().call_soon(self._lost, f"bye: {self.bye_reason}")
            return None
        raise RemoteError("unknown-method", f"{self.name} does not implement {verb}")

    async def _filter(self, p: dict) -> dict[str, Any]:
        if self._filter_fn is None:
            raise RemoteError("unknown-method", f"{self.name} does not filter UPDATEs")
        req = {"id": p.get("id"), "peer": p.get("peer") or {}, "update": bytes.fromhex(str(p.get("hex", "")))}
        v = await _call(self._filter_fn, req)
        verdict = v.get("verdict") if isinstance(v, dict) else None
        if verdict not in ("accept", "reject", "modify"):
            raise RemoteError("bad-verdict", f"{self.name}: filter answered {v!r:.100}")
        out: dict[str, Any] = {"verdict": verdict}
        if v.get("reason"):
            out["reason"] = str(v["reason"])
        if verdict == "modify":
            out["hex"] = bytes(v["update"]).hex().upper()
        return out

    async def _nlri(self, fn: Callable[..., Any] | None, what: str, p: dict) -> dict[str, Any]:
        if fn is None:
            raise RemoteError("unknown-method", f"{self.name} does not {what} NLRI")
        family, add_path = str(p.get("family", "")), bool(p.get("add-path", False))
        try:
            if what == "decode":
                texts = await _call(fn, family, bytes.fromhex(str(p.get("hex", ""))), add_path)
                return {"nlri": [str(t) for t in texts]}
            packed = await _call(fn, family, [str(t) for t in p.get("nlri") or []], add_path)
            return {"hex": [bytes(b).hex().upper() for b in packed]}
        except (ValueError, KeyError, TypeError, IndexError) as e:
            raise RemoteError(f"{what}-failed", f"{family}: {type(e).__name__}: {e}") from None

    async def _configure(self, p: dict, fns: list, keep: bool = True) -> None:
        sections = {s.get("root"): s.get("data") for s in p.get("sections", []) if isinstance(s, dict)}
        try:
            for fn in fns:
                await _call(fn, sections)
        except Reject as e:
            raise RemoteError("rejected", str(e)) from None
        except (ValueError, KeyError, TypeError) as e:
            raise RemoteError("rejected", f"{type(e).__name__}: {e}") from None
        if keep:
            self.config = sections

    async def _dispatch_event(self, ev: Event) -> None:
        for fn in self._event_fns:
            try:
                await _call(fn, ev)
            except Exception as e:  # one bad event must not end the plugin
                log.error("event handler failed", plugin=self.name, topic=ev.topic, error=repr(e))

    async def _deliver_direct(self, items: list[tuple[str, Any]]) -> None:
        fmt = self.subscribe.get("format", "parsed")
        for topic, payload in items:
            await self._dispatch_event(Event(topic, payload, None, fmt))

    async def _execute(self, command: str, args: list[str]) -> Any:
        words = command.split()
        for n in range(len(words), 0, -1):
            cmd = self.commands.get(" ".join(words[:n]))
            if cmd is not None:
                try:
                    data = await _call(cmd.fn, [*words[n:], *args])
                except Reject as e:
                    raise RemoteError("command-failed", str(e)) from None
                return {"status": "done", "data": data}
        raise RemoteError("unknown-command", f"{self.name} has no command {command!r}")

    # --- what the plugin asks ze -----------------------------------------------------------
    async def update_route(self, peer_selector: str, command: str) -> dict[str, Any]:
        """Send routes in the text syntax (`update text ... nlri ipv4/unicast add ...`) to the
        peers the selector names ("*" for all); -> {"peers-affected", "routes-sent"}."""
        return await self._request(
            f"{ENGINE}:update-route", {"peer-selector": peer_selector, "command": command}
        )

    async def decode_update(
        self, update: bytes | str, context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """An UPDATE (bytes or hex; whole message or body) decoded by ze into the "update" JSON
        ze delivers in events (families a plugin decodes included); `context` like
        {"add-path": ["ipv4/unicast"], "asn4": true}. -> {"update": {...}}."""
        hexed = update.hex().upper() if isinstance(update, (bytes, bytearray, memoryview)) else str(update)
        params: dict[str, Any] = {"hex": hexed}
        if context:
            params["context"] = context
        return await self._request(f"{ENGINE}:decode-update", params)

    async def forward_cached(self, msg_id: int, peers: list[str]) -> dict[str, Any]:
        """Route-server fast path: ze sends the received UPDATE whose event had this `id`
        unchanged to `peers` (names or addresses). -> {"peers": [sent to], "skipped": {peer:
        why}}; RemoteError "evicted" when ze's cache of recent UPDATEs no longer has it."""
        return await self._request(f"{ENGINE}:forward-cached", {"id": msg_id, "peers": list(peers)})

    async def dispatch_command(self, command: str) -> dict[str, Any]:
        """Run any command ze knows (its own or another plugin's); -> {"status", "data"}."""
        return await self._request(f"{ENGINE}:dispatch-command", {"command": command})

    async def publish(self, topic: str, payload: Any) -> int:
        """Publish on the hub. In-process the payload goes as is (a Python object, no JSON:
        how features hand each other BestBatch and the like); out of process it must be
        JSON-able and goes through `emit-event`. Returns how many subscribers got it."""
        end = getattr(self.transport, "end", None)
        direct = getattr(end, "publish", None)
        if direct is not None:
            return direct(topic, payload)
        namespace, _, event_type = topic.partition("/")
        res = await self.emit_event(namespace, event_type, payload)
        return int(res.get("delivered", 0)) if isinstance(res, dict) else 0

    async def emit_event(
        self,
        namespace: str,
        event_type: str,
        event: Any,
        direction: str = "",
        peer_address: str = "",
    ) -> dict[str, Any]:
        """Publish an event on the hub (topic "<namespace>/<event-type>"); -> {"delivered"}."""
        return await self._request(
            f"{ENGINE}:emit-event",
            {
                "namespace": namespace,
                "event-type": event_type,
                "direction": direction,
                "peer-address": peer_address,
                "event": event,
            },
        )

    async def subscribe_events(self, events: list[str], peers: list[str] | None = None) -> Any:
        params: dict[str, Any] = {"events": events}
        if peers:
            params["peers"] = peers
        return await self._request(f"{ENGINE}:subscribe-events", params)

    async def unsubscribe_events(self, events: list[str]) -> Any:
        return await self._request(f"{ENGINE}:unsubscribe-events", {"events": events})
