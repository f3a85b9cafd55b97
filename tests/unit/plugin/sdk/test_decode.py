"""decode-update and the NLRI of families plugins decode: raw entries replaced in a copy (the
cached rendering is never changed), ADD-PATH passed on, failures keep the raw hex."""

from __future__ import annotations

import asyncio

import pytest

from ze.plugin.sdk.decode import context_of, decode_update, event_filler, fill_event, fill_update

# ORIGIN igp, empty AS_PATH, MP_REACH_NLRI ipv4/mpls-label next hop 192.0.2.1, NLRI 300012C10A0000
LABELLED = "0000001A40010100400200800E1000010404C000020100300012C10A0000"
PLAIN = "0000000740010100400200" + "180A0000"  # ORIGIN, AS_PATH, 10.0.0.0/24 (no next hop: fine here)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def test_decode_update_asks_the_family_decoder_for_raw_nlri():
    calls = []

    async def dec(family, data, add_path):
        calls.append((family, data.hex().upper(), add_path))
        return ["10.0.0.0/24 label 300"]

    res = run(decode_update(LABELLED, {"add-path": ["ipv4/mpls-label"]}, dec))
    assert res["update"]["nlri"] == {
        "ipv4/mpls-label": [{"next-hop": "192.0.2.1", "action": "add", "nlri": ["10.0.0.0/24 label 300"]}]
    }
    assert calls == [("ipv4/mpls-label", "300012C10A0000", True)]


def test_decode_update_without_a_decoder_keeps_raw_and_never_asks_for_known_families():
    async def none(family, data, add_path):
        assert family != "ipv4/unicast"
        return None

    res = run(decode_update(LABELLED, None, none))
    assert res["update"]["nlri"]["ipv4/mpls-label"][0]["raw"] == "300012C10A0000"
    res = run(decode_update(PLAIN, None, none))
    assert res["update"]["nlri"]["ipv4/unicast"][0]["nlri"] == ["10.0.0.0/24"]


@pytest.mark.parametrize(
    ("hexed", "message"),
    [("zz", "not hexadecimal"), ("00FF", "malformed UPDATE"), ("0004" + "01" + "00", "malformed UPDATE")],
)
def test_decode_update_errors(hexed, message):
    async def none(*a):
        return None

    with pytest.raises(ValueError, match=message):
        run(decode_update(hexed, None, none))


def test_fill_copies_and_leaves_the_cached_view_alone():
    view = {"attr": {}, "nlri": {"x/y": [{"action": "del", "raw": "01"}, {"action": "add", "nlri": ["a"]}]}}
    event = {"type": "bgp", "bgp": {"message": {"type": "update"}, "update": view}}

    async def dec(family, data, add_path):
        return [f"item-{data.hex()}"]

    out = run(fill_event(event, dec))
    assert out["bgp"]["update"]["nlri"]["x/y"] == [
        {"action": "del", "nlri": ["item-01"]},
        {"action": "add", "nlri": ["a"]},
    ]
    assert view["nlri"]["x/y"][0] == {"action": "del", "raw": "01"}  # untouched
    no_raw = {"attr": {}, "nlri": {"a/b": [{"action": "add", "nlri": ["a"]}]}}
    assert run(fill_update(no_raw, dec)) is no_raw
    assert run(event_filler(dec)("t", object(), {"type": "x"})) == {"type": "x"}


def test_context_of():
    ctx = context_of({"asn4": False, "add-path": ["ipv4/unicast"], "extended-message": True})
    assert (ctx.asn4, [f.name for f in ctx.addpath], ctx.extended_message) == (False, ["ipv4/unicast"], True)
    with pytest.raises(ValueError):
        context_of({"add-path": ["nope/thing"]})
