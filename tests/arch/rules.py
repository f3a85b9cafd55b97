"""DESIGN.md "Which way imports point", as data, and the checkers the arch tests run.

The checkers take a root folder so the tests can also run them on a copy with a planted
violation and see it caught.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Where features live: ze.fib.<name>, ze.bpf (one feature), ze.plugins.<name>.
FEATURE_PARENTS = ("ze.fib", "ze.plugins")
SINGLE_FEATURES = ("ze.bpf",)
FEATURE_ALLOWED = ("ze.core", "ze.plugin.sdk", "ze.plugin.protocol", "ze.bgp.wire", "ze.bgp.events")
IO_FREE = frozenset({"asyncio", "socket", "time", "selectors", "threading", "uvloop"})


@dataclass(frozen=True)
class Rule:
    layer: str
    packages: tuple[str, ...]  # modules this rule covers (prefixes)
    may: tuple[str, ...]  # ze modules it may import (prefixes); own package always allowed
    io_free: bool = False  # no asyncio/socket/time
    no_features: bool = True


# Ordered most specific first; the first rule whose package prefix matches wins.
RULES: tuple[Rule, ...] = (
    Rule("L0", ("ze.core",), ()),
    Rule("L0.5", ("ze._native",), ("ze.core",)),
    Rule("L1", ("ze.bgp.wire",), ("ze.core", "ze._native"), io_free=True),
    Rule("L1", ("ze.plugin.protocol",), ("ze.core", "ze._native"), io_free=True),
    Rule(
        "L2",
        ("ze.bgp.fsm", "ze.bgp.events", "ze.bgp.validate", "ze.bgp.negotiation"),
        ("ze.bgp.wire", "ze.core"),
        io_free=True,
    ),
    Rule("L2", ("ze.hub", "ze.config"), ("ze.core", "ze.plugin.protocol")),
    Rule(
        "L3",
        ("ze.bgp.io", "ze.bgp.reactor", "ze.bgp.adjout", "ze.bgp.ribin"),
        ("ze.bgp", "ze.core", "ze._native"),
    ),
    Rule("L3", ("ze.plugin.sdk",), ("ze.plugin.protocol", "ze.core", "ze.bgp.wire", "ze.bgp.events")),
    Rule("L3", ("ze.plugin.host", "ze.api"), ("ze.hub", "ze.plugin.protocol", "ze.core")),
    Rule("L4", ("ze.bgp.subsystem", "ze.bgp.relay"), ("ze.bgp", "ze.hub", "ze.plugin.protocol", "ze.core")),
    Rule("L5", ("ze.daemon", "ze.cli", "ze.exabgp", "ze.lab"), ("ze",)),
    # Package markers with no code of their own.
    Rule("pkg", ("ze.bgp", "ze.plugin", "ze.fib", "ze.plugins"), ()),
)


def module_name(root: Path, path: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def feature_of(module: str, root: Path) -> str | None:
    """The feature package a module belongs to (e.g. ze.plugins.rib), or None."""
    for single in SINGLE_FEATURES:
        if module == single or module.startswith(single + "."):
            return single
    for parent in FEATURE_PARENTS:
        if module.startswith(parent + "."):
            name = module[len(parent) + 1 :].split(".", maxsplit=1)[0]
            if (root / Path(*parent.split(".")) / name).is_dir():
                return f"{parent}.{name}"
    return None


def features(root: Path = REPO) -> list[str]:
    """Every feature package present under root/ze (folders with a manifest.py)."""
    found = []
    for single in SINGLE_FEATURES:
        if (root / Path(*single.split(".")) / "manifest.py").exists():
            found.append(single)
    for parent in FEATURE_PARENTS:
        base = root / Path(*parent.split("."))
        if base.is_dir():
            for d in sorted(base.iterdir()):
                if d.is_dir() and (d / "manifest.py").exists():
                    found.append(f"{parent}.{d.name}")
    return found


def imports_of(path: Path, module: str) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_pkg = path.name == "__init__.py"
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((a.name, node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pkg = module.split(".") if is_pkg else module.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out.append((base, node.lineno))
            # `from ze.bgp import wire` imports ze.bgp.wire
            out.extend((f"{base}.{a.name}", node.lineno) for a in node.names if a.name != "*")
    return out


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def rule_for(module: str) -> Rule | None:
    for rule in RULES:
        if any(_within(module, p) for p in rule.packages):
            return rule
    return None


def _is_module(root: Path, name: str) -> bool:
    p = root / Path(*name.split("."))
    return p.with_suffix(".py").exists() or (p / "__init__.py").exists()


def check_imports(root: Path = REPO) -> list[str]:
    """Every import that breaks the table, as 'file:line: message'."""
    problems: list[str] = []
    pkg_root = root / "ze"
    for path in sorted(pkg_root.rglob("*.py")):
        module = module_name(root, path)
        own_feature = feature_of(module, root)
        for name, line in imports_of(path, module):
            top = name.split(".")[0]
            where = f"{path.relative_to(root)}:{line}"
            if top != "ze":
                rule = rule_for(module) if own_feature is None else None
                if rule and rule.io_free and top in IO_FREE:
                    problems.append(f"{where}: {module} ({rule.layer}) must not import {name}")
                continue
            if name != "ze" and not _is_module(root, name) and not _is_module(root, name.rsplit(".", 1)[0]):
                continue  # an attribute import of a module already checked
            target_feature = feature_of(name, root)
            if own_feature is not None:
                if path.name == "manifest.py" and not _within(name, "ze.plugin.protocol"):
                    problems.append(f"{where}: a manifest may import only the stdlib and the manifest type")
                if target_feature == own_feature or name == "ze":
                    continue
                if target_feature is not None:
                    problems.append(f"{where}: feature {own_feature} imports feature {target_feature}")
                elif not any(_within(name, p) for p in FEATURE_ALLOWED):
                    problems.append(f"{where}: feature {own_feature} must not import {name}")
                continue
            if target_feature is not None:
                problems.append(f"{where}: {module} names feature {target_feature} (use discovery)")
                continue
            rule = rule_for(module)
            if rule is None:
                if module != "ze":
                    problems.append(
                        f"{where}: {module} has no layer in the table (add it to tests/arch/rules.py)"
                    )
                continue
            if name == "ze" or any(_within(name, p) for p in rule.packages):
                continue
            if not any(_within(name, p) for p in rule.may):
                problems.append(f"{where}: {module} ({rule.layer}) must not import {name}")
    return problems


_NAME_RE = re.compile(r"""\bname\s*=\s*["']([^"']+)["']""")


def feature_names(root: Path, feature: str) -> list[str]:
    """How a feature can be named: its module path, its folder path, and its registration name(s)."""
    folder = Path(*feature.split("."))
    names = [feature, str(folder)]
    manifest = root / folder / "manifest.py"
    if manifest.exists():
        names.extend(_NAME_RE.findall(manifest.read_text(encoding="utf-8")))
    return names


# Hub topics are the contract between features (DESIGN.md: "rib/best", "sysrib/best"): a feature
# subscribing to another's topic does not depend on it (deleted, the topic is only silent).
HUB_TOPICS = frozenset(
    {"bgp/update", "bgp/state", "bgp/refresh", "bgp/send", "rib/best", "sysrib/best", "sysrib/resync"}
)


def _is_topic(literal: str) -> bool:
    try:
        return ast.literal_eval(literal) in HUB_TOPICS
    except (ValueError, SyntaxError):
        return False


def code_only(text: str) -> list[str]:
    """The source's lines with comments, docstrings (string statements) and hub topic literals
    blanked: prose may mention a feature (\"the fib-kernel consumes this\"), code may not name it."""
    lines = text.splitlines()
    toks = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type != tokenize.NL]
    code = [t for t in toks if t.type != tokenize.COMMENT]
    spans = [(t.start, t.end) for t in toks if t.type == tokenize.COMMENT]
    starts = (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    for i, tok in enumerate(code):
        if tok.type != tokenize.STRING:
            continue
        if _is_topic(tok.string):
            spans.append((tok.start, tok.end))
            continue
        before = code[i - 1].type if i else tokenize.NEWLINE
        after = code[i + 1].type if i + 1 < len(code) else tokenize.NEWLINE
        if before in starts and after in (tokenize.NEWLINE, tokenize.ENDMARKER):
            spans.append((tok.start, tok.end))
    for (sr, sc), (er, ec) in spans:
        for r in range(sr, er + 1):
            line = lines[r - 1]
            a = sc if r == sr else 0
            b = ec if r == er else len(line)
            lines[r - 1] = line[:a] + " " * (b - a) + line[b:]
    return lines


def check_feature_names(root: Path = REPO) -> list[str]:
    """Python files under ze/ outside a feature's folder that spell the feature's name or path in
    code (comments and docstrings may mention features)."""
    problems: list[str] = []
    feats = features(root)
    files = sorted((root / "ze").rglob("*.py"))
    for feat in feats:
        folder = root / Path(*feat.split("."))
        names = feature_names(root, feat)
        pattern = re.compile("|".join(re.escape(n) + r"(?![\w-])" for n in names))
        for path in files:
            if folder in path.parents:
                continue
            for lineno, text in enumerate(code_only(path.read_text(encoding="utf-8")), 1):
                m = pattern.search(text)
                if m:
                    problems.append(
                        f"{path.relative_to(root)}:{lineno}: names feature {feat} ({m.group(0)!r})"
                    )
    return problems
