"""`ze run` with plugins named in config: an in-process feature through the SDK and an external
process; `ze show plugins`, plugin commands through `ze show`, a reload a plugin rejects, and a
required plugin that fails stopping start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.functional.conftest import ZE, peers_conf, wait_for
from ze.hub.discovery import discover

REPO = Path(__file__).resolve().parents[3]
BEHAVE = f"{sys.executable} {REPO / 'tests/functional/plugins/behave.py'}"


def conf(tmp: Path, *peers: tuple[str, int]) -> str:
    return peers_conf(*peers) + (
        "plugin {\n    internal bpf-counters;\n}\n"
        f'process behave {{\n    run "ZE_TEST_MODE=reject ZE_TEST_OUT={tmp}/ev {BEHAVE}";\n    required true;\n}}\n'
    )


def plugins(d) -> dict:
    return {p["name"]: p for p in d.json("show", "plugins")["plugins"]["plugins"]}


def test_daemon_runs_plugins_commands_and_a_rejected_reload(daemon, tmp_path):
    d = daemon(conf(tmp_path, ("a", 2)))
    wait_for(
        lambda: (
            len(plugins(d)) == 2 and all(p["state"] in ("ready", "unavailable") for p in plugins(d).values())
        ),
        30,
    )
    ps = plugins(d)
    assert ps["behave"]["state"] == "ready" and ps["behave"]["kind"] == "external"
    assert ps["behave"]["commands"] == ["show behave", "behave announce"]
    bpf = ps["bpf-counters"]
    if discover()["bpf-counters"].available:
        assert (bpf["state"], bpf["bridge"], bpf["commands"]) == (
            "ready",
            "direct",
            ["show forwarding", "clear forwarding"],
        )
        # the feature's command, provided by the plugin, through `ze show`
        res = d.json("show", "forwarding")["result"]
        assert res["plugin"] == "bpf-counters" and res["data"]["state"] == "not configured"
    else:
        assert bpf["state"] == "unavailable" and bpf["last-error"]
    res = d.json("show", "behave")["result"]
    assert res == {
        "status": "done",
        "plugin": "behave",
        "data": {"events": 0, "mode": "reject", "first": True},
    }
    r = d.ze("show", "nothing-like-this")
    assert r.returncode == 1 and "no command" in r.stderr
    # human table
    r = d.ze("show", "plugins")
    assert r.returncode == 0 and "behave" in r.stdout and "ready" in r.stdout
    # `ze cli` (script mode): plugin commands are in its tree and run
    r = subprocess.run([*ZE, "cli", "--socket", str(d.sock), "--json"], input="show behave ?\nshow behave\n",
                       capture_output=True, text=True, timeout=30)  # fmt: skip
    assert '"plugin": "behave"' in r.stdout and "nothing more" in r.stdout, (r.stdout, r.stderr)
    # a reload that the plugin rejects is refused as a whole: the running config stays
    d.conf.write_text(conf(tmp_path, ("a", 2), ("reject", 3)))
    r = d.ze("signal", "reload", "--json")
    assert r.returncode == 1
    res = json.loads(r.stdout)
    assert res["status"] == "error" and res["error"] == "a plugin rejected the new config"
    assert res["data"]["problems"] == [
        "plugin behave rejected the config: this plugin refuses configs that say reject"
    ]
    assert [p["name"] for p in d.json("show", "peers")["peers"]] == ["a"]
    # one it accepts is applied
    d.conf.write_text(conf(tmp_path, ("a", 2), ("b", 3)))
    res = d.json("signal", "reload")["result"]
    assert res["status"] == "ok"
    assert [p["name"] for p in d.json("show", "peers")["peers"]] == ["a", "b"]


def test_required_plugin_failing_stops_start_up(tmp_path):
    (tmp_path / "ze.conf").write_text(
        peers_conf(("a", 2)) + 'process broken {\n    run "exit 4";\n    required true;\n}\n'
    )
    r = subprocess.run(
        [*ZE, "run", str(tmp_path / "ze.conf"), "--socket", str(tmp_path / "ze.sock")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 1
    assert (
        "ze: error: required plugin broken failed to start: exited with status 4 before connecting"
        in r.stderr
    )


def test_unknown_internal_plugin_is_a_clear_error(tmp_path):
    (tmp_path / "ze.conf").write_text(peers_conf(("a", 2)) + "plugin {\n    internal bpf-countrs;\n}\n")
    r = subprocess.run(
        [*ZE, "run", str(tmp_path / "ze.conf"), "--socket", str(tmp_path / "ze.sock")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 1
    assert "plugin internal bpf-countrs: no such feature (did you mean 'bpf-counters'?)" in r.stderr


def test_reload_adds_and_removes_plugins(daemon, tmp_path):
    base = conf(tmp_path, ("a", 2))
    d = daemon(base)
    wait_for(lambda: len(plugins(d)) == 2 and plugins(d)["behave"]["state"] == "ready", 30)
    pid = plugins(d)["behave"]["pid"]
    extra = f'process log-updates {{\n    run "{sys.executable} {REPO / "examples/plugins/log_updates.py"}";\n}}\n'
    d.conf.write_text(base + extra)
    assert d.json("signal", "reload")["result"]["status"] == "ok"
    ps = plugins(d)
    assert ps["log-updates"]["state"] == "ready" and ps["behave"]["pid"] == pid  # the others untouched
    assert d.json("show", "updates-seen")["result"]["data"]["updates"] == 0
    # an unknown internal plugin refuses the reload
    d.conf.write_text(base.replace("internal bpf-counters;", "internal bpf-countrs;") + extra)
    r = d.ze("signal", "reload", "--json")
    assert r.returncode == 1 and "no such feature" in r.stdout
    d.conf.write_text(base)
    assert d.json("signal", "reload")["result"]["status"] == "ok"
    assert "log-updates" not in plugins(d)
    r = d.ze("show", "updates-seen")
    assert r.returncode == 1 and "no command" in r.stderr
