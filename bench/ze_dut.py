"""ze as a DUT of the shared bench harness (../shared/bench, duts/ze.py): its two command templates.

    ZE_CMD="PYTHON bench/ze_dut.py run {config} {socket}"       translate ze.json, exec `ze run`
    ZE_COUNT_CMD="PYTHON bench/ze_dut.py count {socket}"        {"ipv4": N, "ipv6": M} from the sender

The count is the speaker's received-prefix count for the peer named "sender" (`ze show peer`).
ZE_BENCH_PYSPY=FILE records a py-spy profile of ze (raw format, per thread) into FILE (py-spy
next to the Python running this, e.g. `.venv/bin/pip install py-spy`; not a dependency of ze).
ZE_BENCH_RIB=1 makes ze run bgp-rib too (bench/ingest.py --rib): the RIB takes every UPDATE.
ZE_BENCH_ADJ_RIB_IN=1 makes ze keep the received prefixes (adj-rib-in) instead of only counting.
With `"fib": {"install": true}` in ze.json (the harness's FIB test) ze runs bgp-rib, sysrib and
fib-kernel, programming the main table of the namespace it runs in (the table the harness counts),
flushing its routes when stopped: a namespace deleted with ~580k routes over ~3,800 nexthop objects
still in it costs the kernel one walk of the whole FIB per object (minutes, under the RTNL lock).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

FIB_FEATURES = """
plugin { internal bgp-rib; internal sysrib; internal fib-kernel; }
rib { igp-cost none; }
fib { kernel { table main; flush-on-stop true; } }
"""

RIB_ONLY = """
plugin { internal bgp-rib; }
rib { igp-cost none; }
"""

FAMILIES = {"ipv4-unicast": "ipv4 unicast", "ipv6-unicast": "ipv6 unicast"}


def translate(conf: dict, socket_path: str) -> str:
    listen = conf.get("listen", [{}])[0]
    peers = []
    for p in conf["peers"]:
        fams: dict[str, list[str]] = {}
        for f in p.get("families", ["ipv4-unicast"]):
            afi, safi = FAMILIES[f].split()
            fams.setdefault(afi, []).append(safi)
        fam = " ".join(f"{afi} {' '.join(s)};" for afi, s in fams.items())
        peers.append(
            f"    peer {p['name']} {{ remote {{ ip {p['address']}; as {p['remote_as']}; }}"
            f" passive {'true' if p.get('passive') else 'false'}; hold-time {p.get('hold_time', 90)};"
            f" family {{ {fam} }}{' adj-rib-in true;' if os.environ.get('ZE_BENCH_ADJ_RIB_IN') else ''} }}"
        )
    return (
        f"environment {{ log {{ level warning; }} api {{ socket {socket_path}; }} }}\n"
        f"bgp {{\n    router-id {conf['router_id']};\n    local-as {conf['local_as']};\n"
        f"    listen {{ ip {listen.get('address', '::')}; port {listen.get('port', 179)}; }}\n"
        + "\n".join(peers)
        + "\n}\n"
        + (
            FIB_FEATURES
            if conf.get("fib", {}).get("install")
            else RIB_ONLY
            if os.environ.get("ZE_BENCH_RIB")
            else ""
        )
    )


def run(config: str, socket_path: str) -> None:
    conf = json.loads(Path(config).read_text())
    out = Path(config).with_suffix(".conf")
    out.write_text(translate(conf, socket_path))
    spy = os.environ.get("ZE_BENCH_PYSPY")
    if spy:  # profile this run: py-spy attaches to this pid, which execv keeps
        import subprocess

        pyspy = str(Path(sys.executable).with_name("py-spy"))
        cmd = f"sleep 1; exec {pyspy} record --pid {os.getpid()} --rate 100 --threads --format raw -o {spy}"
        subprocess.Popen(["sh", "-c", f"({cmd}) > {spy}.log 2>&1 &"]).wait()  # not our child
    os.execv(sys.executable, [sys.executable, "-m", "ze.cli.main", "run", str(out), "--socket", socket_path])


def count(socket_path: str) -> None:
    from ze.api.client import call

    peer = call("ze-api:show-peer", {"name": "sender"}, path=socket_path)["peer"]
    pre = peer.get("prefixes", {})
    print(
        json.dumps(
            {
                "ipv4": pre.get("ipv4/unicast", {}).get("received", 0),
                "ipv6": pre.get("ipv6/unicast", {}).get("received", 0),
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3])
    else:
        count(sys.argv[2])
