"""Export policy and Adj-RIB-Out: the default eBGP/iBGP rules, route reflection, well-known
communities, and the UPDATE messages built for a peer (decoded back and checked)."""

from __future__ import annotations

from ze.bgp.wire.context import ASN2, DEFAULT
from ze.bgp.wire.render import update_json
from ze.bgp.wire.update import WireUpdate
from ze.core.family import IPV4_UNICAST
from ze.plugins.rib.service import RibService
from ze.plugins.rib.table import RibConfig

from .helpers import peer, send

SRC = peer("src", "192.0.2.1", 65001, "10.0.0.1", local_address="192.0.2.254")
EBGP = peer("ext", "198.51.100.1", 65002, "10.0.0.2", local_address="198.51.100.254")
IBGP = peer("int", "203.0.113.1", 65000, "10.0.0.3", local_address="203.0.113.254")
IBGP2 = peer("int2", "203.0.113.2", 65000, "10.0.0.4", local_address="203.0.113.254")
ROUTE = (
    "update text origin set igp as-path set [65001 7] med set 20 community set [65001:5] nhop set 192.0.2.1"
)


def decoded(rib, name, ctx=DEFAULT):
    """Every UPDATE built for `name` as (attributes with the next hop, announced, withdrawn)."""
    out = []
    for msg in rib.updates_for(name):
        j = update_json(WireUpdate(msg[19:], ctx))
        attrs = dict(j["attr"])
        adds, dels = [], []
        for entries in j["nlri"].values():
            for e in entries:
                if e["action"] == "add":
                    attrs["next-hop"] = e["next-hop"]
                    adds += e["nlri"]
                else:
                    dels += e["nlri"]
        out.append((attrs, sorted(adds), sorted(dels)))
    return out


def test_ebgp_peer_gets_prepend_next_hop_self_and_no_med():
    rib = RibService()
    rib.on_peer_up(EBGP, DEFAULT)
    send(rib, SRC, f"{ROUTE} local-preference set 300 nlri ipv4/unicast add 10.1.0.0/24 10.2.0.0/24")
    (msg,) = decoded(rib, "ext")
    attrs, nlri, wd = msg
    assert attrs == {
        "origin": "igp",
        "as-path": [65000, 65001, 7],
        "next-hop": "198.51.100.254",
        "community": ["65001:5"],
    }
    assert nlri == ["10.1.0.0/24", "10.2.0.0/24"] and wd == []
    assert decoded(rib, "ext") == []  # nothing pending any more
    send(rib, SRC, "update text nlri ipv4/unicast del 10.1.0.0/24")
    assert decoded(rib, "ext") == [({}, [], ["10.1.0.0/24"])]


def test_ibgp_peer_gets_local_pref_and_the_next_hop_unchanged():
    rib = RibService(RibConfig(default_local_pref=150))
    rib.on_peer_up(IBGP, DEFAULT)
    send(rib, SRC, f"{ROUTE} nlri ipv4/unicast add 10.1.0.0/24")
    ((attrs, nlri, _),) = decoded(rib, "int")
    assert attrs == {
        "origin": "igp",
        "as-path": [65001, 7],
        "next-hop": "192.0.2.1",
        "med": 20,
        "local-preference": 150,
        "community": ["65001:5"],
    }
    assert nlri == ["10.1.0.0/24"]


def test_not_sent_back_to_its_source_nor_ibgp_to_ibgp():
    rib = RibService()
    rib.on_peer_up(SRC, DEFAULT)
    rib.on_peer_up(IBGP2, DEFAULT)
    send(rib, SRC, f"{ROUTE} nlri ipv4/unicast add 10.1.0.0/24")
    send(
        rib,
        IBGP,
        "update text origin set igp as-path set [65003] nhop set 203.0.113.1 nlri ipv4/unicast add 10.3.0.0/24",
    )
    assert [m[1] for m in decoded(rib, "src")] == [["10.3.0.0/24"]]  # its own route not echoed
    assert decoded(rib, "int2")[0][1] == ["10.1.0.0/24"]  # the iBGP-learned one not sent to iBGP


def test_route_reflector_reflects_with_originator_and_cluster_list():
    rib = RibService(RibConfig(route_reflector_clients=frozenset({"int"}), router_id="10.255.0.1"))
    rib.on_peer_up(IBGP2, DEFAULT)  # a non-client
    send(rib, IBGP, f"{ROUTE} local-preference set 120 nlri ipv4/unicast add 10.3.0.0/24")  # from a client
    ((attrs, nlri, _),) = decoded(rib, "int2")
    assert attrs["originator-id"] == "10.0.0.3"
    assert attrs["cluster-list"] == ["10.255.0.1"]
    assert attrs["local-preference"] == 120 and attrs["next-hop"] == "192.0.2.1"
    assert nlri == ["10.3.0.0/24"]
    # a route already carrying our cluster id is a loop: not reflected
    send(rib, IBGP, f"{ROUTE} cluster-list set [10.255.0.1] nlri ipv4/unicast add 10.4.0.0/24")
    assert all("10.4.0.0/24" not in n for _, n, _ in decoded(rib, "int2"))


def test_non_client_routes_reflect_to_clients_only():
    rib = RibService(RibConfig(route_reflector_clients=frozenset({"int"})))
    rib.on_peer_up(IBGP, DEFAULT)
    send(rib, IBGP2, f"{ROUTE} nlri ipv4/unicast add 10.5.0.0/24")
    assert decoded(rib, "int")[0][1] == ["10.5.0.0/24"]


def test_well_known_communities():
    rib = RibService()
    rib.on_peer_up(EBGP, DEFAULT)
    rib.on_peer_up(IBGP, DEFAULT)
    send(
        rib,
        SRC,
        "update text origin set igp as-path set [65001] community set [no-export] nhop set 192.0.2.1 nlri ipv4/unicast add 10.6.0.0/24",
    )
    send(
        rib,
        SRC,
        "update text origin set igp as-path set [65001] community set [no-advertise] nhop set 192.0.2.1 nlri ipv4/unicast add 10.7.0.0/24",
    )
    assert decoded(rib, "ext") == []
    assert [n for _, n, _ in decoded(rib, "int")] == [["10.6.0.0/24"]]


def test_path_with_the_peers_as_is_not_sent_to_it():
    rib = RibService()
    rib.on_peer_up(EBGP, DEFAULT)
    send(
        rib,
        SRC,
        "update text origin set igp as-path set [65001 65002] nhop set 192.0.2.1 nlri ipv4/unicast add 10.8.0.0/24",
    )
    assert decoded(rib, "ext") == []


def test_peer_coming_up_gets_the_whole_table_in_its_context():
    rib = RibService()
    send(
        rib,
        SRC,
        f"update text origin set igp as-path set [65001 70000] nhop set 192.0.2.1 nlri ipv4/unicast add {' '.join(f'10.{i}.0.0/16' for i in range(200))}",
    )
    send(
        rib,
        SRC,
        "update text origin set igp as-path set [65001] nhop set 2001:db8::1 nlri ipv6/unicast add 2001:db8:1::/48",
    )
    rib.on_peer_up(EBGP, ASN2)
    msgs = decoded(rib, "ext", ASN2)
    v4 = [m for m in msgs if m[1] and "." in m[1][0]]
    assert sum(len(m[1]) for m in v4) == 200
    # an ASN2 peer: 4-byte ASNs become AS_TRANS in AS_PATH
    assert v4[0][0]["as-path"] == [65000, 65001, 23456]
    v6 = [m for m in msgs if not m[1]]  # nothing but announcements
    assert len(v6) == 0
    (v6,) = [m for m in msgs if m[1] == ["2001:db8:1::/48"]]
    assert (
        v6[0]["next-hop"] == "::ffff:c633:64fe"
    )  # ::ffff:198.51.100.254,  # next-hop self over an IPv4 session
    assert sum(len(t) for t in rib.peers["ext"].out.values()) == 201
    assert rib.summary()["peers"]["ext"]["advertised"] == 201
    rib.on_peer_down(EBGP)
    assert rib.exporter.routes == {}


def test_best_change_updates_adj_rib_out():
    rib = RibService()
    rib.on_peer_up(IBGP, DEFAULT)
    other = peer("other", "192.0.2.9", 65009, "10.0.0.9")
    send(
        rib,
        SRC,
        "update text origin set igp as-path set [65001 1 2] nhop set 192.0.2.1 nlri ipv4/unicast add 10.9.0.0/24",
    )
    decoded(rib, "int")
    send(
        rib,
        other,
        "update text origin set igp as-path set [65009] nhop set 192.0.2.9 nlri ipv4/unicast add 10.9.0.0/24",
    )
    ((attrs, nlri, _),) = decoded(rib, "int")
    assert attrs["as-path"] == [65009] and attrs["next-hop"] == "192.0.2.9" and nlri == ["10.9.0.0/24"]
    rib.on_peer_down(other)
    ((attrs, nlri, _),) = decoded(rib, "int")
    assert attrs["as-path"] == [65001, 1, 2]
    out = rib.peers["int"].out[IBGP_FAMILY]
    assert len(out) == 1


IBGP_FAMILY = IPV4_UNICAST


def test_send_context_from_peer_info():
    rib = RibService()
    ext = peer("ext", "198.51.100.1", 65002, "10.0.0.2", local_address="198.51.100.254", send_ctx=DEFAULT)
    rib.on_peer_up(ext)
    send(
        rib,
        SRC,
        "update text origin set igp as-path set [65001] nhop set 192.0.2.1 nlri ipv4/unicast add 10.1.0.0/24",
    )
    assert [m[1] for m in decoded(rib, "ext")] == [["10.1.0.0/24"]]
    rib.on_peer_up(peer("quiet", "198.51.100.2", 65003))  # no send context: nothing exported
    assert list(rib.updates_for("quiet")) == [] and list(rib.updates_for("nobody")) == []
