"""The examples of examples/plugins run as ze runs them (external, over TLS)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from ze.bgp.events import PeerInfo, PeerUpdate
from ze.bgp.wire.context import DEFAULT
from ze.bgp.wire.header import HEADER_LEN
from ze.bgp.wire.text import encode_text
from ze.bgp.wire.update import WireUpdate
from ze.hub.bus import Hub
from ze.plugin.host.engine import PluginHost, PluginSpec
from ze.plugin.sdk.render import event_json

REPO = Path(__file__).resolve().parents[3]
PEER = PeerInfo(name="up", address="192.0.2.2", remote_as=65002, local_as=65001)


def body(text: str) -> bytes:
    return encode_text(text)[0][HEADER_LEN:]


def test_policy_hook_example_rejects_bogons_and_long_prefixes():
    async def main():
        host = PluginHost(Hub(), renderer=event_json, stage_timeout=15, hook_timeout=2.0)
        run = f"{sys.executable} {REPO / 'examples/plugins/policy_hook.py'}"
        await host.start([PluginSpec("policy", "external", True, run=run)])
        good = body("update text origin set igp nhop set 192.0.2.1 nlri ipv4/unicast add 203.0.113.0/24")
        bogon = body("update text origin set igp nhop set 192.0.2.1 nlri ipv4/unicast add 10.1.0.0/16")
        long = body("update text origin set igp nhop set 192.0.2.1 nlri ipv4/unicast add 198.51.100.0/25")
        assert (await host.filter_update({"address": "192.0.2.2"}, good))["verdict"] == "accept"
        v = await host.filter_update({"address": "192.0.2.2"}, bogon)
        assert v == {"verdict": "reject", "reason": "10.1.0.0/16 is inside 10.0.0.0/8"}
        v = await host.filter_update({"address": "192.0.2.2"}, long)
        assert v["verdict"] == "reject" and "longer than /24" in v["reason"]
        res = await host.dispatch("show policy")
        assert res["data"]["checked"] == 3 and res["data"]["rejected"] == 2
        await host.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_log_updates_example_gets_real_update_events():
    async def main():
        host = PluginHost(Hub(), renderer=event_json, stage_timeout=15)
        run = f"{sys.executable} {REPO / 'examples/plugins/log_updates.py'}"
        await host.start([PluginSpec("log-updates", "external", True, run=run)])
        for i in range(10):
            raw = body(
                f"update text origin set igp nhop set 192.0.2.1 nlri ipv4/unicast add 10.{i}.0.0/24 10.{i}.1.0/24"
            )
            host.hub.publish("bgp/update", PeerUpdate(PEER, WireUpdate(raw, DEFAULT), msg_id=i, received=0.0))
        await host.handles["log-updates"].queue.flush()
        res = await host.dispatch("show updates-seen")
        assert res["data"] == {"updates": 10, "prefixes": 20, "peers": ["192.0.2.2"]}
        await host.stop()

    asyncio.run(asyncio.wait_for(main(), 60))
