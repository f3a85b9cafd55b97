"""Golden vectors for NOTIFICATION, KEEPALIVE and ROUTE-REFRESH, checked in both directions:
hex -> JSON (decode) and JSON -> hex (encode); and the error vectors' NOTIFICATION codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ze.bgp.wire.header import HEADER_LEN, parse_header
from ze.bgp.wire.keepalive import Keepalive
from ze.bgp.wire.notification import Notification
from ze.bgp.wire.refresh import RouteRefresh
from ze.core.errors import WireError

VECTORS = json.loads((Path(__file__).parent / "vectors" / "messages.json").read_text(encoding="utf-8"))
# message type -> (JSON type name, class)
CLASSES = {3: ("notification", Notification), 4: ("keepalive", Keepalive), 5: ("route-refresh", RouteRefresh)}


def decode(raw: bytes) -> dict:
    mtype, length = parse_header(raw)
    assert length == len(raw)
    name, cls = CLASSES[mtype]
    obj = cls.from_wire(memoryview(raw)[HEADER_LEN:], HEADER_LEN)
    body = obj.to_json()
    return {"type": name, name: body} if body else {"type": name}


def encode(doc: dict) -> bytes:
    name = doc["type"]
    cls = next(c for n, c in CLASSES.values() if n == name)
    return cls.from_json(doc.get(name, {})).to_bytes()


@pytest.mark.parametrize("vector", VECTORS["messages"], ids=lambda v: v["name"])
def test_decode(vector):
    assert decode(bytes.fromhex(vector["hex"])) == vector["json"]


@pytest.mark.parametrize("vector", VECTORS["messages"], ids=lambda v: v["name"])
def test_encode(vector):
    assert encode(vector["json"]).hex().upper() == vector["hex"]


@pytest.mark.parametrize("vector", VECTORS["errors"], ids=lambda v: v["name"])
def test_errors(vector):
    with pytest.raises(WireError) as e:
        decode(bytes.fromhex(vector["hex"]))
    want = vector["error"]
    got = {
        "code": e.value.code,
        "subcode": e.value.subcode,
        "offset": e.value.offset,
        "data": e.value.data.hex().upper(),
    }
    assert got == want
    # and the NOTIFICATION the session sends for it
    assert Notification.from_error(e.value).body() == bytes([want["code"], want["subcode"]]) + bytes.fromhex(
        want["data"]
    )


def test_vector_names_unique_and_cover_all_types():
    names = [v["name"] for v in VECTORS["messages"] + VECTORS["errors"]]
    assert len(names) == len(set(names))
    assert {v["json"]["type"] for v in VECTORS["messages"]} == {"notification", "keepalive", "route-refresh"}
    assert {
        v["json"]["route-refresh"]["subtype"]
        for v in VECTORS["messages"]
        if v["json"]["type"] == "route-refresh"
    } == {
        "normal",
        "borr",
        "eorr",
        "subtype-9",
    }
