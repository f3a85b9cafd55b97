"""A reload's new `rib` section (RibService.reconfigure): the export rules change what up peers
hold at once (their whole Adj-RIB-Out is rebuilt and pending again); best-path options apply to
the selections made from then on."""

from __future__ import annotations

from ze.bgp.wire.context import DEFAULT
from ze.plugins.rib.service import RibService
from ze.plugins.rib.table import RibConfig

from .helpers import best_of, peer, send
from .test_export import EBGP, IBGP, IBGP2, ROUTE, SRC, decoded


def test_export_rules_change_resends_every_peers_table():
    rib = RibService(RibConfig(igp_cost="none"))
    rib.on_peer_up(IBGP, DEFAULT)
    rib.on_peer_up(EBGP, DEFAULT)
    send(rib, SRC, f"{ROUTE} nlri ipv4/unicast add 10.1.0.0/24 10.2.0.0/24")
    ((attrs, nlri, _),) = decoded(rib, "int")
    assert (attrs["next-hop"], attrs["local-preference"], nlri) == (
        "192.0.2.1",
        100,
        ["10.1.0.0/24", "10.2.0.0/24"],
    )
    decoded(rib, "ext")
    assert rib.pending_peers() == []

    new = RibConfig(igp_cost="none", next_hop_self_ibgp=True, default_local_pref=200)
    assert rib.reconfigure(new) is True
    assert rib.config is new and rib.exporter.config is new and rib.options.default_local_pref == 200
    assert rib.pending_peers() == ["int", "ext"]
    ((attrs, nlri, wd),) = decoded(rib, "int")
    assert (attrs["next-hop"], attrs["local-preference"]) == ("203.0.113.254", 200)
    assert nlri == ["10.1.0.0/24", "10.2.0.0/24"] and wd == []
    ((attrs, nlri, _),) = decoded(rib, "ext")  # eBGP: sent again, the same
    assert attrs["next-hop"] == "198.51.100.254" and "local-preference" not in attrs
    # the old rewritten routes were released: one route per peer is interned, not two
    assert len(rib.exporter.routes) == 2
    assert rib.summary()["peers"]["int"]["advertised"] == 2

    # routes that arrive later follow the new rules too
    send(rib, SRC, f"{ROUTE} nlri ipv4/unicast add 10.3.0.0/24")
    ((attrs, nlri, _),) = decoded(rib, "int")
    assert (attrs["next-hop"], nlri) == ("203.0.113.254", ["10.3.0.0/24"])


def test_new_route_reflector_client_gets_reflected_routes():
    rib = RibService(RibConfig(router_id="10.255.0.1"))
    rib.on_peer_up(IBGP2, DEFAULT)
    send(rib, IBGP, f"{ROUTE} nlri ipv4/unicast add 10.5.0.0/24")
    assert decoded(rib, "int2") == []  # iBGP to iBGP: not without reflection
    assert rib.reconfigure(RibConfig(router_id="10.255.0.1", route_reflector_clients=frozenset({"int2"})))
    ((attrs, nlri, _),) = decoded(rib, "int2")
    assert nlri == ["10.5.0.0/24"] and attrs["cluster-list"] == ["10.255.0.1"]


def test_best_path_options_alone_resend_nothing():
    rib = RibService()
    rib.on_peer_up(EBGP, DEFAULT)
    a = peer("a", "192.0.2.7", 65001, "10.0.0.7")
    b = peer("b", "192.0.2.8", 65001, "10.0.0.8")
    route = "update text origin set igp as-path set [65001 5] nhop set {} nlri ipv4/unicast add 10.9.0.0/24"
    send(rib, a, route.format("192.0.2.7"))
    decoded(rib, "ext")
    assert rib.reconfigure(RibConfig(maximum_paths=2, batch_size=10)) is False
    assert rib.pending_peers() == [] and rib.options.maximum_paths == 2
    send(rib, b, route.format("192.0.2.8"))  # selected from now on: both paths (multipath)
    assert best_of(rib, "10.9.0.0/24") == [("a", "192.0.2.7"), ("b", "192.0.2.8")]
