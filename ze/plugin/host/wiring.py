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
        specs = self.host.specs_from_config(plugin, process, self.features)
        hub = (plugin.get("hub") or {}).get("server") or {}
        if specs:
            await self.host.start(specs, hub)

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
        return await self.host.verify_config(sections_of(section))

    async def apply(self, section: Section) -> list[str]:
        return await self.host.apply_config(sections_of(section))

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
