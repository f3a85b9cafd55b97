"""An in-process plugin for the host tests of filter-update, NLRI codecs, decode-update and
forward-cached (entry "tests.unit.plugin.host.codec_toy:main")."""

from __future__ import annotations

import asyncio

from ze.plugin.sdk import Plugin, Registration


async def main(plugin: Plugin) -> None:
    @plugin.on_filter_update
    async def verdict(req):
        body = req["update"]
        if body.endswith(b"\x66"):
            return {"verdict": "reject", "reason": "ends in 66"}
        if body.endswith(b"\x77"):
            return {"verdict": "modify", "update": body[:-1] + b"\x78"}
        if body.endswith(b"\x99"):
            await asyncio.sleep(1)  # late
        if body.endswith(b"\x55"):
            return {"verdict": "maybe"}
        return {"verdict": "accept"}

    @plugin.on_decode_nlri
    def dec(family, data, add_path):
        return [f"{family}:{b}" for b in data]

    @plugin.on_encode_nlri
    def enc(family, texts, add_path):
        return [bytes([int(t)]) for t in texts]

    @plugin.on_command("toy decode")
    async def decode(args):
        return await plugin.decode_update(bytes.fromhex(args[0]), {"asn4": True})

    @plugin.on_command("toy forward")
    async def forward(args):
        return await plugin.forward_cached(int(args[0]), args[1:])

    await plugin.run(Registration(families=["ipv4/flowspec:decode", "ipv6/flowspec:encode"]))
