"""bgp-rib reads ze's BGP identifier from the `bgp` section: a route reflector without
`cluster-id` uses it as its cluster id (RFC 4456 section 7), and a reload that changes the router
id changes the cluster id it puts in front of CLUSTER_LIST."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from ze.plugins.rib import plugin as rib_plugin
from ze.plugins.rib.service import RibService

from .test_plugin_peer_down import FakePlugin


def _ip(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def test_cluster_id_defaults_to_the_bgp_router_id_and_follows_a_reload(monkeypatch):
    made: list[RibService] = []
    real = RibService.from_config.__func__  # type: ignore[attr-defined]

    def from_config(cls: Any, section: dict, router_id: str = "") -> RibService:
        made.append(real(cls, section, router_id))
        return made[-1]

    monkeypatch.setattr(RibService, "from_config", classmethod(from_config))
    rib_section = {"igp-cost": "none", "route-reflector": {"client": ["c1"]}}

    async def main() -> None:
        fake = FakePlugin()
        task = asyncio.get_running_loop().create_task(rib_plugin.run(fake))
        await asyncio.sleep(0)
        fake.configure({"rib": rib_section, "bgp": {"router-id": "192.0.2.7", "local-as": 65000}})
        [rib] = made
        assert rib.config.router_id == "192.0.2.7"
        assert rib.exporter.cluster_id == _ip("192.0.2.7")
        # a reload with another router id: the same service, the new cluster id
        fake.configure({"rib": rib_section, "bgp": {"router-id": "198.51.100.9", "local-as": 65000}})
        assert made == [rib]
        assert rib.exporter.cluster_id == _ip("198.51.100.9")
        # an explicit cluster-id still wins
        explicit = {**rib_section, "route-reflector": {"cluster-id": "10.9.9.9", "client": ["c1"]}}
        fake.configure({"rib": explicit, "bgp": {"router-id": "198.51.100.9"}})
        assert rib.exporter.cluster_id == _ip("10.9.9.9")
        fake.stop.set()
        await task

    asyncio.run(main())
