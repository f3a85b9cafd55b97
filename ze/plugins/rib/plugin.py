"""The bgp-rib plugin's entry points.

`run(plugin)` is the manifest's entry (an in-process plugin through the SDK): "bgp/update" and
"bgp/state" in (Python objects over the direct bridge), best-path changes out on "rib/best"
(coalesced into large BestBatch batches), and the `show rib` / `show peer NAME routes` commands.
`main` is a debug command line over the same calls: UPDATE messages in hex (one whole message
per line, header included) on stdin, received from one eBGP peer, then a query.

    ze-rib-debug [--asn2] [SHOW-RIB-ARGS...] < updates.hex
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ze.bgp.events import PeerInfo, PeerStateChanged, PeerUpdate
from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.update import WireUpdate
from ze.plugins.rib import show
from ze.plugins.rib.service import RibService


async def run(plugin: Any) -> None:
    from ze.plugin.sdk import Registration
    from ze.plugin.sdk.best import BestCoalescer

    state: dict[str, Any] = {"rib": None, "section": None}

    async def publish(batch: Any) -> None:
        await plugin.publish("rib/best", batch)

    out = BestCoalescer(publish)

    @plugin.on_configure
    def configure(sections: dict) -> None:
        section = sections.get("rib") or {}
        if state["rib"] is None:
            state["rib"] = RibService.from_config(section)
            out.size = int(section.get("batch-size", out.size))
        elif section != state["section"]:
            # best-path options take effect for routes selected from now on
            state["rib"].config = RibService.from_config(section).config
        state["section"] = section

    @plugin.on_event
    async def event(ev: Any) -> None:
        rib = state["rib"]
        p = ev.payload
        if rib is None or p is None:
            return
        if isinstance(p, PeerUpdate):
            batches = rib.on_update(p)
        elif isinstance(p, PeerStateChanged):
            if p.state == "up":
                rib.on_peer_up(p.peer)
                return
            batches = rib.on_peer_down(p.peer)
        else:
            return
        for b in batches:
            await out.add(b)

    def _command(name: str) -> Any:
        def fn(args: list[str]) -> Any:
            if state["rib"] is None:
                return {"state": "not configured"}
            try:
                return list(show.run(state["rib"], name, args))
            except show.QueryError as e:
                from ze.plugin.sdk import Reject

                raise Reject(str(e)) from None

        return fn

    plugin.on_command("show rib", "the BGP RIB: best and other paths", ["[FAMILY] [PREFIX] [...]"])(
        _command("show rib")
    )
    plugin.on_command("show peer-routes", "routes received from / advertised to a peer", ["NAME"])(
        _command("show peer")
    )

    @plugin.on_command("show rib summary", "RIB counters", [])
    def summary(args: list[str]) -> Any:
        return state["rib"].summary() if state["rib"] is not None else {"state": "not configured"}

    plugin.set_startup_subscriptions(events=["bgp/update", "bgp/state"])
    try:
        await plugin.run(Registration(wants_config=["rib"]))
    finally:
        out.close()


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    ctx = DEFAULT
    if "--asn2" in args:
        args.remove("--asn2")
        ctx = EncodingContext(asn4=False)
    rib = RibService()
    peer = PeerInfo("stdin", "192.0.2.1", 65001, 65000, "192.0.2.1", recv_ctx=ctx)
    for n, line in enumerate(sys.stdin):
        line = line.strip()
        if not line:
            continue
        msg = bytes.fromhex(line)
        rib.on_update(PeerUpdate(peer, WireUpdate(msg[19:], ctx), n, 0.0))
    try:
        for row in show.run(rib, "show rib", args):
            print(json.dumps(row) if isinstance(row, dict) else row)
    except show.QueryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
