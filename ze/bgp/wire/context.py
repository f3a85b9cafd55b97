"""EncodingContext: what one direction of one session negotiated, and its ContextID.

A session has two contexts: the one its received bytes are encoded in and the one it sends
in (ADD-PATH is negotiated per family and per direction: RFC 7911 section 4). Bytes received
under context A can be sent unchanged to a peer whose send context equals A; the ContextID
makes that check one integer compare on the hot path. Equal contexts get equal ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ze.core.family import IPV4_UNICAST, Family

_IDS: dict[EncodingContext, int] = {}


@dataclass(frozen=True, slots=True)
class EncodingContext:
    asn4: bool = True
    addpath: frozenset[Family] = frozenset()
    extended_message: bool = False
    # (NLRI family, next-hop AFI) pairs allowed by RFC 8950, e.g. (ipv4/unicast, 2).
    extended_nexthop: frozenset[tuple[Family, int]] = frozenset()
    id: int = field(default=0, init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        cid = _IDS.get(self)
        if cid is None:
            cid = _IDS[self] = len(_IDS) + 1
        object.__setattr__(self, "id", cid)

    def has_addpath(self, family: Family) -> bool:
        return family in self.addpath

    @property
    def max_message(self) -> int:
        return 65535 if self.extended_message else 4096

    @property
    def ipv4_addpath(self) -> bool:
        return IPV4_UNICAST in self.addpath

    def with_(self, **changes) -> EncodingContext:
        values = {
            "asn4": self.asn4,
            "addpath": self.addpath,
            "extended_message": self.extended_message,
            "extended_nexthop": self.extended_nexthop,
        }
        values.update(changes)
        return EncodingContext(**values)

    def describe(self) -> dict:
        return {
            "asn4": self.asn4,
            "add-path": sorted(f.name for f in self.addpath),
            "extended-message": self.extended_message,
            "extended-next-hop": sorted(f"{f.name}:{nh}" for f, nh in self.extended_nexthop),
        }


ContextID = int

DEFAULT = EncodingContext()
"""ASN4 on, nothing else: what two modern speakers with no extra capabilities agree on."""

ASN2 = EncodingContext(asn4=False)
