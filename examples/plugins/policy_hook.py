#!/usr/bin/env python3
"""A policy plugin with a fast hook: ze asks it about every UPDATE before the RIB sees it.

Verdict per UPDATE (a unix socket, length-prefixed msgpack, see docs/plugins.md):
- reject announcements of IPv4 prefixes longer than /24 or inside the configured deny list;
- accept everything else.
`show policy` reports the counters. Config (optional, in the plugin's own words):
    process policy { run "python3 examples/plugins/policy_hook.py"; }
The deny list comes from ZE_POLICY_DENY (comma-separated prefixes), default RFC 1918 + 100.64/10.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os

from ze.bgp.wire.context import DEFAULT
from ze.bgp.wire.update import WireUpdate
from ze.plugin.sdk import Plugin, Registration

DENY = [
    ipaddress.ip_network(p.strip())
    for p in os.environ.get("ZE_POLICY_DENY", "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10").split(
        ","
    )
    if p.strip()
]


def verdict(body: bytes, counters: dict) -> dict:
    counters["checked"] += 1
    try:
        upd = WireUpdate(body, DEFAULT)
        for prefix in upd.nlri():
            net = prefix.network()
            if net.prefixlen > 24:
                counters["rejected"] += 1
                return {"verdict": "reject", "reason": f"{net} is longer than /24"}
            for deny in DENY:
                if net.version == deny.version and net.subnet_of(deny):
                    counters["rejected"] += 1
                    return {"verdict": "reject", "reason": f"{net} is inside {deny}"}
    except Exception as e:  # a malformed UPDATE is ze's business (RFC 7606), not the policy's
        return {"verdict": "accept", "reason": f"not checked: {e}"}
    return {"verdict": "accept"}


async def main(plugin: Plugin) -> None:
    counters = {"checked": 0, "rejected": 0}

    plugin.set_fast_hook(lambda req: verdict(req["update"], counters))

    @plugin.on_command("show policy", "UPDATEs checked and rejected by the policy hook")
    def show(args):
        return {**counters, "deny": [str(d) for d in DENY]}

    await plugin.run(Registration(families=["ipv4/unicast"]))


if __name__ == "__main__":
    asyncio.run(main(Plugin.from_env("policy")))
