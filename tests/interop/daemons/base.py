"""The API every daemon adapter offers. A daemon runs in one namespace of a Lab, with every
peering of its module configured at start (one neighbour per Peering, see lab.py)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from pathlib import Path

from tests.interop import normalise
from tests.interop.lab import Lab, Peering, Proc, Route, wait_for


class Daemon:
    name = "base"
    binaries: tuple[str, ...] = ()
    addpath = True  # can negotiate ADD-PATH
    sends_paths = False  # send_paths works: announces several paths of one prefix on demand

    def __init__(self, lab: Lab, ns: str, peerings: Sequence[Peering], router_id: str = "") -> None:
        if len({p.name for p in peerings}) != len(peerings):
            raise ValueError("peering names must be unique")
        self.lab = lab
        self.ns = ns
        self.peerings = {p.name: p for p in peerings}
        v4 = [p.local_ip for p in peerings if p.afi == "ipv4"]
        if not router_id and not v4:
            low = int(ipaddress.ip_address(peerings[0].local_ip)) & 0xFFFF
            router_id = f"10.255.{low >> 8}.{low & 0xFF}"
        self.router_id = router_id or v4[0]
        self.dir: Path = lab.rundir(f"{self.name}-{ns}")
        self.procs: list[Proc] = []
        self.routes: dict[str, dict[str, Route]] = {p.name: {} for p in peerings}

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Daemon:
        raise NotImplementedError

    def stop(self) -> None:
        for pr in reversed(self.procs):
            self.lab.stop(pr)
        self.procs.clear()

    def alive(self) -> bool:
        return bool(self.procs) and all(p.alive() for p in self.procs)

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.procs)

    def peering(self, p: Peering | str) -> Peering:
        return self.peerings[p if isinstance(p, str) else p.name]

    # ---- sessions ----------------------------------------------------------------------------
    def state(self, p: Peering | str) -> str:
        """The session state, lowercase RFC 4271 name: idle connect active opensent openconfirm
        established."""
        raise NotImplementedError

    def wait_state(self, p: Peering | str, want: str = "established", timeout: float = 20.0) -> str:
        def ok() -> bool:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited: {self.logs()[-2000:]}")
            return self.state(p) == want

        try:
            wait_for(ok, timeout, f"{self.name} {self.peering(p).name} {want}", interval=0.2)
        except TimeoutError as e:
            raise TimeoutError(f"{e}; state is {self.state(p)!r}") from None
        return want

    def disable(self, p: Peering | str, message: str = "") -> None:
        """Administratively stop p, sending a Cease/Administrative Shutdown with `message`."""
        raise NotImplementedError(f"{self.name}: no administrative shutdown in the adapter")

    def enable(self, p: Peering | str) -> None:
        raise NotImplementedError(f"{self.name}: no administrative shutdown in the adapter")

    def shutdown_message(self, p: Peering | str) -> str | None:
        """The text of the last shutdown communication (RFC 8203/9003) received on p, as logged."""
        raise NotImplementedError

    # ---- routes ------------------------------------------------------------------------------
    def announce(self, p: Peering | str, routes: Iterable[Route]) -> None:
        p = self.peering(p)
        for r in routes:
            self.routes[p.name][r.prefix] = r
        self._sync(p)

    def withdraw(self, p: Peering | str, prefixes: Iterable[str]) -> None:
        p = self.peering(p)
        for pfx in prefixes:
            self.routes[p.name].pop(pfx, None)
        self._sync(p)

    def send_paths(self, p: Peering | str, prefix: str, meds: dict[int, int]) -> None:
        """Announce `prefix` under ADD-PATH once per path id, path id -> MED (sends_paths)."""
        raise NotImplementedError(f"{self.name} cannot send chosen path ids")

    def _sync(self, p: Peering) -> None:
        """Make the routes announced on p equal self.routes[p.name]."""
        raise NotImplementedError

    def received(self, p: Peering | str) -> dict[str, dict]:
        """Routes received on p, normalised (normalise.py); with ADD-PATH the last path of each."""
        return {k: v[-1] for k, v in self.received_paths(p).items()}

    def received_paths(self, p: Peering | str) -> dict[str, list[dict]]:
        """Every path received on p per prefix (more than one only with ADD-PATH)."""
        raise NotImplementedError

    def wait_routes(self, p: Peering | str, want: dict[str, dict], timeout: float = 15.0) -> None:
        """Wait until received(p) matches `want` (normalise.mismatches); fail with the differences."""
        diff: list[str] = []

        def same() -> bool:
            diff[:] = normalise.mismatches(self.received(p), want)
            return not diff

        try:
            wait_for(same, timeout, f"{self.name} routes on {self.peering(p).name}", interval=0.3)
        except TimeoutError as e:
            raise AssertionError(f"{e}: " + "; ".join(diff)) from None

    sends_route_refresh = True
    answers_route_refresh = True

    def refresh(self, p: Peering | str) -> None:
        """Ask the peer to send its routes again (ROUTE-REFRESH)."""
        raise NotImplementedError

    def updates_received(self, p: Peering | str) -> int:
        """How many UPDATE messages (or route updates, as the daemon counts them) came in on p."""
        raise NotImplementedError

    def refreshes_received(self, p: Peering | str) -> int | None:
        """How many ROUTE-REFRESH messages p's peer sent us, if the daemon counts them."""
        return None
