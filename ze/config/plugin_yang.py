"""YANG modules that external plugins declare at run time (`declare-registration`'s
`"schema": {"module", "namespace", "yang-text"}`), merged into the config schema.

The config is parsed before external plugins run, so top-level blocks the schema does not
know are deferred (resolve.parse_config, only when the config has `process` entries). When a
plugin registers its module, `PluginModules.add` checks it (module name and namespace as
declared, compiles with pyang next to the core modules, defines only roots the plugin names
in `wants-config`, collides with no core, feature or other plugin root) and returns the
merged schema; the daemon then parses the config again with it, so a plugin's block gets the
same file:line:column problems as core config. pyang reads files: each text is written under
the schema cache dir by its hash (stable paths, so the compiled schema is cached too);
`import ze-types` works from there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ze.config.schema import CORE_MODULES, Schema, _cache_dir, load_schema
from ze.core.errors import ConfigError
from ze.plugin.protocol.yang import module_of as _module_of


def module_of(text: str) -> tuple[str, str]:
    try:
        return _module_of(text)
    except ValueError as e:
        raise ConfigError(str(e)) from None


class PluginModules:
    def __init__(self, base: Sequence[Path] = (), directory: Path | None = None) -> None:
        self.base = [Path(p) for p in base]  # feature modules (the core ones load_schema adds)
        self.directory = directory
        self._dir: Path | None = None
        self.by_plugin: dict[str, tuple[str, Path]] = {}  # plugin -> (module, file)

    def files(self) -> list[Path]:
        return [f for _, f in self.by_plugin.values()]

    def schema(self) -> Schema:
        return load_schema(extra=[*self.base, *self.files()], directory=self.directory)

    def add(self, plugin: str, schema: Any, roots: Sequence[str]) -> Schema:
        """Check and merge `plugin`'s module; the merged schema. ConfigError saying why not (the
        plugin's previous module, if any, stays)."""
        if not isinstance(schema, dict) or not isinstance(schema.get("yang-text"), str):
            raise ConfigError('schema must be {"module", "namespace", "yang-text"}')
        text = schema["yang-text"]
        module, namespace = module_of(text)
        if schema.get("module") and schema["module"] != module:
            raise ConfigError(f"schema module {schema['module']!r} but the yang-text defines {module!r}")
        if schema.get("namespace") and schema["namespace"] != namespace:
            raise ConfigError(
                f"schema namespace {schema['namespace']!r} but the yang-text says {namespace!r}"
            )
        for other, (mod, _) in self.by_plugin.items():
            if mod == module and other != plugin:
                raise ConfigError(f"module {module} is already declared by plugin {other}")
        if module in CORE_MODULES or any(p.stem == module for p in self.base):
            raise ConfigError(f"module {module} is one of ze's own")
        path = self._place(module, text)
        previous = self.by_plugin.get(plugin)
        self.by_plugin[plugin] = (module, path)
        try:
            merged = self.schema()
            mine = [n for n, node in merged.root.children.items() if node.module == module]
            stray = [r for r in mine if r not in roots]
            if stray:
                raise ConfigError(
                    f"module {module} defines config root(s) {', '.join(stray)} that wants-config "
                    f"does not name ({', '.join(roots) or 'none'})"
                )
        except ConfigError:
            if previous is None:
                del self.by_plugin[plugin]
            else:
                self.by_plugin[plugin] = previous
            raise
        return merged

    def remove(self, plugin: str) -> bool:
        """Forget a plugin's module (it left the config); whether it had one."""
        return self.by_plugin.pop(plugin, None) is not None

    def _place(self, module: str, text: str) -> Path:
        """The module's file, by content: the same text is the same path from run to run, so
        load_schema's compiled cache serves it (a fresh path would mean pyang every time and a
        new cache entry per run). Under the cache dir; a private temporary one if unwritable."""
        digest = hashlib.sha256(text.encode()).hexdigest()[:20]
        cache = _cache_dir()
        for base in ([cache / "plugin-yang"] if cache else []) + [None]:
            if base is None:
                if self._dir is None:
                    self._dir = Path(tempfile.mkdtemp(prefix="ze-plugin-yang-"))
                base = self._dir
            path = base / digest / f"{module}.yang"
            try:
                if not path.is_file() or path.read_text(encoding="utf-8") != text:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(f".{os.getpid()}.tmp")
                    tmp.write_text(text, encoding="utf-8")
                    tmp.replace(path)
                return path
            except OSError:
                continue
        raise ConfigError("cannot write the plugin's YANG module anywhere")

    def roots(self, plugin: str, schema: Schema) -> list[str]:
        entry = self.by_plugin.get(plugin)
        if entry is None:
            return []
        return [n for n, node in schema.root.children.items() if node.module == entry[0]]

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
