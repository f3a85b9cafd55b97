"""`ze bgp ...`: offline wire tools.

    ze bgp decode [--json] HEX|-      any message, with or without marker/header, or a bare body;
                                      an UPDATE prints as the route command that encodes it
    ze bgp encode [--json] "update text ..."   the UPDATE(s) as uppercase hex, one line per message

Context flags (both): --asn2, --add-path FAMILY (repeatable), --extended-message,
--extended-next-hop FAMILY (repeatable; IPv6 next hops for that IPv4 family, RFC 8950).
Bad input exits 1 with one line `ze: error: <what> at byte <offset>`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.message import TYPE_NAMES, decode_input, split_messages
from ze.bgp.wire.render import message_json
from ze.bgp.wire.text import encode_text, update_text
from ze.bgp.wire.update import WireUpdate
from ze.core.errors import WireError
from ze.core.family import AFI, Family

_HEXDIGITS = frozenset("0123456789abcdefABCDEF")
TYPES = {name: mtype for mtype, name in TYPE_NAMES.items()}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bgp", help="BGP wire tools: decode and encode messages")
    bsub = p.add_subparsers(dest="bgp_command", metavar="COMMAND")
    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])

    d = bsub.add_parser("decode", help="decode BGP messages given as hex (- reads stdin)")
    d.add_argument(
        "hex",
        help="hex of a whole message, of one without the 16-byte marker, or of a bare UPDATE body;"
        " several whole messages (or lines) are decoded in turn; - reads stdin",
    )
    d.add_argument("--json", action="store_true", help="JSON output (event shape of the plugin protocol)")
    d.add_argument(
        "--type",
        choices=sorted(TYPES),
        help="the message type of a bare body (default: update); ignored when the marker is given",
    )
    d.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="RUN",
        help="run this plugin (its command line) to decode the NLRI of the families it registers"
        " for decoding (decode-nlri), e.g. --plugin 'python3 examples/plugins/labels.py'",
    )
    _context_flags(d)
    d.set_defaults(func=cmd_decode)

    e = bsub.add_parser("encode", help='encode a route command ("update text ..." or "update hex ...")')
    e.add_argument(
        "command",
        nargs="+",
        help='e.g. "update text origin set igp nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/24"',
    )
    e.add_argument("--json", action="store_true", help="also show each message decoded, as JSON")
    _context_flags(e)
    e.set_defaults(func=cmd_encode)

    from ze.cli.speaker import add_commands  # the commands that act on a running daemon

    add_commands(bsub)


def _context_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--asn2", action="store_true", help="2-byte AS numbers (no ASN4 capability)")
    p.add_argument("--add-path", action="append", default=[], metavar="FAMILY", help="ADD-PATH on for FAMILY")
    p.add_argument("--extended-message", action="store_true", help="messages up to 65535 bytes (RFC 8654)")
    p.add_argument(
        "--extended-next-hop",
        action="append",
        default=[],
        metavar="FAMILY",
        help="IPv6 next hops allowed for this IPv4 FAMILY (RFC 8950)",
    )


def _context(args: argparse.Namespace) -> EncodingContext:
    return EncodingContext(
        asn4=not args.asn2,
        addpath=frozenset(Family.parse(f) for f in args.add_path),
        extended_message=args.extended_message,
        extended_nexthop=frozenset((Family.parse(f), int(AFI.IPV6)) for f in args.extended_next_hop),
    )


def _fail(message: str) -> int:
    print(f"ze: error: {message}", file=sys.stderr)
    return 1


def _parse_hex(text: str) -> bytes:
    """Hex (spaces allowed, 0x optional) -> bytes; ValueError naming the byte of the first bad digit."""
    cleaned = "".join(text.split())
    if cleaned[:2].lower() == "0x":
        cleaned = cleaned[2:]
    for i, ch in enumerate(cleaned):
        if ch not in _HEXDIGITS:
            raise ValueError(f"not hex: {ch!r} at byte {i // 2}")
    if len(cleaned) % 2:
        raise ValueError(f"odd number of hex digits at byte {len(cleaned) // 2}")
    return bytes.fromhex(cleaned)


def _wire_message(e: WireError, shift: int = 0) -> str:
    off = e.offset
    if off is None:
        return e.message
    return f"{e.message} at byte {max(0, off - shift)}"


def _decode_one(data: bytes, ctx: EncodingContext, base: int, mtype: int | None = None) -> Any:
    """Decode and render one input (errors re-based to `base`, the input's offset in the line)."""
    try:
        msg, shift = decode_input(data, ctx, mtype=mtype)
    except WireError as e:
        if e.offset is not None:
            e.offset += base
        raise
    try:
        return msg, message_json(msg)
    except WireError as e:
        if e.offset is not None:
            e.offset = max(0, e.offset - shift) + base
        raise


def _inputs(data: bytes, ctx: EncodingContext) -> list[tuple[int, bytes]]:
    """A line may hold several whole messages back to back; anything else is one input."""
    if data[:16] == b"\xff" * 16 and len(data) >= 19:
        parts = split_messages(data, extended=ctx.extended_message)
        if len(parts) > 1:
            return [(off, bytes(v)) for off, v in parts]
    return [(0, data)]


def cmd_decode(args: argparse.Namespace) -> int:
    try:
        ctx = _context(args)
    except ValueError as e:
        return _fail(str(e))
    text = sys.stdin.read() if args.hex == "-" else args.hex
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines and args.type == "keepalive":
        lines = [""]  # a KEEPALIVE body is empty
    if not lines:
        return _fail("no hex given at byte 0")
    results = []
    for n, line in enumerate(lines, 1):
        where = f"line {n}: " if len(lines) > 1 else ""
        try:
            data = _parse_hex(line)
            if not data and args.type != "keepalive":
                raise ValueError("no hex given at byte 0")
            for base, part in _inputs(data, ctx):
                results.append(_decode_one(part, ctx, base, TYPES.get(args.type or "")))
        except WireError as e:
            return _fail(where + _wire_message(e))
        except ValueError as e:
            return _fail(where + str(e))
    if args.plugin:
        try:
            results = asyncio.run(_with_plugins(args.plugin, results, ctx))
        except Exception as e:  # the plugin did not start: say why
            return _fail(f"--plugin: {e}")
    if args.json:
        docs = [doc for _, doc in results]
        print(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2))
        return 0
    for msg, doc in results:
        line = update_text(msg) if isinstance(msg, WireUpdate) and not _plugin_decoded(doc) else None
        print(line if line is not None else human(doc))
    return 0


async def _with_plugins(runs: list[str], results: list[tuple[Any, Any]], ctx: EncodingContext) -> list:
    """The results with NLRI of families the plugins decode filled in (a throwaway plugin host,
    the plugins over their real TLS connection, asked decode-nlri as `ze run` asks them)."""
    from ze.hub.bus import Hub
    from ze.plugin.host.engine import PluginHost, PluginSpec
    from ze.plugin.sdk.decode import fill_event
    from ze.plugin.sdk.render import event_json

    host = PluginHost(Hub(), renderer=event_json, stage_timeout=15, backoff=(3600, 3600))
    host.sections_for = lambda roots: [{"root": r, "data": {}} for r in roots]
    try:
        await host.start([PluginSpec(f"decoder-{i}", "external", True, run=r) for i, r in enumerate(runs)])
        out = []
        for msg, doc in results:
            filled = await fill_event(doc, host.decode_nlri, lambda f: ctx.has_addpath(Family.parse(f)))
            out.append((msg, filled))
        return out
    finally:
        await host.stop()


def _plugin_decoded(doc: dict) -> bool:
    """An UPDATE in which a plugin decoded a family ze has no codec for (the text line from the
    wire would show raw hex: the JSON view is printed instead)."""
    upd = doc.get("bgp", {}).get("update")
    nlri = upd.get("nlri", {}) if isinstance(upd, dict) else {}
    return any(not _core_family(f) and any("nlri" in e for e in entries) for f, entries in nlri.items())


def _core_family(name: str) -> bool:
    return name.split("/", 1)[-1] in ("unicast", "multicast")


def human(doc: dict) -> str:
    """A short text view of one message's JSON."""
    bgp = doc["bgp"]
    mtype = bgp["message"]["type"]
    body = bgp.get(mtype)
    if mtype != "update":
        return f"{mtype} {json.dumps(body, separators=(',', ':'))}" if body else mtype
    lines = ["update"]
    for name, v in body["attr"].items():
        value = v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
        lines.append(f"  attr {name} {value}")
    for fam, entries in body["nlri"].items():
        for e in entries:
            words = [f"  nlri {fam} {e['action']}"]
            if "next-hop" in e:
                words.append(f"next-hop {e['next-hop']}")
            if "next-hop-link-local" in e:
                words.append(f"link-local {e['next-hop-link-local']}")
            words.extend(e.get("nlri", []))
            if "raw" in e:
                words.append(f"raw {e['raw']}")
            lines.append(" ".join(words))
    return "\n".join(lines)


def cmd_encode(args: argparse.Namespace) -> int:
    try:
        ctx = _context(args)
        messages = encode_text(" ".join(args.command), ctx)
    except ValueError as e:
        return _fail(str(e))
    if not args.json:
        for m in messages:
            print(m.hex().upper())
        return 0
    out = []
    for m in messages:
        try:
            msg, _ = decode_input(m, ctx)
            out.append({"hex": m.hex().upper(), "decoded": message_json(msg)})
        except WireError as e:
            return _fail(_wire_message(e))
    print(json.dumps(out[0] if len(out) == 1 else out, indent=2))
    return 0
