"""ze from outside: start, inspect, reload (good, changed, broken, coalesced), signals, stop."""

from __future__ import annotations

import json
import signal
import socket
import subprocess

from tests.functional.conftest import ZE, Running, peers_conf, wait_for


def test_show_commands(daemon):
    d = daemon(peers_conf(("a", 2), ("b", 3)))
    peers = d.json("show", "peers")["peers"]
    assert [(p["name"], p["remote"], p["state"]) for p in peers] == [
        ("a", {"ip": "127.0.0.2", "as": 65002}, "active"),
        ("b", {"ip": "127.0.0.3", "as": 65003}, "active"),
    ]
    peer = d.json("show", "peer", "b")["peer"]
    live = ("since", "uptime", "admin-down", "max-prefix-down", "established-count", "last-error")
    live += ("last-notification", "prefixes", "end-of-rib", "updates-received", "treat-as-withdraw")
    live += ("attribute-discard", "refreshes-received", "routes-advertised", "routes-sent", "negotiated")
    assert {k: v for k, v in peer.items() if k not in (*live, "connection")} == {
        "name": "b",
        "group": None,
        "remote": {"ip": "127.0.0.3", "as": 65003},
        "local-address": None,
        "local-as": 65000,
        "router-id": "127.0.0.1",
        "hold-time": 90,
        "families": ["ipv4/unicast"],
        "md5-password": None,
        "ttl-security": None,
        "passive": True,
        "port": 179,
        "state": "active",
    }
    r = d.ze("show", "peer", "c")
    assert (r.returncode, r.stderr) == (1, "ze: error: no peer 'c'\n")
    r = d.ze("show", "peer", "bb", "--json")
    assert json.loads(r.stdout) == {
        "status": "error",
        "error": "no peer 'bb' (did you mean 'b'?)",
        "data": {"code": "not-found"},
    }
    cfg = d.json("show", "config")["config"]
    assert cfg["config"]["bgp"]["peer"]["a"] == {"remote": {"ip": "127.0.0.2", "as": 65002}}
    assert cfg["text"].startswith("environment {\n    log {\n        level info;\n")
    st = d.json("show", "status")["status"]
    assert (st["pid"], st["config"], st["socket"], st["peers"]) == (d.proc.pid, str(d.conf), str(d.sock), 2)
    methods = [m["name"] for m in d.json("schema", "methods")["methods"]]
    assert {"ze-api:signal-reload", "ze-api:update-route", "ze-api:peer-stop", "ze-api:show-plugins"} <= set(
        methods
    )
    # the core modules first, then those of the features discovery found
    assert [m["name"] for m in d.json("schema", "list")["modules"]][:5] == [
        "ze-types",
        "ze-environment",
        "ze-bgp",
        "ze-plugin",
        "ze-api",
    ]
    # Human output is an aligned table.
    r = d.ze("show", "peers")
    assert r.returncode == 0
    assert ["a", "-", "127.0.0.2", "65002", "65000", "-", "90", "ipv4/unicast", "active"] in [
        line.split() for line in r.stdout.splitlines()
    ]


def test_socket_speaks_the_line_protocol(daemon):
    d = daemon(peers_conf(("a", 2)))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(d.sock))
    s.sendall(
        b'#1 ze-api:show-peer {"name":"a"}\n#2 nonsense\nxx\n#3 ze-api:show-peer {}\n#4 ze-api:show-status\n'
    )
    buf = b""
    while buf.count(b"\n") < 5:
        buf += s.recv(65536)
    s.close()
    lines = buf.decode().splitlines()
    assert lines[0].startswith('#1 ok {"peer":{"name":"a",')
    assert lines[1] == '#2 error {"code":"unknown-method","message":"no method nonsense"}'
    assert lines[2] == '#0 error {"code":"bad-line","message":"a line starts with \'#<id> \'"}'
    assert lines[3] == '#3 error {"code":"bad-params","message":"show-peer: missing parameter \'name\'"}'
    assert lines[4].startswith('#4 ok {"status":{"pid":')
    assert d.proc.poll() is None


def test_reload_adds_and_removes_peers(daemon):
    d = daemon(peers_conf(("a", 2), ("b", 3), ("c", 4)))
    since = {p["name"]: p["since"] for p in d.json("show", "peers")["peers"]}
    d.conf.write_text(peers_conf(("b", 3), ("c", 4), ("e", 6)))
    result = d.json("signal", "reload")["result"]
    assert (result["status"], result["changed"]) == ("ok", True)
    assert result["diff"] == {
        "added": ["e"],
        "removed": ["a"],
        "changed": [],
        "unchanged": ["b", "c"],
        "sections": [],
    }
    peers = {p["name"]: p for p in d.json("show", "peers")["peers"]}
    assert list(peers) == ["b", "c", "e"]
    assert (peers["b"]["since"], peers["c"]["since"]) == (since["b"], since["c"])  # untouched
    # SIGHUP does the same: peer c changes its AS.
    d.conf.write_text(
        peers_conf(("b", 3), ("e", 6)).replace("peer e", "peer c { remote { ip 127.0.0.4; as 1; } }\n peer e")
    )
    d.signal(signal.SIGHUP)
    wait_for(lambda: d.json("show", "status")["status"]["reloads"]["ok"] == 2)
    assert d.json("show", "peer", "c")["peer"]["remote"] == {"ip": "127.0.0.4", "as": 1}
    logs = d.logs()
    assert {"peer added", "peer removed", "peer changed"} <= {entry.get("message") for entry in logs}
    r = d.ze("signal", "reload")
    assert (r.returncode, r.stdout) == (0, "reloaded: nothing changed\n")


def test_broken_reload_keeps_running_config(daemon):
    d = daemon(peers_conf(("a", 2)))
    before = d.json("show", "config")["config"]["text"]
    d.conf.write_text("bgp {\n    router-id 127.0.0.1;\n    hold-tme 90;\n}\n")
    r = d.ze("signal", "reload")
    assert r.returncode == 1
    assert r.stderr == (
        f"ze: error: reload failed, running config kept: 1 problem(s) in {d.conf}\n"
        f"ze: error: {d.conf}:3:5: unknown key 'hold-tme' in bgp (did you mean 'hold-time'?)\n"
    )
    assert d.proc.poll() is None
    assert d.json("show", "config")["config"]["text"] == before
    assert [p["name"] for p in d.json("show", "peers")["peers"]] == ["a"]
    errors = [e for e in d.logs() if e.get("level") == "error"]
    assert errors[-1]["message"] == "reload failed; keeping the running config"
    assert errors[-1]["problems"] == [
        f"{d.conf}:3:5: unknown key 'hold-tme' in bgp (did you mean 'hold-time'?)"
    ]
    st = d.json("show", "status")["status"]
    assert (st["reloads"]["failed"], st["last-reload"]["status"]) == (1, "error")


def test_rapid_sighups_coalesce(daemon):
    d = daemon(peers_conf(("a", 2)))
    d.conf.write_text(peers_conf(("a", 2), ("b", 3)))
    for _ in range(10):
        d.signal(signal.SIGHUP)
    wait_for(lambda: d.json("show", "status")["status"]["reloads"]["ok"] >= 1)
    st = d.json("show", "status")["status"]
    # One reload applied the change; a loaded machine may spread the signals over more than
    # one coalescing window, but never one reload per signal (the exact count is a unit test).
    assert (st["reloads"]["ok"], st["reloads"]["failed"]) == (1, 0)
    reloads = [e.get("message") for e in d.logs()].count("reloading")
    assert reloads == 1 + st["reloads"]["unchanged"] and reloads < 10


def test_sigusr1_dumps_status_and_sigterm_stops(daemon):
    d = daemon(peers_conf(("a", 2)))
    d.signal(signal.SIGUSR1)
    dump = wait_for(lambda: [e for e in d.logs() if e.get("message") == "status"])
    assert (dump[0]["pid"], dump[0]["peers"], dump[0]["peer-states"]) == (d.proc.pid, 1, {"a": "active"})
    d.signal(signal.SIGTERM)
    assert d.proc.wait(timeout=10) == 0
    assert not d.sock.exists()
    assert d.logs()[-1]["message"] == "ze stopped"


def test_signal_stop_and_status_through_socket(daemon):
    d = daemon(peers_conf(("a", 2)))
    st = d.json("signal", "status")["status"]
    assert st["pid"] == d.proc.pid
    assert wait_for(lambda: [e for e in d.logs() if e.get("message") == "status"])
    assert d.json("signal", "stop") == {"stopping": True}
    assert d.proc.wait(timeout=10) == 0
    r = d.ze("show", "peers")
    assert (r.returncode, r.stderr) == (1, f"ze: error: ze is not running (no control socket at {d.sock})\n")


def test_second_daemon_is_refused_and_stale_socket_taken_over(daemon, tmp_path):
    d = daemon(peers_conf(("a", 2)))
    r = subprocess.run(
        [*ZE, str(d.conf), "--socket", str(d.sock)], capture_output=True, text=True, timeout=20
    )
    assert r.returncode == 1
    assert r.stderr.endswith(
        f"ze: error: {d.sock} is in use: another ze is running and answers on it; stop it (ze signal stop) "
        "or give this one another socket (--socket or environment api socket)\n"
    )
    assert d.json("show", "status")["status"]["pid"] == d.proc.pid
    d.signal(signal.SIGKILL)  # dies without removing its socket
    d.proc.wait(timeout=10)
    assert d.sock.exists()
    again = Running(tmp_path, peers_conf(("b", 3))).start()
    try:
        assert [p["name"] for p in again.json("show", "peers")["peers"]] == ["b"]
    finally:
        again.stop()


def test_run_errors(tmp_path):
    r = subprocess.run([*ZE, "run", str(tmp_path / "none.conf")], capture_output=True, text=True, timeout=20)
    assert (r.returncode, r.stderr) == (2, f"ze: error: {tmp_path / 'none.conf'}: no such file\n")
    bad = tmp_path / "bad.conf"
    bad.write_text("bgp { local-as 0; }\n")
    r = subprocess.run([*ZE, str(bad)], capture_output=True, text=True, timeout=20)
    assert (r.returncode, r.stderr) == (
        1,
        f"ze: error: {bad}:1:16: local-as: 0 is out of range (expected as-number in 1..4294967295)\n",
    )
    assert "Traceback" not in r.stderr


def test_reload_archives_and_rollback(daemon):
    d = daemon(peers_conf(("a", 2)))
    assert d.json("config", "history") == {"commits": []}
    d.conf.write_text(peers_conf(("a", 2), ("b", 3)))
    d.json("signal", "reload")
    d.conf.write_text(peers_conf(("c", 4)))
    d.json("signal", "reload")
    commits = d.json("config", "history")["commits"]
    assert [(c["number"], c["comment"]) for c in commits] == [(1, "reload"), (2, "before the first commit")]
    result = d.json("config", "rollback", "2")["result"]
    assert result["diff"] == {
        "added": ["a"],
        "removed": ["c"],
        "changed": [],
        "unchanged": [],
        "sections": [],
    }
    assert [p["name"] for p in d.json("show", "peers")["peers"]] == ["a"]
    assert d.conf.read_text() == peers_conf(("a", 2))
    r = d.ze("config", "rollback", "9")
    assert (r.returncode, r.stderr) == (1, "ze: error: no commit 9 to roll back to (the archive has 3)\n")
    r = d.ze("config", "history")
    assert [line.split()[0] for line in r.stdout.splitlines()[2:]] == ["1", "2", "3"]
