"""The engine's YANG modules pass `pyang --strict` and compile into the schema tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ze.config.schema import CORE_MODULES, load_schema, yang_dir

PYANG = Path(sys.executable).with_name("pyang")


@pytest.mark.parametrize("name", CORE_MODULES)
def test_pyang_strict(name):
    path = yang_dir() / f"{name}.yang"
    r = subprocess.run(
        [str(PYANG), "--strict", "-p", str(yang_dir()), str(path)], capture_output=True, text=True
    )
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_schema_tree(schema):
    assert list(schema.root.children) == ["environment", "bgp", "plugin", "process"]
    bgp = schema.root.children["bgp"]
    hold = bgp.children["hold-time"]
    assert (hold.kind, hold.type.base, hold.type.name, hold.type.ranges, hold.default) == (
        "leaf",
        "uint16",
        "hold-time",
        [(0, 0), (3, 65535)],
        90,
    )
    peer = bgp.children["group"].children["peer"]
    assert (peer.kind, peer.key) == ("list", "name")
    assert peer.children["family"].children["ipv4"].type.enums == [
        "unicast",
        "multicast",
        "mpls-label",
        "mpls-vpn",
        "flowspec",
    ]
    assert schema.root.children["process"].children["run"].mandatory is True
    assert schema.root.children["plugin"].children["internal"].kind == "leaf-list"


def test_rpcs(schema):
    # Other features add rpcs of their own: these are the core ones.
    assert set(schema.rpcs) >= {
        "ze-api:config-history",
        "ze-api:config-rollback",
        "ze-api:plugin-command",
        "ze-api:schema-list",
        "ze-api:schema-methods",
        "ze-api:show-config",
        "ze-api:show-peer",
        "ze-api:show-peers",
        "ze-api:show-plugins",
        "ze-api:show-status",
        "ze-api:signal-reload",
        "ze-api:signal-status",
        "ze-api:signal-stop",
        "ze-api:update-route",
        "ze-api:peer-stop",
        "ze-api:peer-start",
        "ze-api:peer-refresh",
    }
    assert schema.rpcs["ze-api:show-peer"].to_dict() == {
        "name": "ze-api:show-peer",
        "description": "One peer by name.",
        "input": [
            {"name": "name", "type": "name", "mandatory": True},
            {"name": "routes", "type": "boolean", "mandatory": False},
        ],
    }


def test_cache_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("ZE_CACHE_DIR", str(tmp_path))
    first = load_schema()
    cached = list(tmp_path.glob("schema-*.json"))
    assert len(cached) == 1
    second = load_schema()
    assert second.to_dict() == first.to_dict()


def test_feature_module_adds_a_root(tmp_path, monkeypatch):
    monkeypatch.setenv("ZE_CACHE_DIR", str(tmp_path / "cache"))
    mod = tmp_path / "ze-demo.yang"
    mod.write_text(
        'module ze-demo { yang-version 1.1; namespace "urn:ze:demo"; prefix zd;\n'
        '  container demo { leaf level { type uint8 { range "1..5"; } default 3; } } }\n'
    )
    s = load_schema(extra=[mod])
    assert s.root.children["demo"].children["level"].default == 3
    assert [m.name for m in s.modules][-1] == "ze-demo"


def test_duplicate_root_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ZE_CACHE_DIR", str(tmp_path / "cache"))
    mod = tmp_path / "ze-clash.yang"
    mod.write_text(
        'module ze-clash { namespace "urn:ze:clash"; prefix zc; container bgp { leaf x { type string; } } }\n'
    )
    with pytest.raises(Exception, match="config root 'bgp' defined twice, by ze-bgp and ze-clash"):
        load_schema(extra=[mod])


def test_rpc_input_check(schema):
    peer = schema.rpcs["ze-api:show-peer"]
    assert peer.check({"name": "a"}) == {"name": "a"}
    rollback = schema.rpcs["ze-api:config-rollback"]
    assert rollback.check({"number": 3}) == {"number": 3}
    for rpc, params, message in [
        (peer, {}, "show-peer: missing parameter 'name'"),
        (peer, {"nmae": "a"}, "show-peer: unknown parameter 'nmae' (did you mean 'name'?)"),
        (peer, {"name": 5}, "show-peer: name must be name, not 5"),
        (peer, {"name": "-x"}, "show-peer: name: '-x' is not a valid name"),
        (rollback, {"number": "3"}, 'config-rollback: number must be uint32 in 1..4294967295, not "3"'),
        (rollback, {"number": True}, "config-rollback: number must be uint32 in 1..4294967295, not true"),
        (
            rollback,
            {"number": 0},
            "config-rollback: number: 0 is out of range (expected uint32 in 1..4294967295)",
        ),
        (schema.rpcs["ze-api:show-peers"], {"x": 1}, "show-peers: unknown parameter 'x'"),
    ]:
        with pytest.raises(ValueError) as e:
            rpc.check(params)
        assert str(e.value) == message


PROTOCOL_MODULES = ("ze-plugin-engine", "ze-plugin-callback")


@pytest.mark.parametrize("name", PROTOCOL_MODULES)
def test_plugin_protocol_modules_pass_pyang_strict(name):
    path = yang_dir() / f"{name}.yang"
    r = subprocess.run(
        [str(PYANG), "--strict", "-p", str(yang_dir()), str(path)], capture_output=True, text=True
    )
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_plugin_protocol_rpcs_compile():
    schema = load_schema(extra=[yang_dir() / f"{n}.yang" for n in PROTOCOL_MODULES])
    assert {"ze-plugin-engine:decode-update", "ze-plugin-engine:forward-cached",
            "ze-plugin-callback:decode-nlri", "ze-plugin-callback:encode-nlri",
            "ze-plugin-callback:filter-update"} <= set(schema.rpcs)  # fmt: skip
    assert schema.rpcs["ze-plugin-callback:decode-nlri"].check(
        {"family": "ipv4/mpls-label", "hex": "00"}
    ) == {
        "family": "ipv4/mpls-label",
        "hex": "00",
    }
