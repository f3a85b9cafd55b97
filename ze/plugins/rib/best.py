"""Best-path selection, RFC 4271 section 9.1.2, with RFC 4456 section 9 and multipath.

Candidates are (peer, path_id, PathAttrs) triples; `peer` has .ibgp, .router_id (int),
.address_key (sortable) and .local_as. Selection eliminates in the RFC's order:

  0. next hop unresolvable (the IGP cost function returns None): not a candidate (9.1.2 a)
  a. highest degree of preference: LOCAL_PREF for iBGP-learned routes, the default for eBGP
     (a LOCAL_PREF received over eBGP is ignored, 5.1.5)
  b. shortest AS_PATH (an AS_SET counts 1, confederation segments 0: RFC 5065 5.3)
  c. lowest ORIGIN (IGP < EGP < INCOMPLETE)
  d. lowest MED among routes from the same neighbour AS (all routes with always-compare-med);
     a missing MED is 0
  e. eBGP-learned over iBGP-learned
  f. lowest IGP cost to the next hop
  -- routes still equal here are equal-cost multipaths
  g. lowest BGP identifier, the ORIGINATOR_ID when present (RFC 4456 9)
  h. shortest CLUSTER_LIST (RFC 4456 9, between the identifier and the address)
  i. lowest neighbour address, then lowest path id (ADD-PATH paths of one peer)

The multipath set is the best route plus the others equal through f, in g..i order, up to
`maximum_paths`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ze.plugins.rib.attrs import DEFAULT_LOCAL_PREF

Candidate = tuple[Any, int, Any]  # (peer, path_id, PathAttrs)


@dataclass(frozen=True, slots=True)
class Options:
    always_compare_med: bool = False
    maximum_paths: int = 1
    default_local_pref: int = DEFAULT_LOCAL_PREF


DEFAULT_OPTIONS = Options()


def preference(c: Candidate, default: int = DEFAULT_LOCAL_PREF) -> int:
    peer, _pid, pa = c
    if peer.ibgp and pa.local_pref is not None:
        return pa.local_pref
    return default


def neighbor_as(c: Candidate) -> int:
    """The AS the route was received from (RFC 4271 9.1.2.2 c): first AS of the path, or ours."""
    peer, _pid, pa = c
    return pa.neighbor_as if pa.neighbor_as is not None else peer.local_as


def tie_key(c: Candidate) -> tuple:
    """Steps g..i as one sort key (lexicographic order = the RFC's successive elimination)."""
    peer, pid, pa = c
    rid = pa.originator_id if pa.originator_id is not None else peer.router_id
    return (rid, pa.cluster_len, peer.address_key, pid)


def _keep_min(cands: list, key: Callable[[Any], Any]) -> list:
    if len(cands) < 2:
        return cands
    best = min(key(c) for c in cands)
    return [c for c in cands if key(c) == best]


def select(
    cands: Sequence[Candidate],
    cost: Callable[[str], int | None],
    options: Options = DEFAULT_OPTIONS,
) -> tuple[Candidate, ...]:
    """The best route first, then its multipath partners; () when no candidate is usable."""
    if len(cands) == 1:
        c = cands[0]
        return (c,) if cost(c[2].next_hop) is not None else ()
    default = options.default_local_pref
    best_k: tuple | None = None
    rest: list = []
    for c in cands:
        peer, _pid, pa = c
        k = cost(pa.next_hop)
        if k is None:
            continue
        lp = pa.local_pref if peer.ibgp and pa.local_pref is not None else default
        abc = (-lp, pa.as_path_len, pa.origin)  # steps a, b, c as one key
        if best_k is None or abc < best_k:
            best_k = abc
            rest = [(c, k)]
        elif abc == best_k:
            rest.append((c, k))
    if len(rest) <= 1:
        return (rest[0][0],) if rest else ()
    if len(rest) > 1:
        rest = _med_step(rest, options.always_compare_med)
    if len(rest) > 1 and any(not ck[0][0].ibgp for ck in rest):
        rest = [ck for ck in rest if not ck[0][0].ibgp]
    rest = _keep_min(rest, lambda ck: ck[1])
    if len(rest) == 1:
        return (rest[0][0],)
    ordered = sorted((ck[0] for ck in rest), key=tie_key)
    n = max(1, options.maximum_paths)
    return tuple(ordered[:n])


def _med_step(rest: list, always: bool) -> list:
    def med(ck: Any) -> int:
        m = ck[0][2].med
        return 0 if m is None else m

    if always:
        return _keep_min(rest, med)
    lowest: dict[int, int] = {}
    for ck in rest:
        asn = neighbor_as(ck[0])
        m = med(ck)
        if asn not in lowest or m < lowest[asn]:
            lowest[asn] = m
    return [ck for ck in rest if med(ck) == lowest[neighbor_as(ck[0])]]


def why(
    a: Candidate, b: Candidate, cost: Callable[[str], int | None], options: Options = DEFAULT_OPTIONS
) -> str:
    """Which rule makes `a` better than `b` (pairwise, for `show rib` explanations and tests)."""
    ka, kb = cost(a[2].next_hop), cost(b[2].next_hop)
    if ka is None or kb is None:
        return "next-hop-unreachable"
    d = options.default_local_pref
    steps = (
        ("local-preference", -preference(a, d), -preference(b, d)),
        ("as-path-length", a[2].as_path_len, b[2].as_path_len),
        ("origin", a[2].origin, b[2].origin),
    )
    for name, x, y in steps:
        if x != y:
            return name
    if options.always_compare_med or neighbor_as(a) == neighbor_as(b):
        if (a[2].med or 0) != (b[2].med or 0):
            return "med"
    if a[0].ibgp != b[0].ibgp:
        return "ebgp-over-ibgp"
    if ka != kb:
        return "igp-cost"
    names = ("router-id", "cluster-list-length", "neighbor-address", "path-id")
    for name, x, y in zip(names, tie_key(a), tie_key(b)):
        if x != y:
            return name
    return "equal"
