"""What changed between two configs, so a reload applies only that."""

from __future__ import annotations

from dataclasses import dataclass

from ze.config.resolve import Config


@dataclass(frozen=True, slots=True)
class ConfigDiff:
    """Peers by name; `sections` are the top-level roots (other than bgp) whose content changed."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    bgp_changed: bool = False

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.sections or self.bgp_changed)

    def to_dict(self) -> dict:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": list(self.changed),
            "unchanged": list(self.unchanged),
            "sections": list(self.sections),
        }


def diff(old: Config, new: Config) -> ConfigDiff:
    added = tuple(n for n in new.peers if n not in old.peers)
    removed = tuple(n for n in old.peers if n not in new.peers)
    changed = tuple(n for n in new.peers if n in old.peers and new.peers[n] != old.peers[n])
    unchanged = tuple(n for n in new.peers if n in old.peers and new.peers[n] == old.peers[n])
    roots = [r for r in dict.fromkeys([*old.data, *new.data]) if r != "bgp"]
    sections = tuple(r for r in roots if old.data.get(r) != new.data.get(r))
    return ConfigDiff(
        added=added,
        removed=removed,
        changed=changed,
        unchanged=unchanged,
        sections=sections,
        bgp_changed=old.data.get("bgp") != new.data.get("bgp"),
    )
