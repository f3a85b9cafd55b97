"""An external test plugin whose behaviour the test picks: ZE_TEST_MODE =
normal | crash-once (exits after its first batch, the first run only) | hang-once (stops
answering after its first batch, first run only) | slow (sleeps per batch) | reject (refuses
config-verify when the config has "reject") | hook (a fast hook rejecting 10.66.0.0/16) |
open (adds capability 240 to the OPEN sent to peer "p", refuses OPENs from router-id 9.9.9.9).
It records what it saw in ZE_TEST_OUT (one JSON line per event batch)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from ze.plugin.sdk import Plugin, Registration, Reject

MODE = os.environ.get("ZE_TEST_MODE", "normal")
OUT = Path(os.environ.get("ZE_TEST_OUT", "/dev/null"))
MARK = Path(str(OUT) + ".ran")
FIRST = not MARK.exists()
if str(OUT) != "/dev/null":
    MARK.write_text("1")


async def main(plugin: Plugin) -> None:
    state = {"events": 0}

    @plugin.on_event
    async def event(ev):
        state["events"] += 1
        with OUT.open("a") as f:
            f.write(json.dumps(ev.json) + "\n")
        if MODE == "crash-once" and FIRST and state["events"] >= 5:
            os._exit(3)
        if MODE == "hang-once" and FIRST and state["events"] >= 5:
            await asyncio.sleep(3600)
        if MODE == "slow":
            await asyncio.sleep(0.0005)

    @plugin.on_verify
    def verify(sections):
        if MODE == "reject" and "reject" in json.dumps(sections):
            raise Reject("this plugin refuses configs that say reject")

    @plugin.on_command("show behave", "events seen")
    def show(args):
        return {"events": state["events"], "mode": MODE, "first": FIRST}

    @plugin.on_command("behave announce", "send a route to every peer through ze (update-route)")
    async def announce(args):
        return await plugin.update_route("*", " ".join(args))

    if MODE == "hook":

        def hook(req):
            body = req["update"]
            if b"\x10\x0a\x42" in body:  # 10.66.0.0/16 in the NLRI
                return {"verdict": "reject", "reason": "10.66/16 is not allowed"}
            if body.endswith(b"\x18\x0a\x63\x00"):  # 10.99.0.0/24: rewritten to 10.98.0.0/24
                return {"verdict": "modify", "update": body[:-4] + b"\x18\x0a\x62\x00"}
            return {"verdict": "accept"}

        plugin.set_fast_hook(hook)

    if MODE == "open":  # a capability in ze's OPEN to peer "p"; OPENs from router-id 9.9.9.9 refused
        plugin.add_capability(240, b"ze-test", peers=["p"])

        @plugin.on_validate_open
        def check_open(req):
            with OUT.open("a") as f:
                f.write(json.dumps({"validate-open": req}) + "\n")
            if req["open"]["router-id"] == "9.9.9.9":
                raise Reject("router-id 9.9.9.9 is not welcome")

    plugin.set_startup_subscriptions(events=["bgp/update", "test/"], format="parsed")
    await plugin.run(Registration(wants_config=["bgp"]))


if __name__ == "__main__":
    print("behave plugin starting", MODE, file=sys.stderr)
    asyncio.run(main(Plugin.from_env("behave")))
