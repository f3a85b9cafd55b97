#!/usr/bin/env python3
"""A ze plugin in Python: logs every UPDATE it receives and answers `show updates-seen`.

Run by ze (config: `process log-updates { run "python3 examples/plugins/log_updates.py"; }`),
or in-process: the same `main(plugin)` is a valid manifest entry.
"""

from __future__ import annotations

import asyncio
import sys

from ze.plugin.sdk import Plugin, Registration


async def main(plugin: Plugin) -> None:
    seen = {"updates": 0, "prefixes": 0, "peers": set()}

    @plugin.on_event
    def on_update(event):
        bgp = event.json.get("bgp", {})
        peer = bgp.get("peer", {}).get("address", "?")
        nlri = bgp.get("update", {}).get("nlri", {})
        n = sum(len(e.get("nlri", ())) for entries in nlri.values() for e in entries)
        seen["updates"] += 1
        seen["prefixes"] += n
        seen["peers"].add(peer)
        print(f"update from {peer}: {n} prefixes", file=sys.stderr, flush=True)

    @plugin.on_command("show updates-seen", "how many UPDATEs and prefixes this plugin saw")
    def show(args):
        return {"updates": seen["updates"], "prefixes": seen["prefixes"], "peers": sorted(seen["peers"])}

    plugin.set_startup_subscriptions(events=["bgp/update"], format="parsed")
    await plugin.run(Registration(families=["ipv4/unicast", "ipv6/unicast"]))


if __name__ == "__main__":
    asyncio.run(main(Plugin.from_env("log-updates")))
