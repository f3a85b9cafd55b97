"""`ze bgp update-route|peer ...`: act on the running daemon's sessions.

    ze bgp update-route SELECTOR "update text ... nlri ipv4/unicast add|del PREFIX ..."
    ze bgp peer stop SELECTOR [--message TEXT]     Cease 2 with the RFC 9003 shutdown communication
    ze bgp peer start SELECTOR
    ze bgp peer refresh SELECTOR [--family AFI/SAFI]   send ROUTE-REFRESH

SELECTOR: '*', a peer name, an address, a glob, a prefix, '!TERM' to exclude (comma-separated).
"""

from __future__ import annotations

import argparse

from ze.cli import output
from ze.cli.remote import add_client_args, request


def add_commands(bsub: argparse._SubParsersAction) -> None:
    u = bsub.add_parser("update-route", help="originate or withdraw routes towards peers (running daemon)")
    u.add_argument("selector", help="'*', a peer name, an address, a glob, '!TERM'")
    u.add_argument("command", nargs="+", help='"update text ... nlri ipv4/unicast add|del PREFIX ..."')
    add_client_args(u)
    u.set_defaults(func=cmd_update_route)

    p = bsub.add_parser("peer", help="stop, start or refresh sessions of the running daemon")
    psub = p.add_subparsers(dest="peer_command", metavar="ACTION")
    p.set_defaults(func=lambda a: (p.print_help(), 1)[1])
    s = psub.add_parser("stop", help="administrative stop (Cease 2, shutdown communication)")
    s.add_argument("selector")
    s.add_argument("--message", default="", help="the shutdown communication (RFC 9003)")
    add_client_args(s)
    s.set_defaults(func=cmd_peer_stop)
    s = psub.add_parser("start", help="start peers stopped by hand or by max-prefix")
    s.add_argument("selector")
    add_client_args(s)
    s.set_defaults(func=cmd_peer_start)
    s = psub.add_parser("refresh", help="send ROUTE-REFRESH (RFC 2918)")
    s.add_argument("selector")
    s.add_argument("--family", default=None, help="one family (default: every negotiated one)")
    add_client_args(s)
    s.set_defaults(func=cmd_peer_refresh)


def cmd_update_route(args: argparse.Namespace) -> int:
    data, code = request(
        args, "ze-api:update-route", {"peer-selector": args.selector, "command": " ".join(args.command)}
    )
    if code:
        return code
    return output.ok(
        data,
        args.json,
        lambda d: print(f"peers affected: {d['peers-affected']}, routes sent: {d['routes-sent']}"),
    )


def _peers(args: argparse.Namespace, method: str, params: dict) -> int:
    data, code = request(args, method, params)
    if code:
        return code
    return output.ok(data, args.json, lambda d: print(" ".join(d["peers"]) or "no peer matched"))


def cmd_peer_stop(args: argparse.Namespace) -> int:
    params = {"peer-selector": args.selector}
    if args.message:
        params["message"] = args.message
    return _peers(args, "ze-api:peer-stop", params)


def cmd_peer_start(args: argparse.Namespace) -> int:
    return _peers(args, "ze-api:peer-start", {"peer-selector": args.selector})


def cmd_peer_refresh(args: argparse.Namespace) -> int:
    params = {"peer-selector": args.selector}
    if args.family:
        params["family"] = args.family
    return _peers(args, "ze-api:peer-refresh", params)
