"""The sysrib plugin's entry (manifest `entry`, in-process through the SDK).

"rib/best" in (bgp-rib's best paths), the best route per prefix across protocols out on
"sysrib/best"; static routes from the `fib` section are published once every plugin is ready,
so the FIB and the eBPF map sync, started in the same tier or later, get them. `sysrib resync`
publishes the whole table as one resync batch per family (a consumer that restarted asks it).
"""

from __future__ import annotations

from typing import Any

from ze.bgp.events import BestBatch
from ze.fib.sysrib.service import TOPIC_OUT, SysRib, SysribConfig

TOPIC_RESYNC = "sysrib/resync"  # any payload: publish the whole best table on TOPIC_OUT


async def run(plugin: Any) -> None:
    from ze.plugin.sdk import Registration, Reject

    state: dict[str, Any] = {"rib": None, "started": False}

    def _config(sections: dict) -> SysribConfig:
        try:
            return SysribConfig.from_json(sections.get("fib") or {})
        except (ValueError, KeyError) as e:
            raise Reject(str(e)) from None

    async def publish(batches: list[BestBatch]) -> None:
        for b in batches:
            await plugin.publish(TOPIC_OUT, b)

    @plugin.on_verify
    def verify(sections: dict) -> None:
        _config(sections)

    @plugin.on_configure
    async def configure(sections: dict) -> None:
        cfg = _config(sections)
        if state["rib"] is None:
            state["rib"] = SysRib(cfg)
            return  # statics go out at post-startup
        await publish(state["rib"].reconfigure(cfg))

    @plugin.on_started
    async def started() -> None:
        state["started"] = True
        rib = state["rib"]
        if rib is not None:
            await publish(rib.set_static(rib.config.static))

    @plugin.on_event
    async def event(ev: Any) -> None:
        rib = state["rib"]
        if rib is not None and ev.topic == TOPIC_RESYNC:  # a consumer (re)started: the whole table
            await publish(rib.resync())
            return
        if rib is None or not isinstance(ev.payload, BestBatch):
            return
        out = rib.on_best(ev.payload, "bgp")
        if out is not None:
            await plugin.publish(TOPIC_OUT, out)

    @plugin.on_command("sysrib resync", "publish the whole best table again (for a restarted consumer)", [])
    async def resync(args: list[str]) -> Any:
        rib = state["rib"]
        if rib is None:
            return {"batches": 0}
        batches = rib.resync()
        await publish(batches)
        return {"batches": len(batches), "prefixes": sum(len(b.announce) for b in batches)}

    @plugin.on_command("show sysrib", "the best route per prefix across protocols", ["[PREFIX]"])
    def show(args: list[str]) -> Any:
        rib = state["rib"]
        if rib is None:
            return {"state": "not configured"}
        if args:
            try:
                return rib.lookup(args[0])
            except ValueError as e:
                raise Reject(str(e)) from None
        return rib.status()

    plugin.set_startup_subscriptions(events=["rib/best", TOPIC_RESYNC])
    await plugin.run(Registration(wants_config=["fib"]))
