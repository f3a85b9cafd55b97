"""What the lab shows: a snapshot of ze (through its control socket), BIRD, the kernel and the
traffic, and its rendering with rich (refreshed live by `ze lab run`/`make run`).

ze's views come only from ze's control socket: `ze show peers`, `ze show fib` (a FIB summary)
and `ze show forwarding` (per-peer counters). A command this ze does not answer yet (neither an API
method nor a plugin's command) is reported as exactly that ("not available yet: no command 'show
fib'"), never with made-up numbers. Facts from outside ze (the kernel's routes in ze's namespace, BIRD's session, packet
counts on the lab's links) are labelled with where they come from.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from ze.lab import lab

# The ze commands the view shows, each with the control-API method behind it.
VIEWS = (
    ("ze show peers", "ze-api:show-peers"),
    ("ze show fib", "ze-api:show-fib"),
    ("ze show forwarding", "ze-api:show-forwarding"),
)
PLUGIN_COMMAND = "ze-api:plugin-command"  # a command by its words, answered by ze or a plugin
KERNEL_PROTO_BGP = 186


def _call(st: lab.State, method: str, params: dict | None = None) -> tuple[Any, str]:
    from ze.api.client import RemoteError, Unreachable, call

    try:
        return call(method, params, path=st.socket, timeout=5), ""
    except Unreachable as e:
        return None, str(e)
    except RemoteError as e:
        return None, f"{e.code}: {e.message}"


def ze_views(st: lab.State) -> dict[str, dict]:
    """command -> {"method", "data"} or {"method", "unavailable": why} or {"method", "error"}.

    A command is asked through its own API method when ze has one, else as a command by its words
    (ze-api:plugin-command: a plugin's command such as `show forwarding`); a command neither
    answers is "not available yet", with the reason."""
    methods, err = _call(st, "ze-api:schema-methods")
    out: dict[str, dict] = {}
    known = {m["name"] for m in methods["methods"]} if methods else set()
    for command, method in VIEWS:
        words = command.removeprefix("ze ")
        if err:
            out[command] = {"method": method, "error": err}
        elif method in known:
            data, e = _call(st, method)
            out[command] = {"method": method, "error": e} if e else {"method": method, "data": data}
        elif PLUGIN_COMMAND in known:
            data, e = _call(st, PLUGIN_COMMAND, {"command": words})
            if e.startswith(("unknown-command", "unavailable")):
                why = e.split(": ", 1)[-1]
                out[command] = {"method": PLUGIN_COMMAND, "unavailable": f"not available yet: {why}"}
            elif e:
                out[command] = {"method": PLUGIN_COMMAND, "error": e}
            else:
                result = data.get("result", data) if isinstance(data, dict) else data
                body = result.get("data", result) if isinstance(result, dict) else result
                out[command] = {"method": PLUGIN_COMMAND, "data": body}
        else:
            out[command] = {
                "method": method,
                "unavailable": f"not available yet: the running ze has no {method}",
            }
    return out


def kernel_routes(st: lab.State) -> dict[str, int]:
    """Routes in ze's namespace's main table, by protocol (186 is ze's, "bgp")."""
    r = lab.ns_run(st.namespaces["ze"], "ip", "-j", "route", "show", "table", "main", check=False)
    counts: dict[str, int] = {}
    for route in json.loads(r.stdout) if r.stdout.strip().startswith("[") else []:
        proto = str(route.get("protocol", "boot"))
        counts[proto] = counts.get(proto, 0) + 1
    return counts


def link_stats(st: lab.State) -> dict[str, dict[str, int]]:
    """Packets on the lab's links: what the sender sent, what crossed ze, what reached the sink."""
    out = {}
    for label, role, dev in (
        ("sender tx", "tx", "ze0"),
        ("ze in (from sender)", "ze", "tx0"),
        ("ze out (to upstream)", "ze", "up0"),
        ("sink rx", "sink", "up0"),
    ):
        r = lab.ns_run(st.namespaces[role], "ip", "-s", "-j", "link", "show", "dev", dev, check=False)
        try:
            s = json.loads(r.stdout)[0]["stats64"]
        except (ValueError, IndexError, KeyError):
            out[label] = {}
            continue
        side = "tx" if label in ("sender tx", "ze out (to upstream)") else "rx"
        out[label] = {"packets": s[side]["packets"], "bytes": s[side]["bytes"]}
    return out


_BIRD_FIELDS = {
    "BGP state": "state",
    "Neighbor address": "neighbor",
    "Neighbor AS": "neighbor-as",
    "Local AS": "local-as",
    "Last error": "last-error",
    "Routes": "routes",
}


def bird(st: lab.State) -> dict[str, Any]:
    """BIRD's view: the BGP session to ze, and its routing table size."""
    out: dict[str, Any] = {}
    r = lab._run(["birdc", "-s", st.bird_socket, "show", "protocols", "all", "ze"], check=False, timeout=5)
    if r.returncode != 0:
        return {"error": (r.stderr or r.stdout).strip()[-200:]}
    for line in r.stdout.splitlines():
        parts = line.strip().split(":", 1)
        if len(parts) == 2 and parts[0] in _BIRD_FIELDS:
            out[_BIRD_FIELDS[parts[0]]] = parts[1].strip()
        m = re.match(r"ze\s+BGP\s+\S+\s+(\w+)\s+\S+\s*(.*)$", line.strip())
        if m:
            out["protocol"] = m.group(1)
            out["info"] = m.group(2).strip()
    r = lab._run(["birdc", "-s", st.bird_socket, "show", "route", "count"], check=False, timeout=5)
    m = re.search(r"(\d+) of (\d+) routes for (\d+) networks", r.stdout)
    if m:
        out["table-routes"] = int(m.group(1))
    return out


def processes(st: lab.State) -> list[dict[str, Any]]:
    out = []
    for p in st.procs:
        row: dict[str, Any] = {"role": p.role, "pid": p.pid, "alive": lab.alive(p), "log": p.log}
        if not row["alive"]:
            try:
                with open(p.log, encoding="utf-8", errors="replace") as f:
                    row["last"] = f.read().strip().splitlines()[-1:]
            except OSError:
                row["last"] = []
        out.append(row)
    return out


def _safe(fn, st: lab.State) -> dict[str, Any]:
    """A view from outside ze, or {"error": why} (a busy machine, a namespace gone): never a crash."""
    try:
        return fn(st)
    except lab.LabError as e:
        return {"error": str(e)}


def snapshot(st: lab.State) -> dict[str, Any]:
    return {
        "lab": st.name,
        "uptime": round(time.time() - st.started, 1),
        "namespaces": st.namespaces,
        "processes": processes(st),
        "config-left-out": st.config_left_out,
        "ze": ze_views(st),
        "kernel-routes": _safe(kernel_routes, st),
        "bird": _safe(bird, st),
        "links": _safe(link_stats, st),
        "announced": {"prefixes": st.prefixes, "length": st.plen, "from": str(lab.ROUTE_BASE)},
    }


# --- rendering ------------------------------------------------------------------------------


def _table(title: str, columns: list[str], rows: list[list[Any]]):
    from rich import box
    from rich.table import Table

    t = Table(title=title or None, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
              show_header=any(columns))  # fmt: skip
    for c in columns:
        t.add_column(c, overflow="fold")
    for row in rows:
        t.add_row(*("-" if v is None else str(v) for v in row))
    return t


def _rows_of(data: Any) -> tuple[list[str], list[list[Any]]] | None:
    """The first list of objects in a response, as columns and rows (for views of unknown shape)."""
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        cols: list[str] = []
        for x in data:
            cols.extend(k for k in x if k not in cols and not isinstance(x[k], (dict, list)))
        return cols, [[x.get(c) for c in cols] for x in data]
    if isinstance(data, dict):
        for v in data.values():
            found = _rows_of(v)
            if found:
                return found
    return None


def _scalars(data: Any) -> list[list[Any]]:
    if not isinstance(data, dict):
        return []
    out = []
    for k, v in data.items():
        if isinstance(v, dict):
            out.extend([[f"{k}.{k2}", v2] for k2, v2 in v.items() if not isinstance(v2, (dict, list))])
        elif not isinstance(v, list):
            out.append([k, v])
    return out


def _ze_panel(command: str, view: dict):
    from rich.panel import Panel
    from rich.text import Text

    if "unavailable" in view:
        return Panel(Text(view["unavailable"], style="yellow"), title=command, title_align="left")
    if "error" in view:
        return Panel(Text(view["error"], style="red"), title=command, title_align="left")
    data = view["data"]
    if command == "ze show peers":
        peers = data.get("peers", [])
        rows = [
            [p["name"], p["remote"]["ip"], p["remote"]["as"], p.get("state"), p.get("since")] for p in peers
        ]
        body = _table("", ["peer", "remote", "as", "state", "since"], rows)
    else:
        found = _rows_of(data)
        scal = _scalars(data)
        from rich.console import Group

        parts = []
        if scal:
            parts.append(_table("", ["", ""], scal))
        if found:
            parts.append(_table("", *found))
        body = Group(*parts) if parts else Text(json.dumps(data)[:500])
    return Panel(body, title=command, title_align="left")


def render(snap: dict[str, Any]):
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    parts: list[Any] = [
        Text(
            f"ze lab {snap['lab']}  up {snap['uptime']:.0f} s  ({time.strftime('%H:%M:%S')})   Ctrl-C tears it down",
            style="bold",
        )
    ]
    dead = [p for p in snap["processes"] if not p["alive"]]
    procs = ", ".join(f"{p['role']} {p['pid']}{'' if p['alive'] else ' (exited)'}" for p in snap["processes"])
    parts.append(Text(f"processes: {procs}", style="red" if any(p["role"] != "sender" for p in dead) else ""))
    for p in dead:
        if p.get("last"):
            parts.append(Text(f"  {p['role']}: {p['last'][-1][:160]}", style="dim"))
    for block, why in snap["config-left-out"].items():
        parts.append(Text(f"config block {block!r} left out: {why}", style="yellow"))
    for command, view in snap["ze"].items():
        parts.append(_ze_panel(command, view))
    b = snap["bird"]
    bird_rows = [[k, v] for k, v in b.items()]
    ann = snap["announced"]
    parts.append(
        Panel(
            _table("", ["", ""], bird_rows),
            title=f"upstream BIRD (birdc): {ann['prefixes']} routes /{ann['length']} from {ann['from']}",
            title_align="left",
        )
    )
    kr = {k: v for k, v in snap["kernel-routes"].items() if k != "error"}
    bgp = kr.get(str(KERNEL_PROTO_BGP), 0) + kr.get("bgp", 0)
    kernel = ", ".join(f"{k}: {v}" for k, v in sorted(kr.items()))
    link_rows = [[k, v.get("packets"), v.get("bytes")] if isinstance(v, dict) else [k, v, None]
                 for k, v in snap["links"].items()]  # fmt: skip
    parts.append(
        Panel(
            Group(
                Text(
                    f"kernel routes in ze's namespace (ip route): {kernel or 'none'}; by ze (protocol 186): {bgp}"
                ),
                _table("", ["link counters (ip -s link)", "packets", "bytes"], link_rows),
            ),
            title="the lab's kernel, seen from outside ze",
            title_align="left",
        )
    )
    return Group(*parts)
