"""In-process plugins: the five stages over the in-memory pipe, then the direct bridge (Python
objects, no JSON); commands, capabilities, config verify, dependency tiers, crash recovery."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.plugin.host import toy
from ze.hub.bus import Hub
from ze.plugin.host.engine import PluginHost, PluginSpec, PluginStartupError, tiers
from ze.plugin.protocol.mux import RemoteError
from ze.plugin.sdk import Plugin
from ze.plugin.sdk.render import event_json

TOY = "tests.unit.plugin.host.toy"


def host_for(hub: Hub, **kw) -> PluginHost:
    host = PluginHost(hub, make_plugin=Plugin.in_process, renderer=event_json, stage_timeout=5, **kw)
    host.sections_for = lambda roots: [{"root": r, "data": {"x": 1}} for r in roots]
    return host


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_five_stages_then_direct_bridge_commands_and_capabilities():
    async def main():
        toy.SEEN.clear()
        toy.CONFIGS.clear()
        hub = Hub()
        host = host_for(hub)
        await host.start([PluginSpec("toy", "internal", True, entry=f"{TOY}:main", config_roots=("toy",))])
        st = host.status()["plugins"][0]
        assert (st["state"], st["bridge"], st["commands"]) == ("ready", "direct", ["show toy"])
        assert st["subscriptions"] == ["bgp/update", "toy/"]
        assert toy.CONFIGS == [{"toy": {"x": 1}}]
        payloads = [object() for _ in range(300)]
        for p in payloads:
            hub.publish("bgp/update", p)
        hub.publish("bgp/state", "not subscribed")
        hub.publish("toy/ping", 1)
        await host.handles["toy"].queue.flush()
        # the very objects, in order: no JSON on the in-process path
        assert [p for _, p in toy.SEEN[:300]] == payloads and toy.SEEN[300] == ("toy/ping", 1)
        assert host.render_misses == 0
        res = await host.dispatch("show toy a", ["b"])
        assert res == {"status": "done", "plugin": "toy", "data": {"seen": 301, "args": ["a", "b"]}}
        assert host.open_capabilities("any-peer") == [(73, b"\x01\x02")]
        assert await host.validate_open({"address": "192.0.2.2"}, {"asn": 65002}) == (True, "")
        assert await host.validate_open({"address": "192.0.2.2"}, {"asn": 666}) == (
            False,
            "toy: no AS 666 here",
        )
        with pytest.raises(RemoteError, match="did you mean 'show toy'"):
            await host.dispatch("show toi")
        await host.stop()
        assert host.handles["toy"].state == "stopped"

    run(main())


def test_config_verify_rejection_and_apply():
    async def main():
        toy.CONFIGS.clear()
        host = host_for(Hub())
        await host.start([PluginSpec("toy", "internal", True, entry=f"{TOY}:main")])
        bad = await host.verify_config(lambda roots: [{"root": "toy", "data": {"bad": True}}])
        assert bad == ["plugin toy rejected the config: toy says no"]
        assert await host.verify_config(lambda roots: [{"root": "toy", "data": {"bad": False}}]) == []
        assert await host.apply_config(lambda roots: [{"root": "toy", "data": {"y": 2}}]) == []
        assert toy.CONFIGS[-1] == {"toy": {"y": 2}}
        await host.stop()

    run(main())


def test_dependency_tiers_dispatch_between_plugins_and_emit():
    async def main():
        hub = Hub()
        got = []
        hub.subscribe("toy/", lambda t, p: got.append((t, p)))
        host = host_for(hub)
        specs = [
            PluginSpec("other", "internal", True, entry=f"{TOY}:other", depends=("toy",)),
            PluginSpec("toy", "internal", True, entry=f"{TOY}:main"),
        ]
        assert [[s.name for s in t] for t in tiers(specs)] == [["toy"], ["other"]]
        await host.start(specs)
        res = await host.dispatch("ask toy")
        assert res["data"]["status"] == "done" and res["data"]["data"]["args"] == ["from-other"]
        res = await host.dispatch("emit")
        assert res["data"] == {"delivered": 2}  # our subscriber and toy's "toy/" queue
        assert got[0][0] == "toy/hello" and got[0][1]["toy"]["hello"] == {"n": 1}
        await host.stop()

    run(main())


def test_cycle_and_duplicate_command_and_unknown_feature():
    with pytest.raises(PluginStartupError, match="cycle"):
        tiers([PluginSpec("a", "internal", depends=("b",)), PluginSpec("b", "internal", depends=("a",))])

    async def main():
        host = host_for(Hub())
        with pytest.raises(PluginStartupError, match=r"required plugin dup failed.*already provided by toy"):
            await host.start(
                [
                    PluginSpec("toy", "internal", True, entry=f"{TOY}:main"),
                    PluginSpec("dup", "internal", True, entry=f"{TOY}:duplicate", depends=("toy",)),
                ]
            )
        with pytest.raises(PluginStartupError, match="no such feature"):
            host.specs_from_config({"internal": ["nope"]}, {}, {})

    run(main())


def test_crashing_optional_plugin_restarts_with_backoff_and_never_takes_ze_down():
    async def main():
        host = host_for(Hub(), backoff=(0.01, 0.04))
        await host.start(
            [
                PluginSpec("crashy", "internal", False, entry=f"{TOY}:crashy"),
                PluginSpec("toy", "internal", True, entry=f"{TOY}:main"),
            ]
        )
        await asyncio.sleep(0.3)
        st = {p["name"]: p for p in host.status()["plugins"]}
        assert st["crashy"]["restarts"] >= 3 and "crashy crashed" in st["crashy"]["last-error"]
        assert st["toy"]["state"] == "ready"
        await host.stop()

    run(main())


def test_required_plugin_crashing_at_start_stops_start_up():
    async def main():
        host = host_for(Hub())
        with pytest.raises(
            PluginStartupError, match=r"required plugin crashy failed to start: .*crashy crashed"
        ):
            await host.start([PluginSpec("crashy", "internal", True, entry=f"{TOY}:crashy")])

    run(main())


def test_unavailable_feature_is_reported_not_retried():
    async def main():
        host = host_for(Hub())
        await host.start([PluginSpec("gone", "internal", True, entry=f"{TOY}:main", unavailable="needs X")])
        st = host.status()["plugins"][0]
        assert (st["state"], st["last-error"], st["restarts"]) == ("unavailable", "needs X", 0)
        await host.stop()

    run(main())
