"""Resolution: the parsed tree becomes a Config with fully resolved peers.

Inheritance is bgp -> group -> peer: a session setting given on bgp applies to every group
and peer, one given on a group to its peers. Containers merge deeply (a group may give
`remote { as 65002; }` and each peer `remote { ip ...; }`); leaves and leaf-lists are
replaced by the more specific value, and so is `family` (a peer naming its families gets
exactly those). YANG defaults are applied last, to the peer.
"""

from __future__ import annotations

import copy
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ze.config.errors import ConfigProblems, Problem
from ze.config.parser import INVALID, Tree, parse, render, unknown_roots
from ze.config.schema import Node, Schema, load_schema

DEFAULT_SOCKET = "/run/ze/ze.sock"


@dataclass(frozen=True, slots=True)
class Peer:
    """A BGP peer with every value resolved (inheritance and defaults applied)."""

    name: str
    group: str | None
    remote_ip: str
    remote_as: int
    local_as: int
    router_id: str
    local_address: str | None = None
    hold_time: int = 90
    families: tuple[str, ...] = ("ipv4/unicast",)
    md5_password: str | None = None
    ttl_security: int | None = None
    passive: bool = False
    port: int = 179
    connect_retry: int = 5
    max_prefix: tuple[tuple[str, int, int], ...] = ()  # (family, limit, restart seconds)
    announce: tuple[str, ...] = ()
    adj_rib_in: bool = False
    unnegotiated_family: str = "error"
    add_path: tuple[tuple[str, str], ...] = ()  # (family, "send"|"receive"|"both"), RFC 7911

    @property
    def ibgp(self) -> bool:
        return self.remote_as == self.local_as

    def to_dict(self, secrets: bool = False) -> dict[str, Any]:
        md5 = self.md5_password
        if md5 is not None and not secrets:
            md5 = "********"
        out = {
            "name": self.name,
            "group": self.group,
            "remote": {"ip": self.remote_ip, "as": self.remote_as},
            "local-address": self.local_address,
            "local-as": self.local_as,
            "router-id": self.router_id,
            "hold-time": self.hold_time,
            "families": list(self.families),
            "md5-password": md5,
            "ttl-security": self.ttl_security,
            "passive": self.passive,
            "port": self.port,
        }
        # The speaker's settings, shown when set.
        if self.connect_retry != 5:
            out["connect-retry"] = self.connect_retry
        if self.max_prefix:
            out["max-prefix"] = {f: {"limit": n, "restart": r} for f, n, r in self.max_prefix}
        if self.announce:
            out["announce"] = list(self.announce)
        if self.adj_rib_in:
            out["adj-rib-in"] = True
        if self.unnegotiated_family != "error":
            out["unnegotiated-family"] = self.unnegotiated_family
        if self.add_path:
            out["add-path"] = dict(self.add_path)
        return out


@dataclass(frozen=True, slots=True)
class Environment:
    log_level: str = "info"
    api_socket: str = DEFAULT_SOCKET
    api_mode: int = 0o660


@dataclass(slots=True)
class Config:
    """A validated configuration. `data` is the typed tree of what the file says."""

    schema: Schema
    data: dict[str, Any]
    peers: dict[str, Peer]
    environment: Environment
    source: str = "<config>"
    text: str = ""
    locs: dict = field(default_factory=dict)
    # top-level blocks left for external plugins' YANG (only when the config has `process`
    # entries): name -> Loc. The daemon re-parses with a plugin's module when it registers.
    deferred: dict = field(default_factory=dict)

    def section(self, root: str) -> dict[str, Any]:
        """A top-level section (e.g. 'plugin', or a feature's root) as parsed; {} when absent."""
        return self.data.get(root, {})

    def render(self) -> str:
        """The config as canonical text."""
        return render(self.data, self.schema.root) + "\n"

    def to_dict(self, secrets: bool = False) -> dict[str, Any]:
        data = copy.deepcopy(self.data)
        if not secrets:
            _mask(data)
        return {
            "source": self.source,
            "config": data,
            "peers": [p.to_dict(secrets) for p in self.peers.values()],
            "environment": {
                "log-level": self.environment.log_level,
                "api-socket": self.environment.api_socket,
                "api-mode": f"{self.environment.api_mode:04o}",
            },
        }


def _mask(data: Any) -> None:
    if isinstance(data, dict):
        for k, v in data.items():
            if k in ("md5-password", "secret") and isinstance(v, str):
                data[k] = "********"
            else:
                _mask(v)


# Containers that a more specific level replaces whole instead of merging into: a peer
# listing its families means exactly those.
REPLACED = frozenset({"family"})


def deep_merge(base: dict, override: dict) -> dict:
    """A new dict: `override` on top of `base`, containers (dicts) merged recursively."""
    out = dict(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in REPLACED:
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _with_defaults(data: dict, node: Node) -> dict:
    out = dict(data)
    for name, child in node.children.items():
        if child.kind == "leaf" and name not in out and child.default is not None:
            out[name] = child.default
        elif child.kind == "container":
            out[name] = _with_defaults(out.get(name, {}), child)
    return out


def _settings(entry: dict, inherited: set[str]) -> dict:
    return {k: v for k, v in entry.items() if k in inherited}


def _families(family: dict, remote_ip: str) -> tuple[str, ...]:
    out = tuple(f"{afi}/{safi}" for afi, safis in family.items() for safi in safis)
    if out:
        return out
    return ("ipv6/unicast",) if ":" in remote_ip else ("ipv4/unicast",)


def _add_path(add_path: dict) -> tuple[tuple[str, str], ...]:
    """`add-path { ipv4 { unicast both; } }` as ((family, mode), ...); `off` leaves a family out."""
    return tuple(
        (f"{afi}/{safi}", mode)
        for afi, safis in add_path.items()
        for safi, mode in safis.items()
        if mode not in ("off", INVALID)
    )


def resolve(tree: Tree, schema: Schema, source: str = "<config>", text: str = "") -> Config:
    """Resolve a parsed tree into a Config; raises ConfigProblems naming every problem."""
    problems: list[Problem] = list(tree.problems)
    deferred = dict(tree.deferred)
    if deferred and not tree.data.get("process"):
        problems.extend(unknown_roots(deferred, schema))  # no external plugin could define them
        deferred = {}
    bgp_node = schema.root.child("bgp")
    bgp = tree.data.get("bgp", {})
    peers: dict[str, Peer] = {}
    if bgp_node is not None:
        peer_node = bgp_node.children["group"].children["peer"]
        inherited = {n for n in peer_node.children if n != "name"}
        top = _settings(bgp, inherited)
        entries: list[tuple[str | None, str, dict, tuple]] = []
        for gname, group in bgp.get("group", {}).items():
            gsettings = deep_merge(top, _settings(group, inherited))
            for pname, entry in group.get("peer", {}).items():
                entries.append(
                    (gname, pname, deep_merge(gsettings, entry), ("bgp", "group", gname, "peer", pname))
                )
        for pname, entry in bgp.get("peer", {}).items():
            entries.append((None, pname, deep_merge(top, entry), ("bgp", "peer", pname)))
        # In file order, so "first at" names the earlier one.
        entries.sort(key=lambda e: (tree.loc(e[3]).line, tree.loc(e[3]).column) if tree.loc(e[3]) else (0, 0))
        seen_names: dict[str, tuple] = {}
        seen_remote: dict[tuple, str] = {}
        for gname, pname, eff, path in entries:
            loc = tree.loc(path)
            if pname in seen_names:
                problems.append(
                    Problem(loc, f"peer '{pname}' defined twice (first at {tree.loc(seen_names[pname])})")
                )
                continue
            seen_names[pname] = path
            eff = _with_defaults(eff, peer_node)
            missing = [
                label
                for label, value in (
                    ("remote ip", eff["remote"].get("ip")),
                    ("remote as", eff["remote"].get("as")),
                    ("local-as", eff.get("local-as")),
                    ("router-id", eff.get("router-id")),
                )
                if value is None
            ]
            if missing:
                problems.append(
                    Problem(
                        loc,
                        f"peer '{pname}' has no {', no '.join(missing)} (set it on the peer, its group or bgp)",
                    )
                )
                continue
            if any(v is INVALID for v in (*eff.values(), *eff["remote"].values())):
                continue  # a value of this peer failed its type check: that is already reported
            remote_ip = eff["remote"]["ip"]
            local = eff.get("local-address")
            if (
                local is not None
                and ipaddress.ip_address(local).version != ipaddress.ip_address(remote_ip).version
            ):
                problems.append(
                    Problem(
                        loc,
                        f"peer '{pname}': local-address {local} and remote ip {remote_ip} are not the same family",
                    )
                )
                continue
            rkey = (remote_ip, eff["port"])
            if rkey in seen_remote:
                problems.append(
                    Problem(
                        loc,
                        f"peer '{pname}' has the same remote ip {remote_ip} as peer '{seen_remote[rkey]}'",
                    )
                )
                continue
            seen_remote[rkey] = pname
            peers[pname] = Peer(
                name=pname,
                group=gname,
                remote_ip=remote_ip,
                remote_as=eff["remote"]["as"],
                local_as=eff["local-as"],
                router_id=eff["router-id"],
                local_address=local,
                hold_time=eff["hold-time"],
                families=_families(eff.get("family", {}), remote_ip),
                md5_password=eff.get("md5-password"),
                ttl_security=eff.get("ttl-security"),
                passive=eff["passive"],
                port=eff["port"],
                connect_retry=eff.get("connect-retry", 5),
                max_prefix=tuple(
                    (fam, v["limit"], v.get("restart", 0)) for fam, v in eff.get("max-prefix", {}).items()
                ),
                announce=tuple(eff.get("announce", ())),
                adj_rib_in=eff.get("adj-rib-in", False),
                unnegotiated_family=eff.get("unnegotiated-family", "error"),
                add_path=_add_path(eff.get("add-path", {})),
            )
    env_node = schema.root.child("environment")
    env = _with_defaults(tree.data.get("environment", {}), env_node) if env_node else {}
    api = env.get("api", {})
    environment = Environment(
        log_level=env.get("log", {}).get("level", "info"),
        api_socket=api.get("socket", DEFAULT_SOCKET),
        api_mode=int(api.get("mode", "0660"), 8),
    )
    if problems:
        problems.sort(key=lambda pr: (pr.loc.line, pr.loc.column) if pr.loc else (0, 0))
        raise ConfigProblems(problems)
    return Config(
        schema=schema,
        data=tree.data,
        peers=peers,
        environment=environment,
        source=source,
        text=text,
        locs=tree.locs,
        deferred=deferred,
    )


def parse_config(text: str, schema: Schema | None = None, source: str = "<config>") -> Config:
    """Parse, type-check and resolve config text; raises ConfigProblems."""
    schema = schema or load_schema()
    return resolve(parse(text, schema, source, defer_roots=True), schema, source, text)


def load_config(path: str | Path, schema: Schema | None = None) -> Config:
    """Read a config file; FileNotFoundError when it is missing, ConfigProblems when it is wrong."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ConfigProblems([Problem(None, f"{p}: not UTF-8 text ({e.reason} at byte {e.start})")]) from None
    return parse_config(text, schema, str(p))
