"""NLRI codecs provided by an external plugin over a real TLS connection
(examples/plugins/labels.py, ipv4/ipv6 mpls-label): ze's encode-nlri and decode-nlri, errors,
families nobody decodes, the events external plugins get with that family decoded, and a
registration the engine refuses (its reason is the start-up error)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from ze.bgp.events import PeerInfo, PeerUpdate
from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.update import WireUpdate
from ze.hub.bus import Hub
from ze.plugin.host.engine import PluginHost, PluginSpec, PluginStartupError
from ze.plugin.protocol.mux import RemoteError
from ze.plugin.sdk import Plugin
from ze.plugin.sdk.decode import event_filler
from ze.plugin.sdk.render import event_json

REPO = Path(__file__).resolve().parents[3]
LABELS = PluginSpec("labels", "external", True, run=f"{sys.executable} {REPO / 'examples/plugins/labels.py'}")
BEHAVE = f"{sys.executable} {REPO / 'tests/functional/plugins/behave.py'}"
LABELLED = bytes.fromhex("0000001A40010100400200800E1000010404C000020100300012C10A0000")


def make_host() -> PluginHost:
    host = PluginHost(Hub(), make_plugin=Plugin.in_process, renderer=event_json, stage_timeout=15)
    host.sections_for = lambda roots: [{"root": r, "data": {}} for r in roots]
    host.event_filler = event_filler(host.decode_nlri)
    return host


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 90))


def test_encode_and_decode_nlri_through_the_plugin_and_decoded_events(tmp_path):
    async def main():
        host = make_host()
        out = tmp_path / "ev"
        behave = PluginSpec("behave", "external", True, run=f"ZE_TEST_MODE=normal ZE_TEST_OUT={out} {BEHAVE}")
        await host.start([LABELS, behave])
        try:
            assert host.nlri_families("decode") == {"ipv4/mpls-label", "ipv6/mpls-label"}
            packed = await host.encode_nlri("ipv4/mpls-label", ["10.0.0.0/24 label 300"])
            assert packed == [bytes.fromhex("300012C10A0000")]
            six = await host.encode_nlri(
                "ipv6/mpls-label", ["2001:db8::/32 label 17 path-id 9"], add_path=True
            )
            assert await host.decode_nlri("ipv6/mpls-label", six[0], add_path=True) == [
                "2001:db8::/32 label 17 path-id 9"
            ]
            with pytest.raises(RemoteError) as e:
                await host.encode_nlri("ipv4/mpls-label", ["10.0.0.0/24"])
            assert e.value.code == "encode-failed" and "expected 'PREFIX label N" in e.value.message
            with pytest.raises(RemoteError, match="no plugin encodes ipv4/flowspec"):
                await host.encode_nlri("ipv4/flowspec", ["x"])
            assert await host.decode_nlri("ipv4/flowspec", b"\x01") is None
            assert (
                await host.decode_nlri("ipv4/mpls-label", b"\x30\x00") is None
            )  # truncated: logged, raw kept
            assert host.nlri_calls["failed"] == 1
            # a labelled UPDATE on the hub reaches the other external plugin decoded
            peer = PeerInfo("p", "192.0.2.2", 65002, 65001)
            upd = WireUpdate(memoryview(LABELLED), EncodingContext(), None, peer=peer, msg_id=7)
            host.hub.publish("bgp/update", PeerUpdate(peer, upd, 7, 0.0))
            for _ in range(500):
                if out.exists() and out.read_text().strip():
                    break
                await asyncio.sleep(0.02)
            ev = json.loads(out.read_text().splitlines()[0])
            assert ev["bgp"]["update"]["nlri"] == {
                "ipv4/mpls-label": [
                    {"next-hop": "192.0.2.1", "action": "add", "nlri": ["10.0.0.0/24 label 300"]}
                ]
            }
            assert ev["bgp"]["message"]["id"] == 7
        finally:
            await host.stop()

    run(main())


def test_a_refused_registration_is_the_start_up_error():
    async def main():
        host = make_host()

        async def refuse(plugin, schema, roots):
            assert plugin == "labels" and schema["module"] == "example-labels" and roots == ["labels"]
            raise RemoteError("bad-config", "config: c.conf:3:10: base: 2 is out of range")

        host.registration_check = refuse
        with pytest.raises(PluginStartupError) as e:
            await host.start([LABELS])
        assert str(e.value) == (
            "required plugin labels failed to start: config: c.conf:3:10: base: 2 is out of range"
        )

    run(main())
