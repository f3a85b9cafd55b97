"""What the daemon calls: plugins from config, start/stop, reload verify/apply, and the control
API methods (`ze-api:show-plugins`, `ze-api:plugin-command`). The daemon hands in the SDK
pieces (`make_plugin`, `renderer`) and the features discovery found; nothing here names a
feature or imports the config package (a config is seen through `section(root)`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ze.core.log import get_logger
from ze.hub.bus import Hub
from ze.plugin.host.engine import MakePlugin, PluginHost, PluginStartupError, Renderer
from ze.plugin.protocol.mux import RemoteError

Section = Callable[[str], dict[str, Any]]
Handler = Callable[[Any], Awaitable[Any]]

log = get_logger("ze.plugin.host")

__all__ = ["DaemonPlugins", "PluginStartupError"]


def sections_of(section: Section) -> Callable[[list[str]], list[dict[str, Any]]]:
    return lambda roots: [{"root": r, "data": section(r)} for r in roots]


class DaemonPlugins:
    def __init__(
        self,
        hub: Hub,
        features: Mapping[str, Any],
        *,
        make_plugin: MakePlugin | None = None,
        renderer: Renderer | None = None,
        error_type: type[Exception] = RemoteError,
        **host_kw: Any,
    ) -> None:
        self.features = dict(features)
        self.host = PluginHost(hub, make_plugin=make_plugin, renderer=renderer, **host_kw)
        self._api_error = error_type

    async def start(self, section: Section, builtin: Mapping[str, Handler] | None = None) -> None:
        """Start the plugins the config names. PluginStartupError: a required one failed."""
        plugin = section("plugin") or {}
        process = section("process") or {}
        if builtin:
            self.set_builtin(builtin)
        self.host.sections_for = sections_of(section)
        self.configure(plugin)
        specs = self.host.specs_from_config(plugin, process, self.features)
        hub = (plugin.get("hub") or {}).get("server") or {}
        if specs:
            await self.host.start(specs, hub)

    def configure(self, plugin: dict[str, Any]) -> None:
        """The host's knobs from `plugin { queue-bound; at-bound; batch; stage-timeout;
        call-timeout; fast-hook { timeout-ms; default; } }` (absent: the defaults)."""
        h = self.host
        h.queue_bound = int(plugin.get("queue-bound", h.queue_bound or 10_000))
        h.pause_at_bound = plugin.get("at-bound", "pause") == "pause"
        h.batch = int(plugin.get("batch", h.batch))
        h.stage_timeout = float(plugin.get("stage-timeout", h.stage_timeout))
        h.call_timeout = float(plugin.get("call-timeout", h.call_timeout))
        hook = plugin.get("fast-hook") or {}
        h.hook_timeout = int(hook.get("timeout-ms", round(h.hook_timeout * 1000))) / 1000
        h.hook_fail_open = hook.get("default", "accept") == "accept"

    def set_builtin(self, handlers: Mapping[str, Handler]) -> None:
        """ze's own API methods as commands for plugins ("show peers" is ze-api:show-peers)."""
        by_words = {}
        for method, h in handlers.items():
            module, _, rpc = method.partition(":")
            if module == "ze-api" and rpc not in ("plugin-command", "signal-stop"):
                by_words[rpc.replace("-", " ")] = h
        self.host.builtin_names = sorted(by_words)

        async def builtin(command: str, args: list[str]) -> Any:
            words = command.split()
            for n in range(len(words), 0, -1):
                h = by_words.get(" ".join(words[:n]))
                if h is not None:
                    rest = [*words[n:], *args]
                    return await h({"name": rest[0]} if rest else {})
            raise KeyError(command)

        self.host.builtin = builtin

    async def stop(self) -> None:
        await self.host.stop()

    async def verify(self, section: Section) -> list[str]:
        try:
            self.host.specs_from_config(section("plugin") or {}, section("process") or {}, self.features)
        except PluginStartupError as e:
            return [str(e)]
        return await self.host.verify_config(sections_of(section))

    async def apply(self, section: Section) -> list[str]:
        """A reload: plugins gone from the config are stopped, new ones started, changed ones
        (another `run` or entry) restarted; then every plugin gets config-apply."""
        plugin = section("plugin") or {}
        self.configure(plugin)
        self.host.sections_for = sections_of(section)
        specs = {
            s.name: s for s in self.host.specs_from_config(plugin, section("process") or {}, self.features)
        }
        for name, h in list(self.host.handles.items()):
            if h.spec.kind == "attached":
                continue
            new = specs.get(name)
            if new is None or (new.kind, new.run, new.entry) != (h.spec.kind, h.spec.run, h.spec.entry):
                await self.host.remove(
                    name, "removed from the config" if new is None else "changed in the config"
                )
        added = [s for n, s in specs.items() if n not in self.host.handles]
        problems = []
        if added:
            problems = await self.host.start(
                added, (plugin.get("hub") or {}).get("server") or {}, reload=True
            )
        return problems + await self.host.apply_config(sections_of(section))

    # --- control API ---------------------------------------------------------------------
    def handlers(self) -> dict[str, Handler]:
        return {"ze-api:show-plugins": self._show_plugins, "ze-api:plugin-command": self._plugin_command}

    async def _show_plugins(self, params: Any) -> Any:
        st = self.host.status()
        st["features"] = [f.to_dict() for f in self.features.values()]
        st["hub"] = {"queues": [q.status() for q in self.host.hub.queues],
                     "under-pressure": self.host.hub.under_pressure}  # fmt: skip
        return {"plugins": st}

    async def _plugin_command(self, params: Any) -> Any:
        try:
            return {
                "result": await self.host.dispatch(
                    str(params.get("command", "")), list(params.get("args") or [])
                )
            }
        except RemoteError as e:
            raise self._api_error(e.code, e.message) from None
