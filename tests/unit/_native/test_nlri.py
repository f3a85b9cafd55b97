from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ze._native import compiled, pure
from ze.bgp.wire.nlri import prefix
from ze.core.errors import WireError


def test_ipv4(impl):
    data = bytes([24, 10, 0, 1, 0, 25, 192, 168, 1, 0xFF, 32, 1, 2, 3, 4])
    assert impl.walk_nlri(data, 0, len(data), 1, False) == [
        0, 24, 0x0A000100,
        0, 0, 0,
        0, 25, 0xC0A80180,
        0, 32, 0x01020304,
    ]  # fmt: skip


def test_ipv6_addpath(impl):
    data = (
        bytes([0, 0, 0, 7, 32, 0x20, 0x01, 0x0D, 0xB8, 0xFF, 0xFF, 0xFF, 0xFF, 65])
        + bytes(range(1, 9))
        + b"\x89"
    )
    assert impl.walk_nlri(data, 0, len(data), 2, True) == [
        7, 32, 0x20010DB800000000, 0,
        0xFFFFFFFF, 65, 0x0102030405060708, 0x8000000000000000,
    ]  # fmt: skip


def test_region_within_data(impl):
    data = b"\x00\x00" + bytes([8, 10]) + b"\x99"
    assert impl.walk_nlri(data, 2, 4, 1, False) == [0, 8, 0x0A000000]
    assert impl.walk_nlri(data, 2, 2, 1, False) == []
    with pytest.raises(ValueError):
        impl.walk_nlri(data, 2, 6, 1, False)


@pytest.mark.parametrize(
    ("data", "afi", "addpath", "offset", "text"),
    [
        (bytes([24, 10, 0, 1, 24, 10]), 1, False, 104, "prefix /24 needs 3 bytes, 1 left"),
        (bytes([33, 10, 0, 0, 0, 0]), 1, False, 100, "prefix length 33 exceeds 32"),
        (bytes([129]), 2, False, 100, "prefix length 129 exceeds 128"),
        (bytes([0, 0, 0]), 1, True, 100, "NLRI path id runs past the end"),
        (bytes([0, 0, 0, 1]), 2, True, 104, "NLRI ends after a path id"),
    ],
)
def test_errors_are_update_3_10(impl, data, afi, addpath, offset, text):
    with pytest.raises(WireError) as e:
        impl.walk_nlri(data, 0, len(data), afi, addpath, base=100)
    assert (e.value.code, e.value.subcode, e.value.offset, e.value.message) == (3, 10, offset, text)


def _flat(prefixes, afi):
    out = []
    for p in prefixes:
        out += [p.path_id or 0, p.length]
        out += [p.value] if afi == 1 else [p.value >> 64, p.value & (2**64 - 1)]
    return out


def _outcome(fn):
    try:
        return ("ok", fn())
    except WireError as e:
        return ("error", e.code, e.subcode, e.offset, e.message)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=80), st.sampled_from([1, 2]), st.booleans(), st.integers(0, 3))
def test_cffi_twin_and_prefix_walk_agree(data, afi, addpath, skip):
    start = min(skip, len(data))
    want = _outcome(lambda: _flat(prefix.walk(data, start, len(data), afi, addpath), afi))
    assert _outcome(lambda: compiled.walk_nlri(data, start, len(data), afi, addpath)) == want
    assert _outcome(lambda: pure.walk_nlri(data, start, len(data), afi, addpath)) == want


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 128), st.integers(0, 2**128 - 1)), max_size=20
    ),
    st.booleans(),
)
def test_valid_ipv6_roundtrip(items, addpath):
    ps = [
        prefix.Prefix(2, ln, v & ~((1 << (128 - ln)) - 1), pid if addpath else None) for pid, ln, v in items
    ]
    data = memoryview(prefix.encode(ps, addpath))
    assert compiled.walk_nlri(data, 0, len(data), 2, addpath) == _flat(ps, 2)
    assert pure.walk_nlri(data, 0, len(data), 2, addpath) == _flat(ps, 2)
