"""The import table of DESIGN.md, enforced on the real tree, and the checker tested on planted faults."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.arch import rules


def test_tree_follows_import_table():
    problems = rules.check_imports()
    assert problems == [], "\n".join(problems)


def test_every_module_has_a_layer():
    mods = [rules.module_name(rules.REPO, p) for p in (rules.REPO / "ze").rglob("*.py")]
    assert "ze.core.buf" in mods and "ze.bgp.wire.header" in mods
    orphans = [
        m for m in mods if m != "ze" and rules.rule_for(m) is None and rules.feature_of(m, rules.REPO) is None
    ]
    assert orphans == []


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(rules.REPO / "ze", root / "ze", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    return root


def test_checker_catches_wire_importing_asyncio(tmp_path):
    root = _copy(tmp_path)
    (root / "ze/bgp/wire/bad.py").write_text("import asyncio\n")
    assert rules.check_imports(root) == ["ze/bgp/wire/bad.py:1: ze.bgp.wire.bad (L1) must not import asyncio"]


def test_checker_catches_core_importing_upward(tmp_path):
    root = _copy(tmp_path)
    (root / "ze/core/bad.py").write_text("from ze.bgp.wire import header\n")
    problems = rules.check_imports(root)
    assert problems and all(
        p.startswith("ze/core/bad.py:1: ze.core.bad (L0) must not import ze.bgp.wire") for p in problems
    )


def test_checker_catches_feature_rules(tmp_path):
    root = _copy(tmp_path)
    for name in ("alpha", "beta"):
        d = root / "ze/plugins" / name
        d.mkdir(parents=True)
        (d / "__init__.py").write_text("")
        (d / "manifest.py").write_text(f'PLUGIN = dict(name="bgp-{name}")\n')
    (root / "ze/plugins/alpha/plugin.py").write_text(
        "import ze.plugins.beta.plugin\nfrom ze.hub import bus\n"
    )
    (root / "ze/plugins/beta/plugin.py").write_text("from ze.bgp.wire import header\n")
    (root / "ze/cli/bad.py").write_text("import ze.plugins.alpha.plugin\n")
    problems = rules.check_imports(root)
    assert (
        "ze/plugins/alpha/plugin.py:1: feature ze.plugins.alpha imports feature ze.plugins.beta" in problems
    )
    assert "ze/plugins/alpha/plugin.py:2: feature ze.plugins.alpha must not import ze.hub" in problems
    assert "ze/cli/bad.py:1: ze.cli.bad names feature ze.plugins.alpha (use discovery)" in problems
    assert not any("beta/plugin.py" in p for p in problems)
    names = rules.check_feature_names(root)
    assert "ze/cli/bad.py:1: names feature ze.plugins.alpha ('ze.plugins.alpha')" in names
