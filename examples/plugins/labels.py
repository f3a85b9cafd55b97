#!/usr/bin/env python3
"""A ze plugin with its own config block and an NLRI codec (docs/plugins.md).

- Its YANG module (labels.yang, next to this file) is declared in `declare-registration`:
  ze merges it into the config schema and validates the `labels { ... }` block with it
  (file:line:column errors, at start and on reload); the plugin gets the block parsed and
  typed in configure / config-verify / config-apply. Its own check (reserved labels inside
  base..base+size) refuses a reload YANG cannot judge.
- It registers ipv4/mpls-label and ipv6/mpls-label (RFC 8277 labelled unicast, one label),
  which ze has no codec for: ze asks it to decode (`decode-nlri`) and encode (`encode-nlri`)
  their NLRI. Text form: "10.0.0.0/24 label 300".
- `labels decode HEX` asks ze to decode an UPDATE (`decode-update`); ze calls back this
  plugin for the labelled NLRI inside.

Run by ze: `process labels { run "python3 examples/plugins/labels.py"; }`.
"""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

from ze.plugin.sdk import Plugin, Registration, Reject, schema_of_file

HERE = Path(__file__).resolve().parent


def _width(family: str) -> int:
    return 16 if family.startswith("ipv6/") else 4


def decode(family: str, data: bytes, add_path: bool) -> list[str]:
    """Packed labelled NLRI -> texts ("PREFIX label N [path-id N]")."""
    out, i, width = [], 0, _width(family)
    while i < len(data):
        path_id = None
        if add_path:
            path_id, i = int.from_bytes(data[i : i + 4], "big"), i + 4
        bits = data[i]
        n = (bits + 7) // 8
        body = data[i + 1 : i + 1 + n]
        i += 1 + n
        if len(body) != n or bits < 24 or bits - 24 > width * 8:
            raise ValueError(f"bad labelled NLRI at byte {i}")
        label = int.from_bytes(body[:3], "big") >> 4
        addr = ipaddress.ip_address(body[3:].ljust(width, b"\0"))
        text = f"{addr}/{bits - 24} label {label}"
        out.append(text if path_id is None else f"{text} path-id {path_id}")
    return out


def encode(family: str, texts: list[str], add_path: bool) -> list[bytes]:
    """Texts -> one packed NLRI each (bottom-of-stack set)."""
    out = []
    for text in texts:
        words = text.split()
        if len(words) not in (3, 5) or words[1] != "label":
            raise ValueError(f"{text!r}: expected 'PREFIX label N [path-id N]'")
        net = ipaddress.ip_network(words[0])
        if net.max_prefixlen != _width(family) * 8:
            raise ValueError(f"{words[0]} is not {family}")
        label = int(words[2])
        head = int(words[4]).to_bytes(4, "big") if add_path and len(words) == 5 else b""
        body = ((label << 4) | 1).to_bytes(3, "big") + net.network_address.packed[: (net.prefixlen + 7) // 8]
        out.append(head + bytes([24 + net.prefixlen]) + body)
    return out


async def main(plugin: Plugin) -> None:
    state = {"config": {}, "decoded": 0, "encoded": 0}

    @plugin.on_configure
    def configure(sections):  # at start-up and on each applied reload
        state["config"] = sections.get("labels") or {}

    @plugin.on_verify
    def verify(sections):
        cfg = sections.get("labels") or {}
        lo = cfg.get("base", 16)
        hi = lo + cfg.get("size", 1000)
        for name, r in (cfg.get("reserve") or {}).items():
            if not lo <= r["label"] < hi:
                raise Reject(f"reserve {name}: label {r['label']} is outside {lo}..{hi - 1}")

    @plugin.on_decode_nlri
    def on_decode(family, data, add_path):
        state["decoded"] += 1
        return decode(family, data, add_path)

    @plugin.on_encode_nlri
    def on_encode(family, texts, add_path):
        state["encoded"] += 1
        return encode(family, texts, add_path)

    @plugin.on_command("show labels", "the labels config as ze parsed it, and codec calls")
    def show(args):
        return state

    @plugin.on_command("labels decode", "decode an UPDATE given as hex (through ze)", ["HEX"])
    async def decode_cmd(args):
        if not args:
            raise Reject("labels decode HEX")
        return await plugin.decode_update(args[0])

    await plugin.run(
        Registration(
            families=["ipv4/mpls-label:both", "ipv6/mpls-label:both"],
            wants_config=["labels"],
            schema=schema_of_file(HERE / "labels.yang"),
        )
    )


if __name__ == "__main__":
    asyncio.run(main(Plugin.from_env("labels")))
