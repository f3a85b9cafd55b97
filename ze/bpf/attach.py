"""Attach the pinned programs to interfaces and take them off again, with iproute2.

XDP: `ip link set dev X xdpdrv pinned P` (native), falling back to `xdpgeneric` when the driver
has no native XDP. tc: a clsact qdisc and a direct-action bpf filter with our own preference
number, on ingress or egress, so detaching removes only our filter. `netns` runs the commands in
a named network namespace (through nsenter).
"""

from __future__ import annotations

import json
import subprocess

TC_PREF = 49_249  # our filter's preference: detach deletes exactly this one
MODES = ("xdp", "tc")
DIRECTIONS = ("ingress", "egress")


class AttachError(RuntimeError):
    pass


def _run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    if check and r.returncode != 0:
        raise AttachError(f"{' '.join(cmd)}: {r.stderr.strip() or r.stdout.strip()}")
    return r


def _ns(tool: str, netns: str | None) -> list[str]:
    # Not `ip -n`: that also remounts /sys for the namespace, hiding the bpf fs at /sys/fs/bpf.
    return ["nsenter", f"--net=/run/netns/{netns}", tool] if netns else [tool]


def attach_xdp(iface: str, prog: str, netns: str | None = None, xdp_mode: str = "auto") -> str:
    """Attach the pinned XDP program; xdp_mode auto|native|generic. Returns the mode used."""
    tries = {"auto": ("native", "generic"), "native": ("native",), "generic": ("generic",)}[xdp_mode]
    errors = []
    for mode in tries:
        word = "xdpdrv" if mode == "native" else "xdpgeneric"
        r = _run([*_ns("ip", netns), "link", "set", "dev", iface, word, "pinned", prog], check=False)
        if r.returncode == 0:
            return mode
        errors.append(f"{word}: {r.stderr.strip()}")
    raise AttachError(f"cannot attach XDP to {iface}: {'; '.join(errors)}")


def attach_tc(iface: str, prog: str, netns: str | None = None, direction: str = "ingress") -> str:
    if direction not in DIRECTIONS:
        raise ValueError(f"tc direction {direction!r}: ingress or egress")
    tc = _ns("tc", netns)
    r = _run([*tc, "qdisc", "add", "dev", iface, "clsact"], check=False)
    if r.returncode != 0 and "File exists" not in r.stderr and "Exclusivity flag" not in r.stderr:
        raise AttachError(f"cannot add clsact to {iface}: {r.stderr.strip()}")
    _run([*tc, "filter", "replace", "dev", iface, direction, "pref", str(TC_PREF), "handle", "1",
          "bpf", "direct-action", "object-pinned", prog])  # fmt: skip
    return direction


def attach(iface: str, mode: str, prog: str, netns: str | None = None, **kw: str) -> str:
    """mode xdp or tc; returns what was attached ("native", "generic", "ingress", "egress")."""
    if mode == "xdp":
        return attach_xdp(iface, prog, netns, kw.get("xdp_mode", "auto"))
    if mode == "tc":
        return attach_tc(iface, prog, netns, kw.get("direction", "ingress"))
    raise ValueError(f"mode {mode!r}: one of {MODES}")


def detach(iface: str, netns: str | None = None) -> None:
    """Remove whatever of ours is attached to iface: XDP in either mode, our tc filters, and the
    clsact qdisc when no filter is left on it. Absent things are not errors."""
    ip = _ns("ip", netns)
    for word in ("xdpgeneric", "xdpdrv"):
        _run([*ip, "link", "set", "dev", iface, word, "off"], check=False)
    tc = _ns("tc", netns)
    for direction in DIRECTIONS:
        _run([*tc, "filter", "del", "dev", iface, direction, "pref", str(TC_PREF)], check=False)
    left = "".join(
        _run([*tc, "filter", "show", "dev", iface, d], check=False).stdout for d in DIRECTIONS
    ).strip()
    if not left:
        _run([*tc, "qdisc", "del", "dev", iface, "clsact"], check=False)


def attached(iface: str, netns: str | None = None) -> dict[str, dict[str, str | int]]:
    """Every bpf program on iface: {"xdp": {"mode": native|generic|offload, "id", "name"},
    "ingress"/"egress": {"pref", "id", "name"}} (any program, ours or not); {} when none."""
    out: dict[str, dict[str, str | int]] = {}
    link = json.loads(_run([*_ns("ip", netns), "-j", "-d", "link", "show", "dev", iface]).stdout)[0]
    xdp = link.get("xdp")
    if xdp and "prog" in xdp:
        mode = {1: "native", 2: "generic", 3: "offload"}.get(xdp.get("mode"), "multi")
        out["xdp"] = {"mode": mode, "id": xdp["prog"]["id"], "name": xdp["prog"].get("name", "")}
    tc = _ns("tc", netns)
    for d in DIRECTIONS:
        text = _run([*tc, "-j", "filter", "show", "dev", iface, d], check=False).stdout.strip()
        for f in json.loads(text) if text.startswith("[") else []:
            prog = f.get("options", {}).get("prog")
            if f.get("kind") == "bpf" and prog:
                out[d] = {"pref": f["pref"], "id": prog["id"], "name": prog.get("name", "")}
    return out
