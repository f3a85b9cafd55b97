"""The SDK's pieces: event rendering of hub payloads (once per format), from_env (token
removed from the environment, pinning on by default), Event.json laziness, the host's render
cache for deliver-batch."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from ze.bgp.events import PeerInfo, PeerStateChanged, PeerUpdate
from ze.bgp.wire.context import DEFAULT
from ze.bgp.wire.update import WireUpdate
from ze.hub.bus import Hub
from ze.plugin.host.engine import PluginHost
from ze.plugin.sdk import Event
from ze.plugin.sdk.render import event_json, topic_of
from ze.plugin.sdk.transport import ConnectError, StdioTransport, TlsTransport, from_env

BODY = bytes.fromhex("0003100A09" + "000B" + "40010100" + "400304C0000201" + "180A0000")
PEER = PeerInfo(name="up", address="192.0.2.2", remote_as=65002, local_as=65001)


def update() -> PeerUpdate:
    return PeerUpdate(PEER, WireUpdate(BODY, DEFAULT), msg_id=9, received=1.0)


def test_peer_update_renders_as_the_design_event():
    ev = event_json("bgp/update", update())
    assert ev == {
        "type": "bgp",
        "bgp": {
            "message": {"type": "update", "id": 9, "direction": "received"},
            "peer": {"address": "192.0.2.2", "name": "up", "remote": {"as": 65002}},
            "update": {
                "attr": {"origin": "igp"},
                "nlri": {
                    "ipv4/unicast": [
                        {"action": "del", "nlri": ["10.9.0.0/16"]},
                        {"next-hop": "192.0.2.1", "action": "add", "nlri": ["10.0.0.0/24"]},
                    ]
                },
            },
        },
    }
    assert topic_of(ev) == "bgp/update"
    summ = event_json("bgp/update", update(), "summary")
    assert summ["bgp"]["update"] == {"nlri": {"ipv4/unicast": {"add": 1, "del": 1}}}


def test_state_and_other_payloads():
    ev = event_json("bgp/state", PeerStateChanged(PEER, "down", "hold timer expired"))
    assert ev["bgp"]["state"] == {"state": "down", "reason": "hold timer expired"}
    assert topic_of(ev) == "bgp/state"
    assert event_json("config/applied", {"peers": ["a"]}) == {
        "type": "config",
        "config": {"topic": "config/applied", "data": {"peers": ["a"]}},
    }
    assert topic_of(event_json("config/applied", {"peers": []})) == "config/applied"


def test_event_json_is_lazy_and_cached():
    u = update()
    ev = Event("bgp/update", u)
    assert ev._json is None
    first = ev.json
    assert ev.json is first and u.update.rendered is not None and "parsed" in u.update.rendered


def test_host_renders_each_payload_once_per_format():
    async def main():
        host = PluginHost(Hub(), renderer=event_json)
        u = update()
        a = host._batch_body([("bgp/update", u)], "parsed")
        b = host._batch_body([("bgp/update", u)], "parsed")
        c = host._batch_body([("bgp/update", u)], "hex")
        assert a == b and (host.render_hits, host.render_misses) == (1, 2)
        assert msgspec.json.decode(a)["events"][0]["bgp"]["update"]["attr"] == {"origin": "igp"}
        assert msgspec.json.decode(c)["events"][0]["bgp"]["update"]["hex"].endswith(BODY.hex().upper())

    asyncio.run(main())


def test_from_env_pops_the_token_and_pins_by_default():
    env = {
        "ZE_PLUGIN_HUB_HOST": "127.0.0.1",
        "ZE_PLUGIN_HUB_PORT": "12700",
        "ZE_PLUGIN_HUB_TOKEN": "secret",
        "ZE_PLUGIN_CERT_FP": "AB" * 32,
        "ZE_PLUGIN_NAME": "mine",
    }
    name, t = from_env("default-name", env=env)
    assert name == "mine" and isinstance(t, TlsTransport)
    assert "ZE_PLUGIN_HUB_TOKEN" not in env
    assert (t.token, t.port, t.pin, t.fingerprint) == ("secret", 12700, True, "ab" * 32)
    with pytest.raises(ConnectError, match="TOKEN is not set"):
        from_env("x", env={"ZE_PLUGIN_HUB_PORT": "1"})
    name, t = from_env("dbg", env={})
    assert name == "dbg" and isinstance(t, StdioTransport)
