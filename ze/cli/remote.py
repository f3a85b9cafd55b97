"""What every command that talks to a running ze shares: --socket, --json, the call."""

from __future__ import annotations

import argparse
from typing import Any

from ze.api.client import RemoteError, Unreachable, call, default_socket
from ze.cli import output


def add_client_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help='JSON output: {"status":"ok","data":...}')
    p.add_argument(
        "--socket",
        default=None,
        help=f"control socket of the running ze (default $ZE_SOCKET or {default_socket()})",
    )


def request(args: argparse.Namespace, method: str, params: dict | None = None) -> tuple[Any, int]:
    """(data, 0), or (None, exit code) after reporting the error in the requested format."""
    try:
        return call(method, params, path=args.socket), 0
    except Unreachable as e:
        return None, output.error(str(e), args.json)
    except RemoteError as e:
        return None, output.error(e.message, args.json, data={"code": e.code})
