"""`ze show peers|peer NAME|config|status`: ask the running daemon."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ze.cli import output
from ze.cli.config import PEER_COLUMNS, peer_row, print_peers
from ze.cli.remote import add_client_args, request

SHOW_COMMANDS = {"peers", "config", "status", "peer", "plugins"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="show the running daemon's peers, config, status")
    ssub = p.add_subparsers(dest="show_command", metavar="WHAT")
    p.set_defaults(func=lambda a: (p.print_help(), 1)[1])
    for name, helptext, func in (
        ("peers", "every configured peer and its state", cmd_peers),
        ("config", "the running configuration", cmd_config),
        ("status", "the daemon: pid, uptime, reloads, peers", cmd_status),
    ):
        s = ssub.add_parser(name, help=helptext)
        add_client_args(s)
        s.set_defaults(func=func)
    s = ssub.add_parser("plugins", help="plugins: state, restarts, queue depth and bound, last error")
    add_client_args(s)
    s.set_defaults(func=cmd_plugins)
    s = ssub.add_parser("peer", help="one peer with its resolved settings")
    s.add_argument("name")
    s.add_argument(
        "what",
        nargs="*",
        help="'routes received|advertised [FAMILY]': from a RIB plugin when one is loaded (else the received prefixes)",
    )
    add_client_args(s)
    s.set_defaults(func=cmd_peer)


def cmd_peers(args: argparse.Namespace) -> int:
    data, code = request(args, "ze-api:show-peers")
    if code:
        return code
    return output.ok(data, args.json, lambda d: print_sessions(d["peers"]))


def _uptime(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    s = int(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{d}d{h:02d}h{m:02d}m" if d else f"{h:02d}:{m:02d}:{s:02d}"


def print_sessions(peers: list[dict[str, Any]]) -> None:
    """The configured peers with their live session: state, uptime, prefixes received."""
    if not peers or "uptime" not in peers[0]:
        print_peers(peers)
        return
    rows = []
    for p in peers:
        pre = p.get("prefixes") or {}
        received = sum(f.get("received", 0) for f in pre.values()) if pre else None
        rows.append(
            (*peer_row(p), _uptime(p.get("uptime")), received, (p.get("last-error") or "")[:40] or None)
        )
    output.table(None, (*PEER_COLUMNS, "uptime", "received", "last-error"), rows)


def _flatten(obj: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(obj, dict):
        out = []
        for k, v in obj.items():
            out.extend(_flatten(v, f"{prefix}{k}" if not prefix else f"{prefix}.{k}"))
        return out
    if isinstance(obj, list):
        return [(prefix, " ".join(str(v) if not isinstance(v, dict) else json.dumps(v) for v in obj))]
    return [(prefix, obj)]


PEER_ROUTES = "show peer-routes"  # the command a RIB plugin registers for `show peer NAME routes ...`


def _plugin_peer_routes(args: argparse.Namespace, words: list[str]) -> int | None:
    """`show peer NAME routes received|advertised ...` answered by the plugin that registers
    PEER_ROUTES (the RIB plugin); None when no plugin provides it (the daemon's count then)."""
    from ze.api.client import RemoteError, Unreachable, call

    wire = [args.name, *words, *(["--json"] if args.json else [])]
    try:
        command = " ".join([PEER_ROUTES, *wire])  # the words after the command's name are its args
        data = call("ze-api:plugin-command", {"command": command}, path=args.socket)
    except Unreachable as e:
        return output.error(str(e), args.json)
    except RemoteError as e:
        if e.code == "unknown-command":
            return None
        return output.error(e.message, args.json, data={"code": e.code})
    rows = (data.get("result") or {}).get("data") or []
    if not isinstance(rows, list):  # "not configured" and the like
        return output.ok(rows, args.json, lambda d: print(output.dumps(d)))
    if args.json:
        summary = next(
            (r for r in reversed(rows) if isinstance(r, dict) and "peer" in r and "prefix" not in r), {}
        )
        routes = [r for r in rows if isinstance(r, dict) and "prefix" in r]
        return output.ok({**summary, "routes": routes}, True)
    for line in rows:
        print(line if isinstance(line, str) else output.dumps(line))
    return 0


def cmd_peer(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {"name": args.name}
    words = list(getattr(args, "what", None) or [])
    if words[:1] == ["routes"] and len(words) >= 2:
        code = _plugin_peer_routes(args, words)
        if code is not None:
            return code
    what = " ".join(words)
    if what not in ("", "routes", "routes received"):
        return output.error(
            f"show peer NAME {what}: expected 'routes received' ('advertised' needs a RIB plugin)",
            args.json,
        )
    routes = bool(what)
    if routes:
        params["routes"] = True
    data, code = request(args, "ze-api:show-peer", params)
    if code:
        return code
    if routes:

        def human(d: dict) -> None:
            for fam, prefixes in d["routes-received"].items():
                for p in prefixes:
                    print(f"{fam} {p}")

        return output.ok({"routes-received": data["peer"].get("routes-received", {})}, args.json, human)
    return output.ok(data, args.json, lambda d: output.keyvalues(f"peer {args.name}", _flatten(d["peer"])))


def cmd_config(args: argparse.Namespace) -> int:
    data, code = request(args, "ze-api:show-config")
    if code:
        return code
    return output.ok(data, args.json, lambda d: print(d["config"]["text"], end=""))


def cmd_status(args: argparse.Namespace) -> int:
    data, code = request(args, "ze-api:show-status")
    if code:
        return code

    def human(d: dict) -> None:
        st = dict(d["status"])
        st.pop("hub", None)
        output.keyvalues("ze status", _flatten(st))

    return output.ok(data, args.json, human)


def cmd_plugins(args: argparse.Namespace) -> int:
    from ze.cli.plugin import cmd_list

    return cmd_list(args)
