"""CLUSTER_LIST (type 10, optional non-transitive; RFC 4456 8): the cluster ids a reflected
route passed through. RFC 7606 7.10: the length must be a non-zero multiple of 4."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ze.bgp.wire.attr.base import OPTIONAL, Attribute, AttrSpec
from ze.bgp.wire.attr.common import ATTRIBUTE_LENGTH_ERROR, fail, ip4, ip4_packed
from ze.bgp.wire.context import EncodingContext


class ClusterList(Attribute):
    CODE = 10
    NAME = "cluster-list"
    FLAGS = OPTIONAL
    __slots__ = ()

    @classmethod
    def from_wire(cls, flags: int, view: memoryview, ctx: EncodingContext, base: int = 0) -> ClusterList:
        if not view or len(view) % 4:
            raise fail(
                cls.CODE,
                flags,
                view,
                ATTRIBUTE_LENGTH_ERROR,
                f"CLUSTER_LIST length {len(view)} is not a non-zero multiple of 4",
                base,
            )
        return cls(view, flags)

    @classmethod
    def from_value(cls, cluster_ids: Iterable[str]) -> ClusterList:
        return cls(b"".join(ip4_packed(c) for c in cluster_ids))

    def cluster_ids(self) -> Iterator[str]:
        raw = self.raw
        for pos in range(0, len(raw), 4):
            yield ip4(raw, pos)

    def __contains__(self, cluster_id: str) -> bool:
        return cluster_id in self.cluster_ids()

    def to_json(self) -> list[str]:
        return list(self.cluster_ids())

    @classmethod
    def from_json(cls, value: Any) -> ClusterList:
        if not isinstance(value, list):
            raise ValueError(f"cluster-list: expected a list, got {value!r}")
        return cls.from_value(value)


def parse_text(words: list[str]) -> ClusterList:
    if not words:
        raise ValueError("cluster-list: no value")
    return ClusterList.from_value(words)


SPEC = AttrSpec(ClusterList.CODE, ClusterList.NAME, ClusterList, text="cluster-list", parse_text=parse_text)
