"""The datastore: the running config, a candidate, commits with an archive, and rollback N.

The config file is the running config's home. `commit` validates the candidate text, then
archives the file's previous text (numbered, newest highest, with a JSON line of metadata)
and replaces the file atomically. `rollback(n)` makes archived commit n (1 = the one before
the running config) the candidate and commits it. Nothing is written when validation fails.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ze.config.errors import ConfigProblems, Problem
from ze.config.resolve import Config, parse_config
from ze.config.schema import Schema

KEEP = 50  # archived commits kept


@dataclass(frozen=True, slots=True)
class Commit:
    number: int  # 1 = the newest archived commit (the one before the running config)
    serial: int
    time: float
    comment: str
    path: Path

    def to_dict(self) -> dict:
        return {
            "number": self.number,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.time)),
            "comment": self.comment,
        }


class Datastore:
    def __init__(self, path: str | Path, schema: Schema, archive: str | Path | None = None) -> None:
        self.path = Path(path)
        self.schema = schema
        self.archive = Path(archive) if archive else self.path.parent / f".{self.path.name}.archive"
        self.running: Config | None = None
        self.candidate: str | None = None

    def load(self) -> Config:
        """Read the file as the running config (FileNotFoundError, ConfigProblems)."""
        text = self.path.read_text(encoding="utf-8")
        self.running = parse_config(text, self.schema, str(self.path))
        return self.running

    def edit(self, text: str) -> None:
        """Replace the candidate."""
        self.candidate = text

    def validate(self, text: str | None = None) -> Config:
        text = self.candidate if text is None else text
        if text is None:
            raise ConfigProblems([Problem(None, "no candidate to validate")])
        return parse_config(text, self.schema, f"{self.path} (candidate)")

    def commit(self, comment: str = "") -> Config:
        """Validate the candidate; archive the running text; make the candidate running."""
        if self.candidate is None:
            raise ConfigProblems([Problem(None, "no candidate to commit")])
        cfg = self.validate()
        cfg.source = str(self.path)
        self._archive_current()
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(self.candidate, encoding="utf-8")
        if self.path.exists():
            os.chmod(tmp, self.path.stat().st_mode & 0o7777)
        tmp.replace(self.path)
        self.archive.mkdir(parents=True, exist_ok=True)
        (self.archive / "running.json").write_text(
            json.dumps({"time": time.time(), "comment": comment}), encoding="utf-8"
        )
        self.running = cfg
        self.candidate = None
        return cfg

    def history(self) -> list[Commit]:
        """Archived commits, newest first (number 1 first)."""
        if not self.archive.is_dir():
            return []
        serials = sorted((int(p.stem) for p in self.archive.glob("*.conf") if p.stem.isdigit()), reverse=True)
        out = []
        for i, serial in enumerate(serials, 1):
            meta_path = self.archive / f"{serial}.json"
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = {}
            out.append(
                Commit(
                    i,
                    serial,
                    float(meta.get("time", 0.0)),
                    str(meta.get("comment", "")),
                    self.archive / f"{serial}.conf",
                )
            )
        return out

    def rollback(self, number: int) -> Config:
        """Make archived commit `number` (1 = previous) running; the current one is archived."""
        commits = self.history()
        if not 1 <= number <= len(commits):
            raise ConfigProblems(
                [Problem(None, f"no commit {number} to roll back to (the archive has {len(commits)})")]
            )
        self.candidate = commits[number - 1].path.read_text(encoding="utf-8")
        return self.commit(f"rollback {number}")

    def record(self, previous: Config, new: Config, comment: str = "reload") -> None:
        """The file was edited in place and `new` replaced `previous` (a reload): archive the
        previous text so `rollback 1` returns to it."""
        if previous.text == new.text:
            return
        self._archive_text(previous.text)
        self.archive.mkdir(parents=True, exist_ok=True)
        (self.archive / "running.json").write_text(
            json.dumps({"time": time.time(), "comment": comment}), encoding="utf-8"
        )
        self.running = new

    def _archive_current(self) -> None:
        if not self.path.exists():
            return
        self._archive_text(self.path.read_text(encoding="utf-8"))

    def _archive_text(self, text: str) -> None:
        self.archive.mkdir(parents=True, exist_ok=True)
        history = self.history()
        serial = history[0].serial + 1 if history else 1
        (self.archive / f"{serial}.conf").write_text(text, encoding="utf-8")
        # The archived text keeps the time and comment of the commit that made it.
        running_meta = self.archive / "running.json"
        if running_meta.exists():
            running_meta.replace(self.archive / f"{serial}.json")
        else:
            meta = {"time": time.time(), "comment": "before the first commit"}
            (self.archive / f"{serial}.json").write_text(json.dumps(meta), encoding="utf-8")
        for old in history[KEEP - 1 :]:
            old.path.unlink(missing_ok=True)
            old.path.with_suffix(".json").unlink(missing_ok=True)
