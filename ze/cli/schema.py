"""`ze schema list|methods`: the YANG modules and the control-API methods.

Asked of the running daemon (which knows the modules features added); with no daemon
running, the core modules are loaded locally.
"""

from __future__ import annotations

import argparse
from typing import Any

from ze.api.client import Unreachable
from ze.cli import output
from ze.cli.remote import add_client_args, request


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schema", help="the YANG modules and API methods")
    ssub = p.add_subparsers(dest="schema_command", metavar="WHAT")
    p.set_defaults(func=lambda a: (p.print_help(), 1)[1])
    s = ssub.add_parser("list", help="the YANG modules loaded")
    add_client_args(s)
    s.set_defaults(func=cmd_list)
    s = ssub.add_parser("methods", help="the methods of the control API (ze-api.yang)")
    add_client_args(s)
    s.set_defaults(func=cmd_methods)


def _local(method: str) -> dict[str, Any]:
    from ze.config.schema import load_schema

    schema = load_schema()
    if method == "ze-api:schema-list":
        return {"modules": [m.to_dict() for m in schema.modules]}
    return {"methods": [r.to_dict() for r in schema.rpcs.values()]}


def _get(args: argparse.Namespace, method: str) -> tuple[Any, int]:
    from ze.api.client import call

    try:
        return call(method, None, path=args.socket), 0
    except Unreachable:
        return _local(method), 0
    except Exception:
        return request(args, method)  # reports the error the usual way


def cmd_list(args: argparse.Namespace) -> int:
    data, code = _get(args, "ze-api:schema-list")
    if code:
        return code
    rows = [(m["name"], m["prefix"], m["namespace"], m["revision"]) for m in data["modules"]]
    return output.ok(
        data, args.json, lambda d: output.table(None, ("module", "prefix", "namespace", "revision"), rows)
    )


def cmd_methods(args: argparse.Namespace) -> int:
    data, code = _get(args, "ze-api:schema-methods")
    if code:
        return code

    def human(d: dict) -> None:
        rows = [
            (
                m["name"],
                " ".join(f"{i['name']}{'' if i['mandatory'] else '?'}" for i in m["input"]),
                m["description"],
            )
            for m in d["methods"]
        ]
        output.table(None, ("method", "input", "description"), rows)

    return output.ok(data, args.json, human)
