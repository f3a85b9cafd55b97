"""filter-update, decode-nlri/encode-nlri, decode-update and forward-cached between the host and
an in-process SDK plugin (the same lines as over TLS, on the in-memory pipe)."""

from __future__ import annotations

import asyncio

import pytest

from ze.hub.bus import Hub
from ze.plugin.host.engine import PluginHost, PluginSpec
from ze.plugin.protocol.mux import RemoteError
from ze.plugin.sdk import Plugin
from ze.plugin.sdk.decode import decode_update
from ze.plugin.sdk.render import event_json

TOY = PluginSpec("codec", "internal", True, entry="tests.unit.plugin.host.codec_toy:main")
# ORIGIN igp, empty AS_PATH, MP_REACH_NLRI ipv4/flowspec (no next hop), NLRI 0102
FLOW = "0000001140010100400200800E0700018500000102"


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


async def started(**kw) -> PluginHost:
    host = PluginHost(Hub(), make_plugin=Plugin.in_process, renderer=event_json, stage_timeout=5, **kw)
    host.update_decoder = lambda hexed, ctx: decode_update(hexed, ctx, host.decode_nlri)
    await host.start([TOY])
    return host


def test_filter_update_verdicts_defaults_and_counts():
    async def main():
        host = await started(hook_timeout=0.3)
        peer = {"name": "a", "address": "192.0.2.2"}
        assert host.has_filters and not host.has_fast_hooks
        assert await host.filter_update(peer, b"\x00\x01", 1) == {"verdict": "accept"}
        assert await host.filter_update(peer, b"\x00\x66", 2) == {"verdict": "reject", "reason": "ends in 66"}
        assert await host.filter_update(peer, b"\x00\x77", 3) == {"verdict": "modify", "update": b"\x00\x78"}
        late = await host.filter_update(peer, b"\x00\x99", 4)
        assert late == {
            "verdict": "accept",
            "reason": "filter codec: no verdict within 300 ms (accept by default)",
        }
        await asyncio.sleep(1)  # the plugin answers in order: let it finish the late one
        bad = await host.filter_update(peer, b"\x00\x55", 5)
        assert bad["verdict"] == "accept" and "bad-verdict" in bad["reason"]
        host.hook_fail_open = False
        assert (await host.filter_update(peer, b"\x00\x99", 6))["verdict"] == "reject"
        st = host.status()["filter-update"]
        assert (st["calls"], st["failures"], st["timeouts"]) == (6, 3, 2)
        await host.stop()

    run(main())


def test_nlri_codecs_by_mode_and_decode_update_through_the_plugin():
    async def main():
        host = await started()
        assert host.nlri_families("decode") == {"ipv4/flowspec"}
        assert host.nlri_families("encode") == {"ipv6/flowspec"}
        host.own_families = frozenset({"ipv4/flowspec"})  # ze decodes it itself: no plugin asked
        assert host.nlri_families("decode") == set()
        host.own_families = frozenset()
        assert await host.decode_nlri("ipv4/flowspec", b"\x01\x02") == ["ipv4/flowspec:1", "ipv4/flowspec:2"]
        assert await host.decode_nlri("ipv6/flowspec", b"\x01") is None  # registered for encode only
        assert await host.encode_nlri("ipv6/flowspec", ["7", "8"]) == [b"\x07", b"\x08"]
        with pytest.raises(RemoteError, match="no plugin encodes ipv4/flowspec"):
            await host.encode_nlri("ipv4/flowspec", ["1"])
        with pytest.raises(RemoteError) as e:
            await host.encode_nlri("ipv6/flowspec", ["not a number"])
        assert e.value.code == "encode-failed"
        # the plugin's command awaits decode-update; ze asks it back for decode-nlri meanwhile
        res = await host.dispatch("toy decode", [FLOW])
        assert res["data"]["update"]["nlri"] == {
            "ipv4/flowspec": [{"action": "add", "nlri": ["ipv4/flowspec:1", "ipv4/flowspec:2"]}]
        }
        with pytest.raises(RemoteError, match="malformed UPDATE"):
            await host.dispatch("toy decode", ["00FF"])
        assert host.status()["nlri-codec-calls"] == {"decode": 2, "encode": 2, "failed": 0}
        await host.stop()

    run(main())


def test_forward_cached_answers_and_evicted_errors():
    async def main():
        host = await started()
        with pytest.raises(RemoteError, match="no BGP speaker"):
            await host.dispatch("toy forward", ["1", "b"])
        asked = []

        def forward(msg_id, peers):
            asked.append((msg_id, peers))
            if msg_id == 9:
                raise LookupError("UPDATE id 9 is not in the cache")
            return {"id": msg_id, "peers": peers, "skipped": {}}

        host.forwarder = forward
        res = await host.dispatch("toy forward", ["7", "b", "c"])
        assert res["data"] == {"id": 7, "peers": ["b", "c"], "skipped": {}}
        with pytest.raises(RemoteError, match="UPDATE id 9 is not in the cache") as e:
            await host.dispatch("toy forward", ["9", "b"])
        assert e.value.code == "evicted"
        assert asked == [(7, ["b", "c"]), (9, ["b"])]
        await host.stop()

    run(main())
