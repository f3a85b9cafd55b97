"""`ze` entry point: dispatches to one module per command domain (ze.cli.<domain>).

Each domain module exports `add_parser(subparsers)` which registers its sub-commands and sets
`func` on them; func(args) returns the exit code (0 ok, 1 error, 2 file not found).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ze import __version__

# Command domains, each a module under ze.cli.
DOMAINS: tuple[str, ...] = ("bgp", "run", "config", "show", "schema", "signal", "shell", "plugin", "lab")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ze",
        description="ze: a plugin-first, wire-first BGP daemon for Linux routers.",
    )
    parser.add_argument("--version", action="version", version=f"ze {__version__}")
    sub = parser.add_subparsers(dest="domain", metavar="COMMAND")
    for name in DOMAINS:
        importlib.import_module(f"ze.cli.{name}").add_parser(sub)
    parser.set_defaults(commands=frozenset(sub.choices))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    from ze.cli.plugin import main_show_fallback
    from ze.cli.show import SHOW_COMMANDS

    argv = main_show_fallback(argv, SHOW_COMMANDS)  # `ze show|clear forwarding`: a plugin's command
    # `ze CONFIG` is `ze run CONFIG`.
    if argv and not argv[0].startswith("-") and argv[0] not in parser.get_default("commands"):
        argv = ["run", *argv]
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0 if args.domain is None else 1
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
