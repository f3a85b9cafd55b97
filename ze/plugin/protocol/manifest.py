"""The manifest type: what a feature tells the host about itself, as data.

A feature's `manifest.py` imports only the stdlib and this module and defines
`PLUGIN = Registration(...)`. Every reference to code is a "module:attr" string resolved
lazily by the host, so importing a manifest never imports pyroute2, bcc or cffi.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Registration:
    name: str  # "my-policy" ... (the name config uses; one word)
    description: str
    entry: str  # "ze.plugins.<folder>.plugin:main"
    rfcs: tuple[str, ...] = ()
    families: tuple[str, ...] = ()  # "ipv4/unicast" ...
    capabilities: tuple[int, ...] = ()  # capability codes it negotiates
    config_roots: tuple[str, ...] = ()  # top-level config nodes it owns ("fib", "bpf" ...)
    yang: tuple[str, ...] = ()  # YANG files, relative to the feature folder
    depends: tuple[str, ...] = ()  # other plugins (by name) that must start first
    requires: tuple[str, ...] = ()  # importable modules or executables it needs ("pyroute2", "bin:tc")
    # codec tables it adds: {"attrs": ["module:SPEC", ...], "families": [...], "capabilities": [...]}
    codecs: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name or " " in self.name:
            raise ValueError(f"plugin name {self.name!r}: must be one word")
        if ":" not in self.entry:
            raise ValueError(f"plugin {self.name}: entry {self.entry!r} must be 'module:attr'")


def resolve(ref: str) -> Any:
    """Import "module:attr" and return the attribute."""
    module, _, attr = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def missing_requirements(reg: Registration) -> list[str]:
    """What of reg.requires is absent here, each with the reason (for 'unavailable' listings)."""
    import importlib.util
    import shutil

    missing = []
    for req in reg.requires:
        if req.startswith("bin:"):
            if shutil.which(req[4:]) is None:
                missing.append(f"executable {req[4:]} not found on PATH")
        elif importlib.util.find_spec(req) is None:
            missing.append(f"Python module {req} not importable")
    return missing
