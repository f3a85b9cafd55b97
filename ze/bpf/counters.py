"""Reading, clearing and configuring the pinned counter maps (struct ze_count: packets, bytes per
CPU). Everything returns plain ints and dicts; nothing here imports bcc."""

from __future__ import annotations

import struct

from ze.bgp.wire.nlri.prefix import Prefix
from ze.bpf.syscall import EXIST, Map
from ze.core.family import AFI

_COUNT = struct.Struct("=QQ")
_TOP_KEY = struct.Struct("=II16s")
_U32 = struct.Struct("=I")
MISC = {"unmatched": 0, "other": 1}  # ZE_MISC_* in prog/counter.bpf.c
FLAG_PER_PREFIX = 1


def sum_percpu(m: Map, raw: bytes) -> tuple[int, int]:
    """(packets, bytes) summed over the CPU slots of one per-CPU ze_count value."""
    packets = octets = 0
    for cpu in range(m.ncpu):
        p, b = _COUNT.unpack_from(raw, cpu * m.slot)
        packets += p
        octets += b
    return packets, octets


class Counters:
    """ze_peer (per peer index), ze_misc (unmatched, other), ze_top (per prefix), ze_config."""

    def __init__(self, peer: Map, misc: Map, top: Map, config: Map) -> None:
        self.peer, self.misc, self.top, self.config = peer, misc, top, config
        self._zero = bytes(peer.full_value)

    def peer_count(self, index: int) -> tuple[int, int]:
        raw = self.peer.lookup(_U32.pack(index))
        return sum_percpu(self.peer, raw) if raw is not None else (0, 0)

    def misc_count(self, name: str) -> tuple[int, int]:
        raw = self.misc.lookup(_U32.pack(MISC[name]))
        return sum_percpu(self.misc, raw) if raw is not None else (0, 0)

    def clear_peer(self, index: int) -> None:
        self.peer.update(_U32.pack(index), self._zero, EXIST)

    def clear(self, indexes: list[int]) -> None:
        """Zero the given peers' counters, the misc counters and the per-prefix table."""
        for i in indexes:
            self.clear_peer(i)
        for slot in MISC.values():
            self.misc.update(_U32.pack(slot), bytes(self.misc.full_value), EXIST)
        keys = self.top.keys()
        if keys:
            self.top.delete_batch(b"".join(keys), len(keys))

    def per_prefix(self) -> bool:
        raw = self.config.lookup(_U32.pack(0))
        return bool(raw and _U32.unpack_from(raw)[0] & FLAG_PER_PREFIX)

    def set_per_prefix(self, on: bool) -> None:
        raw = self.config.lookup(_U32.pack(0)) or bytes(4)
        flags = _U32.unpack_from(raw)[0]
        flags = flags | FLAG_PER_PREFIX if on else flags & ~FLAG_PER_PREFIX
        self.config.update(_U32.pack(0), _U32.pack(flags))

    def prefixes(self) -> list[tuple[Prefix, int, int]]:
        """(prefix, packets, bytes) for every prefix in the per-prefix table, busiest (bytes) first."""
        out = []
        for k in self.top.keys():
            raw = self.top.lookup(k)
            if raw is None:
                continue
            fam, length, addr = _TOP_KEY.unpack(k)
            afi = AFI.IPV4 if fam == 4 else AFI.IPV6
            value = int.from_bytes(addr[:4] if fam == 4 else addr, "big")
            p, b = sum_percpu(self.top, raw)
            out.append((Prefix(afi, length, value), p, b))
        out.sort(key=lambda t: (-t[2], -t[1], t[0].afi, t[0].value, t[0].length))
        return out
