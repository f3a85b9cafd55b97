"""YANG modules that external plugins declare at run time (`declare-registration`'s
`"schema": {"module", "namespace", "yang-text"}`), merged into the config schema.

The config is parsed before external plugins run, so top-level blocks the schema does not
know are deferred (resolve.parse_config, only when the config has `process` entries). When a
plugin registers its module, `PluginModules.add` checks it (module name and namespace as
declared, compiles with pyang next to the core modules, defines only roots the plugin names
in `wants-config`, collides with no core, feature or other plugin root) and returns the
merged schema; the daemon then parses the config again with it, so a plugin's block gets the
same file:line:column problems as core config. The texts are written to one private
directory per daemon (pyang reads files; `import ze-types` works from there).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ze.config.schema import CORE_MODULES, Schema, load_schema
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
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="ze-plugin-yang-"))
        path = self._dir / f"{module}.yang"
        previous = self.by_plugin.get(plugin)
        old_text = previous[1].read_text(encoding="utf-8") if previous and previous[1] == path else None
        path.write_text(text, encoding="utf-8")
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
                path.unlink(missing_ok=True)
            else:
                self.by_plugin[plugin] = previous
                if old_text is not None:
                    path.write_text(old_text, encoding="utf-8")
            raise
        if previous is not None and previous[1] != path:
            previous[1].unlink(missing_ok=True)
        return merged

    def remove(self, plugin: str) -> bool:
        """Forget a plugin's module (it left the config); whether it had one."""
        entry = self.by_plugin.pop(plugin, None)
        if entry is not None:
            entry[1].unlink(missing_ok=True)
        return entry is not None

    def roots(self, plugin: str, schema: Schema) -> list[str]:
        entry = self.by_plugin.get(plugin)
        if entry is None:
            return []
        return [n for n, node in schema.root.children.items() if node.module == entry[0]]

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
