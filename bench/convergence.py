"""Convergence: one peer sends a full table; time until the last prefix is in the DUT's kernel FIB.

For each DUT (ze with bgp-rib + sysrib + fib-kernel, BIRD with its kernel protocol, FRR bgpd+zebra,
whichever are installed) in one run, the shared harness (../shared/bench, `bench_fib.py`) builds a
namespace pair, starts the DUT in one, and its Python sender replays the real table recorded in
../shared/data (ripe-updates.et-header.2015.gz: one session, ~577,700 IPv4 prefixes, replayed
byte for byte as recorded, an iBGP session AS 3856 -> 3856, next hops resolved through /32 kernel
routes to the sender) or, when that file is absent, a generated table of /24s (eBGP). Timed: from
the sender's first UPDATE until the DUT namespace's main table holds every prefix (the kernel's
own counter, /proc/<pid>/net/fib_triestat, polled; then confirmed with `ip route show`). Peak RSS
is the sum of VmHWM over the DUT's processes (ze: the daemon; BIRD: bird; FRR: bgpd + zebra). CPU s
is the DUT's own user+sys time over the run; other CPU s what the rest of the machine used meanwhile
(on a loaded machine wall times follow the load, CPU seconds much less).

The sender replays a copy of the recording (a temporary MRT file) without the UPDATEs that carry
AS 0 in their AS_PATH (4 prefixes of the 2015 table): RFC 7607 makes them treat-as-withdraw, which
ze does while BIRD and FRR install them, so with them no DUT would install the same count.
`--prefixes N` also cuts that copy after the UPDATE that brings the distinct prefixes to N. Figures are printed, never asserted.
Needs root (namespaces).

    sudo .venv/bin/python bench/convergence.py                        # the whole real table
    sudo .venv/bin/python bench/convergence.py --prefixes 300000 --duts ze,bird
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import mrtfile  # noqa: E402  (bench/mrtfile.py)

DEFAULT_HARNESS = Path(os.environ.get("ZE_BENCH_HARNESS", "/work/shared/bench"))
DEFAULT_MRT = Path("/work/shared/data/ripe-updates.et-header.2015.gz")
INSTALLED = {
    "ze": lambda: True,
    "bird": lambda: shutil.which("bird") is not None,
    "frr": lambda: os.path.exists("/usr/lib/frr/bgpd") and os.path.exists("/usr/lib/frr/zebra"),
}
_REC = struct.Struct("!IHHI")


def _v4_prefixes(field: bytes):
    """The IPv4 prefixes (length, bytes) of a withdrawn-routes or NLRI field."""
    i, end = 0, len(field)
    while i < end:
        plen = field[i]
        n = (plen + 7) // 8
        yield plen, field[i + 1 : i + 1 + n]
        i += 1 + n


def update_prefixes(msg: bytes) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
    """(withdrawn, announced) IPv4 unicast prefixes of an UPDATE message (with its 19-byte header)."""
    wlen = struct.unpack_from("!H", msg, 19)[0]
    withdrawn = list(_v4_prefixes(msg[21 : 21 + wlen]))
    alen = struct.unpack_from("!H", msg, 21 + wlen)[0]
    announced = list(_v4_prefixes(msg[23 + wlen + alen :]))
    return withdrawn, announced


def has_as0(msg: bytes, as4: bool = True) -> bool:
    """Whether an UPDATE's AS_PATH holds AS 0 (RFC 7607: treat-as-withdraw; ze does, BIRD and FRR
    install such routes)."""
    wlen = struct.unpack_from("!H", msg, 19)[0]
    pos = 21 + wlen
    end = pos + 2 + struct.unpack_from("!H", msg, pos)[0]
    pos += 2
    while pos + 3 <= end:
        flags, code = msg[pos], msg[pos + 1]
        if flags & 0x10:
            alen, pos = struct.unpack_from("!H", msg, pos + 2)[0], pos + 4
        else:
            alen, pos = msg[pos + 2], pos + 3
        if code == 2:
            i, stop, size = pos, pos + alen, 4 if as4 else 2
            while i + 2 <= stop:
                count = msg[i + 1]
                asns = msg[i + 2 : i + 2 + count * size]
                if any(int.from_bytes(asns[k : k + size], "big") == 0 for k in range(0, len(asns), size)):
                    return True
                i += 2 + count * size
            return False
        pos += alen
    return False


def cut_mrt(data: bytes, limit: int = 0) -> tuple[bytes, int, int]:
    """The records of `data` (a decompressed MRT file) up to the BGP4MP UPDATE that brings the
    distinct IPv4 prefixes announced (net of withdrawals) to `limit` (0: all), without the UPDATEs
    whose AS_PATH holds AS 0 (RFC 7607), so every DUT must install the same set; returns the
    records, the prefixes they hold and the count of UPDATEs dropped."""
    held: set[tuple[int, bytes]] = set()
    out: list[bytes] = []
    dropped = 0
    pos, end = 0, len(data)
    while pos + 12 <= end:
        _ts, mtype, sub, length = _REC.unpack_from(data, pos)
        nxt = pos + 12 + length
        if nxt > end:
            break
        rec = data[pos:nxt]
        pos = nxt
        if mtype in (mrtfile.BGP4MP, mrtfile.BGP4MP_ET) and sub in (mrtfile.MESSAGE, mrtfile.MESSAGE_AS4):
            for as4, _peer, msg in mrtfile.messages(rec):
                if len(msg) >= 23 and msg[18] == 2:
                    if has_as0(msg, as4):
                        dropped += 1
                        rec = b""
                        continue
                    withdrawn, announced = update_prefixes(msg)
                    held.difference_update(withdrawn)
                    held.update(announced)
        out.append(rec)
        if limit and len(held) >= limit:
            break
    return b"".join(out), len(held), dropped


def run_one(harness: Path, dut: str, source: list[str], args: argparse.Namespace) -> dict:
    py = sys.executable
    env = dict(os.environ)
    env["ZE_CMD"] = f"{py} {HERE / 'ze_dut.py'} run {{config}} {{socket}}"
    env["ZE_COUNT_CMD"] = f"{py} {HERE / 'ze_dut.py'} count {{socket}}"
    env["ZE_VERSION"] = "ze (this tree)"
    cmd = [
        "python3",
        str(harness / "bench_fib.py"),
        "--dut",
        dut,
        *source,
        "--repeat",
        str(args.repeat),
        "--timeout",
        str(args.timeout),
        *(["--keep"] if args.keep else []),
    ]
    try:
        r = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            env=env,
            cwd=harness,
            timeout=args.timeout * 3 * args.repeat + 300,
        )
    except subprocess.TimeoutExpired as e:
        return {"dut": dut, "ok": False, "error": f"harness timed out: {e}"}
    sys.stderr.write(r.stderr[-3000:])
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    if not lines:
        return {"dut": dut, "ok": False, "error": (r.stderr or r.stdout)[-400:]}
    res = dict(lines[-1])
    if res.get("summary"):  # --repeat > 1: the median line, with peak RSS and the expected count
        ok = [x for x in lines[:-1] if x.get("ok")]
        res.update(
            ok=bool(ok),
            seconds=res.get("seconds_median"),
            routes_per_s=res.get("routes_per_s_median"),
            peak_rss_kb=res.get("peak_rss_kb_median"),
            expected=ok[0].get("expected", ok[0].get("n4")) if ok else None,
        )
    return res


def table(results: list[dict]) -> str:
    ze = next((r for r in results if r.get("dut") == "ze" and r.get("ok")), None)
    rows = [
        "| DUT | prefixes | seconds | prefixes/s | CPU s | other CPU s | peak RSS MiB | ze time / DUT time"
        " | ze RSS / DUT RSS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if not r.get("ok"):
            rows.append(f"| {r.get('dut')} | | failed: {str(r.get('error', ''))[:80]} | | | | | | |")
            continue
        n = r.get("expected") or (r.get("n4", 0) + r.get("n6", 0))
        rss = r.get("peak_rss_kb", 0)
        t_ratio = f"{ze['seconds'] / r['seconds']:.2f}" if ze and r.get("seconds") else "-"
        m_ratio = f"{ze['peak_rss_kb'] / rss:.2f}" if ze and rss else "-"
        rows.append(
            f"| {r['dut']} | {n:,} | {r['seconds']:.2f} | {r.get('routes_per_s') or 0:,.0f} "
            f"| {r.get('cpu_s', r.get('cpu_s_median', 0)):.1f} | {r.get('noise', {}).get('other_cpu_s', '-')} "
            f"| {rss / 1024:.0f} | {t_ratio} | {m_ratio} |"
        )
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prefixes", type=int, default=0, help="limit (default: the whole real table)")
    ap.add_argument("--duts", default="ze,bird,frr")
    ap.add_argument("--mrt", default=str(DEFAULT_MRT), help="the recorded table to replay")
    ap.add_argument("--synthetic", type=int, default=1_000_000, help="/24s to generate when --mrt is absent")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--keep", action="store_true", help="keep the harness run directories (logs)")
    ap.add_argument("--harness", default=str(DEFAULT_HARNESS), help="the shared bench folder")
    ap.add_argument("--out", default=None, help="append the JSON results to this file")
    args = ap.parse_args()
    harness = Path(args.harness)
    if not (harness / "bench_fib.py").exists():
        print(
            f"bench/convergence.py: no harness at {harness} (--harness or ZE_BENCH_HARNESS)", file=sys.stderr
        )
        return 1
    if os.geteuid() != 0:
        print("bench/convergence.py: needs root (network namespaces)", file=sys.stderr)
        return 1
    tmp = None
    mrt = Path(args.mrt)
    if mrt.exists():
        data, held, dropped = cut_mrt(mrtfile.read(mrt), args.prefixes)
        tmp = tempfile.NamedTemporaryFile(prefix="ze-conv-", suffix=".mrt.gz", delete=False)
        with gzip.open(tmp, "wb", compresslevel=1) as f:
            f.write(data)
        tmp.close()
        source = ["--mrt", tmp.name]
        print(
            f"[convergence] {mrt.name}: {held:,} prefixes replayed"
            f"{f' (cut at --prefixes {args.prefixes:,})' if args.prefixes else ''},"
            f" {dropped} UPDATEs with AS 0 in AS_PATH left out (RFC 7607)",
            file=sys.stderr,
        )
        label = f"mrt:{mrt.name}"
    else:
        n = args.prefixes or args.synthetic
        source = ["-n", str(n), "--per-update", "500"]
        label = f"synthetic /24s, eBGP ({mrt} absent)"
    try:
        results: list[dict] = []
        for dut in args.duts.split(","):
            if not INSTALLED.get(dut, lambda: False)():
                print(f"[convergence] {dut}: not installed, skipped", file=sys.stderr)
                continue
            print(f"[convergence] {dut} {label} ...", file=sys.stderr, flush=True)
            res = run_one(harness, dut, source, args)
            res["dut"] = dut
            results.append(res)
            line = json.dumps(res, sort_keys=True)
            print(line, flush=True)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(line + "\n")
    finally:
        if tmp is not None:
            os.unlink(tmp.name)
    print(f"\nconvergence: {label}, first UPDATE -> last prefix in the kernel FIB", file=sys.stderr)
    print(table(results), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
