"""The bgp-rib plugin's entry points.

`run(plugin)` is the manifest's entry (an in-process plugin through the SDK): "bgp/update",
"bgp/state" and "bgp/refresh" in (Python objects over the direct bridge), best-path changes out on
"rib/best" (coalesced into large BestBatch batches), and the `show rib` / `show peer NAME routes`
commands.

Routes out: after every event that changed a peer's Adj-RIB-Out (a best change, a peer coming up,
a ROUTE-REFRESH, an IGP cost change), one sender task takes the pending changes of each peer
(`updates_for`, whole UPDATE messages in the peer's send context) and publishes them as
`PeerSend` chunks on "bgp/send"; it awaits each chunk's `written` future, so a slow peer holds
back only the sender (the Adj-RIB-Out keeps absorbing changes and what is pending coalesces).

IGP cost: when the resolver has a file descriptor (the kernel's route notifications), it is
watched with loop.add_reader; after a short settle delay `on_next_hops_changed()` re-runs
selection for the routes whose next hop moved, publishing best changes and UPDATEs.
`main` is a debug command line over the same calls: UPDATE messages in hex (one whole message
per line, header included) on stdin, received from one eBGP peer, then a query.

    ze-rib-debug [--asn2] [SHOW-RIB-ARGS...] < updates.hex
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from ze.bgp.events import PeerInfo, PeerRefresh, PeerSend, PeerStateChanged, PeerUpdate
from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.update import WireUpdate
from ze.core.log import get_logger
from ze.plugins.rib import show
from ze.plugins.rib.service import RibService
from ze.plugins.rib.table import RibConfig

log = get_logger("ze.rib")
CHUNK = 256  # UPDATE messages per PeerSend
SETTLE = 0.05  # seconds between the first kernel route notification and the re-evaluation


class Sender:
    """Sends each peer's pending Adj-RIB-Out changes as PeerSend chunks, one peer after the other."""

    def __init__(self, publish: Any, rib: Any = None) -> None:
        self.publish = publish  # async (topic, payload) -> subscribers reached
        self.rib = rib
        self.wake = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.sent = 0
        self.disabled = False

    def kick(self) -> None:
        if self.disabled or self.rib is None:
            return
        self.wake.set()
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run(), name="rib-sender")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self.wake.is_set():
            self.wake.clear()
            rib = self.rib
            for name in rib.pending_peers():
                peer = rib.peers.get(name)
                msgs = list(rib.updates_for(name))  # taken now: later changes stay pending
                for i in range(0, len(msgs), CHUNK):
                    if rib.peers.get(name) is not peer:
                        break  # the session went down (and maybe up again: a whole table then)
                    fut = loop.create_future()
                    try:
                        n = await self.publish("bgp/send", PeerSend(name, msgs[i : i + CHUNK], fut))
                    except Exception as e:  # out of process: PeerSend does not travel as JSON
                        log.warning("cannot send routes to peers", error=repr(e))
                        self.disabled = True
                        return
                    if not n:
                        break  # no speaker listening
                    self.sent += await fut

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()


async def run(plugin: Any) -> None:
    from ze.plugin.sdk import Registration
    from ze.plugin.sdk.best import BestCoalescer

    state: dict[str, Any] = {"rib": None, "section": None}

    async def publish(batch: Any) -> None:
        await plugin.publish("rib/best", batch)

    out = BestCoalescer(publish)
    default_size = out.size
    sender = Sender(plugin.publish)
    watch: dict[str, Any] = {"fd": None, "timer": None}

    def _igp_settled() -> None:
        watch["timer"] = None
        rib = state["rib"]
        if rib is None:
            return
        batches = rib.on_next_hops_changed()  # drains the notifications
        if watch["fd"] is not None:
            asyncio.get_running_loop().add_reader(watch["fd"], _igp_readable)
        if batches:
            asyncio.get_running_loop().create_task(_publish_all(batches))

    def _igp_readable() -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(watch["fd"])  # until the settle delay has passed and the socket is drained
        watch["timer"] = loop.call_later(SETTLE, _igp_settled)

    async def _publish_all(batches: list) -> None:
        for b in batches:
            await out.add(b)
        sender.kick()

    def _watch_igp(rib: Any) -> None:
        fileno = getattr(rib.resolver, "fileno", None)
        fd = fileno() if fileno is not None else None
        if fd is not None:
            watch["fd"] = fd
            asyncio.get_running_loop().add_reader(fd, _igp_readable)

    @plugin.on_configure
    def configure(sections: dict) -> None:
        section = sections.get("rib") or {}
        # our BGP identifier: the cluster id of a route reflector without `cluster-id` (RFC 4456)
        router_id = str((sections.get("bgp") or {}).get("router-id") or "")
        if state["rib"] is None:
            state["rib"] = RibService.from_config(section, router_id)
            sender.rib = state["rib"]
            _watch_igp(state["rib"])
        elif (section, router_id) != state["section"]:
            if state["rib"].reconfigure(RibConfig.from_json(section, router_id)):
                sender.kick()  # the peers' Adj-RIB-Out, rewritten by the new export rules
        out.size = int(section.get("batch-size", default_size))
        state["section"] = (section, router_id)

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
                sender.kick()
                return
            # let the other subscribers of this bgp/state (fib-kernel: one nexthop message
            # re-points or removes the peer's routes) act before the seconds of reselection
            # below hold the event loop
            await asyncio.sleep(0)
            batches = rib.on_peer_down(p.peer)
        elif isinstance(p, PeerRefresh):
            if rib.on_refresh(p.peer.name, p.family):
                sender.kick()
            return
        else:
            return
        for b in batches:
            await out.add(b)
        sender.kick()  # an Adj-RIB-Out may change without a best change (attributes only)

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

    plugin.set_startup_subscriptions(events=["bgp/update", "bgp/state", "bgp/refresh"])
    try:
        await plugin.run(Registration(wants_config=["rib", "bgp"]))
    finally:
        out.close()
        sender.close()
        if watch["timer"] is not None:
            watch["timer"].cancel()
        if watch["fd"] is not None:
            asyncio.get_running_loop().remove_reader(watch["fd"])


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
