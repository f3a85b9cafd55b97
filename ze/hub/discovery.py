"""Discovery of features from their manifests, without naming any.

A feature is a package with a `manifest.py` defining `PLUGIN = Registration(...)`: a direct
subpackage of `ze` (a single feature such as the eBPF counters) or a subpackage of a feature
parent (`ze.fib.<name>`, `ze.plugins.<name>`), plus whatever the `ze.plugins` entry-point
group names (each entry point is a Registration, or a module with `PLUGIN`). Importing a
manifest imports only the stdlib and the manifest type. A feature whose `requires` are
missing is listed as unavailable, with the reason.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from ze.core.log import get_logger
from ze.plugin.protocol.manifest import Registration, missing_requirements

log = get_logger("ze.hub.discovery")

ENTRY_POINT_GROUP = "ze.plugins"
FEATURE_PARENTS = ("fib", "plugins")  # folders under ze/ whose subfolders are features


@dataclass(slots=True)
class Feature:
    registration: Registration
    module: str  # the package ("ze.<...>") or the entry point's module
    folder: Path | None
    source: str  # "package" | "entry-point"
    missing: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.registration.name

    @property
    def available(self) -> bool:
        return not self.missing

    def yang_files(self) -> list[Path]:
        if self.folder is None:
            return []
        return [self.folder / y for y in self.registration.yang]

    def to_dict(self) -> dict[str, Any]:
        r = self.registration
        out: dict[str, Any] = {
            "name": r.name,
            "description": r.description,
            "module": self.module,
            "source": self.source,
            "available": self.available,
            "entry": r.entry,
            "config-roots": list(r.config_roots),
            "depends": list(r.depends),
        }
        if self.missing:
            out["reason"] = "; ".join(self.missing)
        return out


def _manifest_modules(root: Path) -> list[tuple[str, Path]]:
    out = []
    for d in sorted(root.iterdir()):
        if not d.is_dir() or d.name.startswith(("_", ".")):
            continue
        if (d / "manifest.py").is_file():
            out.append((f"ze.{d.name}", d))
        elif d.name in FEATURE_PARENTS:
            for sub in sorted(d.iterdir()):
                if sub.is_dir() and (sub / "manifest.py").is_file():
                    out.append((f"ze.{d.name}.{sub.name}", sub))
    return out


def discover(entry_points: bool = True, root: Path | None = None) -> dict[str, Feature]:
    """Every feature found, by registration name. Duplicate names: the first wins, logged."""
    import ze

    found: dict[str, Feature] = {}
    base = root or Path(ze.__file__).parent

    def add(f: Feature) -> None:
        if f.name in found:
            log.error("two features with one name; the second is ignored", name=f.name,
                      first=found[f.name].module, second=f.module)  # fmt: skip
            return
        f.missing = missing_requirements(f.registration)
        found[f.name] = f

    for module, folder in _manifest_modules(base):
        try:
            reg = importlib.import_module(f"{module}.manifest").PLUGIN
        except Exception as e:  # a broken manifest is reported, never fatal
            log.error("feature manifest failed to load", module=module, error=repr(e))
            continue
        add(Feature(reg, module, folder, "package"))
    if entry_points:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                obj = ep.load()
            except Exception as e:
                log.error("plugin entry point failed to load", entry_point=ep.name, error=repr(e))
                continue
            reg = obj if isinstance(obj, Registration) else getattr(obj, "PLUGIN", None)
            if not isinstance(reg, Registration):
                log.error("plugin entry point is not a Registration", entry_point=ep.name)
                continue
            mod = ep.value.split(":", 1)[0]
            spec = importlib.util.find_spec(mod)
            folder = Path(spec.origin).parent if spec and spec.origin else None
            add(Feature(reg, mod, folder, "entry-point"))
    return found


def yang_files(features: dict[str, Feature]) -> list[Path]:
    """The YANG modules of every feature found, available or not: a config naming a feature's
    section parses, and the feature then says why it cannot run."""
    out: list[Path] = []
    for f in features.values():
        out.extend(p for p in f.yang_files() if p.is_file())
    return out
