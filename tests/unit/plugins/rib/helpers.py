"""Shared helpers for the bgp-rib tests: peers and UPDATEs written in the route text syntax."""

from __future__ import annotations

from ze.bgp.events import PeerInfo, PeerUpdate
from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.nlri.prefix import Prefix
from ze.bgp.wire.text import encode_text
from ze.bgp.wire.update import WireUpdate
from ze.core.family import IPV4_UNICAST, Family

LOCAL_AS = 65000


def peer(
    name: str, address: str, remote_as: int, router_id: str = "", ctx: EncodingContext = DEFAULT, **kw
) -> PeerInfo:
    return PeerInfo(
        name, address, remote_as, kw.pop("local_as", LOCAL_AS), router_id or address, recv_ctx=ctx, **kw
    )


def updates(info: PeerInfo, text: str) -> list[PeerUpdate]:
    ctx = info.recv_ctx or DEFAULT
    return [PeerUpdate(info, WireUpdate(m[19:], ctx), 0, 0.0) for m in encode_text(text, ctx)]


def send(rib, info: PeerInfo, text: str) -> list:
    """Apply every UPDATE of the text; the BestBatches, all of them."""
    out = []
    for pu in updates(info, text):
        out += rib.on_update(pu)
    return out


def best_of(rib, prefix: str, family: Family = IPV4_UNICAST):
    """(peer name, next hop) of every path of the selection for `prefix`, best first; None if none."""
    p = Prefix.parse(prefix)
    sel = rib.loc[family].get(p.value << 8 | p.length)
    if sel is None:
        return None
    return [(peer.name, pa.next_hop) for peer, _pid, pa in sel.paths]


def announced(batches) -> dict[str, tuple]:
    """prefix text -> NextHopSet hops, over the announce parts of batches."""
    return {str(p): nhs.hops for b in batches for p, nhs in b.announce}


def withdrawn(batches) -> list[str]:
    return [str(p) for b in batches for p in b.withdraw]
