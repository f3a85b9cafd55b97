"""Adapters for the daemons the interop lab runs: one module each, one API (base.Daemon)."""

from __future__ import annotations

from tests.interop.daemons.base import Daemon


def adapter(name: str) -> type[Daemon]:
    if name == "bird":
        from tests.interop.daemons.bird import Bird

        return Bird
    if name == "frr":
        from tests.interop.daemons.frr import Frr

        return Frr
    if name == "gobgp":
        from tests.interop.daemons.gobgp import GoBGP

        return GoBGP
    if name == "exabgp":
        from tests.interop.daemons.exabgp import ExaBGP

        return ExaBGP
    if name == "ze":
        from tests.interop.daemons.ze import Ze

        return Ze
    raise KeyError(name)


NAMES = ("bird", "frr", "gobgp", "exabgp")
