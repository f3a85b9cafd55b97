"""sysrib in-process: a request on "sysrib/resync" (a consumer such as the eBPF map sync (re)started)
publishes the whole best table on "sysrib/best", one resync batch per family."""

from __future__ import annotations

import asyncio

from ze.bgp.events import BestBatch
from ze.bgp.wire.nlri.prefix import Prefix
from ze.hub.bus import Hub
from ze.plugin.host.engine import PluginHost, PluginSpec
from ze.plugin.sdk import Plugin
from ze.plugin.sdk.render import event_json

FIB = {"static": {"route": {"192.0.2.128/25": {"next-hop": ["10.99.0.2"]}}}}


def test_a_resync_request_publishes_the_whole_table():
    async def main():
        hub = Hub()
        seen: list[BestBatch] = []
        hub.subscribe("sysrib/best", lambda topic, payload: seen.append(payload))
        host = PluginHost(hub, make_plugin=Plugin.in_process, renderer=event_json, stage_timeout=5)
        host.sections_for = lambda roots: [{"root": r, "data": FIB} for r in roots]
        await host.start(
            [PluginSpec("sysrib", "internal", True, entry="ze.fib.sysrib.plugin:run", config_roots=("fib",))]
        )
        try:
            for _ in range(100):  # the statics go out after post-startup
                if seen:
                    break
                await asyncio.sleep(0.01)
            assert [(b.family, b.resync, [str(p) for p, _ in b.announce]) for b in seen] == [
                ("ipv4/unicast", False, ["192.0.2.128/25"])
            ]
            seen.clear()
            hub.publish("sysrib/resync", {"from": "test"})
            await host.handles["sysrib"].queue.flush()
            for _ in range(100):
                if len(seen) == 2:
                    break
                await asyncio.sleep(0.01)
            got = {b.family: (b.resync, [p for p, _ in b.announce], b.withdraw) for b in seen}
            assert got == {
                "ipv4/unicast": (True, [Prefix.parse("192.0.2.128/25")], ()),
                "ipv6/unicast": (True, [], ()),
            }
        finally:
            await host.stop()

    asyncio.run(asyncio.wait_for(main(), 60))
