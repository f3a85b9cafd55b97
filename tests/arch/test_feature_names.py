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


def test_prose_may_mention_a_feature_code_may_not():
    text = '"""Docstring: fib-kernel reads this."""\nx = 1  # sysrib feeds it\ny = "sysrib/best"\n'
    lines = rules.code_only(text)
    assert "fib-kernel" not in lines[0] and "sysrib" not in lines[1]
    assert lines[2] == 'y = "sysrib/best"'
