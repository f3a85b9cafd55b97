"""Structured logs: one JSON object per line when stderr is not a terminal, key=value text when it is.

Use `get_logger(name).info("message", peer=..., error=...)`: the keyword fields become JSON keys.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_configured = False


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update(getattr(record, "fields", {}))
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        extra = " ".join(f"{k}={v}" for k, v in fields.items())
        ts = time.strftime("%H:%M:%S", time.localtime(record.created))
        line = f"{ts} {record.levelname.lower():7} {record.name}: {record.getMessage()}"
        return f"{line} {extra}" if extra else line


class Logger:
    """A thin face over logging.Logger that takes structured fields as keywords."""

    __slots__ = ("_log",)

    def __init__(self, log: logging.Logger) -> None:
        self._log = log

    def _emit(self, level: int, msg: str, fields: dict[str, Any]) -> None:
        if self._log.isEnabledFor(level):
            self._log.log(level, msg, extra={"fields": fields})

    def debug(self, msg: str, **fields: Any) -> None:
        self._emit(logging.DEBUG, msg, fields)

    def info(self, msg: str, **fields: Any) -> None:
        self._emit(logging.INFO, msg, fields)

    def warning(self, msg: str, **fields: Any) -> None:
        self._emit(logging.WARNING, msg, fields)

    def error(self, msg: str, **fields: Any) -> None:
        self._emit(logging.ERROR, msg, fields)

    def is_enabled(self, level: int) -> bool:
        return self._log.isEnabledFor(level)


def setup(level: str = "info", stream: Any = None, json_lines: bool | None = None) -> None:
    """Configure the root 'ze' logger once (again on a later call, e.g. a reload changing level)."""
    global _configured
    stream = stream or sys.stderr
    if json_lines is None:
        json_lines = not (hasattr(stream, "isatty") and stream.isatty())
    root = logging.getLogger("ze")
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_JsonFormatter() if json_lines else _TextFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
    _configured = True


def get_logger(name: str) -> Logger:
    return Logger(logging.getLogger(name if name.startswith("ze") else f"ze.{name}"))
