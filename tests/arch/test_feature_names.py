"""No feature's name or path appears outside its own folder (DESIGN.md, tests/arch rule 2)."""

from __future__ import annotations

from tests.arch import rules


def test_no_feature_named_outside_its_folder():
    problems = rules.check_feature_names()
    assert problems == [], "\n".join(problems)


def test_feature_discovery_finds_manifests():
    # Every folder under a feature parent that holds Python code must be a feature with a manifest.
    for parent in rules.FEATURE_PARENTS:
        base = rules.REPO.joinpath(*parent.split("."))
        for d in base.iterdir() if base.is_dir() else ():
            if d.is_dir() and any(d.glob("*.py")):
                assert (d / "manifest.py").exists(), f"{d} has code but no manifest.py"
