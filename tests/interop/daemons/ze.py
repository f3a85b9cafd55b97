"""ze itself, as one side of a lab: `python -m tests.interop.ze_runner` (ze's Daemon as `ze run`
starts it, plus a hub observer writing every bgp/update and bgp/state event to events.jsonl),
driven through its control socket (the calls `ze bgp update-route|peer ...` and `ze show peer`
make). Received routes are rebuilt from the updates ze published, in ze's own JSON rendering.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.interop import normalise
from tests.interop.daemons.base import Daemon
from tests.interop.lab import Peering, Route, sh, wait_for
from ze.api.client import call

ROOT = Path(__file__).resolve().parents[3]


class Ze(Daemon):
    name = "ze"
    binaries = ()
    addpath = True

    def _config(self) -> str:
        lines = [
            "bgp {",
            f"    router-id {self.router_id};",
            "    listen { port 179; }",
        ]
        for p in self.peerings.values():
            lines += [
                f"    peer {p.name} {{",
                f"        remote {{ ip {p.remote_ip}; as {p.remote_as}; }}",
                f"        local-address {p.local_ip};",
                f"        local-as {p.local_as};",
                f"        family {{ {p.afi} unicast; }}",
                f"        hold-time {p.hold_time};",
                "        connect-retry 1;",
                "        adj-rib-in true;",
            ]
            if p.passive:
                lines.append("        passive true;")
            if p.md5:
                lines.append(f'        md5-password "{p.md5}";')
            if p.ttl_security:
                lines.append(f"        ttl-security {p.ttl_security};")
            if p.addpath:
                lines.append(f"        add-path {{ {p.afi} {{ unicast both; }} }}")
            lines.append("    }")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def start(self) -> Ze:
        conf = self.dir / "ze.conf"
        conf.write_text(self._config())
        self.sock = str(self.dir / "ze.sock")
        self.events = self.dir / "events.jsonl"
        self.events.touch()
        env = dict(os.environ)
        env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}"
        argv = [sys.executable, "-m", "tests.interop.ze_runner", "--socket", self.sock,
                "--events", str(self.events), str(conf)]  # fmt: skip
        self.procs.append(self.lab.spawn(self.ns, f"ze-{self.ns}", argv, env=env, cwd=ROOT))
        wait_for(lambda: self.alive() and self.api("ze-api:show-status"), 30, "ze control socket")
        return self

    def api(self, method: str, params: dict | None = None) -> dict:
        if not self.alive():
            raise RuntimeError(f"ze exited: {self.logs()[-3000:]}")
        return call(method, params, path=self.sock, timeout=10)

    def cli(self, *args: str) -> str:
        """Run the `ze` command line against this daemon's control socket (from the host: the
        socket is a file; only the BGP sessions live in the namespace)."""
        ze_bin = Path(sys.executable).with_name("ze")
        return sh(str(ze_bin), *args, "--socket", self.sock, timeout=20)

    def show(self, p: Peering | str) -> dict:
        return self.api("ze-api:show-peer", {"name": self.peering(p).name})["peer"]

    def state(self, p: Peering | str) -> str:
        return str(self.show(p).get("state", "unknown")).lower()

    # ---- routes ------------------------------------------------------------------------------
    def update_route(self, p: Peering | str, command: str) -> dict:
        return self.api("ze-api:update-route", {"peer-selector": self.peering(p).name, "command": command})

    @staticmethod
    def route_text(r: Route, p: Peering) -> str:
        s = ["update text origin set igp", f"nhop set {r.next_hop or 'self'}"]
        if r.as_path:
            s.append("as-path set [" + " ".join(str(a) for a in r.as_path) + "]")
        if r.med is not None:
            s.append(f"med set {r.med}")
        if r.local_pref is not None:
            s.append(f"local-preference set {r.local_pref}")
        if r.communities:
            s.append("community set [" + " ".join(r.communities) + "]")
        if r.large_communities:
            s.append("large-community set [" + " ".join(r.large_communities) + "]")
        if r.ext_communities:
            names = {"rt": "target", "soo": "origin"}
            ext = []
            for c in r.ext_communities:
                kind, a, b = normalise.ext_community(c).split(":")
                ext.append(f"{names[kind]}:{a}:{b}")
            s.append("extended-community set [" + " ".join(ext) + "]")
        s.append(f"nlri {r.afi}/unicast add {r.prefix}")
        return " ".join(s)

    def _sync(self, p: Peering) -> None:
        want = self.routes[p.name]
        have: dict[str, Route] = self.__dict__.setdefault("_have", {}).setdefault(p.name, {})
        for pfx, r in list(have.items()):
            if pfx not in want:
                self.update_route(p, f"update text nlri {r.afi}/unicast del {pfx}")
                del have[pfx]
        for pfx, r in want.items():
            if have.get(pfx) != r:
                self.update_route(p, self.route_text(r, p))
                have[pfx] = r

    def _events(self) -> list[dict]:
        out = []
        for line in self.events.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def received_paths(self, p: Peering | str) -> dict[str, list[dict]]:
        name = self.peering(p).name
        table: dict[tuple[str, str], dict] = {}
        for e in self._events():
            if e.get("peer") != name:
                continue
            if e["type"] == "state" and e.get("state") == "down":
                table.clear()
            if e["type"] != "update":
                continue
            if "error" in e:
                raise AssertionError(f"ze could not render an UPDATE from {name}: {e['error']}")
            upd = e["update"]
            attr = upd.get("attr", {})
            for sections in upd.get("nlri", {}).values():
                for sec in sections:
                    for item in sec.get("nlri", []):
                        key = _key(item)
                        if sec.get("action") == "del":
                            table.pop(key, None)
                        elif sec.get("action") == "add":
                            table[key] = _route(attr, sec.get("next-hop"))
        res: dict[str, list[dict]] = {}
        for (pfx, _), r in sorted(table.items()):
            res.setdefault(pfx, []).append(r)
        return res

    def held_prefixes(self, p: Peering | str) -> list[str]:
        """`ze show peer NAME routes received`: the prefixes ze's Adj-RIB-In holds."""
        d = self.api("ze-api:show-peer", {"name": self.peering(p).name, "routes": True})["peer"]
        return sorted(_held(x) for v in d.get("routes-received", {}).values() for x in v)

    # ---- session control ---------------------------------------------------------------------
    def refresh(self, p: Peering | str) -> None:
        self.api("ze-api:peer-refresh", {"peer-selector": self.peering(p).name})

    def refreshes_received(self, p: Peering | str) -> int:
        return int(self.show(p).get("refreshes-received", 0))

    def updates_received(self, p: Peering | str) -> int:
        return int(self.show(p).get("updates-received", 0))

    def disable(self, p: Peering | str, message: str = "") -> None:
        params = {"peer-selector": self.peering(p).name}
        if message:
            params["message"] = message
        self.api("ze-api:peer-stop", params)

    def enable(self, p: Peering | str) -> None:
        self.api("ze-api:peer-start", {"peer-selector": self.peering(p).name})

    def shutdown_message(self, p: Peering | str) -> str | None:
        n = self.show(p).get("last-notification") or {}
        if n.get("direction") == "received" and n.get("code") == 6:
            return n.get("communication")
        return None


def _held(text: str) -> str:
    """'PREFIX' or 'PREFIX path-id N' (ADD-PATH), the prefix normalised."""
    pfx, _, rest = text.partition(" ")
    return f"{normalise.prefix(pfx)} {rest}".strip()


def _key(item: str | dict) -> tuple[str, str]:
    if isinstance(item, dict):
        return normalise.prefix(item.get("prefix") or item.get("nlri")), str(item.get("path-id", ""))
    parts = str(item).split()
    pid = parts[parts.index("path-id") + 1] if "path-id" in parts else ""
    return normalise.prefix(parts[0]), pid


def _route(attr: dict, nh: str | None) -> dict:
    return normalise.route(
        as_path=attr.get("as-path", []),
        next_hop=nh,
        med=attr.get("med"),
        local_pref=attr.get("local-preference"),
        communities=attr.get("community", []),
        large_communities=attr.get("large-community", []),
        ext_communities=attr.get("extended-community", []),
    )
