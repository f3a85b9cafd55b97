"""Route commands with a family a plugin encodes: bracketed (or one-word) items become
`raw HEX` from encode-nlri; other families and commands stay as they are; the text syntax
takes raw NLRI only for families without a codec."""

from __future__ import annotations

import asyncio

import pytest

from ze.bgp.wire.text import encode_text
from ze.plugin.sdk.encode import encode_command

FAMS = {"ipv4/mpls-label", "ipv4/unicast"}


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def test_items_become_raw_hex():
    calls = []

    async def enc(family, items, add_path):
        calls.append((family, items, add_path))
        return [bytes([i]) for i, _ in enumerate(items, 1)]

    cmd = (
        "update text origin set igp nhop set 192.0.2.1 nlri ipv4/mpls-label add [10.0.0.0/24 label 300] "
        "one-word community set [no-export] nlri ipv4/unicast add 10.9.0.0/24"
    )
    out = run(encode_command(cmd, FAMS, enc))
    assert out == (
        "update text origin set igp nhop set 192.0.2.1 nlri ipv4/mpls-label add raw 01 raw 02 "
        "community set [ no-export ] nlri ipv4/unicast add 10.9.0.0/24"
    )
    assert calls == [("ipv4/mpls-label", ["10.0.0.0/24 label 300", "one-word"], False)]
    same = "update text nlri ipv4/unicast add 10.0.0.0/24"
    assert run(encode_command(same, FAMS, enc)) is same  # ze's own codec: never asked
    assert run(encode_command("update text nlri ipv4/mpls-label eor", FAMS, enc)).endswith("eor")


def test_text_syntax_raw_items_only_without_a_codec():
    (msg,) = encode_text(
        "update text origin set igp nhop set 192.0.2.1 nlri ipv4/mpls-label add raw 300012C10A0000"
    )
    assert msg.endswith(bytes.fromhex("300012C10A0000"))
    with pytest.raises(ValueError, match="expected 'raw HEX' \\(ipv4/mpls-label has no NLRI codec here\\)"):
        encode_text("update text nhop set 192.0.2.1 nlri ipv4/mpls-label add 10.0.0.0/24")
    with pytest.raises(ValueError, match="the hex of packed NLRI"):
        encode_text("update text nhop set 192.0.2.1 nlri ipv4/mpls-label add raw XYZ")
    with pytest.raises(ValueError):
        encode_text("update text nhop set 192.0.2.1 nlri ipv4/unicast add raw 180A0000")
