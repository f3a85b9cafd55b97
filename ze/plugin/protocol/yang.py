"""A plugin's own YANG module as the `schema` object of declare-registration:
`{"module", "namespace", "yang-text"}` (read from a file that ships next to the plugin)."""

from __future__ import annotations

import re
from pathlib import Path

_MODULE = re.compile(r"(?:^|\s)module\s+([A-Za-z_][A-Za-z0-9_.-]*)\s*\{")
_NAMESPACE = re.compile(r"(?:^|[\s;{])namespace\s+[\"']([^\"']+)[\"']\s*;")


def module_of(text: str) -> tuple[str, str]:
    """(module name, namespace) of a YANG module's text; ValueError when it names no module."""
    m = _MODULE.search(text)
    if m is None:
        raise ValueError("the yang-text has no 'module NAME {'")
    ns = _NAMESPACE.search(text)
    return m.group(1), ns.group(1) if ns else ""


def schema_of_file(path: str | Path) -> dict[str, str]:
    """The `schema` object for a YANG file (OSError when unreadable, ValueError when no module)."""
    text = Path(path).read_text(encoding="utf-8")
    module, namespace = module_of(text)
    return {"module": module, "namespace": namespace, "yang-text": text}
