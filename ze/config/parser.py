"""The config parser: tokens in, a typed tree out, driven by the compiled YANG schema.

The schema says what each name is: `name { ... }` for a container, `name KEY { ... }` (or
`name KEY;`) for a list entry, `name VALUE;` for a leaf (a boolean leaf alone, `passive;`,
means true), `name VALUE;` repeated or `name [ A B ];` for a leaf-list. Values are checked
against their YANG type. The parser does not stop at the first problem: it skips the bad
statement, goes on, and reports every problem with file:line:column.

The tree is plain data: a container is a dict, a list a dict from key to entry dict, a leaf
its typed value, a leaf-list a list. Only what the file says is in it (no defaults; those
are applied after inheritance, see resolve.py). `locs` maps each path to where it was set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ze.config import tokenizer as tk
from ze.config.errors import ConfigProblems, Loc, Problem, did_you_mean
from ze.config.schema import Node, Schema

Path = tuple[str, ...]


class _Invalid:
    """Stands for a value that failed its type check (already reported), so later checks
    do not also call it missing."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "INVALID"


INVALID = _Invalid()


@dataclass(slots=True)
class Tree:
    data: dict[str, Any]
    locs: dict[Path, Loc] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # top-level names the schema does not know, left for plugins that bring their own YANG
    # (see resolve.parse_config): name -> where it is first written
    deferred: dict[str, Loc] = field(default_factory=dict)

    def loc(self, path: Path) -> Loc | None:
        """Where `path` (or its nearest parent) was set."""
        while path:
            if path in self.locs:
                return self.locs[path]
            path = path[:-1]
        return None


class _Parser:
    def __init__(self, tokens: list[tk.Token], problems: list[Problem]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.problems = problems
        self.locs: dict[Path, Loc] = {}
        self.deferred: dict[str, Loc] = {}

    # --- token helpers ---
    def peek(self) -> tk.Token:
        return self.tokens[self.pos]

    def take(self) -> tk.Token:
        tok = self.tokens[self.pos]
        if tok.kind != tk.EOF:
            self.pos += 1
        return tok

    def error(self, loc: Loc | None, message: str) -> None:
        self.problems.append(Problem(loc, message))

    def skip_statement(self) -> None:
        """Skip to the end of the current statement: its ';' or its balanced { } block."""
        depth = 0
        while True:
            tok = self.peek()
            if tok.kind == tk.EOF:
                return
            if tok.kind == tk.RBRACE and depth == 0:
                return  # the enclosing block's end: leave it for the caller
            self.take()
            if tok.kind == tk.LBRACE:
                depth += 1
            elif tok.kind == tk.RBRACE:
                depth -= 1
                if depth == 0:
                    if self.peek().kind == tk.SEMI:
                        self.take()
                    return
            elif tok.kind == tk.SEMI and depth == 0:
                return

    def expect_semi(self, after: str) -> None:
        tok = self.peek()
        if tok.kind == tk.SEMI:
            self.take()
            return
        self.error(tok.loc, f"expected ';' after {after}, found {tok.describe()}")
        if tok.kind not in (tk.WORD, tk.RBRACE, tk.EOF):
            self.skip_statement()

    # --- grammar ---
    def block(self, node: Node, out: dict, path: Path, closing: bool) -> None:
        """Statements until '}' (closing) or end of file, into `out`."""
        while True:
            tok = self.peek()
            if tok.kind == tk.EOF:
                if closing:
                    where = self.locs.get(path)
                    self.error(tok.loc, f"missing '}}' to close {' '.join(path)} (opened at {where})")
                return
            if tok.kind == tk.RBRACE:
                if closing:
                    self.take()
                    if self.peek().kind == tk.SEMI:
                        self.take()
                    return
                self.error(tok.loc, "unexpected '}' (no block to close)")
                self.take()
                continue
            if tok.kind == tk.SEMI:
                self.take()  # an empty statement
                continue
            if tok.kind != tk.WORD:
                self.error(tok.loc, f"expected a keyword, found {tok.describe()}")
                if tok.kind != tk.LBRACE:
                    self.take()
                self.skip_statement()
                continue
            self.statement(node, out, path)

    def statement(self, node: Node, out: dict, path: Path) -> None:
        name_tok = self.take()
        name = name_tok.text
        child = node.child(name)
        where = " ".join(path) or "the top level"
        if child is None and not path:
            self.deferred.setdefault(name, name_tok.loc)  # resolve decides: a problem, or a plugin's
            self.skip_statement()
            return
        if child is None or (node.kind == "list" and name == node.key):
            choices = [c for c in node.children if c != node.key]
            if child is not None:
                self.error(name_tok.loc, f"'{name}' is the key of {path[-2]}: give it after '{path[-2]}'")
            elif choices:
                self.error(name_tok.loc, f"unknown key '{name}' in {where}{did_you_mean(name, choices)}")
            else:
                self.error(name_tok.loc, f"unknown key '{name}' in {where} (it has no settings)")
            self.skip_statement()
            return
        cpath = (*path, name)
        if child.kind == "container":
            self.container(child, out, cpath, name_tok)
        elif child.kind == "list":
            self.list_entry(child, out, cpath, name_tok)
        elif child.kind == "leaf":
            self.leaf(child, out, cpath, name_tok)
        else:
            self.leaf_list(child, out, cpath, name_tok)

    def container(self, node: Node, out: dict, path: Path, name_tok: tk.Token) -> None:
        if self.peek().kind != tk.LBRACE:
            self.error(self.peek().loc, f"expected '{{' after {node.name}, found {self.peek().describe()}")
            self.skip_statement()
            return
        self.take()
        self.locs.setdefault(path, name_tok.loc)
        sub = out.setdefault(node.name, {})
        self.block(node, sub, path, closing=True)

    def list_entry(self, node: Node, out: dict, path: Path, name_tok: tk.Token) -> None:
        key_tok = self.peek()
        if key_tok.kind not in (tk.WORD, tk.STRING):
            self.error(key_tok.loc, f"expected the {node.key} of a {node.name}, found {key_tok.describe()}")
            self.skip_statement()
            return
        self.take()
        key_node = node.child(node.key or "")
        key = key_tok.text
        if key_node is not None and key_node.type is not None:
            try:
                key = key_node.type.check(key_tok.text)
            except ValueError as e:
                self.error(key_tok.loc, f"{node.name} {node.key}: {e}")
        entries = out.setdefault(node.name, {})
        epath = (*path, str(key))
        if key in entries:
            self.error(name_tok.loc, f"{node.name} '{key}' defined twice (first at {self.locs[epath]})")
            self.skip_statement()
            return
        entry: dict = {}
        entries[key] = entry
        self.locs[epath] = name_tok.loc
        nxt = self.peek()
        if nxt.kind == tk.SEMI:
            self.take()
        elif nxt.kind == tk.LBRACE:
            self.take()
            self.block(node, entry, epath, closing=True)
        else:
            self.error(nxt.loc, f"expected '{{' or ';' after {node.name} {key}, found {nxt.describe()}")
            self.skip_statement()
        for c in node.children.values():
            if c.mandatory and c.name not in entry and c.name != node.key:
                self.error(name_tok.loc, f"{node.name} '{key}' is missing mandatory '{c.name}'")

    def value(self, node: Node, tok: tk.Token) -> tuple[bool, Any]:
        assert node.type is not None
        try:
            return True, node.type.check(tok.text)
        except ValueError as e:
            self.error(tok.loc, f"{node.name}: {e}")
            return False, None

    def leaf(self, node: Node, out: dict, path: Path, name_tok: tk.Token) -> None:
        assert node.type is not None
        if node.name in out:
            self.error(name_tok.loc, f"'{node.name}' set twice (first at {self.locs[path]})")
            self.skip_statement()
            return
        tok = self.peek()
        if tok.kind == tk.SEMI and node.type.base == "boolean":
            self.take()
            out[node.name] = True
            self.locs[path] = name_tok.loc
            return
        if tok.kind not in (tk.WORD, tk.STRING):
            self.error(
                tok.loc, f"expected a value for {node.name} ({node.type.describe()}), found {tok.describe()}"
            )
            self.skip_statement()
            return
        self.take()
        ok, v = self.value(node, tok)
        out[node.name] = v if ok else INVALID
        self.locs[path] = name_tok.loc
        self.expect_semi(f"the value of {node.name}")

    def leaf_list(self, node: Node, out: dict, path: Path, name_tok: tk.Token) -> None:
        tok = self.peek()
        toks: list[tk.Token] = []
        if tok.kind == tk.LBRACK:
            self.take()
            while self.peek().kind in (tk.WORD, tk.STRING):
                toks.append(self.take())
            if self.peek().kind != tk.RBRACK:
                self.error(
                    self.peek().loc,
                    f"expected ']' to end the {node.name} list, found {self.peek().describe()}",
                )
                self.skip_statement()
                return
            self.take()
        elif tok.kind in (tk.WORD, tk.STRING):
            toks.append(self.take())
        else:
            self.error(tok.loc, f"expected a value for {node.name}, found {tok.describe()}")
            self.skip_statement()
            return
        values = out.setdefault(node.name, [])
        self.locs.setdefault(path, name_tok.loc)
        for t in toks:
            ok, v = self.value(node, t)
            if not ok:
                continue
            if v in values:
                self.error(t.loc, f"{node.name} {t.text} given twice")
                continue
            values.append(v)
        self.expect_semi(f"the value of {node.name}")


def parse(text: str, schema: Schema, file: str = "<config>", defer_roots: bool = False) -> Tree:
    """Parse and type-check; problems are collected in Tree.problems (not raised). With
    `defer_roots`, top-level names the schema does not know are not problems but listed in
    Tree.deferred (a plugin may bring their YANG later)."""
    tokens, problems = tk.tokenize(text, file)
    p = _Parser(tokens, problems)
    data: dict = {}
    p.block(schema.root, data, (), closing=False)
    if not defer_roots:
        problems.extend(unknown_roots(p.deferred, schema))
        p.deferred = {}
    problems.sort(key=lambda pr: (pr.loc.line, pr.loc.column) if pr.loc else (0, 0))
    return Tree(data=data, locs=p.locs, problems=problems, deferred=p.deferred)


def unknown_roots(deferred: dict[str, Loc], schema: Schema, why: str = "") -> list[Problem]:
    """The problems for top-level names nothing defines (with a did-you-mean)."""
    return [
        Problem(loc, f"unknown key '{name}' in the top level{did_you_mean(name, schema.root.children)}{why}")
        for name, loc in deferred.items()
    ]


def parse_or_raise(text: str, schema: Schema, file: str = "<config>") -> Tree:
    tree = parse(text, schema, file)
    if tree.problems:
        raise ConfigProblems(tree.problems)
    return tree


def render(data: dict, schema_node: Node, indent: int = 0) -> str:
    """The tree back as config text (canonical layout, schema order)."""
    pad = "    " * indent
    lines: list[str] = []
    for name, child in schema_node.children.items():
        if name not in data:
            continue
        value = data[name]
        if child.kind == "container":
            lines.append(f"{pad}{name} {{")
            lines.append(render(value, child, indent + 1))
            lines.append(f"{pad}}}")
        elif child.kind == "list":
            for key, entry in value.items():
                body = render(entry, child, indent + 1)
                if body:
                    lines.extend([f"{pad}{name} {_quote(key)} {{", body, f"{pad}}}"])
                else:
                    lines.append(f"{pad}{name} {_quote(key)};")
        elif child.kind == "leaf":
            lines.append(f"{pad}{name} {_quote(value)};")
        else:
            lines.extend(f"{pad}{name} {_quote(v)};" for v in value)
    return "\n".join(line for line in lines if line)


def _quote(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text and not any(c in text for c in ' \t\n{}[];#"\\'):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'
