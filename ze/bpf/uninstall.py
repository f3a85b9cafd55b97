"""Package removal: take ze's counter programs off every interface of this network namespace and
unpin the maps (`python -m ze.bpf.uninstall`, run by the .deb's prerm).

Only programs named as ours (ze_xdp, ze_tc: see loader.PROGRAMS) are detached; anything else
attached to an interface is left alone. Prints one JSON line of what it did.
"""

from __future__ import annotations

import json
import subprocess
import sys

from ze.bpf import attach, loader

OURS = frozenset(loader.PROGRAMS.values())


def interfaces(netns: str | None = None) -> list[str]:
    cmd = ["nsenter", f"--net=/run/netns/{netns}", "ip"] if netns else ["ip"]
    r = subprocess.run([*cmd, "-j", "link", "show"], capture_output=True, text=True, timeout=10)
    if r.returncode != 0 or not r.stdout.strip().startswith("["):
        return []
    return [link["ifname"] for link in json.loads(r.stdout)]


def ours_on(iface: str, netns: str | None = None) -> bool:
    try:
        progs = attach.attached(iface, netns)
    except (attach.AttachError, ValueError, IndexError, OSError):
        return False
    return any(p.get("name") in OURS for p in progs.values())


def uninstall(pin_dir: str = loader.DEFAULT_PIN_DIR, netns: str | None = None) -> dict:
    detached = []
    for name in interfaces(netns):
        if ours_on(name, netns):
            attach.detach(name, netns)
            detached.append(name)
    return {"detached": detached, "unpinned": loader.unpin(pin_dir)}


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m ze.bpf.uninstall", description=__doc__)
    ap.add_argument("--pin-dir", default=loader.DEFAULT_PIN_DIR)
    ap.add_argument("--netns")
    a = ap.parse_args(argv)
    print(json.dumps(uninstall(a.pin_dir, a.netns)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
