"""Output for every command: the JSON envelope of DESIGN.md or a human table (rich).

`{"status":"ok","data":...}` on success, `{"status":"error","error":"..."}` on failure.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=False, default=str)


def ok(data: Any, as_json: bool, human: Callable[[Any], None] | None = None) -> int:
    if as_json or human is None:
        print(dumps({"status": "ok", "data": data}))
    else:
        human(data)
    return 0


def error(message: str, as_json: bool, code: int = 1, data: Any = None) -> int:
    if as_json:
        out: dict[str, Any] = {"status": "error", "error": message}
        if data is not None:
            out["data"] = data
        print(dumps(out))
    else:
        print(f"ze: error: {message}", file=sys.stderr)
    return code


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """An aligned table on stdout (rich), plain when stdout is not a terminal."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for c in columns:
        t.add_column(c, overflow="fold")
    for row in rows:
        t.add_row(*("-" if v is None else str(v) for v in row))
    Console(soft_wrap=False, width=200 if not sys.stdout.isatty() else None).print(t)


def keyvalues(title: str | None, items: Sequence[tuple[str, Any]]) -> None:
    table(title, ("key", "value"), items)
