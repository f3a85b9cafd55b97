"""Golden path-attribute vectors (tests/wire/vectors/attributes.json), both directions:
hex -> attr.walk -> from_wire -> {NAME: to_json()} equals the JSON, and
from_json -> to_bytes(ctx) equals the hex (header flags and extended length included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ze.bgp.wire.attr.unknown import Unknown
from ze.bgp.wire.attr.walk import walk
from ze.bgp.wire.codecs import core
from ze.bgp.wire.context import EncodingContext

VECTORS = json.loads((Path(__file__).parent / "vectors" / "attributes.json").read_text())
BY_NAME = {spec.name: spec.cls for spec in core().attrs.values()}


def decode(data: bytes, ctx: EncodingContext):
    (flags, code, start, end), *rest = list(walk(data, 0, len(data)))
    assert rest == [], "a vector holds exactly one attribute"
    assert end == len(data)
    view = memoryview(data)[start:end]
    spec = core().attrs.get(code)
    if spec is None:
        return Unknown.from_wire(code, flags, view, ctx, start)
    return spec.cls.from_wire(flags, view, ctx, start)


ATTRIBUTES = {
    "as-path",
    "next-hop",
    "med",
    "local-preference",
    "atomic-aggregate",
    "aggregator",
    "community",
    "originator-id",
    "cluster-list",
    "extended-community",
    "as4-path",
    "as4-aggregator",
    "ipv6-extended-community",
    "aigp",
    "large-community",
    "otc",
    "prefix-sid",
}


def test_every_attribute_has_a_vector():
    names = {name for v in VECTORS for name in v["json"]}
    assert ATTRIBUTES <= set(BY_NAME)
    assert ATTRIBUTES <= names
    assert any(n.startswith("attribute-") for n in names)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_decode(vector):
    ctx = EncodingContext(asn4=vector["context"]["asn4"])
    attr = decode(bytes.fromhex(vector["hex"]), ctx)
    assert {attr.NAME: attr.to_json()} == vector["json"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_encode(vector):
    ctx = EncodingContext(asn4=vector["context"]["asn4"])
    ((name, value),) = vector["json"].items()
    cls = Unknown if name.startswith("attribute-") else BY_NAME[name]
    attr = cls.from_json(value)
    assert attr.to_bytes(ctx).hex().upper() == vector["hex"]
    # Re-encoding what was decoded gives the same bytes too.
    assert decode(bytes.fromhex(vector["hex"]), ctx).to_bytes(ctx).hex().upper() == vector["hex"]
