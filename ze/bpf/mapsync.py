"""Prefix -> (peer index, next hop) into the pinned LPM tries, in batches.

A change is `(prefix, peer_index, next_hop)`: prefix a ze Prefix (afi, length, value as an int),
peer_index 0 to withdraw, next_hop an int address (IPv4 when it fits 32 bits and the prefix is
IPv4) or None. The encoders follow struct ze_lpm4/ze_lpm6/ze_route in prog/counter.bpf.c.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from ze.bgp.wire.nlri.prefix import Prefix
from ze.bpf.syscall import Map
from ze.core.family import AFI

Change = tuple[Prefix, int, int | None]

_KEY4 = struct.Struct("=I4s")
_KEY6 = struct.Struct("=I16s")
_ROUTE = struct.Struct("=IHBx16s")  # peer, prefixlen, next-hop family, pad, next hop
_BATCH = 4096  # elements per update-batch syscall


def key(prefix: Prefix) -> bytes:
    if prefix.afi == AFI.IPV4:
        return _KEY4.pack(prefix.length, prefix.value.to_bytes(4, "big"))
    return _KEY6.pack(prefix.length, prefix.value.to_bytes(16, "big"))


def route(prefix: Prefix, peer: int, next_hop: int | None) -> bytes:
    if next_hop is None:
        return _ROUTE.pack(peer, prefix.length, 0, b"")
    if prefix.afi == AFI.IPV4 and next_hop < 1 << 32:
        return _ROUTE.pack(peer, prefix.length, 4, next_hop.to_bytes(4, "big"))
    return _ROUTE.pack(peer, prefix.length, 6, next_hop.to_bytes(16, "big"))


def decode_key(afi: int, raw: bytes) -> Prefix:
    length = struct.unpack_from("=I", raw)[0]
    return Prefix(afi, length, int.from_bytes(raw[4:], "big"))


def decode_route(raw: bytes) -> tuple[int, int, int | None]:
    """(peer, prefix length, next hop or None)."""
    peer, length, fam, nh = _ROUTE.unpack(raw[: _ROUTE.size])
    if fam == 4:
        return peer, length, int.from_bytes(nh[:4], "big")
    if fam == 6:
        return peer, length, int.from_bytes(nh, "big")
    return peer, length, None


@dataclass
class SyncStats:
    updated: int = 0
    withdrawn: int = 0
    syscalls: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"updated": self.updated, "withdrawn": self.withdrawn, "syscalls": self.syscalls}


class RouteMaps:
    """The two pinned tries (ze_v4, ze_v6) and the batched writes into them."""

    def __init__(self, v4: Map, v6: Map) -> None:
        self.tries = {AFI.IPV4: v4, AFI.IPV6: v6}

    def apply(self, changes: Iterable[Change]) -> SyncStats:
        """Write a batch of changes: upserts through BPF_MAP_UPDATE_BATCH, withdrawals through
        BPF_MAP_DELETE_BATCH. Streams in chunks (memory stays O(chunk) for a 1M-route resync);
        within a chunk the last change to a prefix wins, and chunks land in order, so the end
        state is that of applying the changes one by one."""
        st = SyncStats()
        chunk: dict[int, dict[bytes, bytes | None]] = {AFI.IPV4: {}, AFI.IPV6: {}}
        n = 0
        for prefix, peer, nh in changes:
            chunk[prefix.afi][key(prefix)] = route(prefix, peer, nh) if peer else None
            n += 1
            if n == _BATCH:
                self._flush(chunk, st)
                n = 0
        self._flush(chunk, st)
        return st

    def _flush(self, chunk: dict[int, dict[bytes, bytes | None]], st: SyncStats) -> None:
        for afi, entries in chunk.items():
            if not entries:
                continue
            trie = self.tries[afi]
            ups = [(k, v) for k, v in entries.items() if v is not None]
            dels = [k for k, v in entries.items() if v is None]
            if ups:
                st.syscalls += trie.update_batch(
                    b"".join(k for k, _ in ups), b"".join(v for _, v in ups), len(ups)
                )
                st.updated += len(ups)
            if dels:
                st.syscalls += trie.delete_batch(b"".join(dels), len(dels))
                st.withdrawn += len(dels)
            entries.clear()

    def resync(self, routes: Iterable[Change], afis: Iterable[int] | None = None) -> SyncStats:
        """Make the tries hold exactly `routes` (start-up, or after a netlink resync): write them all,
        then delete every key not among them; `afis` limits that to some tries (a one-family resync
        leaves the other family alone)."""
        want: dict[int, set[bytes]] = {AFI.IPV4: set(), AFI.IPV6: set()}

        def upserts() -> Iterable[Change]:
            for change in routes:
                if change[1]:
                    want[change[0].afi].add(key(change[0]))
                    yield change

        st = self.apply(upserts())
        only = None if afis is None else set(afis)
        for afi, trie in self.tries.items():
            if only is not None and afi not in only:
                continue
            stale = [k for k in trie.keys() if k not in want[afi]]
            for i in range(0, len(stale), _BATCH):
                part = stale[i : i + _BATCH]
                st.syscalls += trie.delete_batch(b"".join(part), len(part))
            st.withdrawn += len(stale)
        return st

    def routes(self) -> list[tuple[Prefix, int, int | None]]:
        """Everything in the tries, as changes (for status and tests)."""
        out = []
        for afi, trie in self.tries.items():
            for k in trie.keys():
                raw = trie.lookup(k)
                if raw is not None:
                    peer, _, nh = decode_route(raw)
                    out.append((decode_key(afi, k), peer, nh))
        return out

    def count(self) -> dict[str, int]:
        return {"ipv4": len(self.tries[AFI.IPV4].keys()), "ipv6": len(self.tries[AFI.IPV6].keys())}
