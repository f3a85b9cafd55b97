"""Rule 3: for each feature, a copy of ze/ without its folder still imports every module and passes
the wire unit tests. With no feature present the baseline copy is checked, so the harness itself
is exercised on every run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.arch import rules

IMPORT_ALL = r"""
import importlib, pkgutil, sys
import ze
assert ze.__file__.startswith(sys.argv[1]), ze.__file__
failed = []
for m in pkgutil.walk_packages(ze.__path__, "ze."):
    try:
        importlib.import_module(m.name)
    except ImportError as e:
        # optional run-time dependencies of a feature (bcc, pyroute2) may be absent here
        if getattr(e, "name", "") and not e.name.startswith("ze"):
            continue
        failed.append(f"{m.name}: {e!r}")
print("\n".join(failed))
sys.exit(1 if failed else 0)
"""


@pytest.mark.parametrize("feature", [*rules.features(), None])
def test_tree_without_feature(tmp_path: Path, feature: str | None):
    root = tmp_path / "tree"
    shutil.copytree(rules.REPO / "ze", root / "ze", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(rules.REPO / "tests", root / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    if feature is not None:
        shutil.rmtree(root.joinpath(*feature.split(".")))
    env = {**os.environ, "PYTHONPATH": str(root)}
    r = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, str(root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    wire_tests = [str(root / "tests" / t) for t in ("wire", "unit/bgp/wire") if (root / "tests" / t).is_dir()]
    assert wire_tests, "no wire tests found"
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *wire_tests],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert " passed" in r.stdout
