"""The plugin host's knobs from config, and a queue whose at-bound is "log"."""

from __future__ import annotations

import asyncio

from ze.config.resolve import parse_config
from ze.hub.bus import Hub
from ze.plugin.host.wiring import DaemonPlugins

CONF = """
plugin {
    queue-bound 500;
    at-bound log;
    batch 64;
    stage-timeout 3;
    call-timeout 7;
    fast-hook { timeout-ms 20; default reject; }
}
"""


def test_knobs_from_config_and_defaults():
    cfg = parse_config(CONF)
    dp = DaemonPlugins(Hub(), {})
    dp.configure(cfg.section("plugin"))
    h = dp.host
    assert (h.queue_bound, h.pause_at_bound, h.batch, h.stage_timeout, h.call_timeout) == (
        500,
        False,
        64,
        3,
        7,
    )
    assert (h.hook_timeout, h.hook_fail_open) == (0.02, False)
    dp2 = DaemonPlugins(Hub(), {})
    dp2.configure({})
    h = dp2.host
    assert (h.queue_bound, h.pause_at_bound, h.batch, h.hook_timeout, h.hook_fail_open) == (
        10_000,
        True,
        256,
        0.05,
        True,
    )


def test_at_bound_log_never_slows_the_publisher():
    async def main():
        hub = Hub()
        gate = asyncio.Event()
        got = []

        async def sink(items):
            await gate.wait()
            got.extend(items)

        q = hub.subscribe_queue("x", sink, owner="lazy", bound=10, pause=False)
        for i in range(50):
            hub.publish("x", i)
        assert not hub.under_pressure and q.over and q.status()["at-bound"] == "log"
        await asyncio.wait_for(hub.drain(), 0.5)
        gate.set()
        await q.flush()
        assert [p for _, p in got] == list(range(50))
        await hub.close()

    asyncio.run(main())
