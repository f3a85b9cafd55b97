"""The route text keywords (`<keyword> set <words>`, brackets already removed) through the
codec table, as the UPDATE builder will call them."""

from __future__ import annotations

import pytest

from ze.bgp.wire.codecs import core
from ze.bgp.wire.context import DEFAULT


def text(keyword: str, *words: str) -> str:
    return core().by_text[keyword].parse_text(list(words)).to_bytes(DEFAULT).hex().upper()


def test_keywords():
    assert sorted(core().by_text) == [
        "aggregator",
        "aigp",
        "as-path",
        "atomic-aggregate",
        "cluster-list",
        "community",
        "extended-community",
        "ipv6-extended-community",
        "large-community",
        "local-preference",
        "med",
        "origin",
        "originator-id",
        "otc",
    ]


def test_issue_example():
    # update text origin set igp nhop set 192.0.2.1 as-path set [65001 65002] community set
    # [65000:1 no-export] large-community set [65000:1:2] med set 10 local-preference set 200
    assert text("origin", "igp") == "40010100"
    assert text("as-path", "65001", "65002") == "40020A02020000FDE90000FDEA"
    assert text("community", "65000:1", "no-export") == "C00808FDE80001FFFFFF01"
    assert text("large-community", "65000:1:2") == "C0200C0000FDE80000000100000002"
    assert text("med", "10") == "8004040000000A"
    assert text("local-preference", "200") == "400504000000C8"


def test_other_keywords():
    assert text("extended-community", "target:65000:1") == "C010080002FDE800000001"
    assert (
        text("ipv6-extended-community", "target:2001:db8::1:1")
        == "C01914000220010DB80000000000000000000000010001"
    )
    assert text("atomic-aggregate") == "400600"
    assert text("aggregator", "65000", "192.0.2.1") == "C007080000FDE8C0000201"
    assert text("originator-id", "192.0.2.1") == "800904C0000201"
    assert text("cluster-list", "192.0.2.1") == "800A04C0000201"
    assert text("aigp", "100") == "801A0B01000B0000000000000064"
    assert text("otc", "65000") == "C023040000FDE8"


@pytest.mark.parametrize(
    ("keyword", "words"),
    [
        ("med", []),
        ("local-preference", ["high"]),
        ("as-path", ["65001", "x"]),
        ("community", ["65000"]),
        ("large-community", ["1:2"]),
        ("extended-community", ["target:1"]),
        ("aggregator", ["65000"]),
        ("originator-id", ["1.2.3"]),
        ("cluster-list", []),
        ("aigp", ["-1"]),
        ("otc", ["1", "2"]),
        ("atomic-aggregate", ["1"]),
    ],
)
def test_bad_words_raise_value_error(keyword, words):
    with pytest.raises(ValueError):
        core().by_text[keyword].parse_text(words)
