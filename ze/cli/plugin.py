"""`ze plugin list|command|run|validate|features`: plugins of the running daemon, and tools for authors.

- `ze plugin list` (also `ze show plugins`): state, restarts, queue depth and bound, last error.
- `ze plugin command WORDS...` (also `ze show WORDS` for a command a plugin provides, e.g.
  `ze show forwarding`): run a command by its words.
- `ze plugin run NAME --stdio`: run an in-process feature's entry speaking the protocol on
  stdin/stdout (the debug mode; type the engine's side by hand).
- `ze plugin validate PATH`: run an external plugin through the five stages against a
  throwaway engine and print what it declared.
- `ze plugin features`: what discovery finds here (available or why not).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from ze.cli import output
from ze.cli.remote import add_client_args, request


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugin", help="plugins: list, run a command, debug, validate")
    ssub = p.add_subparsers(dest="plugin_command", metavar="WHAT")
    p.set_defaults(func=lambda a: (p.print_help(), 1)[1])
    s = ssub.add_parser("list", help="the running daemon's plugins")
    add_client_args(s)
    s.set_defaults(func=cmd_list)
    s = ssub.add_parser("command", help="run a command a plugin (or ze) provides")
    s.add_argument("words", nargs="+")
    add_client_args(s)
    s.set_defaults(func=cmd_command)
    s = ssub.add_parser("run", help="run an in-process feature on stdin/stdout (debug mode)")
    s.add_argument("name")
    s.add_argument("--stdio", action="store_true", required=True, help="speak the protocol on stdin/stdout")
    s.set_defaults(func=cmd_run)
    s = ssub.add_parser("validate", help="run a plugin executable through the five stages and report")
    s.add_argument("path", help="the plugin's command line (run with /bin/sh -c)")
    s.add_argument("--timeout", type=float, default=10.0)
    s.add_argument(
        "--config", metavar="FILE", help="also check this config's blocks against the plugin's own YANG"
    )
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_validate)
    s = ssub.add_parser("features", help="the features discovery finds here")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_features)


def print_plugins(data: dict) -> None:
    st = data["plugins"]
    rows = []
    for p in st["plugins"]:
        rows.append((p["name"], p["kind"], p["state"], p["restarts"], p.get("queue-depth", "-"),
                     p.get("queue-bound", "-"), p.get("delivered", "-"), p["bridge"],
                     ", ".join(p["commands"]), p["last-error"] or "-"))  # fmt: skip
    output.table(
        "plugins",
        (
            "name",
            "kind",
            "state",
            "restarts",
            "queue",
            "bound",
            "delivered",
            "bridge",
            "commands",
            "last error",
        ),
        rows,
    )
    f = st.get("filter-update") or {}
    if f.get("calls"):
        print(f"filter-update: {f['calls']} calls, {f['failures']} failures ({f['timeouts']} timeouts)"
              + (f", last: {f['last-error']}" if f.get("last-error") else ""))  # fmt: skip
    n = st.get("nlri-codec-calls") or {}
    if n.get("decode") or n.get("encode"):
        print(f"nlri codecs: {n['decode']} decode-nlri, {n['encode']} encode-nlri, {n['failed']} failed")


def cmd_list(args: argparse.Namespace) -> int:
    data, code = request(args, "ze-api:show-plugins")
    if code:
        return code
    return output.ok(data, args.json, print_plugins)


def cmd_command(args: argparse.Namespace) -> int:
    data, code = request(args, "ze-api:plugin-command", {"command": " ".join(args.words)})
    if code:
        return code

    def human(d: dict) -> None:
        res = d["result"]
        out = res.get("data")
        if isinstance(out, dict):
            title = f"{' '.join(args.words)} ({res.get('plugin')})"
            scalars, tables = split_tables(out)
            if scalars or not tables:
                output.keyvalues(title, scalars)
            for name, columns, rows in tables:
                output.table(name, columns, rows)
        else:
            print(out if isinstance(out, str) else output.dumps(out))

    return output.ok(data, args.json, human)


def _row(v: Any) -> bool:
    return isinstance(v, dict) and bool(v) and not any(isinstance(x, (dict, list)) for x in v.values())


def split_tables(obj: dict, prefix: str = "") -> tuple[list[tuple[str, Any]], list[tuple[str, list, list]]]:
    """A plugin command's answer for people: the flat dicts of one dict that all have the same keys
    ({peer: {packets, bytes}}) and a list of flat dicts become tables (one column per key);
    everything else becomes key/value lines."""
    from ze.cli.show import _flatten

    scalars: list[tuple[str, Any]] = []
    tables: list[tuple[str, list, list]] = []
    rows_here: list[tuple[str, dict]] = []
    for k, v in obj.items():
        name = f"{prefix}.{k}" if prefix else str(k)
        if _row(v):
            rows_here.append((str(k), v))
        elif isinstance(v, dict) and v:
            s, t = split_tables(v, name)
            scalars += s
            tables += t
        elif isinstance(v, list) and v and all(_row(x) for x in v):
            cols = list(dict.fromkeys(c for x in v for c in x))
            tables.append((name, cols, [[x.get(c, "") for c in cols] for x in v]))
        else:
            scalars += _flatten(v, name)
    alike = len({tuple(r) for _, r in rows_here}) == 1
    if rows_here and (not alike or (len(rows_here) == 1 and len(obj) > 1)):  # not a table: key/values
        for k, r in rows_here:
            scalars += _flatten(r, f"{prefix}.{k}" if prefix else k)
    elif rows_here:
        cols = list(dict.fromkeys(c for _, r in rows_here for c in r))
        tables.insert(
            0, (prefix or "", ["", *cols], [[k, *(r.get(c, "") for c in cols)] for k, r in rows_here])
        )
    return scalars, tables


def cmd_run(args: argparse.Namespace) -> int:
    from ze.hub.discovery import discover
    from ze.plugin.protocol.manifest import resolve
    from ze.plugin.sdk import Plugin

    features = discover()
    f = features.get(args.name)
    if f is None:
        return output.error(f"no feature {args.name!r}; known: {', '.join(sorted(features))}", False)
    if not f.available:
        return output.error(f"{args.name} is unavailable here: {'; '.join(f.missing)}", False)
    entry = resolve(f.registration.entry)
    asyncio.run(entry(Plugin.stdio(args.name)))
    return 0


async def validate(run: str, timeout: float, config: str | None = None) -> dict[str, Any]:
    from ze.config.errors import ConfigProblems
    from ze.config.plugin_yang import PluginModules
    from ze.config.resolve import load_config
    from ze.core.errors import ConfigError
    from ze.hub.bus import Hub
    from ze.hub.discovery import discover, yang_files
    from ze.plugin.host.engine import PluginHost, PluginSpec
    from ze.plugin.protocol.mux import RemoteError
    from ze.plugin.sdk.render import event_json

    host = PluginHost(Hub(), renderer=event_json, stage_timeout=timeout, backoff=(3600, 3600))
    modules = PluginModules(yang_files(discover()))
    roots: list[str] = []

    async def check(name: str, schema: Any, wants: list[str]) -> None:
        """As `ze run` does: the plugin's YANG compiles and merges (and the config validates)."""
        if schema is None:
            return
        try:
            merged = await asyncio.to_thread(modules.add, name, schema, wants)
            roots.extend(modules.roots(name, merged))
            if config:
                await asyncio.to_thread(load_config, config, merged)
        except ConfigProblems as e:
            raise RemoteError("bad-config", "config: " + "; ".join(str(p) for p in e.problems)) from None
        except (ConfigError, OSError) as e:
            raise RemoteError("bad-schema", f"its YANG schema: {e}") from None

    host.registration_check = check
    try:
        await host.start([PluginSpec("validate", "external", True, run=run)])
        h = host.handles["validate"]
        return {
            "valid": True,
            "schema-roots": roots,
            "registration": h.declared,
            "capabilities": h.capabilities,
            "subscribe": h.subscribe,
            "fast-hook": h.fast_hook.path if h.fast_hook else None,
        }
    except Exception as e:
        return {"valid": False, "error": str(e)}
    finally:
        await host.stop()
        modules.close()


def cmd_validate(args: argparse.Namespace) -> int:
    res = asyncio.run(validate(args.path, args.timeout, args.config))
    if not res["valid"]:
        return output.error(res["error"], args.json)

    def human(d: dict) -> None:
        reg = d["registration"]
        print("valid: the plugin completed the five stages")
        print(
            "families:",
            ", ".join(f"{f['name']} ({f.get('mode', 'both')})" for f in reg.get("families", [])) or "-",
        )
        for c in reg.get("commands", []):
            print(f"command: {c['name']}  {c.get('description', '')}")
        print("wants config:", ", ".join(reg.get("wants-config", [])) or "-")
        if reg.get("schema"):
            print(
                f"schema: module {reg['schema'].get('module')} (compiles; roots {', '.join(d['schema-roots'])})"
            )
        print("validate-open:", reg.get("wants-validate-open", False))
        print("capabilities:", ", ".join(str(c["code"]) for c in d["capabilities"]) or "-")
        sub = d["subscribe"]
        print(
            "subscribes:", ", ".join(sub.get("events", [])) or "-", f"(format {sub.get('format', 'parsed')})"
        )
        if d["fast-hook"]:
            print("fast hook:", d["fast-hook"])

    return output.ok(res, args.json, human)


def cmd_features(args: argparse.Namespace) -> int:
    from ze.hub.discovery import discover

    data = [f.to_dict() for f in discover().values()]

    def human(d: list) -> None:
        output.table("features", ("name", "available", "config", "description"),
                     [(f["name"], "yes" if f["available"] else f"no: {f.get('reason')}",
                       ", ".join(f["config-roots"]), f["description"]) for f in d])  # fmt: skip

    return output.ok(data, args.json, human)


def main_show_fallback(argv: list[str], show_commands: set[str]) -> list[str]:
    """`ze show WORDS` where WORDS is not a built-in show command, and `ze clear WORDS`: a plugin's
    command (e.g. `ze show forwarding`, `ze clear forwarding`)."""
    if len(argv) >= 2 and argv[0] == "show" and not argv[1].startswith("-") and argv[1] not in show_commands:
        return ["plugin", "command", *argv]
    if len(argv) >= 2 and argv[0] == "clear" and not argv[1].startswith("-"):
        return ["plugin", "command", *argv]
    return argv
