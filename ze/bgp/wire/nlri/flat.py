"""Bulk NLRI walks into flat int lists, for consumers that store prefixes as integers (RIBs).

The C helper's walk (ze._native.walk_nlri, with its pure-Python twin) exposed at the codec
layer, so features (which may import bgp.wire but not _native) use it without building a
Prefix per route: ipv4 gives (path_id, length, value) triples, ipv6 (path_id, length, hi, lo)
quadruples; WireError (UPDATE 3/10) on malformed NLRI, as prefix.walk.
"""

from __future__ import annotations

from ze import _native

walk_nlri = _native.walk_nlri
BACKEND = _native.BACKEND

__all__ = ["BACKEND", "walk_nlri"]
