"""The YANG schema, compiled with pyang into a small tree the config parser walks.

Only what configuration needs is kept: container, list (single key), leaf and leaf-list
nodes; types with ranges, lengths, patterns, enums and unions; defaults; mandatory; and the
RPCs of the control API (ze-api). The compiled tree is cached as JSON keyed by a hash of the
module texts, so pyang runs only when a module changes.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ze.core.errors import ConfigError

# The engine's own modules, in the order they are listed.
CORE_MODULES = ("ze-types", "ze-environment", "ze-bgp", "ze-plugin", "ze-api")

_INT_BOUNDS = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
_CACHE_VERSION = 1


def yang_dir() -> Path:
    """Where the core modules are: $ZE_YANG_DIR, else yang/ next to the ze package (source tree)."""
    env = os.environ.get("ZE_YANG_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[2] / "yang"
    if here.is_dir():
        return here
    return Path("/usr/share/ze/yang")


@dataclass(slots=True)
class Type:
    """A resolved YANG type: `base` is the built-in type, `name` the last typedef's name."""

    base: str
    name: str = ""
    ranges: list[tuple[int, int]] = field(default_factory=list)
    lengths: list[tuple[int, int]] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    enums: list[str] = field(default_factory=list)
    members: list[Type] = field(default_factory=list)

    def describe(self) -> str:
        if self.base == "enumeration":
            return "one of " + ", ".join(self.enums)
        if self.base == "union":
            return " or ".join(m.describe() for m in self.members)
        text = self.name or self.base
        if self.ranges:
            text += " in " + " | ".join(f"{lo}..{hi}" if lo != hi else str(lo) for lo, hi in self.ranges)
        return text

    def check(self, text: str) -> Any:
        """The typed value of `text`, or ValueError saying what was expected."""
        if self.base in _INT_BOUNDS:
            try:
                value = int(text, 10)
            except ValueError:
                raise ValueError(f"'{text}' is not an integer (expected {self.describe()})") from None
            lo, hi = _INT_BOUNDS[self.base]
            ranges = self.ranges or [(lo, hi)]
            if not (lo <= value <= hi) or not any(a <= value <= b for a, b in ranges):
                raise ValueError(f"{value} is out of range (expected {self.describe()})")
            return value
        if self.base == "boolean":
            if text in ("true", "false"):
                return text == "true"
            raise ValueError(f"'{text}' is not a boolean (expected true or false)")
        if self.base == "empty":
            raise ValueError("takes no value")
        if self.base == "enumeration":
            if text in self.enums:
                return text
            from ze.config.errors import did_you_mean

            raise ValueError(
                f"'{text}' is not one of {', '.join(self.enums)}{did_you_mean(text, self.enums)}"
            )
        if self.base == "union":
            errors = []
            for member in self.members:
                try:
                    return member.check(text)
                except ValueError as e:
                    errors.append(str(e))
            raise ValueError(f"'{text}' is not {self.describe()}")
        if self.base == "string":
            return self._check_string(text)
        raise ValueError(f"type {self.base} is not supported in config")

    def _check_string(self, text: str) -> str:
        if self.lengths and not any(a <= len(text) <= b for a, b in self.lengths):
            bounds = " | ".join(f"{a}..{b}" for a, b in self.lengths)
            raise ValueError(f"'{text}' has length {len(text)} (expected {bounds})")
        for pattern in self.patterns:
            if re.fullmatch(pattern, text) is None:
                raise ValueError(f"'{text}' is not a valid {self.name or 'string'}")
        # Patterns only sketch addresses; the ipaddress module decides.
        if self.name in ("ipv4-address", "router-id"):
            try:
                return str(ipaddress.IPv4Address(text))
            except ValueError:
                raise ValueError(f"'{text}' is not a valid IPv4 address") from None
        if self.name == "ipv6-address":
            try:
                return str(ipaddress.IPv6Address(text))
            except ValueError:
                raise ValueError(f"'{text}' is not a valid IPv6 address") from None
        return text

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"base": self.base}
        if self.name:
            out["name"] = self.name
        for key in ("ranges", "lengths", "patterns", "enums"):
            value = getattr(self, key)
            if value:
                out[key] = [list(v) if isinstance(v, tuple) else v for v in value]
        if self.members:
            out["members"] = [m.to_dict() for m in self.members]
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Type:
        return cls(
            base=d["base"],
            name=d.get("name", ""),
            ranges=[tuple(r) for r in d.get("ranges", [])],
            lengths=[tuple(r) for r in d.get("lengths", [])],
            patterns=list(d.get("patterns", [])),
            enums=list(d.get("enums", [])),
            members=[cls.from_dict(m) for m in d.get("members", [])],
        )


@dataclass(slots=True)
class Node:
    """A schema node: kind is container, list, leaf or leaf-list (root is a container)."""

    kind: str
    name: str
    module: str = ""
    description: str = ""
    children: dict[str, Node] = field(default_factory=dict)
    key: str | None = None
    type: Type | None = None
    default: Any = None
    mandatory: bool = False

    def child(self, name: str) -> Node | None:
        return self.children.get(name)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "module": self.module}
        if self.description:
            out["description"] = self.description
        if self.children:
            out["children"] = [c.to_dict() for c in self.children.values()]
        if self.key:
            out["key"] = self.key
        if self.type:
            out["type"] = self.type.to_dict()
        if self.default is not None:
            out["default"] = self.default
        if self.mandatory:
            out["mandatory"] = True
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Node:
        return cls(
            kind=d["kind"],
            name=d["name"],
            module=d.get("module", ""),
            description=d.get("description", ""),
            children={c["name"]: cls.from_dict(c) for c in d.get("children", [])},
            key=d.get("key"),
            type=Type.from_dict(d["type"]) if "type" in d else None,
            default=d.get("default"),
            mandatory=d.get("mandatory", False),
        )


@dataclass(frozen=True, slots=True)
class Module:
    name: str
    prefix: str
    namespace: str
    revision: str
    file: str
    description: str

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "prefix": self.prefix,
            "namespace": self.namespace,
            "revision": self.revision,
            "file": self.file,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class Rpc:
    """A control-API method: `name` is 'module:rpc'; `input` holds its leaves (a container)."""

    name: str
    description: str
    input: Node

    def check(self, params: dict[str, Any]) -> dict[str, Any]:
        """The params typed by the RPC's input; ValueError naming the first problem."""
        from ze.config.errors import did_you_mean

        short = self.name.split(":", 1)[-1]
        out: dict[str, Any] = {}
        for key, value in params.items():
            node = self.input.children.get(key)
            if node is None or node.kind != "leaf" or node.type is None:
                raise ValueError(
                    f"{short}: unknown parameter '{key}'{did_you_mean(key, self.input.children)}"
                )
            numeric = node.type.base in _INT_BOUNDS
            if isinstance(value, bool) or (numeric and not isinstance(value, int)):
                if not (node.type.base == "boolean" and isinstance(value, bool)):
                    raise ValueError(
                        f"{short}: {key} must be {node.type.describe()}, not {json.dumps(value)}"
                    )
                out[key] = value
                continue
            if not isinstance(value, (str, int)) or (isinstance(value, int) and not numeric):
                raise ValueError(f"{short}: {key} must be {node.type.describe()}, not {json.dumps(value)}")
            try:
                out[key] = node.type.check(str(value))
            except ValueError as e:
                raise ValueError(f"{short}: {key}: {e}") from None
        for name, node in self.input.children.items():
            if node.mandatory and name not in out:
                raise ValueError(f"{short}: missing parameter '{name}'")
        return out

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "input": [
                {"name": n.name, "type": n.type.describe() if n.type else "", "mandatory": n.mandatory}
                for n in self.input.children.values()
            ],
        }


@dataclass(slots=True)
class Schema:
    root: Node
    modules: list[Module]
    rpcs: dict[str, Rpc]

    def to_dict(self) -> dict:
        return {
            "version": _CACHE_VERSION,
            "root": self.root.to_dict(),
            "modules": [m.to_dict() for m in self.modules],
            "rpcs": [
                {"name": r.name, "description": r.description, "input": r.input.to_dict()}
                for r in self.rpcs.values()
            ],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Schema:
        return cls(
            root=Node.from_dict(d["root"]),
            modules=[Module(**m) for m in d["modules"]],
            rpcs={r["name"]: Rpc(r["name"], r["description"], Node.from_dict(r["input"])) for r in d["rpcs"]},
        )


# --- compiling with pyang --------------------------------------------------------------------


def _parse_bounds(text: str, lo: int, hi: int, as_int: bool = True) -> list[tuple[int, int]]:
    out = []
    for part in text.split("|"):
        part = part.strip()
        a, _, b = part.partition("..")
        a = a.strip()
        b = b.strip() or a
        av = lo if a == "min" else hi if a == "max" else int(a)
        bv = lo if b == "min" else hi if b == "max" else int(b)
        out.append((av, bv))
    return out


def _xsd_to_python(pattern: str) -> str:
    # The patterns in ze's modules use the common subset of XSD and Python regexes.
    return pattern


def _type_of(type_stmt: Any) -> Type:
    """Resolve a pyang 'type' statement through its typedef chain, gathering restrictions."""
    chain = []
    stmt = type_stmt
    name = ""
    while stmt is not None:
        chain.append(stmt)
        typedef = getattr(stmt, "i_typedef", None)
        if typedef is None:
            break
        name = name or typedef.arg
        stmt = typedef.search_one("type")
    base_stmt = chain[-1]
    base = base_stmt.arg.split(":")[-1]
    t = Type(base=base, name=name)
    if base == "union":
        t.members = [_type_of(s) for s in base_stmt.search("type")]
        return t
    if base == "enumeration":
        t.enums = [e.arg for e in base_stmt.search("enum")]
        return t
    lo, hi = _INT_BOUNDS.get(base, (0, 2**64 - 1))
    # The most derived restriction wins for range and length; patterns accumulate.
    for s in reversed(chain):
        r = s.search_one("range")
        if r is not None:
            t.ranges = _parse_bounds(r.arg, lo, hi)
        length = s.search_one("length")
        if length is not None:
            t.lengths = _parse_bounds(length.arg, 0, 2**32)
        t.patterns.extend(_xsd_to_python(p.arg) for p in s.search("pattern"))
    return t


def _default_of(stmt: Any, t: Type) -> Any:
    d = stmt.search_one("default")
    if d is None:
        typ = stmt.search_one("type")
        typedef = getattr(typ, "i_typedef", None)
        while typedef is not None and d is None:
            d = typedef.search_one("default")
            typedef = getattr(typedef.search_one("type"), "i_typedef", None)
    if d is None:
        return None
    return t.check(d.arg)


def _description(stmt: Any) -> str:
    d = stmt.search_one("description")
    return " ".join(d.arg.split()) if d is not None else ""


def _node(stmt: Any, module: str) -> Node | None:
    kw = stmt.keyword
    if kw in ("container", "list", "input"):
        node = Node(kind="container" if kw == "input" else kw, name=stmt.arg or kw, module=module)
        node.description = _description(stmt)
        if kw == "list":
            key = stmt.search_one("key")
            if key is None or len(key.arg.split()) != 1:
                raise ConfigError(f"{module}: list {stmt.arg} needs exactly one key for config")
            node.key = key.arg
        for child in getattr(stmt, "i_children", []):
            c = _node(child, module)
            if c is not None:
                node.children[c.name] = c
        return node
    if kw in ("leaf", "leaf-list"):
        t = _type_of(stmt.search_one("type"))
        mand = stmt.search_one("mandatory")
        return Node(
            kind=kw,
            name=stmt.arg,
            module=module,
            description=_description(stmt),
            type=t,
            default=_default_of(stmt, t) if kw == "leaf" else None,
            mandatory=mand is not None and mand.arg == "true",
        )
    return None  # choice/case/anydata/notification: not used by config yet


def _compile(files: list[Path]) -> Schema:
    from pyang import context, repository

    dirs = sorted({str(f.parent) for f in files})
    ctx = context.Context(repository.FileRepository(os.pathsep.join(dirs), use_env=False))
    mods = []
    for f in files:
        m = ctx.add_module(str(f), f.read_text(encoding="utf-8"))
        if m is None:
            raise ConfigError(f"{f}: not a YANG module pyang can read")
        mods.append((f, m))
    ctx.validate()
    errors = []
    from pyang import error as pyang_error

    for pos, tag, args in ctx.errors:
        if pyang_error.is_error(pyang_error.err_level(tag)):
            errors.append(f"{pos}: {pyang_error.err_to_str(tag, args)}")
    if errors:
        raise ConfigError("YANG modules do not compile:\n" + "\n".join(errors))
    root = Node(kind="container", name="")
    modules = []
    rpcs: dict[str, Rpc] = {}
    for f, m in mods:
        rev = m.search_one("revision")
        modules.append(
            Module(
                name=m.arg,
                prefix=m.search_one("prefix").arg,
                namespace=m.search_one("namespace").arg,
                revision=rev.arg if rev is not None else "",
                file=str(f),
                description=_description(m),
            )
        )
        for child in getattr(m, "i_children", []):
            if child.keyword == "rpc":
                inp = child.search_one("input")
                node = _node(inp, m.arg) if inp is not None else Node(kind="container", name="input")
                rpcs[f"{m.arg}:{child.arg}"] = Rpc(f"{m.arg}:{child.arg}", _description(child), node)
                continue
            node = _node(child, m.arg)
            if node is None:
                continue
            if node.name in root.children:
                raise ConfigError(
                    f"config root '{node.name}' defined twice, by {root.children[node.name].module} and {m.arg}"
                )
            root.children[node.name] = node
    return Schema(root=root, modules=modules, rpcs=rpcs)


def _cache_dir() -> Path | None:
    if os.environ.get("ZE_CACHE_DIR"):
        return Path(os.environ["ZE_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")) / "ze"


def load_schema(extra: list[Path] | tuple[Path, ...] = (), directory: Path | None = None) -> Schema:
    """The core modules (from `directory`, default yang_dir()) plus feature modules in `extra`."""
    directory = directory or yang_dir()
    files = [directory / f"{name}.yang" for name in CORE_MODULES]
    files += [Path(p) for p in extra]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ConfigError(f"YANG module not found: {', '.join(missing)}")
    digest = hashlib.sha256(str(_CACHE_VERSION).encode())
    for f in files:
        digest.update(str(f).encode() + b"\0" + f.read_bytes())
    key = digest.hexdigest()[:32]
    cache = _cache_dir()
    path = cache / f"schema-{key}.json" if cache else None
    if path is not None and path.is_file():
        try:
            return Schema.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError):
            pass  # a corrupt cache is rebuilt below
    schema = _compile(files)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(schema.to_dict()), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass  # caching is an optimisation only
    return schema
