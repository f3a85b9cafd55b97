"""Golden vectors for capabilities and OPEN, checked in both directions:
hex -> to_json == json, and from_json(json) -> bytes == hex; bad OPENs -> the exact WireError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ze.bgp.wire.capability.base import Unknown
from ze.bgp.wire.codecs import core
from ze.bgp.wire.header import parse_header
from ze.bgp.wire.open import Open
from ze.core.errors import WireError

VECTORS = Path(__file__).parent / "vectors"
CAPS = json.loads((VECTORS / "capabilities.json").read_text())
OPENS = json.loads((VECTORS / "open.json").read_text())
GOOD = [v for v in OPENS if "json" in v]
BAD = [v for v in OPENS if "error" in v]


def _cap_json(cap):
    if isinstance(cap, Unknown):
        return {"code": cap.code, "name": "unknown", "value": cap.raw.hex().upper()}
    return {"code": cap.CODE, "name": cap.NAME, "value": cap.to_json()}


@pytest.mark.parametrize("vec", CAPS, ids=[v["name"] for v in CAPS])
def test_capability_hex_to_json(vec):
    data = bytes.fromhex(vec["hex"])
    code, length = data[0], data[1]
    assert length == len(data) - 2
    spec = core().capabilities.get(code)
    value = memoryview(data)[2:]
    cap = Unknown(value, code) if spec is None else spec.cls.from_wire(value, 2)
    assert _cap_json(cap) == vec["json"]
    assert cap.to_bytes() == data


@pytest.mark.parametrize("vec", CAPS, ids=[v["name"] for v in CAPS])
def test_capability_json_to_hex(vec):
    j = vec["json"]
    if j["name"] == "unknown":
        cap = Unknown(bytes.fromhex(j["value"]), j["code"])
    else:
        spec = core().capabilities[j["code"]]
        assert spec.name == j["name"]
        cap = spec.cls.from_json(j["value"])
    assert cap.to_bytes().hex().upper() == vec["hex"]


def test_every_core_capability_has_a_vector():
    codes = {v["json"]["code"] for v in CAPS}
    assert set(core().capabilities) <= codes
    assert set(core().capabilities) == {1, 2, 5, 6, 9, 64, 65, 69, 70, 71, 73, 75, 77}


def _open(data: bytes) -> Open:
    mtype, length = parse_header(data)
    assert mtype == 1
    return Open.from_wire(memoryview(data)[19:length])


@pytest.mark.parametrize("vec", GOOD, ids=[v["name"] for v in GOOD])
def test_open_hex_to_json(vec):
    data = bytes.fromhex(vec["hex"])
    o = _open(data)
    assert o.to_json() == vec["json"]
    assert o.to_bytes() == data


@pytest.mark.parametrize("vec", GOOD, ids=[v["name"] for v in GOOD])
def test_open_json_to_hex(vec):
    assert Open.from_json(vec["json"]).to_bytes().hex().upper() == vec["hex"]


@pytest.mark.parametrize("vec", BAD, ids=[v["name"] for v in BAD])
def test_bad_open_raises_wire_error(vec):
    data = bytes.fromhex(vec["hex"])
    with pytest.raises(WireError) as e:
        _open(data)
    want = vec["error"]
    got = {
        "code": e.value.code,
        "subcode": e.value.subcode,
        "offset": e.value.offset,
        "data": e.value.data.hex().upper(),
    }
    assert got == want
