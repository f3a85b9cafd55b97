"""`ze config validate FILE`, `ze config show FILE [--json]`: offline config tools."""

from __future__ import annotations

import argparse
from typing import Any

from ze.cli import output
from ze.cli.remote import add_client_args, request
from ze.config.errors import ConfigProblems
from ze.config.resolve import Config, load_config
from ze.core.errors import ConfigError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="check and show config files")
    csub = p.add_subparsers(dest="config_command", metavar="COMMAND")
    p.set_defaults(func=lambda a: (p.print_help(), 1)[1])
    v = csub.add_parser("validate", help="parse and check a config file; report every problem")
    v.add_argument("file")
    v.add_argument("--json", action="store_true", help="JSON envelope output")
    v.add_argument(
        "--yang",
        action="append",
        default=[],
        metavar="FILE",
        help="an external plugin's YANG module (as it declares it): its block is checked too",
    )
    v.set_defaults(func=cmd_validate)
    s = csub.add_parser("show", help="show a config file as resolved (peers with inherited values)")
    s.add_argument("file")
    s.add_argument("--json", action="store_true", help="JSON envelope output")
    s.add_argument("--text", action="store_true", help="the config as canonical text")
    s.set_defaults(func=cmd_show)
    h = csub.add_parser("history", help="the running daemon's commit archive (newest first)")
    add_client_args(h)
    h.set_defaults(func=cmd_history)
    r = csub.add_parser("rollback", help="make archived commit N the running config (1 = the previous one)")
    r.add_argument("number", type=int)
    add_client_args(r)
    r.set_defaults(func=cmd_rollback)


def full_schema(plugin_yang: list[str] | tuple[str, ...] = ()) -> Any:
    """The core YANG modules plus those of every feature found (as the daemon loads them), so
    `ze config validate` accepts exactly what `ze run` accepts (fib, bpf, rib ... blocks), and
    external plugins' modules given with --yang."""
    from ze.config.schema import load_schema
    from ze.hub.discovery import discover, yang_files

    return load_schema(extra=[*yang_files(discover()), *plugin_yang])


def load(
    path: str, as_json: bool, plugin_yang: list[str] | tuple[str, ...] = ()
) -> tuple[Config | None, int]:
    """The config, or (None, exit code) after reporting why not."""
    try:
        return load_config(path, full_schema(plugin_yang)), 0
    except FileNotFoundError:
        return None, output.error(f"{path}: no such file", as_json, code=2)
    except IsADirectoryError:
        return None, output.error(f"{path}: is a directory", as_json, code=2)
    except PermissionError:
        return None, output.error(f"{path}: permission denied", as_json)
    except ConfigProblems as e:
        if as_json:
            return None, output.error(
                f"{len(e.problems)} problem(s) in {path}",
                True,
                data={"problems": [p.to_dict() for p in e.problems]},
            )
        for line in str(e).splitlines():
            output.error(line, False)
        return None, 1
    except ConfigError as e:
        return None, output.error(str(e), as_json)


def cmd_validate(args: argparse.Namespace) -> int:
    cfg, code = load(args.file, args.json, args.yang)
    if cfg is None:
        return code
    data: dict[str, Any] = {"file": args.file, "valid": True, "peers": len(cfg.peers)}
    if cfg.deferred:  # top-level blocks only an external plugin's YANG can check (ze run does)
        data["left-to-plugins"] = [{"root": r, "at": str(loc)} for r, loc in cfg.deferred.items()]

    def human(d: dict) -> None:
        print(f"{d['file']}: ok ({d['peers']} peers)")
        left = d.get("left-to-plugins")
        if left:
            where = ", ".join(f"{x['root']} ({x['at']})" for x in left)
            print(
                f"left to plugins: {where}: checked when a plugin declares their YANG (or give --yang FILE)"
            )

    return output.ok(data, args.json, human)


PEER_COLUMNS = (
    "peer",
    "group",
    "remote-ip",
    "remote-as",
    "local-as",
    "local-address",
    "hold",
    "families",
    "state",
)


def peer_row(p: dict[str, Any]) -> tuple:
    """A configured peer as a row under PEER_COLUMNS."""
    return (
        p["name"],
        p["group"],
        p["remote"]["ip"],
        p["remote"]["as"],
        p["local-as"],
        p.get("local-address"),
        p["hold-time"],
        " ".join(p["families"]),
        p.get("state", "configured"),
    )


def print_peers(peers: list[dict[str, Any]]) -> None:
    output.table(None, PEER_COLUMNS, [peer_row(p) for p in peers])


def cmd_show(args: argparse.Namespace) -> int:
    cfg, code = load(args.file, args.json)
    if cfg is None:
        return code
    if args.text and not args.json:
        print(cfg.render(), end="")
        return 0
    data = cfg.to_dict()

    def human(d: dict) -> None:
        print(cfg.render(), end="")
        print()
        print_peers(d["peers"])

    return output.ok(data, args.json, human)


def cmd_history(args: argparse.Namespace) -> int:
    data, code = request(args, "ze-api:config-history")
    if code:
        return code
    rows = [(c["number"], c["time"], c["comment"]) for c in data["commits"]]
    return output.ok(data, args.json, lambda d: output.table(None, ("number", "time", "comment"), rows))


def cmd_rollback(args: argparse.Namespace) -> int:
    data, code = request(args, "ze-api:config-rollback", {"number": args.number})
    if code:
        return code
    from ze.cli.signal import print_reload

    return output.ok(data, args.json, print_reload)
