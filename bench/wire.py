#!/usr/bin/env python3
"""Wire codec benchmark: decode and encode a real BGP table, against ExaBGP's decoder in the same run.

Input: the full IPv4 table in /work/shared/data (../shared/data from the repository): one RIPE RIS
session, about 89,700 UPDATEs and 577,700 prefixes, recorded with 2-byte AS numbers. Without it,
500k generated prefixes in UPDATEs of 10 prefixes each.

Measured, each on the same messages:
  lazy walk        WireUpdate + every NLRI (withdrawn, nlri, MP) walked as Prefix tuples
  C walk           the NLRI regions walked by the C helper into flat int lists (ze._native)
  full decode      the above + every attribute decoded to its object
  JSON render      the "parsed" event JSON of every UPDATE (what an external plugin receives)
  encode           every UPDATE rebuilt from its decoded routes and attributes (build_updates)
  ExaBGP decode    Update.unpack_message of Debian's exabgp, in /usr/bin/python3 (when installed)
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import mrtfile  # noqa: E402

from ze import _native  # noqa: E402
from ze.bgp.wire.attr.aspath import AsPath  # noqa: E402
from ze.bgp.wire.attr.nexthop import NextHop  # noqa: E402
from ze.bgp.wire.attr.origin import Origin  # noqa: E402
from ze.bgp.wire.context import EncodingContext  # noqa: E402
from ze.bgp.wire.nlri.prefix import Prefix  # noqa: E402
from ze.bgp.wire.render import update_json  # noqa: E402
from ze.bgp.wire.update import NlriSection, WireUpdate, build_updates  # noqa: E402
from ze.core.errors import WireError  # noqa: E402
from ze.core.family import AFI, IPV4_UNICAST  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data" / "ripe-updates.et-header.2015.gz"
_U16 = struct.Struct("!H")

EXABGP = r"""
import json, sys, time
import exabgp.configuration.setup  # fills environment.configuration
from exabgp.configuration.environment import environment
environment.setup("")
from exabgp.bgp.message import Update
from exabgp.bgp.message.direction import Direction
from exabgp.bgp.message.open.asn import ASN
from exabgp.bgp.message.open.capability.negotiated import Negotiated
from exabgp.bgp.neighbor import Neighbor
from exabgp.protocol.family import AFI, SAFI
n = Neighbor(); n.local_as = ASN(65000); n.peer_as = ASN(65001); n.add_family((AFI.ipv4, SAFI.unicast))
neg = Negotiated(n); neg.asn4 = sys.argv[2] == "1"
raw = open(sys.argv[1], "rb").read()
bodies, pos = [], 0
while pos < len(raw):
    ln = int.from_bytes(raw[pos + 16:pos + 18], "big"); bodies.append(raw[pos + 19:pos + ln]); pos += ln
t = time.perf_counter(); pfx = 0
for b in bodies:
    u = Update.unpack_message(b, Direction.IN, neg)
    pfx += len(getattr(u, "nlris", ()))
print(json.dumps({"seconds": time.perf_counter() - t, "updates": len(bodies), "prefixes": pfx}))
"""


def generated(n: int) -> tuple[bool, list[bytes]]:
    rng = random.Random(1)
    ctx = EncodingContext(asn4=True)
    out: list[bytes] = []
    for start in range(0, n, 10):
        path = AsPath.from_sequence([rng.randrange(1, 400000) for _ in range(rng.randrange(2, 7))])
        prefixes = [
            Prefix(AFI.IPV4, 24, (0x10000000 + (i << 8)) & 0xFFFFFF00)
            for i in range(start, min(n, start + 10))
        ]
        section = NlriSection(IPV4_UNICAST, "add", prefixes, ("192.0.2.1",))
        out.extend(build_updates([section], [Origin.from_value(0), path], ctx))
    return True, out


def timed(fn, *args) -> tuple[float, object]:
    t = time.perf_counter()
    r = fn(*args)
    return time.perf_counter() - t, r


def lazy_walk(ups: list[bytes], ctx: EncodingContext) -> int:
    n = 0
    for m in ups:
        u = WireUpdate(memoryview(m)[19:], ctx)
        for _ in u.withdrawn():
            n += 1
        for _ in u.nlri():
            n += 1
        r = u.mp_reach()
        if r is not None:
            n += sum(1 for _ in r.nlri())
        un = u.mp_unreach()
        if un is not None:
            n += sum(1 for _ in un.nlri())
    return n


def c_walk(ups: list[bytes], ctx: EncodingContext) -> int:
    """The NLRI regions by offsets, walked in C (IPv4 withdrawn + NLRI fields)."""
    n = 0
    walk = _native.walk_nlri
    for m in ups:
        wlen = _U16.unpack_from(m, 19)[0]
        alen = _U16.unpack_from(m, 21 + wlen)[0]
        n += len(walk(m, 21, 21 + wlen, 1, False)) // 3
        n += len(walk(m, 23 + wlen + alen, len(m), 1, False)) // 3
    return n


def full_decode(ups: list[bytes], ctx: EncodingContext) -> int:
    n = 0
    for m in ups:
        u = WireUpdate(memoryview(m)[19:], ctx)
        try:
            for a in u.attributes():
                a.to_json()
        except WireError:
            pass  # e.g. AS 0 in AS_PATH (RFC 7607): treat-as-withdraw in a session; counted in `malformed`
        n += sum(1 for _ in u.withdrawn()) + sum(1 for _ in u.nlri())
    return n


def detect_asn4(ups: list[bytes], recorded: bool) -> bool:
    """Some recordings say 2-byte AS (MRT subtype MESSAGE) but carry 4-byte AS_PATHs: pick the width
    under which the first thousand UPDATEs decode."""
    errors = {}
    for as4 in (recorded, not recorded):
        errors[as4] = malformed(ups[:1000], EncodingContext(asn4=as4))
    return recorded if errors[recorded] <= errors[not recorded] else not recorded


def malformed(ups: list[bytes], ctx: EncodingContext) -> int:
    bad = 0
    for m in ups:
        try:
            for _ in WireUpdate(memoryview(m)[19:], ctx).attributes():
                pass
        except WireError:
            bad += 1
    return bad


def render(ups: list[bytes], ctx: EncodingContext) -> int:
    size = 0
    for m in ups:
        try:
            size += len(json.dumps(update_json(WireUpdate(memoryview(m)[19:], ctx))))
        except WireError:
            pass
    return size


def decoded(ups: list[bytes], ctx: EncodingContext) -> list[tuple[list, list, str | None, list]]:
    out = []
    for m in ups:
        u = WireUpdate(memoryview(m)[19:], ctx)
        try:
            attrs = [a for a in u.attributes() if a.CODE not in (3, 14, 15)]
        except WireError:
            continue
        nh = u.attribute(3)
        out.append(
            (list(u.withdrawn()), list(u.nlri()), nh.address if isinstance(nh, NextHop) else None, attrs)
        )
    return out


def encode(items, ctx: EncodingContext) -> tuple[int, int]:
    msgs = prefixes = 0
    for withdrawn, nlri, nh, attrs in items:
        sections = []
        if withdrawn:
            sections.append(NlriSection(IPV4_UNICAST, "del", withdrawn))
        if nlri and nh:
            sections.append(NlriSection(IPV4_UNICAST, "add", nlri, (nh,)))
        if not sections:
            continue
        for _ in build_updates(sections, attrs if nlri else (), ctx):
            msgs += 1
        prefixes += len(withdrawn) + len(nlri)
    return msgs, prefixes


def exabgp(ups: list[bytes], as4: bool) -> dict | None:
    probe = subprocess.run(["/usr/bin/python3", "-c", "import exabgp"], capture_output=True, check=False)
    if probe.returncode != 0:
        return None
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"ze-bench-wire-{os.getpid()}.bin"
    path.write_bytes(b"".join(ups))
    try:
        r = subprocess.run(
            ["/usr/bin/python3", "-c", EXABGP, str(path), "1" if as4 else "0"],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    finally:
        path.unlink(missing_ok=True)
    if r.returncode != 0:
        print(f"exabgp: failed: {r.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--mrt", type=Path, default=DATA, help="MRT file of UPDATEs (default: the 2015 full table)"
    )
    ap.add_argument("-n", type=int, default=500_000, help="generated prefixes when no MRT file is there")
    ap.add_argument("--no-exabgp", action="store_true")
    args = ap.parse_args()
    if args.mrt.exists():
        as4, ups = mrtfile.updates(args.mrt)
        as4 = detect_asn4(ups, as4)
        source = args.mrt.name
    else:
        as4, ups = generated(args.n)
        source = f"{args.n} generated prefixes"
    ctx = EncodingContext(asn4=as4)
    nbytes = sum(len(m) for m in ups)
    bad = malformed(ups, ctx)
    print(
        f"input: {source}: {len(ups)} UPDATEs, {nbytes / 1e6:.1f} MB, {'4' if as4 else '2'}-byte AS, {bad} malformed"
    )
    results: dict[str, dict] = {}

    t, n = timed(lazy_walk, ups, ctx)
    results["lazy-walk"] = {
        "seconds": t,
        "updates-per-s": len(ups) / t,
        "prefixes-per-s": n / t,
        "prefixes": n,
    }
    t, nc = timed(c_walk, ups, ctx)
    results["c-walk"] = {
        "seconds": t,
        "updates-per-s": len(ups) / t,
        "prefixes-per-s": nc / t,
        "prefixes": nc,
    }
    t, n2 = timed(full_decode, ups, ctx)
    results["full-decode"] = {"seconds": t, "updates-per-s": len(ups) / t, "prefixes-per-s": n2 / t}
    t, size = timed(render, ups, ctx)
    results["json-render"] = {"seconds": t, "updates-per-s": len(ups) / t, "json-mb": size / 1e6}
    items = decoded(ups, ctx)
    t, (msgs, pfx) = timed(encode, items, ctx)
    results["encode"] = {"seconds": t, "updates-per-s": msgs / t, "prefixes-per-s": pfx / t, "messages": msgs}
    if not args.no_exabgp:
        ex = exabgp(ups, as4)
        if ex:
            ex["updates-per-s"] = ex["updates"] / ex["seconds"]
            ex["prefixes-per-s"] = ex["prefixes"] / ex["seconds"]
            results["exabgp-decode"] = ex
        else:
            print("exabgp: not installed (apt-get install exabgp), no comparison", file=sys.stderr)

    print(f"{'measure':<14} {'seconds':>8} {'UPDATEs/s':>11} {'prefixes/s':>12}")
    for name, r in results.items():
        pps = f"{r['prefixes-per-s']:>12,.0f}" if "prefixes-per-s" in r else f"{'':>12}"
        print(f"{name:<14} {r['seconds']:>8.2f} {r['updates-per-s']:>11,.0f} {pps}")
    if "exabgp-decode" in results:
        ex = results["exabgp-decode"]
        for name in ("lazy-walk", "full-decode", "json-render"):
            ratio = results[name]["updates-per-s"] / ex["updates-per-s"]
            print(f"ratio ze {name} / ExaBGP decode: {ratio:.1f}x (UPDATEs/s)")
    print(json.dumps({"bench": "wire", "input": source, "updates": len(ups), "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
