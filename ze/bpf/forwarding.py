"""The forwarding counters as the daemon sees them: pinned maps opened through bpf(2), peer indexes,
batched route sync, and the status / counter / prefix views as dicts (JSON keys kebab-case), so the
CLI (`ze show forwarding`) and the plugin wiring stay thin."""

from __future__ import annotations

import os
from collections.abc import Iterable

from ze.bpf import loader, mapsync
from ze.bpf.counters import Counters
from ze.bpf.mapsync import Change, RouteMaps, SyncStats
from ze.bpf.peers import PeerIndex
from ze.bpf.syscall import Map
from ze.core.clock import Clock


class Forwarding:
    """Open pinned maps (the loader child made them) and work on them; no bcc in this process."""

    def __init__(self, pin_dir: str, state_dir: str | os.PathLike[str], clock: Clock | None = None) -> None:
        self.pin_dir = pin_dir
        self.clock = clock or Clock()
        maps: dict[str, Map] = {}
        try:
            for name in loader.MAP_NAMES:
                maps[name] = Map(f"{pin_dir}/{name}")
        except OSError:
            for m in maps.values():
                m.close()
            raise
        self._maps = maps
        self.routes = RouteMaps(maps["ze_v4"], maps["ze_v6"])
        self.counters = Counters(maps["ze_peer"], maps["ze_misc"], maps["ze_top"], maps["ze_config"])
        self.peers = PeerIndex(state_dir, limit=maps["ze_peer"].max_entries)
        self._last: dict[str, tuple[float, int, int]] = {}  # row -> (time, packets, bytes) at last show

    def close(self) -> None:
        for m in self._maps.values():
            m.close()

    # --- sync: called by whatever follows sysrib / the FIB -------------------------------------

    def peer_index(self, name: str) -> int:
        """The stable counter slot of a peer (allocated on first use, kept across restarts)."""
        return self.peers.index(name)

    def sync(self, changes: Iterable[Change]) -> SyncStats:
        """Apply a batch of (prefix, peer index (0 withdraws), next hop) changes."""
        return self.routes.apply(changes)

    def resync(self, routes: Iterable[Change], afis: Iterable[int] | None = None) -> SyncStats:
        """Make the tries hold exactly these routes (start-up, after a netlink resync); `afis`: only
        those families' tries."""
        return self.routes.resync(routes, afis)

    def remove_peer(self, name: str) -> None:
        """A peer left the config: free its slot and zero its counters for the next owner."""
        idx = self.peers.release(name)
        if idx is not None:
            self.counters.clear_peer(idx)

    # --- views ----------------------------------------------------------------------------------

    def _row(self, key: str, packets: int, octets: int, now: float) -> dict[str, int | float]:
        prev = self._last.get(key)
        self._last[key] = (now, packets, octets)
        row: dict[str, int | float] = {"packets": packets, "bytes": octets}
        if prev is not None and now > prev[0] and packets >= prev[1]:
            dt = now - prev[0]
            row["packets-per-second"] = round((packets - prev[1]) / dt, 3)
            row["bits-per-second"] = round((octets - prev[2]) * 8 / dt, 3)
        else:
            row["packets-per-second"] = 0.0
            row["bits-per-second"] = 0.0
        return row

    def show(self, peer: str | None = None) -> dict:
        """Per-peer packets, bytes and rates since the previous show, plus totals and the traffic
        that matched no peer's route ("unmatched": IP, "other": not IP)."""
        now = self.clock.now()
        names = self.peers.names()
        if peer is not None:
            idx = self.peers.get(peer)
            if idx is None:
                raise KeyError(f"no forwarding counters for peer {peer!r}")
            names = {idx: peer}
        peers = {}
        tp = tb = 0
        for idx, name in sorted(names.items(), key=lambda t: t[1]):
            p, b = self.counters.peer_count(idx)
            tp, tb = tp + p, tb + b
            peers[name] = {"index": idx, **self._row(f"peer:{name}", p, b, now)}
        out: dict = {"peers": peers}
        if peer is None:
            out["total"] = self._row("total", tp, tb, now)
            for name in ("unmatched", "other"):
                out[name] = self._row(name, *self.counters.misc_count(name), now)
        return out

    def prefixes(self, top: int | None = None) -> list[dict]:
        """Per-prefix counters (when per-prefix counting is on), busiest first."""
        names = self.peers.names()
        rows = []
        for prefix, p, b in self.counters.prefixes()[:top]:
            raw = self.routes.tries[prefix.afi].lookup(mapsync.key(prefix))
            peer = names.get(mapsync.decode_route(raw)[0], "") if raw is not None else ""
            rows.append({"prefix": str(prefix), "peer": peer, "packets": p, "bytes": b})
        return rows

    def clear(self) -> None:
        """`ze clear forwarding`: zero every counter."""
        self.counters.clear(list(self.peers.names()))
        self._last.clear()

    def set_per_prefix(self, on: bool) -> None:
        self.counters.set_per_prefix(on)


def table(view: dict) -> str:
    """The human form of show(): one row per peer, then total, unmatched and other."""
    rows = [("peer", "packets", "bytes", "pps", "bps")]
    named = [(name, row) for name, row in view["peers"].items()]
    named += [(k, view[k]) for k in ("total", "unmatched", "other") if k in view]
    for name, r in named:
        rows.append(
            (
                name,
                str(r["packets"]),
                str(r["bytes"]),
                f"{r['packets-per-second']:.1f}",
                f"{r['bits-per-second']:.0f}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join(
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        for r in rows
    )
