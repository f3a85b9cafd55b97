"""`ze run CONFIG` (also `ze CONFIG`): start the daemon in the foreground."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the daemon on a config file (ze CONFIG does the same)")
    p.add_argument("config", help="the config file, e.g. /etc/ze/ze.conf")
    p.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), help="override the config's level"
    )
    p.add_argument("--socket", default=None, help="control socket path (overrides environment api socket)")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    from ze.daemon import run

    return run(args.config, log_level=args.log_level, socket_path=args.socket)
