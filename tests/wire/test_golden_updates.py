"""Golden UPDATE vectors (tests/wire/vectors/updates.json) in both directions.

Each vector: name, hex (a whole message), context (EncodingContext.describe() keys), json
(render.message_json of the message) and, where it was written from one, the route text.
hex -> json, json -> hex, and text -> hex must all hold.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.message import decode_message
from ze.bgp.wire.render import message_json, update_from_json
from ze.bgp.wire.text import encode_text, update_text
from ze.core.family import Family

VECTORS = json.loads((Path(__file__).parent / "vectors" / "updates.json").read_text())


def context(d: dict) -> EncodingContext:
    return EncodingContext(
        asn4=d.get("asn4", True),
        addpath=frozenset(Family.parse(f) for f in d.get("add-path", [])),
        extended_message=d.get("extended-message", False),
        extended_nexthop=frozenset(
            (Family.parse(x.split(":")[0]), int(x.split(":")[1])) for x in d.get("extended-next-hop", [])
        ),
    )


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_hex_to_json(v):
    assert message_json(decode_message(bytes.fromhex(v["hex"]), context(v["context"]))) == v["json"]


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_json_to_hex(v):
    assert update_from_json(v["json"], context(v["context"])).hex().upper() == v["hex"]


@pytest.mark.parametrize(
    "v", [v for v in VECTORS if "text" in v], ids=[v["name"] for v in VECTORS if "text" in v]
)
def test_text_to_hex(v):
    assert [m.hex().upper() for m in encode_text(v["text"], context(v["context"]))] == [v["hex"]]


def test_vectors_cover_the_families():
    fams = {f for v in VECTORS for f in v["json"]["bgp"]["update"]["nlri"]}
    assert fams == {"ipv4/unicast", "ipv6/unicast", "ipv4/multicast", "ipv6/multicast", "l2vpn/evpn"}


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_text_view_encodes_back(v):
    ctx = context(v["context"])
    text = update_text(decode_message(bytes.fromhex(v["hex"]), ctx))
    if "text" in v:
        assert text == v["text"]
        assert [m.hex().upper() for m in encode_text(text, ctx)] == [v["hex"]]
    else:
        assert text is None  # NLRI of a family without a codec has no text form
