"""`ze bgp ...`: offline wire tools (decode, encode)."""

from __future__ import annotations

import argparse
import json
import sys

from ze.bgp.wire import header
from ze.core.errors import WireError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bgp", help="BGP wire tools: decode and encode messages")
    bsub = p.add_subparsers(dest="bgp_command", metavar="COMMAND")
    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])
    d = bsub.add_parser("decode", help="decode a BGP message given as hex (or - for stdin)")
    d.add_argument("hex", help="hex bytes, with or without the 19-byte header; - reads stdin")
    d.add_argument("--json", action="store_true", help="JSON output (the default for now)")
    d.set_defaults(func=cmd_decode)


def _read_hex(arg: str) -> bytes:
    text = sys.stdin.read() if arg == "-" else arg
    cleaned = "".join(text.split()).removeprefix("0x")
    return bytes.fromhex(cleaned)


def cmd_decode(args: argparse.Namespace) -> int:
    try:
        data = _read_hex(args.hex)
    except ValueError as e:
        print(f"ze: error: not hex: {e}", file=sys.stderr)
        return 1
    try:
        mtype, length = header.parse_header(data)
    except WireError as e:
        print(f"ze: error: {e}", file=sys.stderr)
        return 1
    out = {
        "type": header.MessageType(mtype).name.lower(),
        "length": length,
        "body": data[19:length].hex().upper(),
    }
    print(json.dumps(out, indent=2))
    return 0
