"""Plugin benchmark: UPDATE events per second delivered through the hub to an in-process plugin
(direct bridge: Python objects), to an in-process plugin that reads the event JSON, and to an
external Python plugin over TLS (deliver-batch JSON, parsed by the SDK); then fast-hook calls
per second with p50/p99 latency, and filter-update (the same verdicts as JSON over the plugin's
TLS connection). Prints figures, asserts nothing.

    python bench/plugins.py [--events 100000] [--hook-calls 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

from ze.bgp.events import PeerInfo, PeerUpdate
from ze.bgp.wire.context import DEFAULT
from ze.bgp.wire.header import HEADER_LEN
from ze.bgp.wire.text import encode_text
from ze.bgp.wire.update import WireUpdate
from ze.hub.bus import Hub
from ze.plugin.host.engine import PluginHost, PluginSpec
from ze.plugin.sdk import Plugin, Registration
from ze.plugin.sdk.render import event_json

PEER = PeerInfo(name="bench", address="192.0.2.2", remote_as=65002, local_as=65001)
COUNT = {"n": 0, "prefixes": 0}


def bodies(n: int) -> list[bytes]:
    """n distinct UPDATE bodies of 4 IPv4 prefixes each, with a realistic attribute set."""
    out = []
    for i in range(n):
        a, b = i >> 8 & 255, i & 255
        text = (
            f"update text origin set igp nhop set 192.0.2.1 as-path set [65002 {64512 + i % 1000} 3356] "
            f"med set {i % 100} community set [65002:{i % 50}] "
            f"nlri ipv4/unicast add 10.{a}.{b}.0/24 11.{a}.{b}.0/24 12.{a}.{b}.0/24 13.{a}.{b}.0/24"
        )
        out.append(encode_text(text)[0][HEADER_LEN:])
    return out


def events(raw: list[bytes], n: int) -> list[PeerUpdate]:
    return [
        PeerUpdate(PEER, WireUpdate(raw[i % len(raw)], DEFAULT), msg_id=i, received=0.0) for i in range(n)
    ]


async def inproc_objects(plugin: Plugin) -> None:
    @plugin.on_event
    def on(ev):
        COUNT["n"] += 1

    plugin.set_startup_subscriptions(events=["bgp/update"])
    await plugin.run(Registration())


async def inproc_json(plugin: Plugin) -> None:
    @plugin.on_event
    def on(ev):
        COUNT["n"] += 1
        COUNT["prefixes"] += len(ev.json["bgp"]["update"]["nlri"]["ipv4/unicast"][0]["nlri"])

    plugin.set_startup_subscriptions(events=["bgp/update"])
    await plugin.run(Registration())


async def publish_and_wait(host: PluginHost, evs: list[PeerUpdate], done) -> float:
    t0 = time.perf_counter()
    for i, e in enumerate(evs):
        host.hub.publish("bgp/update", e)
        if i % 1000 == 999:
            await host.hub.drain()
    while not await done():
        await asyncio.sleep(0.005)
    return time.perf_counter() - t0


async def bench_inproc(entry: str, n: int, raw: list[bytes]) -> float:
    COUNT.update(n=0, prefixes=0)
    host = PluginHost(Hub(), make_plugin=Plugin.in_process, renderer=event_json, queue_bound=20000, batch=512)
    await host.start([PluginSpec("bench", "internal", True, entry=entry)])
    evs = events(raw, n)

    async def done() -> bool:
        return COUNT["n"] >= n

    dt = await publish_and_wait(host, evs, done)
    await host.stop()
    return n / dt


async def bench_external(n: int, raw: list[bytes]) -> tuple[float, dict]:
    host = PluginHost(Hub(), renderer=event_json, queue_bound=20000, batch=512, stage_timeout=20)
    run = f"{sys.executable} {Path(__file__).resolve()} --as-plugin"
    await host.start([PluginSpec("bench-ext", "external", True, run=run)])
    evs = events(raw, n)

    async def done() -> bool:
        q = host.handles["bench-ext"].queue
        return q is not None and q.delivered >= n and not q.busy

    dt = await publish_and_wait(host, evs, done)
    res = await host.dispatch("bench count")
    await host.stop()
    return n / dt, {**res["data"], "render-misses": host.render_misses}


async def bench_hook(calls: int, raw: list[bytes], concurrency: int) -> tuple[float, float, float, int]:
    host = PluginHost(Hub(), renderer=event_json, stage_timeout=20, hook_timeout=1.0)
    run = f"{sys.executable} {Path(__file__).resolve()} --as-hook"
    await host.start([PluginSpec("bench-hook", "external", True, run=run)])
    lat: list[float] = []
    peer = {"address": PEER.address, "name": PEER.name, "as": PEER.remote_as}
    for i in range(200):  # warm the pool
        await host.filter_update(peer, raw[i % len(raw)])

    async def worker(k: int) -> None:
        for i in range(k, calls, concurrency):
            t = time.perf_counter()
            await host.filter_update(peer, raw[i % len(raw)])
            lat.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    dt = time.perf_counter() - t0
    failures = host.handles["bench-hook"].fast_hook.failures
    await host.stop()
    lat.sort()
    return calls / dt, statistics.median(lat) * 1e6, lat[int(len(lat) * 0.99)] * 1e6, failures


async def bench_filter_json(
    calls: int, raw: list[bytes], concurrency: int
) -> tuple[float, float, float, int]:
    """filter-update over the plugin's TLS connection (JSON lines), the same path the speaker uses."""
    host = PluginHost(Hub(), renderer=event_json, stage_timeout=20, hook_timeout=1.0)
    run = f"{sys.executable} {Path(__file__).resolve()} --as-filter"
    await host.start([PluginSpec("bench-filter", "external", True, run=run)])
    lat: list[float] = []
    peer = {"address": PEER.address, "name": PEER.name, "remote-as": PEER.remote_as}
    for i in range(200):
        await host.filter_update(peer, raw[i % len(raw)], i)

    async def worker(k: int) -> None:
        for i in range(k, calls, concurrency):
            t = time.perf_counter()
            await host.filter_update(peer, raw[i % len(raw)], i)
            lat.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    dt = time.perf_counter() - t0
    failures = host.filter_stats["failures"]
    await host.stop()
    lat.sort()
    return calls / dt, statistics.median(lat) * 1e6, lat[int(len(lat) * 0.99)] * 1e6, failures


def as_filter() -> None:
    plugin = Plugin.from_env("bench-filter")
    plugin.on_filter_update(
        lambda req: {"verdict": "accept"} if len(req["update"]) < 4096 else {"verdict": "reject"}
    )
    asyncio.run(plugin.run(Registration()))


def as_plugin() -> None:
    plugin = Plugin.from_env("bench-ext")
    seen = {"events": 0, "prefixes": 0}

    @plugin.on_event
    def on(ev):
        seen["events"] += 1
        seen["prefixes"] += len(ev.json["bgp"]["update"]["nlri"]["ipv4/unicast"][0]["nlri"])

    @plugin.on_command("bench count")
    def count(args):
        return dict(seen)

    plugin.set_startup_subscriptions(events=["bgp/update"], format="parsed")
    asyncio.run(plugin.run(Registration()))


def as_hook() -> None:
    plugin = Plugin.from_env("bench-hook")
    plugin.set_fast_hook(
        lambda req: {"verdict": "accept"} if len(req["update"]) < 4096 else {"verdict": "reject"}
    )
    asyncio.run(plugin.run(Registration()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--hook-calls", type=int, default=20_000)
    ap.add_argument("--as-plugin", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--as-hook", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--as-filter", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.as_filter:
        return as_filter()
    if a.as_plugin:
        return as_plugin()
    if a.as_hook:
        return as_hook()
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    raw = bodies(4096)
    print(
        f"ze plugin benchmark: {a.events} UPDATE events (4 prefixes each), python {sys.version.split()[0]}, pid {os.getpid()}"
    )
    with runner:
        r1 = runner.run(bench_inproc("__main__:inproc_objects", a.events, raw))
        print(f"  in-process, direct bridge (objects):      {r1:12,.0f} events/s")
        r2 = runner.run(bench_inproc("__main__:inproc_json", a.events, raw))
        print(f"  in-process, event.json rendered + read:   {r2:12,.0f} events/s")
        r3, info = runner.run(bench_external(a.events, raw))
        print(f"  external Python plugin (TLS, parsed JSON): {r3:11,.0f} events/s  {info}")
        for conc in (1, 4):
            rate, p50, p99, fails = runner.run(bench_hook(a.hook_calls, raw, conc))
            print(
                f"  fast hook, {conc} in flight: {rate:10,.0f} calls/s  p50 {p50:7.1f} us  p99 {p99:7.1f} us  failures {fails}"
            )
        for conc in (1, 4):
            rate, p50, p99, fails = runner.run(bench_filter_json(a.hook_calls, raw, conc))
            print(
                f"  filter-update (JSON over TLS), {conc} in flight: {rate:10,.0f} calls/s  p50 {p50:7.1f} us  p99 {p99:7.1f} us  failures {fails}"
            )
    print(f"  ratio direct bridge / external JSON: {r1 / r3:.1f}x")


if __name__ == "__main__":
    main()
