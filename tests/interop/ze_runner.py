"""Run the ze daemon exactly as `ze run` does, plus one observer on its hub: every "bgp/update"
and "bgp/state" event is written as a JSON line to EVENTS (the update in ze's plugin event JSON,
ze.bgp.wire.render), so the interop tests read what ze itself decoded from each peer.

    python -m tests.interop.ze_runner --socket PATH --events FILE CONFIG
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from ze.bgp.wire.render import update_json
from ze.core import log as zlog
from ze.daemon import Daemon


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--log-level", default="debug")
    ap.add_argument("config")
    a = ap.parse_args(argv)
    zlog.setup(a.log_level)
    daemon = Daemon(a.config, log_level=a.log_level, socket_path=a.socket)
    daemon.load()
    out = open(a.events, "a", buffering=1)

    def on_update(topic: str, ev: Any) -> None:
        line = {"type": "update", "peer": ev.peer.name, "address": ev.peer.address}
        try:
            line["update"] = update_json(ev.update)
        except Exception as e:  # a render failure is a finding, not a crash of the observer
            line["error"] = repr(e)
        out.write(json.dumps(line) + "\n")

    def on_state(topic: str, ev: Any) -> None:
        out.write(
            json.dumps({"type": "state", "peer": ev.peer.name, "state": ev.state, "reason": ev.reason}) + "\n"
        )

    daemon.hub.subscribe("bgp/update", on_update, owner="interop")
    daemon.hub.subscribe("bgp/state", on_state, owner="interop")
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        return runner.run(daemon.run())


if __name__ == "__main__":
    sys.exit(main())
