"""RFC 6793 4.2.3: rebuilding the 4-byte path and aggregator from an ASN2 speaker's UPDATE.

Pure functions over decoded attributes. They apply to UPDATEs received from an ASN2 (OLD)
speaker; from an ASN4 speaker AS4_PATH and AS4_AGGREGATOR are meaningless and the caller
drops them instead (RFC 6793 4.1). Counting AS numbers: an AS_SET counts 1, confederation
segments 0; confederation segments in AS4_PATH are ignored (RFC 6793 6).
"""

from __future__ import annotations

from ze.bgp.wire.attr.aggregator import Aggregator
from ze.bgp.wire.attr.as4_aggregator import As4Aggregator
from ze.bgp.wire.attr.as4_path import As4Path
from ze.bgp.wire.attr.aspath import AS_SEQUENCE, AS_SET, CONFED, MAX_SEGMENT, AsPath, Segment
from ze.bgp.wire.attr.common import AS_TRANS


def _count(segments: list[Segment]) -> int:
    return sum(len(a) if t == AS_SEQUENCE else 1 if t == AS_SET else 0 for t, a in segments)


def merge_as_path(as_path: AsPath | None, as4_path: As4Path | None) -> AsPath | None:
    """The effective AS path (4-byte AS_PATH) from AS_PATH and AS4_PATH (RFC 6793 4.2.3)."""
    if as_path is None:
        return None
    segs = list(as_path.segments())
    if as4_path is None:
        return AsPath.from_value(segs)
    as4 = [(t, a) for t, a in as4_path.segments() if t not in CONFED]
    need = _count(segs) - _count(as4)
    if need < 0:  # AS4_PATH longer than AS_PATH: ignore it
        return AsPath.from_value(segs)
    # Keep as many leading AS_PATH entries as make the lengths equal; confederation segments
    # leading or next to kept ones come along (they count 0).
    lead: list[Segment] = []
    for stype, asns in segs:
        if stype in CONFED:
            lead.append((stype, asns))
            continue
        if need == 0:
            break
        if stype == AS_SET:
            lead.append((stype, asns))
            need -= 1
        else:
            take = asns[:need]
            lead.append((stype, take))
            need -= len(take)
    merged: list[Segment] = []
    for stype, asns in lead + as4:
        if (
            merged
            and stype == AS_SEQUENCE
            and merged[-1][0] == AS_SEQUENCE
            and len(merged[-1][1]) + len(asns) <= MAX_SEGMENT
        ):
            merged[-1] = (AS_SEQUENCE, merged[-1][1] + asns)
        else:
            merged.append((stype, asns))
    return AsPath.from_value(merged)


def merge_aggregator(
    aggregator: Aggregator | None, as4_aggregator: As4Aggregator | None
) -> Aggregator | None:
    """The effective aggregator (4-byte): AS4_AGGREGATOR counts only when AGGREGATOR carries AS_TRANS."""
    if aggregator is None:
        return None
    if as4_aggregator is not None and aggregator.asn == AS_TRANS:
        return Aggregator.from_value(as4_aggregator.asn, as4_aggregator.address)
    return Aggregator.from_value(aggregator.asn, aggregator.address)


def merge(
    as_path: AsPath | None,
    as4_path: As4Path | None,
    aggregator: Aggregator | None,
    as4_aggregator: As4Aggregator | None,
) -> tuple[AsPath | None, Aggregator | None]:
    """Both at once. When AGGREGATOR and AS4_AGGREGATOR are both received and AGGREGATOR's AS is
    not AS_TRANS, an OLD speaker aggregated the route: AS4_AGGREGATOR and AS4_PATH are both
    ignored (RFC 6793 4.2.3). Otherwise each pair merges as above."""
    if aggregator is not None and as4_aggregator is not None and aggregator.asn != AS_TRANS:
        return merge_as_path(as_path, None), merge_aggregator(aggregator, None)
    return merge_as_path(as_path, as4_path), merge_aggregator(aggregator, as4_aggregator)
