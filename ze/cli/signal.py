"""`ze signal reload|stop|status`: what SIGHUP, SIGTERM and SIGUSR1 do, through the socket."""

from __future__ import annotations

import argparse

from ze.cli import output
from ze.cli.remote import add_client_args, request


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("signal", help="reload, stop, or dump the status of the running daemon")
    ssub = p.add_subparsers(dest="signal_command", metavar="SIGNAL")
    p.set_defaults(func=lambda a: (p.print_help(), 1)[1])
    for name, helptext, func in (
        (
            "reload",
            "reload the config file (as SIGHUP); prints the peers added, removed, changed",
            cmd_reload,
        ),
        ("stop", "stop gracefully (as SIGTERM)", cmd_stop),
        ("status", "write a status dump to the log (as SIGUSR1) and print it", cmd_status),
    ):
        s = ssub.add_parser(name, help=helptext)
        add_client_args(s)
        s.set_defaults(func=func)


def cmd_reload(args: argparse.Namespace) -> int:
    data, code = request(args, "ze-api:signal-reload")
    if code:
        return code
    result = data["result"]
    if result.get("status") == "error":
        # The daemon keeps running on its old config; the reload itself failed.
        if args.json:
            return output.error(result["error"], True, data=result)
        output.error(f"reload failed, running config kept: {result['error']}", False)
        for p in result.get("problems", []):
            output.error(p, False)
        return 1

    return output.ok(data, args.json, print_reload)


def print_reload(d: dict) -> None:
    r = d["result"]
    if not r.get("changed"):
        print("reloaded: nothing changed")
        return
    diff = r["diff"]
    rows = [(k, " ".join(diff[k]) or "-") for k in ("added", "removed", "changed", "sections")]
    output.keyvalues("reloaded", rows)


def cmd_stop(args: argparse.Namespace) -> int:
    data, code = request(args, "ze-api:signal-stop")
    if code:
        return code
    return output.ok(data, args.json, lambda d: print("stopping"))


def cmd_status(args: argparse.Namespace) -> int:
    data, code = request(args, "ze-api:signal-status")
    if code:
        return code
    from ze.cli.show import _flatten

    def human(d: dict) -> None:
        st = dict(d["status"])
        st.pop("hub", None)
        output.keyvalues("ze status (also written to the log)", _flatten(st))

    return output.ok(data, args.json, human)
