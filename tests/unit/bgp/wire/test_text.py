from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ze.bgp.wire.attr.base import OPTIONAL, TRANSITIVE, Attribute, AttrSpec
from ze.bgp.wire.codecs import Codecs
from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.header import MARKER
from ze.bgp.wire.text import TextError, encode_text, parse, tokenize
from ze.core.family import IPV4_UNICAST, IPV6_UNICAST


class Numbers(Attribute):
    """Test-only attribute (code 240): a list of 32-bit numbers."""

    CODE = 240
    NAME = "test-numbers"
    FLAGS = OPTIONAL | TRANSITIVE
    __slots__ = ()


def _numbers(words: list[str]) -> Numbers:
    if not words or not all(w.isdigit() for w in words):
        raise ValueError(f"test-numbers: expected numbers, got {' '.join(words)!r}")
    return Numbers(b"".join(int(w).to_bytes(4, "big") for w in words))


CODECS = Codecs.build(
    attrs=[AttrSpec(240, "test-numbers", Numbers, text="test-numbers", parse_text=_numbers)]
)
ADDPATH = EncodingContext(addpath=frozenset({IPV4_UNICAST, IPV6_UNICAST}))


def enc(text: str, ctx: EncodingContext = DEFAULT) -> list[str]:
    return [m.hex().upper() for m in encode_text(text, ctx, CODECS)]


def test_tokenize_splits_brackets():
    assert tokenize("as-path set [65001 65002]") == ["as-path", "set", "[", "65001", "65002", "]"]


def test_ipv4_announce_exact_bytes():
    assert enc(
        "update text origin set igp nhop set 192.0.2.1 test-numbers set [1 2] nlri ipv4/unicast add 10.0.0.0/24 10.0.1.0/24"
    ) == [
        "FF" * 16
        + "0035020000"
        + "0016"
        + "40010100"
        + "400304C0000201"
        + "C0F0080000000100000002"
        + "180A0000"
        + "180A0001"
    ]


def test_withdraw_only_carries_no_attributes():
    assert enc("update text origin set igp nlri ipv4/unicast del 10.9.0.0/16") == [
        "FF" * 16 + "001A02" + "0003100A09" + "0000"
    ]


def test_ipv6_and_eor_and_several_sections():
    out = enc(
        "update text origin set egp nhop set 2001:db8::1 nlri ipv6/unicast add 2001:db8:1::/48"
        " nlri ipv6/unicast del 2001:db8:2::/48 nlri ipv6/unicast eor"
    )
    assert out == [
        "FF" * 16
        + "004702"
        + "0000"
        + "0030"
        + "40010101"
        + "800E1C000201102001"
        + "0DB80000000000000000000000010030"
        + "20010DB80001"
        + "800F0A000201"
        + "3020010DB80002",
        "FF" * 16 + "001D0200000006800F03000201",
    ]


def test_path_ids():
    (m,) = enc(
        "update text origin set igp nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/24 path-id 7", ADDPATH
    )
    assert m.endswith("40010100" + "400304C0000201" + "00000007180A0000")
    with pytest.raises(TextError, match="ADD-PATH is not on for ipv4/unicast"):
        enc("update text nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/24 path-id 7")


def test_hex_form():
    assert enc("update hex attr set 40010100 nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/24") == enc(
        "update text origin set igp nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/24"
    )
    assert enc("update hex attr set [40010100 400304C0000201] nlri ipv4/unicast add 10.0.0.0/24") == enc(
        "update text origin set igp nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/24"
    )


def test_parse_returns_sections():
    attrs, sections = parse(
        "update text origin set igp nhop set [2001:db8::1 fe80::1] nlri ipv6/unicast add 2001:db8::/32",
        codecs=CODECS,
    )
    assert [a.CODE for a in attrs] == [1]
    assert [(s.family, s.action, [i.text() for i in s.items], s.next_hops) for s in sections] == [
        (IPV6_UNICAST, "add", ["2001:db8::/32"], ("2001:db8::1", "fe80::1"))
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "update text origin set bogus nlri ipv4/unicast eor",
            "word 5: origin: expected igp, egp or incomplete, got 'bogus'",
        ),
        ("update text origin igp", "word 4 'igp': expected 'set'"),
        ("update text colour set red", "word 3 'colour': expected an attribute keyword or nlri"),
        (
            "update text nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/33",
            "word 9 '10.0.0.0/33': bad prefix",
        ),
        (
            "update text nlri ipv4/unicast add 10.0.0.0/24",
            "word 3: nlri ipv4/unicast add needs a next hop first",
        ),
        ("update text nlri ipv9/unicast eor", "word 4 'ipv9/unicast': unknown afi 'ipv9'"),
        ("update text nlri ipv4/unicast drop", "word 5 'drop': expected add, del or eor"),
        (
            "update text nhop set [192.0.2.1",
            "word 7: expected ']' closing the list opened at word 5, got the end",
        ),
        (
            "update text nhop set nowhere nlri ipv4/unicast eor",
            "word 5 'nowhere': expected an IPv4 or IPv6 address",
        ),
        ("update text origin set igp", "word 6: expected at least one nlri section"),
        ("update json", "word 2 'json': expected text or hex"),
        (
            "update hex attr set 4001 nlri ipv4/unicast eor",
            "word 5: attribute block: attribute header runs past",
        ),
        ("update text test-numbers set [x] nlri ipv4/unicast eor", "word 5: test-numbers: expected numbers"),
    ],
)
def test_errors_name_the_word(text, message):
    with pytest.raises(TextError) as e:
        enc(text)
    assert str(e.value).startswith(message)
    assert isinstance(e.value, ValueError)


def test_ipv6_next_hop_for_ipv4_needs_extended_next_hop():
    with pytest.raises(ValueError, match="RFC 8950"):
        enc("update text nhop set 2001:db8::1 nlri ipv4/unicast add 10.0.0.0/24")
    ctx = EncodingContext(extended_nexthop=frozenset({(IPV4_UNICAST, 2)}))
    (m,) = enc("update text nhop set 2001:db8::1 nlri ipv4/unicast add 10.0.0.0/24", ctx)
    assert (
        m
        == "FF" * 16
        + "003302"
        + "0000"
        + "001C"
        + "800E19000101102001"
        + "0DB8000000000000000000000001"
        + "00180A0000"
    )


def test_split_to_max_message():
    prefixes = " ".join(f"10.{i >> 8}.{i & 255}.0/24" for i in range(2000))
    out = encode_text(
        f"update text origin set igp nhop set 192.0.2.1 nlri ipv4/unicast add {prefixes}", codecs=CODECS
    )
    assert len(out) == 2 and all(len(m) <= 4096 for m in out)
    assert out[0][:16] == MARKER


WORDS = [
    "update",
    "text",
    "hex",
    "origin",
    "set",
    "igp",
    "nhop",
    "next-hop",
    "nlri",
    "attr",
    "ipv4/unicast",
    "ipv6/unicast",
    "ipv4/multicast",
    "l2vpn/evpn",
    "add",
    "del",
    "eor",
    "path-id",
    "7",
    "[",
    "]",
    "10.0.0.0/24",
    "2001:db8::/32",
    "192.0.2.1",
    "2001:db8::1",
    "fe80::1",
    "40010100",
    "4001",
    "zz",
    "test-numbers",
    "1",
    "x",
    "0.0.0.0/0",
    "4294967296",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=25), st.sampled_from([DEFAULT, ADDPATH]))
def test_any_words_parse_or_raise_value_error(words, ctx):
    try:
        out = encode_text(" ".join(words), ctx, CODECS)
    except ValueError:
        return
    assert out and all(m[:16] == MARKER for m in out)
