"""A toy in-process plugin for the host tests (entry "tests.unit.plugin.host.toy:main")."""

from __future__ import annotations

import asyncio

from ze.plugin.sdk import Plugin, Registration, Reject

SEEN: list = []
CONFIGS: list = []


async def main(plugin: Plugin) -> None:
    @plugin.on_event
    def seen(event):
        SEEN.append((event.topic, event.payload))

    @plugin.on_configure
    def configure(sections):
        CONFIGS.append(sections)

    @plugin.on_verify
    def verify(sections):
        if (sections.get("toy") or {}).get("bad"):
            raise Reject("toy says no")

    @plugin.on_command("show toy", "what the toy saw")
    def show(args):
        return {"seen": len(SEEN), "args": args}

    @plugin.on_validate_open
    def check_open(req):
        if req["open"].get("asn") == 666:
            raise Reject("no AS 666 here")

    plugin.add_capability(73, b"\x01\x02")
    plugin.set_startup_subscriptions(events=["bgp/update", "toy/"])
    await plugin.run(Registration(families=["ipv4/unicast"], wants_config=["toy"]))


async def crashy(plugin: Plugin) -> None:
    await asyncio.sleep(0)
    raise RuntimeError("crashy crashed")


async def other(plugin: Plugin) -> None:
    """Depends on toy; provides a command that calls toy's through ze."""

    @plugin.on_command("ask toy")
    async def ask(args):
        return await plugin.dispatch_command("show toy from-other")

    @plugin.on_command("emit")
    async def emit(args):
        return await plugin.emit_event("toy", "hello", {"n": 1})

    await plugin.run(Registration(dependencies=["toy"]))


async def duplicate(plugin: Plugin) -> None:
    @plugin.on_command("show toy")
    def show(args):
        return {}

    await plugin.run()
