"""Stable peer indexes: the counter slot each peer owns, kept in a small state file so a reload or a
daemon restart finds the same slot (and so the same counters) for the same peer name."""

from __future__ import annotations

import json
import os
from pathlib import Path

STATE_FILE = "bpf-peers.json"


class PeerIndex:
    """name -> index in [1, limit); 0 is never handed out. Indexes are kept until released."""

    def __init__(self, state_dir: str | os.PathLike[str], limit: int = 4096) -> None:
        self.path = Path(state_dir) / STATE_FILE
        self.limit = limit
        self._by_name: dict[str, int] = {}
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self._by_name = {str(k): int(v) for k, v in data.get("peers", {}).items()}

    def get(self, name: str) -> int | None:
        return self._by_name.get(name)

    def index(self, name: str) -> int:
        """The peer's index, allocating (the lowest free one) and persisting it on first use."""
        found = self._by_name.get(name)
        if found is not None:
            return found
        used = set(self._by_name.values())
        free = next((i for i in range(1, self.limit) if i not in used), None)
        if free is None:
            raise ValueError(f"no free counter slot for peer {name!r} ({self.limit - 1} in use)")
        self._by_name[name] = free
        self._save()
        return free

    def release(self, name: str) -> int | None:
        """Forget a peer (removed from config); returns the index freed, to be cleared before reuse."""
        idx = self._by_name.pop(name, None)
        if idx is not None:
            self._save()
        return idx

    def names(self) -> dict[int, str]:
        return {i: n for n, i in self._by_name.items()}

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"peers": dict(sorted(self._by_name.items()))}, indent=1) + "\n", encoding="utf-8"
        )
        os.replace(tmp, self.path)
