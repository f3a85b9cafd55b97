"""fib-kernel's entry points.

`run(plugin)` is the manifest's entry (in-process through the SDK): "sysrib/best" batches in,
written to the kernel by the Service in a worker thread (in order, one batch at a time, so the
event loop and the BGP sessions never wait on netlink); "bgp/state" down re-points or removes
the peer's routes through its nexthop objects; a monitor thread re-asserts routes changed
behind ze's back and sweeps stale ones; `show fib [summary|nexthops|PREFIX]`.

`main` is a small operator/debug command line over the same Service:
`python -m ze.fib.kernel.plugin [--netns NS] [--table T] summary|nexthops|flush|sweep|PREFIX`.
It starts a Service (which adopts what a previous run left as stale), prints, and stops without
flushing."""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
from typing import Any

from ze.fib.kernel import show
from ze.fib.kernel.service import KernelConfig, Service


async def run(plugin: Any) -> None:
    from ze.plugin.sdk import Registration, Reject

    state: dict[str, Any] = {"svc": None, "stop": None, "config": None}

    def _config(sections: dict) -> KernelConfig:
        try:
            return KernelConfig.from_json(sections.get("fib") or {})
        except (ValueError, KeyError, TypeError) as e:
            raise Reject(str(e)) from None

    def _start(cfg: KernelConfig) -> None:
        svc = Service(cfg)
        svc.start()
        stop = threading.Event()
        if svc.state == "running":
            svc.run_monitor(stop)
        state["svc"], state["stop"], state["config"] = svc, stop, cfg

    def _stop() -> None:
        if state["stop"] is not None:
            state["stop"].set()
        if state["svc"] is not None:
            state["svc"].stop()
        state["svc"] = state["stop"] = None

    @plugin.on_verify
    def verify(sections: dict) -> None:
        _config(sections)

    @plugin.on_configure
    async def configure(sections: dict) -> None:
        cfg = _config(sections)
        if state["svc"] is not None and cfg == state["config"]:
            return
        if state["svc"] is not None:  # another table or protocol: start over on the new one
            await asyncio.to_thread(_stop)
        await asyncio.to_thread(_start, cfg)

    @plugin.on_event
    async def event(ev: Any) -> None:
        svc = state["svc"]
        p = ev.payload
        if svc is None or svc.state != "running" or p is None:
            return
        if ev.topic == "sysrib/best":
            await asyncio.to_thread(svc.on_best, p)
        elif ev.topic == "bgp/state":
            await asyncio.to_thread(svc.on_peer_state, p)

    @plugin.on_command(
        "show fib", "the kernel FIB: summary, nexthops or one prefix", ["[summary|nexthops|PREFIX]"]
    )
    def show_fib(args: list[str]) -> Any:
        svc = state["svc"]
        if svc is None:
            return {"state": "not configured", "reason": "fib-kernel has no configuration yet"}
        what = args[0] if args else "summary"
        if what == "summary":
            return show.summary(svc)
        if what == "nexthops":
            return show.nexthops(svc)
        try:
            return show.route(svc, what)
        except ValueError as e:
            raise Reject(str(e)) from None

    plugin.set_startup_subscriptions(events=["sysrib/best", "bgp/state"])
    try:
        await plugin.run(Registration(wants_config=["fib"]))
    finally:
        _stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ze.fib.kernel.plugin")
    ap.add_argument("--netns")
    ap.add_argument("--table", default="main")
    ap.add_argument("--protocol", type=int, default=186)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("what", nargs="?", default="summary")
    a = ap.parse_args(argv)
    svc = Service(KernelConfig.from_json({"table": a.table, "protocol": a.protocol}), netns=a.netns)
    st = svc.start()
    if st["state"] != "running":
        print(json.dumps({"status": "error", "error": st.get("reason", "not running")}))
        return 1
    try:
        if a.what == "summary":
            data, text = st, show.summary_text(st)
        elif a.what == "nexthops":
            rows = show.nexthops(svc)
            data, text = rows, show.nexthops_text(rows)
        elif a.what in ("flush", "sweep"):
            data = svc.flush() if a.what == "flush" else svc.sweep()
            text = json.dumps(data)
        else:
            data = show.route(svc, a.what)
            text = show.route_text(data)
    finally:
        svc.stop()
    print(json.dumps({"status": "ok", "data": data}, indent=1) if a.json else text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
