"""`ze config validate` and `ze config show`, run as the operator runs them."""

from __future__ import annotations

import json
import subprocess
import sys

ZE = [sys.executable, "-m", "ze.cli.main"]

GOOD = "bgp { router-id 192.0.2.1; local-as 65001; peer a { remote { ip 192.0.2.2; as 65002; } } }\n"


def ze(*args):
    return subprocess.run([*ZE, *args], capture_output=True, text=True, timeout=30)


def test_validate_ok(tmp_path):
    f = tmp_path / "ze.conf"
    f.write_text(GOOD)
    r = ze("config", "validate", str(f))
    assert (r.returncode, r.stdout, r.stderr) == (0, f"{f}: ok (1 peers)\n", "")
    r = ze("config", "validate", "--json", str(f))
    assert json.loads(r.stdout) == {"status": "ok", "data": {"file": str(f), "valid": True, "peers": 1}}


def test_validate_errors(tmp_path):
    f = tmp_path / "ze.conf"
    f.write_text("bgp {\n  hold-tim 90;\n}\n")
    r = ze("config", "validate", str(f))
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == f"ze: error: {f}:2:3: unknown key 'hold-tim' in bgp (did you mean 'hold-time'?)\n"
    r = ze("config", "validate", "--json", str(f))
    assert r.returncode == 1
    assert json.loads(r.stdout) == {
        "status": "error",
        "error": f"1 problem(s) in {f}",
        "data": {
            "problems": [
                {
                    "message": "unknown key 'hold-tim' in bgp (did you mean 'hold-time'?)",
                    "file": str(f),
                    "line": 2,
                    "column": 3,
                }
            ]
        },
    }


def test_missing_file_exit_2(tmp_path):
    r = ze("config", "validate", str(tmp_path / "nope.conf"))
    assert (r.returncode, r.stderr) == (2, f"ze: error: {tmp_path / 'nope.conf'}: no such file\n")
    r = ze("config", "show", "--json", str(tmp_path / "nope.conf"))
    assert r.returncode == 2
    assert json.loads(r.stdout) == {"status": "error", "error": f"{tmp_path / 'nope.conf'}: no such file"}


def test_show_json(tmp_path):
    f = tmp_path / "ze.conf"
    f.write_text(GOOD)
    r = ze("config", "show", "--json", str(f))
    assert r.returncode == 0
    data = json.loads(r.stdout)["data"]
    assert data["config"] == {
        "bgp": {
            "router-id": "192.0.2.1",
            "local-as": 65001,
            "peer": {"a": {"remote": {"ip": "192.0.2.2", "as": 65002}}},
        }
    }
    assert [p["name"] for p in data["peers"]] == ["a"]
    assert data["peers"][0]["hold-time"] == 90
    assert data["environment"] == {"log-level": "info", "api-socket": "/run/ze/ze.sock", "api-mode": "0660"}


def test_show_text_and_table(tmp_path):
    f = tmp_path / "ze.conf"
    f.write_text(GOOD)
    r = ze("config", "show", "--text", str(f))
    assert r.stdout == (
        "bgp {\n    local-as 65001;\n    router-id 192.0.2.1;\n    peer a {\n        remote {\n"
        "            ip 192.0.2.2;\n            as 65002;\n        }\n    }\n}\n"
    )
    r = ze("config", "show", str(f))
    rows = [line.split() for line in r.stdout.splitlines()]
    assert ["a", "-", "192.0.2.2", "65002", "65001", "-", "90", "ipv4/unicast", "configured"] in rows
