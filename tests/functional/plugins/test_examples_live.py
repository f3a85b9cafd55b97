"""The plugin author's promise, end to end: ze runs the two example plugins from examples/plugins
(a Python one with the SDK and a bash + openssl + jq one with no ze library at all), a live BGP
peer sends UPDATEs over a real session, and both plugins count what they received and answer
their commands through `ze show ...`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.functional.conftest import wait_for
from tests.functional.speaker.lab import free_port, start, unique_net
from tests.functional.speaker.rawpeer import RawPeer
from ze.bgp.wire.text import encode_text

REPO = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(
    shutil.which("jq") is None or shutil.which("openssl") is None,
    reason="jq and openssl are needed by the bash example (scripts/bootstrap installs them)",
)


def conf(me: str, them: str, port: int) -> str:
    return (
        "environment { log { level info; } }\n"
        f"bgp {{ router-id {me}; local-as 65001; listen {{ ip {me}; port {port}; }}\n"
        f"  peer p {{ remote {{ ip {them}; as 65002; }} passive true; hold-time 30; }} }}\n"
        f'process log-updates {{ run "{sys.executable} {REPO / "examples/plugins/log_updates.py"}"; }}\n'
        f'process count-updates {{ run "{REPO / "examples/plugins/count_updates.sh"}"; }}\n'
    )


def test_python_and_bash_examples_get_live_updates_and_answer_commands(tmp_path):
    net = unique_net()
    me, them = f"127.{net}.7.1", f"127.{net}.7.2"
    port = free_port(me)
    d = start(tmp_path, "ze", conf(me, them, port))
    p = RawPeer(me, port, local=them, asn=65002, peer_as=65001, hold_time=30)
    try:

        def ready() -> bool:
            plugins = d.json("show", "plugins")["plugins"]["plugins"]
            return len(plugins) == 2 and all(x["state"] == "ready" for x in plugins)

        wait_for(ready, 60)
        p.open_session()
        p.keepalives(2)
        for i in range(5):  # 5 UPDATEs, 3 prefixes each, over the live session
            prefixes = " ".join(f"10.{i}.{j}.0/24" for j in range(3))
            for msg in encode_text(
                f"update text origin set igp nhop set {them} as-path set [65002] nlri ipv4/unicast add {prefixes}"
            ):
                p.send(msg)

        def seen(command: str) -> dict | None:
            r = d.ze("show", *command.split(), "--json")
            if r.returncode:
                return None
            import json

            data = json.loads(r.stdout)["data"]
            return data.get("result", data).get("data", data)

        py = wait_for(lambda: (s := seen("updates-seen")) and s.get("prefixes") == 15 and s, 30)
        assert py["updates"] == 5 and py["peers"] == [them], py
        sh = wait_for(lambda: (s := seen("update-count")) and s.get("prefixes") == 15 and s, 30)
        assert sh == {"updates": 5, "prefixes": 15}, sh
    finally:
        p.close()
        d.stop()
