"""A small operator/debug command line over fib-kernel until `ze show fib` is wired:
`python -m ze.fib.kernel.plugin [--netns NS] [--table T] summary|nexthops|flush|sweep|PREFIX`.
It starts a Service (which adopts what a previous run left as stale), prints, and stops without
flushing."""

from __future__ import annotations

import argparse
import json

from ze.fib.kernel import show
from ze.fib.kernel.service import KernelConfig, Service


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ze.fib.kernel.plugin")
    ap.add_argument("--netns")
    ap.add_argument("--table", default="main")
    ap.add_argument("--protocol", type=int, default=186)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("what", nargs="?", default="summary")
    a = ap.parse_args(argv)
    svc = Service(KernelConfig.from_json({"table": a.table, "protocol": a.protocol}), netns=a.netns)
    st = svc.start()
    if st["state"] != "running":
        print(json.dumps({"status": "error", "error": st.get("reason", "not running")}))
        return 1
    try:
        if a.what == "summary":
            data, text = st, show.summary_text(st)
        elif a.what == "nexthops":
            rows = show.nexthops(svc)
            data, text = rows, show.nexthops_text(rows)
        elif a.what in ("flush", "sweep"):
            data = svc.flush() if a.what == "flush" else svc.sweep()
            text = json.dumps(data)
        else:
            data = show.route(svc, a.what)
            text = show.route_text(data)
    finally:
        svc.stop()
    print(json.dumps({"status": "ok", "data": data}, indent=1) if a.json else text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
