"""ExaBGP (Debian exabgp 4.2): its own environment (no global listener: each passive neighbour
listens on its own address with `listen 179`, which is also where its MD5 key and minimum TTL are
set), a process API (exabgp_api.py) that takes our commands through a FIFO and logs every JSON
event exabgp sends (updates, state changes, notifications, refreshes) to events.jsonl.

Received messages are asked for twice (parsed, and raw `packets`): see notifications().
ExaBGP keeps no RIB: what it received is rebuilt from the logged updates. It sends the AS_PATH it
is given, so for eBGP the adapter puts its own AS first, as any eBGP speaker does.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import time
from pathlib import Path

from tests.interop import normalise
from tests.interop.daemons.base import Daemon
from tests.interop.lab import Peering, Route, wait_for

API = Path(__file__).with_name("exabgp_api.py")


class ExaBGP(Daemon):
    name = "exabgp"
    binaries = ("exabgp",)
    # 4.2.21 crashes resending its routes on a ROUTE-REFRESH ("'RouteRefresh' object is not
    # iterable" in Update.messages) and drops the session; asking for one works.
    answers_route_refresh = False

    def _config(self) -> str:
        out = [
            "process ctl {",
            f"    run {sys.executable} {API} {self.dir};",
            "    encoder json;",
            "}",
        ]
        for p in self.peerings.values():
            opts = []
            if p.passive:
                opts += ["passive true;", "listen 179;"]
            if p.md5:
                opts.append(f'md5-password "{p.md5}";')
            if p.ttl_security:
                opts += ["outgoing-ttl 255;", f"incoming-ttl {256 - p.ttl_security};"]
            caps = ["route-refresh enable;"]
            if p.addpath:
                caps.append("add-path send/receive;")
            out.append(f"""
neighbor {p.remote_ip} {{
    router-id {self.router_id};
    local-address {p.local_ip};
    local-as {p.local_as};
    peer-as {p.remote_as};
    hold-time {p.hold_time};
    {" ".join(opts)}
    family {{ {p.afi} unicast; }}
    capability {{ {" ".join(caps)} }}
    api {{
        processes [ ctl ];
        neighbor-changes;
        receive {{ parsed; packets; update; notification; }}
    }}
}}""")
        return "\n".join(out) + "\n"

    def start(self) -> ExaBGP:
        conf = self.dir / "exabgp.conf"
        conf.write_text(self._config())
        self.fifo = self.dir / "cmd.fifo"
        if not self.fifo.exists():
            os.mkfifo(self.fifo)
        self.events = self.dir / "events.jsonl"
        env = dict(os.environ)
        env.update(
            {
                "exabgp.tcp.bind": "",
                "exabgp.tcp.port": "179",
                "exabgp.daemon.user": "root",
                "exabgp.daemon.drop": "false",
                "exabgp.daemon.daemonize": "false",
                "exabgp.api.cli": "false",
                "exabgp.log.level": "INFO",
                "exabgp.log.destination": str(self.dir / "exabgp.log"),
                "exabgp.tcp.delay": "0",
            }
        )
        self.procs.append(self.lab.spawn(self.ns, f"exabgp-{self.ns}", ["exabgp", str(conf)], env=env))
        wait_for(lambda: self.alive() and self.events.exists(), 20, "exabgp API process")
        return self

    def command(self, line: str) -> None:
        deadline = time.monotonic() + 5
        while True:
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as e:  # no reader yet (between two opens of the API process)
                if e.errno != errno.ENXIO or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)

    def _events(self) -> list[dict]:
        out = []
        try:
            text = self.events.read_text(errors="replace")
        except OSError:
            return out
        for line in text.splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def _mine(self, p: Peering) -> list[dict]:
        return [
            e for e in self._events() if e.get("neighbor", {}).get("address", {}).get("peer") == p.remote_ip
        ]

    def state(self, p: Peering | str) -> str:
        st = "idle"
        for e in self._mine(self.peering(p)):
            if e.get("type") == "state":
                s = e["neighbor"].get("state")
                st = "established" if s == "up" else ("connect" if s == "connected" else "idle")
        return st

    sends_paths = True

    def send_paths(self, p: Peering | str, prefix: str, meds: dict[int, int]) -> None:
        p = self.peering(p)
        for pid, med in meds.items():
            r = Route(prefix, med=med)
            self.command(
                f"neighbor {p.remote_ip} announce route {self._route_text(r, p)} path-information {pid}"
            )

    def _sync(self, p: Peering) -> None:
        want = self.routes[p.name]
        have: dict[str, Route] = self.__dict__.setdefault("_have", {}).setdefault(p.name, {})
        for pfx, r in list(have.items()):
            if want.get(pfx) != r:
                self.command(
                    f"neighbor {p.remote_ip} withdraw route {pfx} next-hop {r.next_hop or p.local_ip}"
                )
                del have[pfx]
        for pfx, r in want.items():
            if pfx not in have:
                self.command(f"neighbor {p.remote_ip} announce route {self._route_text(r, p)}")
                have[pfx] = r

    @staticmethod
    def _route_text(r: Route, p: Peering) -> str:
        path = list(r.as_path) if p.ibgp else [p.local_as, *r.as_path]
        s = [r.prefix, "next-hop", r.next_hop or p.local_ip, "origin", "igp"]
        s += ["as-path", "[" + " ".join(str(a) for a in path) + "]"]
        if r.med is not None:
            s += ["med", str(r.med)]
        if p.ibgp:
            s += ["local-preference", str(r.local_pref if r.local_pref is not None else 100)]
        if r.communities:
            s += ["community", "[" + " ".join(r.communities) + "]"]
        if r.large_communities:
            s += ["large-community", "[" + " ".join(r.large_communities) + "]"]
        if r.ext_communities:
            names = {"rt": "target", "soo": "origin"}
            ext = []
            for c in r.ext_communities:
                kind, a, b = normalise.ext_community(c).split(":")
                ext.append(f"{names[kind]}:{a}:{b}")
            s += ["extended-community", "[" + " ".join(ext) + "]"]
        return " ".join(s)

    def received_paths(self, p: Peering | str) -> dict[str, list[dict]]:
        p = self.peering(p)
        table: dict[tuple[str, str], dict] = {}
        for e in self._mine(p):
            if e.get("type") == "state" and e["neighbor"].get("state") == "down":
                table.clear()
            upd = e.get("neighbor", {}).get("message", {}).get("update")
            if e.get("type") != "update" or not upd:
                continue
            for items in upd.get("withdraw", {}).values():
                for it in items:
                    table.pop(_key(it), None)
            attr = upd.get("attribute", {})
            for by_nh in upd.get("announce", {}).values():
                # an MP_REACH next hop of global + link-local is given twice, keyed by each:
                # the global one is applied last, so it wins
                for nh in sorted(by_nh, key=lambda a: not a.lower().startswith("fe80:")):
                    for it in by_nh[nh]:
                        table[_key(it)] = _route(attr, nh)
        res: dict[str, list[dict]] = {}
        for (pfx, _), r in sorted(table.items()):
            res.setdefault(pfx, []).append(r)
        return res

    def updates_received(self, p: Peering | str) -> int:
        return sum(1 for e in self._mine(self.peering(p)) if e.get("type") == "update")

    def refresh(self, p: Peering | str) -> None:
        p = self.peering(p)
        self.command(f"neighbor {p.remote_ip} announce route-refresh {p.afi} unicast")

    def notifications(self, p: Peering | str) -> list[dict]:
        """NOTIFICATIONs received, {"code", "subcode", "data" (hex)}, from the raw packets exabgp
        reports (`receive { packets; }`): 4.2.21 on Python 3 cannot decode a Cease/Administrative
        Shutdown that carries a communication (bytes % str in Notification.__init__), drops the
        session with "can not decode ... type 3" and never emits the parsed form."""
        out = []
        for e in self._mine(self.peering(p)):
            if e.get("type") != "notification" or e["neighbor"].get("direction") != "receive":
                continue
            msg = e["neighbor"].get("message", {})
            body = msg.get("body", "")
            if body:
                raw = bytes.fromhex(body.removeprefix("0x"))
                out.append({"code": raw[0], "subcode": raw[1], "data": raw[2:].hex().upper()})
        return out

    def shutdown_message(self, p: Peering | str) -> str | None:
        found = None
        for n in self.notifications(p):
            if n.get("code") == 6 and n.get("subcode") in (2, 4):
                found = _shutdown_text(n.get("data", ""))
        return found


def _key(it: dict | str) -> tuple[str, str]:
    if isinstance(it, dict):
        return normalise.prefix(it["nlri"]), str(it.get("path-information", ""))
    return normalise.prefix(it), ""


def _route(attr: dict, nh: str) -> dict:
    ext = []
    for c in attr.get("extended-community", []):
        s = c.get("string", "") if isinstance(c, dict) else str(c)
        ext.append(s)
    return normalise.route(
        as_path=attr.get("as-path", []),
        next_hop=nh,
        med=attr.get("med"),
        local_pref=attr.get("local-preference"),
        communities=[f"{a}:{b}" for a, b in attr.get("community", [])],
        large_communities=[f"{a}:{b}:{c}" for a, b, c in attr.get("large-community", [])],
        ext_communities=ext,
    )


def _shutdown_text(data: str) -> str:
    """RFC 8203/9003 data: one length byte, then UTF-8. ExaBGP may give hex or text."""
    s = data.strip()
    if s.lower().startswith("0x"):
        s = s[2:]
    try:
        raw = bytes.fromhex(s)
    except ValueError:
        return s
    if raw and raw[0] == len(raw) - 1:
        raw = raw[1:]
    return raw.decode("utf-8", errors="replace")
