"""Ingest: time for a DUT to receive and account for N IPv4 prefixes from one peer, and its peak RSS.

Runs the shared harness (../shared/bench, `bench_ingest.py`: namespaces, its sender, polling of the
DUT's own count, VmHWM) for ze (through bench/ze_dut.py) and, when installed, BIRD, FRR and GoBGP,
for each N, in one run, and prints the figures with the ratios to ze. Figures are printed, never
asserted. Needs root (namespaces).

    .venv/bin/python bench/ingest.py                      # 100k and 1M, ze + every installed DUT
    .venv/bin/python bench/ingest.py -n 1000000 --duts ze,bird --repeat 3
    .venv/bin/python bench/ingest.py --per-update 10      # smaller UPDATEs: per-message costs
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_HARNESS = Path(os.environ.get("ZE_BENCH_HARNESS", "/work/shared/bench"))
INSTALLED = {
    "ze": lambda: True,
    "bird": lambda: shutil.which("bird") is not None,
    "frr": lambda: os.path.exists("/usr/lib/frr/bgpd"),
    "gobgp": lambda: shutil.which("gobgpd") is not None,
}


def run_one(harness: Path, dut: str, n: int, args: argparse.Namespace) -> dict:
    py = sys.executable
    env = dict(os.environ)
    env["ZE_CMD"] = f"{py} {HERE / 'ze_dut.py'} run {{config}} {{socket}}"
    env["ZE_COUNT_CMD"] = f"{py} {HERE / 'ze_dut.py'} count {{socket}}"
    env["ZE_VERSION"] = "ze (this tree)"
    cmd = [
        "python3",
        str(harness / "bench_ingest.py"),
        "--dut",
        dut,
        *(["--mrt", args.mrt] if args.mrt else ["-n", str(n), "--per-update", str(args.per_update)]),
        "--repeat",
        str(args.repeat),
        "--timeout",
        str(args.timeout),
    ]
    r = subprocess.run(
        cmd, capture_output=True, text=True, env=env, cwd=harness, timeout=args.timeout * 3 + 120
    )
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    if not lines:
        return {"dut": dut, "n": n, "ok": False, "error": (r.stderr or r.stdout)[-400:]}
    res = lines[-1]  # the median line when --repeat > 1
    res.setdefault("n", n)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, action="append", help="prefixes (repeatable; default 100000 and 1000000)")
    ap.add_argument("--duts", default="ze,bird,frr,gobgp")
    ap.add_argument("--per-update", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--harness", default=str(DEFAULT_HARNESS), help="the shared bench folder")
    ap.add_argument("--mrt", default=None, help="replay a recorded session instead (harness --mrt FILE)")
    ap.add_argument(
        "--adj-rib-in", action="store_true", help="ze keeps the received prefixes (adj-rib-in true)"
    )
    ap.add_argument("--rib", action="store_true", help="ze also runs bgp-rib (every UPDATE into its RIB)")
    args = ap.parse_args()
    harness = Path(args.harness)
    if not (harness / "bench_ingest.py").exists():
        print(
            f"bench/ingest.py: no harness at {harness} (set --harness or ZE_BENCH_HARNESS)", file=sys.stderr
        )
        return 1
    if os.geteuid() != 0:
        print("bench/ingest.py: needs root (network namespaces)", file=sys.stderr)
        return 1
    if args.adj_rib_in:
        os.environ["ZE_BENCH_ADJ_RIB_IN"] = "1"
    if args.rib:
        os.environ["ZE_BENCH_RIB"] = "1"
    sizes = args.n or [100_000, 1_000_000]
    if args.mrt:
        sizes = [0]  # the recording decides the count (the harness computes it)
    duts = [d for d in args.duts.split(",") if INSTALLED.get(d, lambda: False)()]
    results: list[dict] = []
    for n in sizes:
        for dut in duts:
            print(f"[ingest] {dut} n={n} ...", file=sys.stderr, flush=True)
            res = run_one(harness, dut, n, args)
            results.append(res)
            print(json.dumps(res, sort_keys=True), flush=True)
    print("\n| DUT | N | seconds | routes/s | peak RSS MiB | time / ze | RSS / ze |", file=sys.stderr)
    print("|---|---|---|---|---|---|---|", file=sys.stderr)
    for n in sizes:
        ze = next(
            (r for r in results if r.get("dut") == "ze" and r.get("n") == n and r.get("ok", True)), None
        )
        for r in (r for r in results if r.get("n") == n):
            if not r.get("ok", True) or "seconds" not in r:
                print(
                    f"| {r.get('dut')} | {n:,} | failed: {str(r.get('error', ''))[:60]} | | | | |",
                    file=sys.stderr,
                )
                continue
            rss = r.get("peak_rss_kb", 0) / 1024
            t_ratio = f"{r['seconds'] / ze['seconds']:.2f}" if ze and ze.get("seconds") else "-"
            m_ratio = (
                f"{r.get('peak_rss_kb', 0) / ze['peak_rss_kb']:.2f}" if ze and ze.get("peak_rss_kb") else "-"
            )
            print(
                f"| {r['dut']} | {n:,} | {r['seconds']:.3f} | {r.get('routes_per_s', 0):,.0f} | {rss:.0f} "
                f"| {t_ratio} | {m_ratio} |",
                file=sys.stderr,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
