"""One test per RFC 7606 rule: malformed UPDATE bodies built by hand, exact verdicts."""

from __future__ import annotations

import struct

import pytest

from ze.bgp import validate
from ze.bgp.validate import Reason, Verdict, check_update
from ze.bgp.wire.context import ASN2, DEFAULT, EncodingContext
from ze.bgp.wire.notification import Notification
from ze.core.family import IPV4_UNICAST, IPV6_UNICAST


def attr(flags: int, code: int, value: bytes) -> bytes:
    if flags & 0x10:
        return struct.pack("!BBH", flags, code, len(value)) + value
    return struct.pack("!BBB", flags, code, len(value)) + value


def body(attrs: bytes = b"", nlri: bytes = b"", withdrawn: bytes = b"") -> bytes:
    return struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", len(attrs)) + attrs + nlri


ORIGIN = attr(0x40, 1, b"\x00")
AS_PATH = attr(0x40, 2, b"\x02\x01" + struct.pack("!I", 65001))
NEXT_HOP = attr(0x40, 3, bytes([192, 0, 2, 1]))
BASE = ORIGIN + AS_PATH + NEXT_HOP
NLRI = bytes([24, 10, 0, 0])
# Offsets: the body starts at 19; attributes at 19 + 2 + withdrawn + 2.
ATTRS_AT = 23
AFTER_BASE = ATTRS_AT + len(BASE)
# The same with a 2-byte-ASN AS_PATH, for ASN2 contexts.
BASE2 = ORIGIN + attr(0x40, 2, b"\x02\x01" + struct.pack("!H", 23456)) + NEXT_HOP
AFTER_BASE2 = ATTRS_AT + len(BASE2)


def ebgp(b: bytes, ctx: EncodingContext = DEFAULT) -> Verdict:
    return check_update(b, ctx, ibgp=False)


def ibgp(b: bytes, ctx: EncodingContext = DEFAULT) -> Verdict:
    return check_update(b, ctx, ibgp=True)


def withdraw(code, offset, text):
    return Verdict("treat-as-withdraw", reasons=(Reason(code, offset, text),))


def discard(code, offset, text):
    return Verdict("attribute-discard", discarded=(code,), reasons=(Reason(code, offset, text),))


# -- valid input -------------------------------------------------------------------------------------


def test_valid_update_ok():
    assert ebgp(body(BASE, NLRI)) == Verdict()
    assert ebgp(body(BASE, NLRI)).ok


def test_empty_update_end_of_rib_ok():
    assert ebgp(b"\x00\x00\x00\x00") == Verdict()


def test_withdraw_only_needs_no_attributes():
    assert ebgp(body(withdrawn=NLRI)) == Verdict()


def test_regression_unknown_optional_transitive_type_255_kept():
    b = body(BASE + attr(0xE0, 255, bytes(range(32))), NLRI)
    assert ebgp(b) == Verdict()
    assert ebgp(body(attr(0xE0, 255, bytes(32)))) == Verdict()


def test_full_valid_update_with_every_attribute_ok_ibgp():
    attrs = (
        BASE
        + attr(0x80, 4, struct.pack("!I", 10))
        + attr(0x40, 5, struct.pack("!I", 100))
        + attr(0x40, 6, b"")
        + attr(0xC0, 7, struct.pack("!II", 65001, 0x0A000001))
        + attr(0xC0, 8, struct.pack("!I", 0xFFFFFF01))
        + attr(0x80, 9, bytes([10, 0, 0, 1]))
        + attr(0x80, 10, bytes([10, 0, 0, 2]))
        + attr(0xC0, 16, bytes(8))
        + attr(0xC0, 25, bytes(20))
        + attr(0x80, 26, bytes([1, 0, 11]) + bytes(8))
        + attr(0xC0, 32, bytes(12))
        + attr(0xC0, 35, struct.pack("!I", 65001))
        + attr(0xC0, 40, bytes([1, 0, 7]) + bytes(7))
    )
    assert ibgp(body(attrs, NLRI)) == Verdict()


# -- section 3 and 4: structure --------------------------------------------------------------------


def test_body_shorter_than_4_resets_3_1():
    assert ebgp(b"\x00\x00\x00") == Verdict(
        "session-reset", (3, 1, b""), reasons=(Reason(None, 19, "UPDATE body is 3 bytes, needs at least 4"),)
    )


def test_withdrawn_length_overrun_resets_3_1():
    assert ebgp(b"\x00\x09\x00\x00\x00") == Verdict(
        "session-reset",
        (3, 1, b""),
        reasons=(Reason(None, 19, "withdrawn routes length 9 runs past the message"),),
    )


def test_total_attribute_length_overrun_resets_3_1():
    b = struct.pack("!HH", 0, 40) + BASE
    assert ebgp(b) == Verdict(
        "session-reset",
        (3, 1, b""),
        reasons=(Reason(None, 21, "total path attribute length 40 runs 20 bytes past the message"),),
    )


def test_nlri_field_syntax_error_resets_3_10():
    assert ebgp(body(BASE, bytes([33, 10, 0, 0, 0, 0]))) == Verdict(
        "session-reset",
        (3, 10, b""),
        reasons=(Reason(None, AFTER_BASE, "NLRI: prefix length 33 exceeds 32"),),
        family=IPV4_UNICAST,
    )
    assert ebgp(body(BASE, bytes([24, 10, 0]))) == Verdict(
        "session-reset",
        (3, 10, b""),
        reasons=(Reason(None, AFTER_BASE, "NLRI: prefix /24 runs past the end"),),
        family=IPV4_UNICAST,
    )


def test_withdrawn_field_syntax_error_resets_3_10():
    assert ebgp(body(withdrawn=bytes([16, 10]))) == Verdict(
        "session-reset",
        (3, 10, b""),
        reasons=(Reason(None, 21, "withdrawn routes: prefix /16 runs past the end"),),
        family=IPV4_UNICAST,
    )


def test_addpath_nlri_checked_with_path_ids():
    ctx = EncodingContext(addpath=frozenset({IPV4_UNICAST}))
    assert ebgp(body(BASE, b"\x00\x00\x00\x01" + NLRI), ctx) == Verdict()
    assert ebgp(body(BASE, b"\x00\x00\x00\x01"), ctx) == Verdict(
        "session-reset",
        (3, 10, b""),
        reasons=(Reason(None, AFTER_BASE, "NLRI: path id without a prefix"),),
        family=IPV4_UNICAST,
    )


def test_attribute_overrunning_total_length_is_treat_as_withdraw():
    # the last attribute claims 9 bytes, 2 are there: RFC 7606 4
    b = body(BASE + bytes([0x80, 4, 9, 0, 0]), NLRI)
    assert ebgp(b) == withdraw(
        None,
        AFTER_BASE,
        "attribute 4 length 9 runs 7 bytes past the attributes; NLRI located by the total attribute length (RFC 7606 4)",
    )


def test_attribute_header_truncated_is_treat_as_withdraw():
    b = body(BASE + b"\x40\x01", NLRI)
    assert ebgp(b) == withdraw(
        None,
        AFTER_BASE,
        "attribute header runs past the attributes; NLRI located by the total attribute length (RFC 7606 4)",
    )


def test_duplicate_attribute_first_kept_rest_discarded():
    b = body(BASE + attr(0x40, 1, b"\x02"), NLRI)
    assert ebgp(b) == Verdict(
        "attribute-discard",
        duplicates=(1,),
        reasons=(Reason(1, AFTER_BASE, "attribute 1 repeated: first kept (RFC 7606 3.g)"),),
    )


def test_duplicate_unknown_optional_also_discarded():
    b = body(BASE + attr(0xC0, 200, b"a") + attr(0xC0, 200, b"b"), NLRI)
    v = ebgp(b)
    assert (v.action, v.duplicates, v.discarded) == ("attribute-discard", (200,), ())


@pytest.mark.parametrize("code", [14, 15])
def test_duplicate_mp_attribute_resets_3_1(code):
    value = b"\x00\x02\x01" if code == 15 else b"\x00\x02\x01\x10" + bytes(16) + b"\x00"
    mp = attr(0x80, code, value)
    b = body(mp + mp)
    name = "mp-reach-nlri" if code == 14 else "mp-unreach-nlri"
    assert ebgp(b) == Verdict(
        "session-reset",
        (3, 1, b""),
        reasons=(Reason(code, ATTRS_AT + len(mp), f"{name} appears more than once (RFC 7606 3.g)"),),
        family=IPV6_UNICAST,
    )


@pytest.mark.parametrize(
    ("attrs", "missing"), [(AS_PATH + NEXT_HOP, 1), (ORIGIN + NEXT_HOP, 2), (ORIGIN + AS_PATH, 3)]
)
def test_missing_well_known_with_nlri_is_treat_as_withdraw(attrs, missing):
    name = validate.TABLE[missing].name
    assert ebgp(body(attrs, NLRI)) == withdraw(
        missing, ATTRS_AT, f"missing well-known attribute {name} (RFC 7606 3.d)"
    )


def test_missing_attributes_without_nlri_ok():
    assert ebgp(body(ORIGIN)) == Verdict()


def test_mp_reach_needs_origin_and_as_path_but_not_next_hop():
    mp = attr(0x80, 14, b"\x00\x02\x01\x10" + bytes(15) + b"\x01\x00" + bytes([32, 0x20, 1, 0xD, 0xB8]))
    assert ebgp(body(mp + ORIGIN + AS_PATH)) == Verdict()
    assert ebgp(body(mp + ORIGIN)) == withdraw(
        2, ATTRS_AT, "missing well-known attribute as-path (RFC 7606 3.d)"
    )


def test_unrecognized_well_known_resets_3_2_with_attribute():
    unknown = attr(0x40, 99, b"\x01\x02")
    assert ebgp(body(BASE + unknown, NLRI)) == Verdict(
        "session-reset",
        (3, 2, unknown),
        reasons=(Reason(99, AFTER_BASE, "unrecognized well-known attribute 99 (RFC 4271 6.3)"),),
    )


def test_unknown_optional_non_transitive_ok():
    assert ebgp(body(BASE + attr(0x80, 99, b"\x01"), NLRI)) == Verdict()


def test_strongest_action_wins():
    # a discard (ATOMIC_AGGREGATE with a value) and a withdraw (bad MED): withdraw, both reasons
    b = body(BASE + attr(0x40, 6, b"\x01") + attr(0x80, 4, b"\x01"), NLRI)
    assert ebgp(b) == Verdict(
        "treat-as-withdraw",
        discarded=(6,),
        reasons=(
            Reason(6, AFTER_BASE, "length 1, must be 0 (RFC 7606 7.6)"),
            Reason(4, AFTER_BASE + 4, "length 1, must be 4 (RFC 7606 7.4)"),
        ),
    )


# -- section 3.c: attribute flags ----------------------------------------------------------------


def test_well_known_with_optional_bit_is_flags_error_by_rule():
    b = body(attr(0xC0, 1, b"\x00") + AS_PATH + NEXT_HOP, NLRI)
    assert ebgp(b) == withdraw(
        1, ATTRS_AT, "origin flags 0xC0: optional/transitive bits must be 0x40 (RFC 7606 3.c)"
    )


def test_optional_attribute_without_optional_bit_flags_error():
    b = body(BASE + attr(0x40, 4, struct.pack("!I", 1)), NLRI)
    assert ebgp(b) == withdraw(
        4, AFTER_BASE, "med flags 0x40: optional/transitive bits must be 0x80 (RFC 7606 3.c)"
    )


def test_flags_error_on_discard_attribute_discards():
    b = body(BASE + attr(0x80, 7, bytes(8)), NLRI)
    assert ebgp(b) == discard(
        7, AFTER_BASE, "aggregator flags 0x80: optional/transitive bits must be 0xC0 (RFC 7606 3.c)"
    )


def test_flags_error_on_mp_reach_resets_3_4():
    mp = attr(0xC0, 15, b"\x00\x02\x01")
    assert ebgp(body(mp)) == Verdict(
        "session-reset",
        (3, 4, mp),
        reasons=(
            Reason(
                15,
                ATTRS_AT,
                "mp-unreach-nlri flags 0xC0: optional/transitive bits must be 0x80 (RFC 7606 3.c)",
            ),
        ),
        family=IPV6_UNICAST,
    )


def test_partial_and_extended_length_bits_are_not_flag_errors():
    b = body(attr(0x70, 1, b"\x00") + AS_PATH + NEXT_HOP, NLRI)
    assert ebgp(b) == Verdict()


# -- section 7: per attribute ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (b"", "ORIGIN length 0, must be 1"),
        (b"\x00\x00", "ORIGIN length 2, must be 1"),
        (b"\x03", "ORIGIN value 3 is not igp, egp or incomplete"),
    ],
)
def test_origin_malformed_treat_as_withdraw(value, text):
    b = body(attr(0x40, 1, value) + AS_PATH + NEXT_HOP, NLRI)
    assert ebgp(b) == withdraw(1, ATTRS_AT, f"{text} (RFC 7606 7.1)")


AS_AT = ATTRS_AT + len(ORIGIN)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (b"\x02\x02" + struct.pack("!I", 1), "AS_PATH: segment of 2 ASes runs past the attribute"),
        (
            b"\x02\x01" + struct.pack("!I", 1) + b"\x02",
            "AS_PATH: one byte left where a segment header needs two",
        ),
        (b"\x02\x00", "AS_PATH: segment of length zero"),
        (b"\x05\x01" + struct.pack("!I", 1), "AS_PATH: unknown segment type 5"),
        (b"\x02\x01" + struct.pack("!I", 0), "AS_PATH: AS 0 in the path (RFC 7607)"),
    ],
)
def test_as_path_malformed_treat_as_withdraw(value, text):
    b = body(ORIGIN + attr(0x40, 2, value) + NEXT_HOP, NLRI)
    assert ebgp(b) == withdraw(2, AS_AT, f"{text} (RFC 7606 7.2, RFC 7607)")


def test_as_path_two_byte_context():
    value = b"\x02\x02" + struct.pack("!HH", 65001, 65002)
    b = body(ORIGIN + attr(0x40, 2, value) + NEXT_HOP, NLRI)
    assert ebgp(b, ASN2) == Verdict()
    # the same bytes read with 4-byte ASNs overrun
    assert ebgp(b).action == "treat-as-withdraw"


def test_as_path_confed_segment_from_ebgp_withdraw_ibgp_and_confed_ok():
    value = b"\x03\x01" + struct.pack("!I", 65010) + b"\x02\x01" + struct.pack("!I", 65001)
    b = body(ORIGIN + attr(0x40, 2, value) + NEXT_HOP, NLRI)
    assert ebgp(b) == withdraw(
        2,
        AS_AT,
        "AS_PATH: confederation segment from a peer outside the confederation (RFC 7606 7.2, RFC 7607)",
    )
    assert ibgp(b) == Verdict()
    assert check_update(b, DEFAULT, ibgp=False, confed=True) == Verdict()


def test_empty_as_path_from_ibgp_ok():
    assert ibgp(body(ORIGIN + attr(0x40, 2, b"") + NEXT_HOP, NLRI)) == Verdict()


NH_AT = AS_AT + len(AS_PATH)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (b"\x0a\x00\x00", "NEXT_HOP length 3, must be 4"),
        (b"\x00\x00\x00\x00", "NEXT_HOP 0.0.0.0 is not a host address (RFC 4271 6.3)"),
        (bytes([224, 0, 0, 5]), "NEXT_HOP 224.0.0.5 is not a host address (RFC 4271 6.3)"),
        (bytes([255] * 4), "NEXT_HOP 255.255.255.255 is not a host address (RFC 4271 6.3)"),
    ],
)
def test_next_hop_malformed_treat_as_withdraw(value, text):
    b = body(ORIGIN + AS_PATH + attr(0x40, 3, value), NLRI)
    assert ebgp(b) == withdraw(3, NH_AT, f"{text} (RFC 7606 7.3)")


def test_med_wrong_length_treat_as_withdraw():
    assert ebgp(body(BASE + attr(0x80, 4, b"\x00\x00\x00"), NLRI)) == withdraw(
        4, AFTER_BASE, "length 3, must be 4 (RFC 7606 7.4)"
    )


def test_local_pref_from_ebgp_discarded_even_if_valid():
    b = body(BASE + attr(0x40, 5, struct.pack("!I", 100)), NLRI)
    assert ebgp(b) == discard(
        5, AFTER_BASE, "local-preference received from an eBGP peer: discarded (RFC 7606 7.5)"
    )
    assert ibgp(b) == Verdict()


def test_local_pref_malformed_from_ibgp_treat_as_withdraw():
    assert ibgp(body(BASE + attr(0x40, 5, b"\x00"), NLRI)) == withdraw(
        5, AFTER_BASE, "length 1, must be 4 (RFC 7606 7.5)"
    )


def test_atomic_aggregate_with_value_discarded():
    assert ebgp(body(BASE + attr(0x40, 6, b"\x00"), NLRI)) == discard(
        6, AFTER_BASE, "length 1, must be 0 (RFC 7606 7.6)"
    )


def test_aggregator_length_by_context_discarded():
    six = attr(0xC0, 7, struct.pack("!HI", 65001, 1))
    eight = attr(0xC0, 7, struct.pack("!II", 65001, 1))
    assert ebgp(body(BASE2 + six, NLRI), ASN2) == Verdict()
    assert ebgp(body(BASE + eight, NLRI)) == Verdict()
    assert ebgp(body(BASE + six, NLRI)) == discard(
        7, AFTER_BASE, "length 6, must be 8 with 4-byte ASNs (RFC 7606 7.7)"
    )
    assert ebgp(body(BASE2 + eight, NLRI), ASN2) == discard(
        7, AFTER_BASE2, "length 8, must be 6 with 2-byte ASNs (RFC 7606 7.7)"
    )


@pytest.mark.parametrize(
    ("code", "unit", "rfc", "flags"),
    [
        (8, 4, "RFC 7606 7.8", 0xC0),
        (16, 8, "RFC 7606 7.14", 0xC0),
        (25, 20, "RFC 7606 7.15", 0xC0),
        (32, 12, "RFC 8092 6", 0xC0),
    ],
)
@pytest.mark.parametrize("size", ["zero", "odd"])
def test_list_attributes_bad_length_treat_as_withdraw(code, unit, rfc, flags, size):
    n = 0 if size == "zero" else unit + 1
    b = body(BASE + attr(flags, code, bytes(n)), NLRI)
    assert ebgp(b) == withdraw(code, AFTER_BASE, f"length {n} is not a non-zero multiple of {unit} ({rfc})")
    assert ebgp(body(BASE + attr(flags, code, bytes(unit * 2)), NLRI)) == Verdict()


def test_originator_id_and_cluster_list_ibgp_malformed_withdraw():
    assert ibgp(body(BASE + attr(0x80, 9, b"\x01\x02"), NLRI)) == withdraw(
        9, AFTER_BASE, "length 2, must be 4 (RFC 7606 7.9)"
    )
    assert ibgp(body(BASE + attr(0x80, 10, b"\x01\x02\x03\x04\x05"), NLRI)) == withdraw(
        10, AFTER_BASE, "length 5 is not a non-zero multiple of 4 (RFC 7606 7.10)"
    )


def test_originator_id_and_cluster_list_from_ebgp_discarded():
    assert ebgp(body(BASE + attr(0x80, 9, b"\x01\x02"), NLRI)) == discard(
        9, AFTER_BASE, "originator-id received from an eBGP peer: discarded (RFC 7606 7.9)"
    )
    assert ebgp(body(BASE + attr(0x80, 10, bytes(4)), NLRI)) == discard(
        10, AFTER_BASE, "cluster-list received from an eBGP peer: discarded (RFC 7606 7.10)"
    )


def mp_reach(afi: int, safi: int, nh: bytes, nlri: bytes) -> bytes:
    return attr(0x80, 14, struct.pack("!HBB", afi, safi, len(nh)) + nh + b"\x00" + nlri)


@pytest.mark.parametrize(
    ("value", "text", "family"),
    [
        (b"\x00\x02\x01\x10", "MP_REACH_NLRI length 4, needs at least 5", IPV6_UNICAST),
        (
            b"\x00\x02\x01\x20" + bytes(8),
            "MP_REACH_NLRI next hop length 32 runs past the attribute",
            IPV6_UNICAST,
        ),
        (
            b"\x00\x02\x01\x04" + bytes(4) + b"\x00",
            "MP_REACH_NLRI next hop length 4 for ipv6/unicast, expected [16, 32]",
            IPV6_UNICAST,
        ),
        (
            b"\x00\x02\x01\x10" + bytes(16) + b"\x00" + bytes([129]) + bytes(17),
            "ipv6/unicast NLRI at value byte 21: prefix length 129 exceeds 128",
            IPV6_UNICAST,
        ),
        (
            b"\x00\x01\x01\x04" + bytes(4) + b"\x00" + bytes([24, 10]),
            "ipv4/unicast NLRI at value byte 9: prefix /24 runs past the end",
            IPV4_UNICAST,
        ),
    ],
)
def test_mp_reach_malformed_resets_3_9_with_family(value, text, family):
    mp = attr(0x80, 14, value)
    assert ebgp(body(mp + ORIGIN + AS_PATH)) == Verdict(
        "session-reset",
        (3, 9, mp),
        reasons=(Reason(14, ATTRS_AT, f"{text} (RFC 7606 7.11, RFC 4760 7)"),),
        family=family,
    )


def test_mp_reach_ipv4_with_ipv6_next_hop_needs_rfc8950():
    mp = mp_reach(1, 1, bytes(16), NLRI)
    assert ebgp(body(mp + ORIGIN + AS_PATH)).action == "session-reset"
    ctx = EncodingContext(extended_nexthop=frozenset({(IPV4_UNICAST, 2)}))
    assert ebgp(body(mp + ORIGIN + AS_PATH), ctx) == Verdict()


def test_mp_reach_unknown_family_not_checked():
    mp = mp_reach(25, 70, bytes(4), b"\xff\xff")
    assert ebgp(body(mp + ORIGIN + AS_PATH)) == Verdict()


def test_mp_unreach_malformed_resets_3_9():
    mp = attr(0x80, 15, b"\x00\x01")
    assert ebgp(body(mp)) == Verdict(
        "session-reset",
        (3, 9, mp),
        reasons=(
            Reason(15, ATTRS_AT, "MP_UNREACH_NLRI length 2, needs at least 3 (RFC 7606 7.12, RFC 4760 7)"),
        ),
    )
    mp = attr(0x80, 15, b"\x00\x02\x01" + bytes([64]) + bytes(4))
    v = ebgp(body(mp))
    assert (v.action, v.notification, v.family) == ("session-reset", (3, 9, mp), IPV6_UNICAST)
    assert (
        v.reasons[0].text
        == "ipv6/unicast NLRI at value byte 3: prefix /64 runs past the end (RFC 7606 7.12, RFC 4760 7)"
    )


def test_as4_path_and_as4_aggregator_from_asn4_speaker_discarded():
    a4 = attr(0xC0, 17, b"\x02\x01" + struct.pack("!I", 65001))
    assert ebgp(body(BASE + a4, NLRI)) == discard(
        17, AFTER_BASE, "as4-path received from a 4-byte-AS speaker: discarded (RFC 6793 6)"
    )
    assert ebgp(body(BASE2 + a4, NLRI), ASN2) == Verdict()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (b"", "AS4_PATH is empty"),
        (b"\x02\x02" + struct.pack("!I", 1), "AS4_PATH: segment of 2 ASes runs past the attribute"),
        (
            b"\x03\x01" + struct.pack("!I", 1),
            "AS4_PATH: confederation segment from a peer outside the confederation",
        ),
    ],
)
def test_as4_path_malformed_discarded(value, text):
    assert ebgp(body(BASE2 + attr(0xC0, 17, value), NLRI), ASN2) == discard(
        17, AFTER_BASE2, f"{text} (RFC 6793 6)"
    )


def test_as4_aggregator_malformed_discarded():
    assert ebgp(body(BASE2 + attr(0xC0, 18, bytes(6)), NLRI), ASN2) == discard(
        18, AFTER_BASE2, "length 6, must be 8 (RFC 6793 6)"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (bytes([1, 0, 10]) + bytes(7), "AIGP TLV of length 10, must be 11"),
        (bytes([1, 0, 2]), "AIGP TLV 1 length 2 is shorter than its header"),
        (bytes([1, 0, 11]) + bytes(4), "AIGP TLV 1 length 11 runs past the attribute"),
        (bytes([1, 0]), "AIGP TLV header at byte 0 runs past the attribute"),
    ],
)
def test_aigp_malformed_discarded(value, text):
    assert ibgp(body(BASE + attr(0x80, 26, value), NLRI)) == discard(26, AFTER_BASE, f"{text} (RFC 7311 5)")


def test_otc_wrong_length_treat_as_withdraw():
    assert ebgp(body(BASE + attr(0xC0, 35, b"\x00\x01"), NLRI)) == withdraw(
        35, AFTER_BASE, "length 2, must be 4 (RFC 9234 5)"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (bytes([1, 0, 6]) + bytes(6), "Prefix-SID Label-Index TLV length 6, must be 7"),
        (
            bytes([3, 0, 7]) + bytes(7),
            "Prefix-SID Originator SRGB TLV length 7, must be 2 + a non-zero multiple of 6",
        ),
        (bytes([1, 0, 7]) + bytes(3), "Prefix-SID TLV 1 length 7 runs past the attribute"),
    ],
)
def test_prefix_sid_malformed_treat_as_withdraw(value, text):
    assert ebgp(body(BASE + attr(0xC0, 40, value), NLRI)) == withdraw(40, AFTER_BASE, f"{text} (RFC 8669 6)")


def test_prefix_sid_valid_srgb_ok():
    assert ebgp(body(BASE + attr(0xC0, 40, bytes([3, 0, 8]) + bytes(8)), NLRI)) == Verdict()


def test_extended_length_attribute_offsets():
    big = attr(0xD0, 8, bytes(3))  # extended length, bad community length
    assert ebgp(body(BASE + big, NLRI)) == withdraw(
        8, AFTER_BASE, "length 3 is not a non-zero multiple of 4 (RFC 7606 7.8)"
    )


# -- codecs ----------------------------------------------------------------------------------------


class _Spec:
    def __init__(self, cls, name="fake"):
        self.cls = cls
        self.name = name


class _Codecs:
    def __init__(self, attrs, families=None):
        self.attrs = attrs
        self.families = families or {}


def test_registered_codec_error_is_the_attribute_verdict():
    from ze.core.errors import WireError

    class Picky:
        FLAGS = 0xC0

        @classmethod
        def from_wire(cls, flags, view, ctx, base=0):
            raise WireError("community 0:0 refused", base, 3, 9)

    codecs = _Codecs({8: _Spec(Picky, "community")})
    b = body(BASE + attr(0xC0, 8, bytes(4)), NLRI)
    assert check_update(b, DEFAULT, codecs, ibgp=False) == withdraw(
        8, AFTER_BASE, "community 0:0 refused (RFC 7606 7.8)"
    )


def test_feature_codec_without_rule_defaults_to_treat_as_withdraw():
    from ze.core.errors import WireError

    class Feature:
        FLAGS = 0xC0

        @classmethod
        def from_wire(cls, flags, view, ctx, base=0):
            if len(view) != 2:
                raise WireError("bad length", base)
            return cls()

    codecs = _Codecs({201: _Spec(Feature, "feature")})
    assert check_update(body(BASE + attr(0xC0, 201, b"ab"), NLRI), DEFAULT, codecs, ibgp=False) == Verdict()
    assert check_update(body(BASE + attr(0xC0, 201, b"a"), NLRI), DEFAULT, codecs, ibgp=False) == withdraw(
        201, AFTER_BASE, "bad length (RFC 7606 2)"
    )
    assert check_update(body(BASE + attr(0x80, 201, b"ab"), NLRI), DEFAULT, codecs, ibgp=False) == withdraw(
        201, AFTER_BASE, "feature flags 0x80: optional/transitive bits must be 0xC0 (RFC 7606 3.c)"
    )


def test_codec_bug_becomes_malformed_not_exception():
    class Broken:
        FLAGS = 0xC0

        @classmethod
        def from_wire(cls, flags, view, ctx, base=0):
            raise IndexError("oops")

    codecs = _Codecs({8: _Spec(Broken, "community")})
    v = check_update(body(BASE + attr(0xC0, 8, bytes(4)), NLRI), DEFAULT, codecs, ibgp=False)
    assert v == withdraw(8, AFTER_BASE, "codec community failed: IndexError: oops (RFC 7606 7.8)")


def test_check_update_never_raises_on_internal_error():
    class Exploding:
        @property
        def attrs(self):
            raise RuntimeError("boom")

    v = check_update(body(BASE, NLRI), DEFAULT, Exploding(), ibgp=False)
    assert v == Verdict(
        "session-reset",
        (3, 0, b""),
        reasons=(Reason(None, 19, "internal error while validating: RuntimeError: boom"),),
    )


def test_core_codec_origin_runs():
    # the core table registers ORIGIN: its from_wire agrees with the rule
    assert ebgp(body(BASE, NLRI)) == Verdict()


# -- verdict views ---------------------------------------------------------------------------------


def test_verdict_json_and_notification():
    unknown = attr(0x40, 99, b"\x01")
    v = ebgp(body(BASE + unknown, NLRI))
    assert v.to_json() == {
        "action": "session-reset",
        "notification": {"code": 3, "subcode": 2, "data": "40630101"},
        "reasons": [
            {"code": 99, "offset": AFTER_BASE, "text": "unrecognized well-known attribute 99 (RFC 4271 6.3)"}
        ],
    }
    assert v.to_notification() == Notification(3, 2, unknown)
    assert Verdict().to_notification() is None
    d = ebgp(body(BASE + attr(0x40, 5, bytes(4)) + attr(0x40, 1, b"\x00"), NLRI)).to_json()
    assert d == {
        "action": "attribute-discard",
        "discarded": [5],
        "duplicates": [1],
        "reasons": [
            {
                "code": 5,
                "offset": AFTER_BASE,
                "text": "local-preference received from an eBGP peer: discarded (RFC 7606 7.5)",
            },
            {"code": 1, "offset": AFTER_BASE + 7, "text": "attribute 1 repeated: first kept (RFC 7606 3.g)"},
        ],
    }
    mp = attr(0x80, 15, b"\x00\x02\x01\x80")
    assert ebgp(body(mp)).to_json()["family"] == "ipv6/unicast"


def test_table_covers_the_rfc_attributes():
    assert sorted(validate.RULES) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 25, 26, 32, 35, 40]
    assert {c: r.action for c, r in validate.RULES.items()} == {
        1: "treat-as-withdraw",
        2: "treat-as-withdraw",
        3: "treat-as-withdraw",
        4: "treat-as-withdraw",
        5: "treat-as-withdraw",
        6: "attribute-discard",
        7: "attribute-discard",
        8: "treat-as-withdraw",
        9: "treat-as-withdraw",
        10: "treat-as-withdraw",
        14: "session-reset",
        15: "session-reset",
        16: "treat-as-withdraw",
        17: "attribute-discard",
        18: "attribute-discard",
        25: "treat-as-withdraw",
        26: "attribute-discard",
        32: "treat-as-withdraw",
        35: "treat-as-withdraw",
        40: "treat-as-withdraw",
    }


def test_memoryview_input_and_base():
    b = body(BASE + attr(0x80, 4, b"\x00"), NLRI)
    msg = bytes(19) + b
    v = check_update(memoryview(msg)[19:], DEFAULT, ibgp=False, base=19)
    assert v == withdraw(4, AFTER_BASE, "length 1, must be 4 (RFC 7606 7.4)")
    v0 = check_update(b, DEFAULT, ibgp=False, base=0)
    assert v0.reasons[0].offset == AFTER_BASE - 19


def test_leftmost_as_checked_only_when_peer_as_given():
    b = body(BASE, NLRI)  # AS_PATH [65001]
    assert check_update(b, DEFAULT, ibgp=False, peer_as=65001) == Verdict()
    assert check_update(b, DEFAULT, ibgp=False, peer_as=65002) == withdraw(
        2,
        AS_AT,
        "AS_PATH leftmost AS 65001 is not the peer's AS 65002 (RFC 4271 6.3) (RFC 7606 7.2, RFC 7607)",
    )
    assert check_update(b, DEFAULT, ibgp=True, peer_as=65002) == Verdict()
    as_set = body(ORIGIN + attr(0x40, 2, b"\x01\x01" + struct.pack("!I", 65001)) + NEXT_HOP, NLRI)
    assert check_update(as_set, DEFAULT, ibgp=False, peer_as=65001) == withdraw(
        2,
        AS_AT,
        "AS_PATH does not start with a sequence holding the peer's AS 65001 (RFC 4271 6.3) (RFC 7606 7.2, RFC 7607)",
    )
    empty = body(ORIGIN + attr(0x40, 2, b"") + NEXT_HOP, NLRI)
    assert check_update(empty, DEFAULT, ibgp=False, peer_as=65001).action == "treat-as-withdraw"
    assert check_update(empty, DEFAULT, ibgp=False).action == "ok"
