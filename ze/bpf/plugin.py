"""The bpf-counters feature's service: load (in a child), attach, open the pinned maps, report.

`Service` is what the plugin wiring will drive: start() never raises for a missing bcc, missing
headers or an unattachable interface; it records the exact reason in status() and the log, and
the rest of ze runs on. `main` is a small operator/debug command line over the same calls
(load, attach, show, detach) until `ze show forwarding` and `ze bpf detach` exist.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ze.bpf import attach as attach_mod
from ze.bpf import loader
from ze.bpf.forwarding import Forwarding
from ze.core.log import get_logger

log = get_logger("ze.bpf")
DEFAULT_STATE_DIR = "/var/lib/ze"
RESYNC_TOPIC = "sysrib/resync"  # ask for the whole best table again (answered on "sysrib/best")


@dataclass
class BpfConfig:
    """The `bpf { counters { interface NAME { mode xdp|tc; } per-prefix BOOL; } }` section, plus
    where things live and whether stopping detaches."""

    interfaces: dict[str, str] = field(default_factory=dict)  # name -> "xdp" | "tc"
    per_prefix: bool = False
    pin_dir: str = loader.DEFAULT_PIN_DIR
    state_dir: str = DEFAULT_STATE_DIR
    detach_on_stop: bool = False

    @classmethod
    def from_json(cls, data: dict, **kw: object) -> BpfConfig:
        """From the config section as JSON: {"counters": {"interface": [{"name","mode"}], "per-prefix"}}."""
        counters = data.get("counters") or {}
        ifaces = {}
        items = counters.get("interface") or []
        if isinstance(items, dict):  # the config's form of a YANG list: {key: {leaves}}
            items = [{"name": k, **(v or {})} for k, v in items.items()]
        for item in items:
            mode = item.get("mode") or "xdp"
            if mode not in attach_mod.MODES:
                raise ValueError(f"bpf counters interface {item.get('name')}: mode {mode!r} is not xdp or tc")
            ifaces[item["name"]] = mode
        kw.setdefault("detach_on_stop", _bool(counters.get("detach-on-stop", False)))
        kw.setdefault("pin_dir", counters.get("pin-dir") or loader.DEFAULT_PIN_DIR)
        kw.setdefault("state_dir", counters.get("state-dir") or DEFAULT_STATE_DIR)
        return cls(interfaces=ifaces, per_prefix=_bool(counters.get("per-prefix", False)), **kw)  # type: ignore[arg-type]


def _bool(v: object) -> bool:
    return v.lower() == "true" if isinstance(v, str) else bool(v)


class Service:
    def __init__(
        self, config: BpfConfig, *, netns: str | None = None, loader_env: dict[str, str] | None = None
    ) -> None:
        self.config = config
        self.netns = netns  # where the interfaces are (tests); None: our own namespace
        self.loader_env = loader_env
        self.state = "stopped"
        self.reason = ""
        self.load_result: loader.LoadResult | None = None
        self.interfaces: dict[str, dict[str, str]] = {}  # name -> {"mode", "attached" | "error"}
        self.forwarding: Forwarding | None = None

    def _unavailable(self, reason: str) -> dict:
        self.state, self.reason = "unavailable", reason
        log.warning("forwarding counters unavailable", error=reason)
        return self.status()

    def start(self) -> dict:
        """Load, attach every configured interface, open the maps. Returns status()."""
        res = loader.load(self.config.pin_dir, env=self.loader_env)
        self.load_result = res
        if not res.ok:
            return self._unavailable(res.reason)
        try:
            self.forwarding = Forwarding(self.config.pin_dir, self.config.state_dir)
        except OSError as e:
            return self._unavailable(f"cannot open pinned maps: {e}")
        self.forwarding.set_per_prefix(self.config.per_prefix)
        # Pinned tries outlive ze: drop a previous run's routes; the full table follows (resync).
        self.forwarding.resync([])
        for name, mode in self.config.interfaces.items():
            self.attach(name, mode)
        self.state, self.reason = "running", ""
        log.info(
            "forwarding counters running",
            interfaces=",".join(self.config.interfaces),
            pin_dir=self.config.pin_dir,
        )
        return self.status()

    def attach(self, name: str, mode: str, **kw: str) -> dict[str, str]:
        prog = loader.prog_path(self.config.pin_dir, mode)
        try:
            how = attach_mod.attach(name, mode, prog, self.netns, **kw)
            self.interfaces[name] = {"mode": mode, "attached": how}
        except (attach_mod.AttachError, ValueError, OSError) as e:
            self.interfaces[name] = {"mode": mode, "error": str(e)}
            log.warning("forwarding counters: cannot attach", interface=name, error=str(e))
        return self.interfaces[name]

    def reconfigure(self, config: BpfConfig) -> dict:
        """A config reload: detach interfaces no longer listed (or whose mode changed), attach the
        new ones, apply per-prefix. Peer indexes and counters are untouched."""
        old = self.config
        self.config = config
        if self.state != "running" or self.forwarding is None:
            return self.start() if self.state != "running" else self.status()
        for name, mode in old.interfaces.items():
            if config.interfaces.get(name) != mode:
                attach_mod.detach(name, self.netns)
                self.interfaces.pop(name, None)
        for name, mode in config.interfaces.items():
            if name not in self.interfaces or "error" in self.interfaces[name]:
                self.attach(name, mode)
        self.forwarding.set_per_prefix(config.per_prefix)
        return self.status()

    def stop(self) -> None:
        """Close the maps; detach and unpin only when configured to (counters keep counting
        across a daemon restart otherwise)."""
        if self.config.detach_on_stop:
            self.detach()
        if self.forwarding is not None:
            self.forwarding.close()
            self.forwarding = None
        self.state = "stopped"

    def detach(self) -> list[str]:
        """`ze bpf detach`: take the programs off every configured interface and unpin everything."""
        for name in {*self.config.interfaces, *self.interfaces}:
            attach_mod.detach(name, self.netns)
        self.interfaces.clear()
        return loader.unpin(self.config.pin_dir)

    def status(self) -> dict:
        out: dict = {"state": self.state, "pin-dir": self.config.pin_dir, "per-prefix": self.config.per_prefix,
                     "interfaces": dict(self.interfaces)}  # fmt: skip
        if self.reason:
            out["reason"] = self.reason
        if self.load_result is not None and self.load_result.ok:
            out["loader"] = {
                "seconds": round(self.load_result.seconds, 3),
                "max-rss-kib": self.load_result.max_rss_kib,
            }
        return out


async def run(plugin: Any) -> None:
    """The feature's entry (manifest `entry`): `plugin` is a ze.plugin.sdk.Plugin, in-process or
    not. The service starts when the config has a `bpf` section (loading runs in a thread: the
    loader child takes seconds) and follows reloads; `show forwarding` answers from the maps."""
    import asyncio

    from ze.plugin.sdk import Registration, Reject

    state: dict[str, Any] = {"svc": None, "started": False}

    async def ask_resync() -> None:
        await plugin.publish(RESYNC_TOPIC, {"from": "bpf-counters"})

    def _config(sections: dict) -> BpfConfig | None:
        data = sections.get("bpf")
        if not data:
            return None
        try:
            return BpfConfig.from_json(data)
        except (ValueError, KeyError) as e:
            raise Reject(str(e)) from None

    @plugin.on_verify
    def verify(sections: dict) -> None:
        _config(sections)

    @plugin.on_configure
    async def configure(sections: dict) -> None:
        cfg = _config(sections)
        svc = state["svc"]
        if cfg is None:
            if svc is not None:
                await asyncio.to_thread(svc.stop)
                state["svc"] = None
            return
        if svc is None:
            svc = state["svc"] = Service(cfg)
            await asyncio.to_thread(svc.start)
            if state["started"]:  # a reload added the section: the table is there already
                await ask_resync()
        else:
            await asyncio.to_thread(svc.reconfigure, cfg)

    @plugin.on_started
    async def started() -> None:
        state["started"] = True
        await ask_resync()

    @plugin.on_event
    async def event(ev: Any) -> None:
        svc = state["svc"]
        if svc is None or svc.forwarding is None or ev.payload is None or ev.topic != "sysrib/best":
            return
        await asyncio.to_thread(apply_batch, svc.forwarding, ev.payload)

    @plugin.on_command(
        "show forwarding",
        "forwarding counters per peer (eBPF); `prefixes [top N]`: per prefix",
        ["[[peer] PEER | prefixes [top N]]"],
    )
    def show_forwarding(args: list[str]) -> dict:
        svc = state["svc"]
        if svc is None:
            return {"state": "not configured", "reason": "no bpf section in the config"}
        out = svc.status()
        if svc.forwarding is None:
            return out
        try:
            if args and args[0] == "prefixes":
                top = int(args[2]) if len(args) > 2 and args[1] == "top" else None
                return {"prefixes": svc.forwarding.prefixes(top)}
            peer = args[1] if len(args) > 1 and args[0] == "peer" else (args[0] if args else None)
            out["routes"] = svc.forwarding.routes.count()
            out["counters"] = svc.forwarding.show(peer)
        except (KeyError, ValueError) as e:
            raise Reject(str(e.args[0] if e.args else e)) from None
        return out

    @plugin.on_command("clear forwarding", "zero the forwarding counters", [])
    def clear_forwarding(args: list[str]) -> dict:
        svc = state["svc"]
        if svc is None or svc.forwarding is None:
            raise Reject("no forwarding counters are running")
        svc.forwarding.clear()
        return {"cleared": True}

    plugin.set_startup_subscriptions(events=["sysrib/best"])
    try:
        await plugin.run(Registration(wants_config=["bpf"]))
    finally:
        if state["svc"] is not None:
            state["svc"].stop()


def apply_batch(fwd: Forwarding, batch: Any) -> Any:
    """One "sysrib/best" batch into the tries; a resync batch (the whole table of its family)
    also removes that family's routes it does not hold. Returns the SyncStats."""
    if getattr(batch, "resync", False):
        afi = 2 if batch.family.startswith("ipv6") else 1
        return fwd.resync(changes(fwd, batch), [afi])
    return fwd.sync(list(changes(fwd, batch)))


def changes(fwd: Forwarding, batch: Any) -> Iterator[tuple]:
    """A best-route batch as map-sync changes: (prefix, peer index, next hop as an int or None);
    a withdrawn prefix gets index 0. The peer is the first path's; a static or connected route
    counts under its protocol's name."""
    import ipaddress

    for p, nhs in batch.announce:
        hop = nhs.hops[0] if nhs.hops else ("", nhs.protocol, "")
        try:
            nh: int | None = int(ipaddress.ip_address(hop[0])) if hop[0] else None
        except ValueError:
            nh = None
        yield p, fwd.peer_index(hop[1] or nhs.protocol), nh
    for p in batch.withdraw:
        yield p, 0, None


def main(argv: list[str] | None = None) -> int:
    """python -m ze.bpf.plugin [--pin-dir D] [--state-dir S] load|attach IF MODE|show|prefixes|clear|detach"""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m ze.bpf.plugin")
    ap.add_argument("--pin-dir", default=loader.DEFAULT_PIN_DIR)
    ap.add_argument("--state-dir", default=os.environ.get("ZE_STATE_DIR", DEFAULT_STATE_DIR))
    ap.add_argument("--netns")
    ap.add_argument("action", choices=("load", "attach", "show", "prefixes", "clear", "detach"))
    ap.add_argument("args", nargs="*")
    a = ap.parse_args(argv)
    svc = Service(BpfConfig(pin_dir=a.pin_dir, state_dir=a.state_dir), netns=a.netns)
    out: object
    if a.action == "load":
        out = loader.load(a.pin_dir).to_dict()
    elif a.action == "attach":
        out = svc.attach(a.args[0], a.args[1] if len(a.args) > 1 else "xdp")
    elif a.action == "detach":
        svc.config.interfaces = dict.fromkeys(a.args, "xdp")
        out = {"unpinned": svc.detach()}
    else:
        fw = Forwarding(a.pin_dir, a.state_dir)
        if a.action == "clear":
            fw.clear()
            out = {"cleared": True}
        else:
            out = fw.show() if a.action == "show" else fw.prefixes()
    print(json.dumps({"status": "ok", "data": out}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
