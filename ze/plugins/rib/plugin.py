"""The bgp-rib plugin's entry point.

The service (service.RibService) is what the plugin host wires to the hub: "bgp/update" and
"bgp/state" in, "rib/best" out, and the `show rib` / `show peer` commands (show.run). Until that
wiring exists, `main` is a debug command line over the same calls: UPDATE messages in hex (one
whole message per line, header included) on stdin, received from one eBGP peer, then a query.

    ze-rib-debug [--asn2] [SHOW-RIB-ARGS...] < updates.hex
"""

from __future__ import annotations

import json
import sys

from ze.bgp.events import PeerInfo, PeerUpdate
from ze.bgp.wire.context import DEFAULT, EncodingContext
from ze.bgp.wire.update import WireUpdate
from ze.plugins.rib import show
from ze.plugins.rib.service import RibService


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    ctx = DEFAULT
    if "--asn2" in args:
        args.remove("--asn2")
        ctx = EncodingContext(asn4=False)
    rib = RibService()
    peer = PeerInfo("stdin", "192.0.2.1", 65001, 65000, "192.0.2.1", recv_ctx=ctx)
    for n, line in enumerate(sys.stdin):
        line = line.strip()
        if not line:
            continue
        msg = bytes.fromhex(line)
        rib.on_update(PeerUpdate(peer, WireUpdate(msg[19:], ctx), n, 0.0))
    try:
        for row in show.run(rib, "show rib", args):
            print(json.dumps(row) if isinstance(row, dict) else row)
    except show.QueryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
