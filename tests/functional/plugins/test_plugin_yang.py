"""`ze run` with examples/plugins/labels.py over its real TLS connection: the plugin's own YANG
(declared in declare-registration) validates its `labels { }` block at start and on reload with
file:line:column problems, the plugin gets the block parsed and typed in configure and
config-apply; decode-update (plugin -> ze) with ze asking the plugin back to decode-nlri."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.functional.conftest import ZE, peers_conf, wait_for

REPO = Path(__file__).resolve().parents[3]
LABELS = f"{sys.executable} {REPO / 'examples/plugins/labels.py'}"
# ORIGIN igp, empty AS_PATH, MP_REACH_NLRI ipv4/mpls-label next hop 192.0.2.1, 10.0.0.0/24 label 300
LABELLED = "0000001A40010100400200800E1000010404C000020100300012C10A0000"


def conf(labels: str, required: bool = True) -> str:
    return (
        peers_conf(("a", 2))
        + f"labels {{\n{labels}\n}}\n"
        + f'process labels {{\n    run "{LABELS}";\n    required {str(required).lower()};\n}}\n'
    )


def shown(d) -> dict:
    return d.json("show", "labels")["result"]["data"]


def ready(d) -> bool:
    ps = d.json("show", "plugins")["plugins"]["plugins"]
    return bool(ps) and ps[0]["state"] == "ready"


def test_plugin_yang_validates_its_block_and_the_plugin_gets_it_typed(daemon):
    d = daemon(conf("    base 100;\n    reserve lo { label 200; }"))
    wait_for(lambda: ready(d), 30)
    assert shown(d)["config"] == {"base": 100, "reserve": {"lo": {"label": 200}}}
    # the plugin's block is part of the running config (rendered through the merged schema)
    text = d.json("show", "config")["config"]["text"]
    assert "labels {\n    base 100;" in text
    # a value its YANG refuses: the reload is refused with file:line:column, nothing changes
    d.conf.write_text(conf("    base 5;\n    reserve lo { label 200; }"))
    r = d.ze("signal", "reload", "--json")
    assert r.returncode == 1
    problems = json.loads(r.stdout)["data"]["problems"]
    assert problems == [f"{d.conf}:10:10: base: 5 is out of range (expected label in 16..1048575)"]
    d.conf.write_text(conf("    base 100;\n    reserve lo { lable 200; }"))
    problems = json.loads(d.ze("signal", "reload", "--json").stdout)["data"]["problems"]
    assert problems == [
        f"{d.conf}:11:5: reserve 'lo' is missing mandatory 'label'",
        f"{d.conf}:11:18: unknown key 'lable' in labels reserve lo (did you mean 'label'?)",
    ]
    assert shown(d)["config"]["base"] == 100
    # the plugin's own check (config-verify) refuses what YANG cannot judge
    d.conf.write_text(conf("    base 300;\n    reserve lo { label 200; }"))
    res = json.loads(d.ze("signal", "reload", "--json").stdout)
    assert res["data"]["problems"] == [
        "plugin labels rejected the config: reserve lo: label 200 is outside 300..1299"
    ]
    # a good one is applied: config-apply carries the new block, typed
    d.conf.write_text(conf("    base 150;\n    size 100;\n    reserve lo { label 200; }"))
    assert d.json("signal", "reload")["result"]["status"] == "ok"
    assert shown(d)["config"] == {"base": 150, "size": 100, "reserve": {"lo": {"label": 200}}}


def test_decode_update_with_the_plugin_decoding_its_family(daemon):
    d = daemon(conf("    base 100;"))
    wait_for(lambda: ready(d), 30)
    res = d.json("plugin", "command", "labels", "decode", LABELLED)["result"]["data"]
    assert res["update"] == {
        "attr": {"origin": "igp", "as-path": []},
        "nlri": {
            "ipv4/mpls-label": [{"next-hop": "192.0.2.1", "action": "add", "nlri": ["10.0.0.0/24 label 300"]}]
        },
    }
    assert shown(d)["decoded"] == 1  # ze asked the plugin (decode-nlri) while it waited on ze
    r = d.ze("plugin", "command", "labels", "decode", "00FF")
    assert r.returncode == 1 and "malformed UPDATE" in r.stderr, (r.stdout, r.stderr)


def run_ze(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    (tmp_path / "ze.conf").write_text(text)
    return subprocess.run(
        [*ZE, "run", str(tmp_path / "ze.conf"), "--socket", str(tmp_path / "ze.sock")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_bad_plugin_block_stops_start_up_with_file_line(tmp_path):
    r = run_ze(tmp_path, conf("    base 5;"))
    assert r.returncode == 1, r.stderr
    assert (
        f"ze: error: required plugin labels failed to start: config: {tmp_path / 'ze.conf'}:10:10: "
        "base: 5 is out of range (expected label in 16..1048575)"
    ) in r.stderr


def test_a_block_no_plugin_defines_stops_start_up(tmp_path):
    text = conf("    base 100;") + "labelz {\n    base 1;\n}\n"
    r = run_ze(tmp_path, text)
    assert r.returncode == 1, r.stderr
    assert (
        f"ze: error: {tmp_path / 'ze.conf'}:16:1: unknown key 'labelz' in the top level "
        "(did you mean 'labels'?) (no plugin declared a YANG module defining it)"
    ) in r.stderr


def test_config_validate_says_which_blocks_are_left_to_plugins(tmp_path):
    (tmp_path / "ze.conf").write_text(conf("    base 5;"))
    r = subprocess.run([*ZE, "config", "validate", str(tmp_path / "ze.conf")], capture_output=True, text=True)
    assert r.returncode == 0 and "left to plugins: labels" in r.stdout, (r.stdout, r.stderr)
    yang = REPO / "examples/plugins/labels.yang"
    r = subprocess.run([*ZE, "config", "validate", str(tmp_path / "ze.conf"), "--yang", str(yang)],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 1
    assert f"{tmp_path / 'ze.conf'}:10:10: base: 5 is out of range" in r.stderr


def test_plugin_validate_checks_the_plugins_yang_and_a_config(tmp_path):
    r = subprocess.run([*ZE, "plugin", "validate", LABELS], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "schema: module example-labels (compiles; roots labels)" in r.stdout, (
        r.stderr
    )
    (tmp_path / "ze.conf").write_text(conf("    base 5;"))
    r = subprocess.run([*ZE, "plugin", "validate", LABELS, "--config", str(tmp_path / "ze.conf")],
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 1
    assert f"config: {tmp_path / 'ze.conf'}:10:10: base: 5 is out of range" in r.stderr


def test_bgp_decode_with_a_plugin_decoding_its_family():
    r = subprocess.run([*ZE, "bgp", "decode", LABELLED, "--plugin", LABELS, "--json"],
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    entry = json.loads(r.stdout)["bgp"]["update"]["nlri"]["ipv4/mpls-label"][0]
    assert entry == {"next-hop": "192.0.2.1", "action": "add", "nlri": ["10.0.0.0/24 label 300"]}
    r = subprocess.run(
        [*ZE, "bgp", "decode", LABELLED, "--plugin", LABELS], capture_output=True, text=True, timeout=60
    )
    assert "nlri ipv4/mpls-label add next-hop 192.0.2.1 10.0.0.0/24 label 300" in r.stdout, r.stderr
    r = subprocess.run(
        [*ZE, "bgp", "decode", LABELLED, "--plugin", "exit 3"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 1 and "--plugin: required plugin decoder-0 failed to start" in r.stderr
