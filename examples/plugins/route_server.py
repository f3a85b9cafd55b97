#!/usr/bin/env python3
"""A route-server sketch on ze's fast path (docs/plugins.md "Filters and forward-cached"):

- `filter-update`: every UPDATE ze receives is shown to the plugin before it reaches the hub;
  it rejects any carrying 10.66.0.0/16 (a bogon here), accepts the others.
- `forward-cached`: for each UPDATE event, ze is asked to send that very UPDATE (by the
  event's message id, no re-encoding) unchanged to every other peer.
- `show rs` and `rs forward ID PEER...` (try an evicted id to see the error).

Run by ze: `process rs { run "python3 examples/plugins/route_server.py"; }`.
"""

from __future__ import annotations

import asyncio

from ze.plugin.sdk import Plugin, Registration, Reject

BOGON = bytes([16, 10, 66])  # 10.66.0.0/16 as NLRI: length 16, then 10.66


async def main(plugin: Plugin) -> None:
    state = {"filtered": 0, "rejected": 0, "forwarded": 0, "peers": None, "last": None}

    @plugin.on_filter_update
    def verdict(req):
        state["filtered"] += 1
        if BOGON in req["update"]:
            state["rejected"] += 1
            return {"verdict": "reject", "reason": "10.66.0.0/16 is a bogon here"}
        return {"verdict": "accept"}

    async def peers() -> list[str]:
        if state["peers"] is None:
            res = await plugin.dispatch_command("show peers")
            state["peers"] = [p["name"] for p in res["data"]["peers"]]
        return state["peers"]

    @plugin.on_event
    async def forward(event):
        bgp = event.json["bgp"]
        src = bgp["peer"]["name"]
        others = [p for p in await peers() if p != src]
        if others:
            state["last"] = await plugin.forward_cached(bgp["message"]["id"], others)
            state["forwarded"] += len(state["last"]["peers"])

    @plugin.on_command("show rs", "what the route server filtered and forwarded")
    def show(args):
        return state

    @plugin.on_command("rs forward", "forward a received UPDATE by id", ["ID", "PEER..."])
    async def forward_cmd(args):
        if len(args) < 2 or not args[0].isdigit():
            raise Reject("rs forward ID PEER...")
        return await plugin.forward_cached(int(args[0]), args[1:])

    plugin.set_startup_subscriptions(events=["bgp/update"], format="parsed")
    await plugin.run(Registration(families=["ipv4/unicast"]))


if __name__ == "__main__":
    asyncio.run(main(Plugin.from_env("rs")))
