"""RFC 6793 4.2.3: AS_PATH/AS4_PATH and AGGREGATOR/AS4_AGGREGATOR from an ASN2 speaker."""

from __future__ import annotations

from ze.bgp.wire.attr.aggregator import Aggregator
from ze.bgp.wire.attr.as4_aggregator import As4Aggregator
from ze.bgp.wire.attr.as4_path import As4Path
from ze.bgp.wire.attr.as4merge import merge, merge_aggregator, merge_as_path
from ze.bgp.wire.attr.aspath import AS_CONFED_SEQUENCE, AS_SEQUENCE, AS_SET, AsPath

T = 23456


def path(*segs, asn4=False):
    return AsPath.from_value(segs, asn4=asn4)


def test_no_as4_path_keeps_as_path():
    assert merge_as_path(path((AS_SEQUENCE, [1, 2])), None).to_json() == [1, 2]
    assert merge_as_path(None, As4Path.from_sequence([1])) is None


def test_equal_lengths_take_as4_path():
    as_path = path((AS_SEQUENCE, [T, T, 3]))
    as4 = As4Path.from_sequence([4200000001, 4200000002, 3])
    assert merge_as_path(as_path, as4).to_json() == [4200000001, 4200000002, 3]


def test_leading_as_path_entries_prepended():
    # Two OLD speakers prepended 65001 and 65002 after the AS4_PATH was built.
    as_path = path((AS_SEQUENCE, [65001, 65002, T, 3]))
    as4 = As4Path.from_sequence([4200000001, 3])
    merged = merge_as_path(as_path, as4)
    assert merged.to_json() == [65001, 65002, 4200000001, 3]
    assert merged.asn4 is True


def test_longer_as4_path_is_ignored():
    as_path = path((AS_SEQUENCE, [T, 3]))
    as4 = As4Path.from_sequence([4200000001, 4200000002, 3])
    assert merge_as_path(as_path, as4).to_json() == [T, 3]


def test_as_set_counts_one_and_is_kept_whole():
    as_path = path((AS_SET, [1, 2, 3]), (AS_SEQUENCE, [T]))
    as4 = As4Path.from_sequence([4200000001])
    assert merge_as_path(as_path, as4).to_json() == [
        {"type": "as-set", "asns": [1, 2, 3]},
        {"type": "as-sequence", "asns": [4200000001]},
    ]


def test_confed_segments_in_as4_path_ignored_and_leading_ones_in_as_path_kept():
    as_path = path((AS_CONFED_SEQUENCE, [64512]), (AS_SEQUENCE, [T, 5]))
    as4 = As4Path.from_value([(AS_CONFED_SEQUENCE, [64999]), (AS_SEQUENCE, [4200000001, 5])])
    assert merge_as_path(as_path, as4).to_json() == [
        {"type": "confed-sequence", "asns": [64512]},
        {"type": "as-sequence", "asns": [4200000001, 5]},
    ]


def test_aggregator_merge():
    as_trans = Aggregator.from_value(T, "192.0.2.1", asn4=False)
    as4 = As4Aggregator.from_value(4200000001, "192.0.2.9")
    assert merge_aggregator(as_trans, as4).to_json() == {"asn": 4200000001, "address": "192.0.2.9"}
    plain = Aggregator.from_value(65000, "192.0.2.1", asn4=False)
    assert merge_aggregator(plain, as4).to_json() == {"asn": 65000, "address": "192.0.2.1"}
    assert merge_aggregator(as_trans, None).to_json() == {"asn": T, "address": "192.0.2.1"}
    assert merge_aggregator(None, as4) is None


def test_non_as_trans_aggregator_voids_as4_path():
    as_path = path((AS_SEQUENCE, [T, 3]))
    as4 = As4Path.from_sequence([4200000001, 3])
    agg = Aggregator.from_value(65000, "192.0.2.1", asn4=False)
    p, a = merge(as_path, as4, agg, As4Aggregator.from_value(4200000009, "192.0.2.9"))
    assert (p.to_json(), a.to_json()) == ([T, 3], {"asn": 65000, "address": "192.0.2.1"})
    p, a = merge(as_path, as4, None, None)
    assert (p.to_json(), a) == ([4200000001, 3], None)
    # The rule is for the pair: an AGGREGATOR alone leaves AS4_PATH in use.
    p, a = merge(as_path, as4, agg, None)
    assert (p.to_json(), a.to_json()) == ([4200000001, 3], {"asn": 65000, "address": "192.0.2.1"})
