"""bench/convergence.py's MRT cut (for --prefixes) and bench/ze_dut.py's FIB config for ze."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import convergence  # noqa: E402
import mrtfile  # noqa: E402
import ze_dut  # noqa: E402

from ze.config.resolve import parse_config  # noqa: E402
from ze.config.schema import load_schema  # noqa: E402
from ze.hub.discovery import discover, yang_files  # noqa: E402


def update(withdrawn: list[bytes], nlri: list[bytes], path: tuple[int, ...] = (3856, 174)) -> bytes:
    w = b"".join(withdrawn)
    seg = bytes([2, len(path)]) + b"".join(a.to_bytes(4, "big") for a in path)
    attrs = b"\x40\x01\x01\x00" + bytes([0x40, 2, len(seg)]) + seg  # ORIGIN igp, AS_PATH (4-octet)
    body = struct.pack("!H", len(w)) + w + struct.pack("!H", len(attrs)) + attrs + b"".join(nlri)
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), 2) + body


def record(msg: bytes, mtype: int = mrtfile.BGP4MP_ET) -> bytes:
    peer = struct.pack("!IIHH", 3856, 3856, 0, 1) + bytes([10, 0, 0, 2, 10, 0, 0, 1]) + msg
    if mtype == mrtfile.BGP4MP_ET:
        peer = b"\0\0\0\0" + peer
    return struct.pack("!IHHI", 0, mtype, mrtfile.MESSAGE_AS4, len(peer)) + peer


def p24(a: int, b: int, c: int) -> bytes:
    return bytes([24, a, b, c])


def test_update_prefixes_reads_withdrawn_and_nlri():
    msg = update([p24(10, 1, 1)], [p24(10, 2, 0), bytes([8, 11]), bytes([0])])
    withdrawn, announced = convergence.update_prefixes(msg)
    assert withdrawn == [(24, bytes([10, 1, 1]))]
    assert announced == [(24, bytes([10, 2, 0])), (8, bytes([11])), (0, b"")]


def test_cut_stops_at_the_update_reaching_the_limit_net_of_withdrawals():
    recs = [
        record(update([], [p24(10, 0, 0), p24(10, 0, 1)])),
        record(update([p24(10, 0, 0)], [p24(10, 0, 2)])),  # still 2 held
        record(update([], [p24(10, 0, 1), p24(10, 0, 3)])),  # a repeat and a new one: 3
        record(update([], [p24(10, 0, 4)])),
    ]
    data = b"".join(recs)
    cut, held, dropped = convergence.cut_mrt(data, 3)
    assert cut == b"".join(recs[:3]) and held == 3 and dropped == 0
    # what the cut holds is exactly what the harness's sender would replay
    assert [m for _a, _p, m in mrtfile.messages(cut)] == [
        m for _a, _p, m in mrtfile.messages(b"".join(recs[:3]))
    ]
    cut, held, _ = convergence.cut_mrt(data, 10**6)  # no limit reached: the whole file
    assert cut == data and held == 4
    assert convergence.cut_mrt(data) == (data, 4, 0)  # 0: no limit


def test_cut_keeps_non_update_records_in_order():
    state = struct.pack("!IHHI", 0, mrtfile.BGP4MP, 0, 4) + b"\0\0\0\0"  # a STATE_CHANGE-ish record
    recs = [state, record(update([], [p24(10, 0, 0)]), mrtfile.BGP4MP)]
    cut, held, _ = convergence.cut_mrt(b"".join(recs), 1)
    assert cut == b"".join(recs) and held == 1


def test_updates_with_as0_in_the_path_are_left_out():
    bad = record(update([], [p24(10, 9, 9)], path=(3856, 0, 174)))
    recs = [record(update([], [p24(10, 0, 0)])), bad, record(update([], [p24(10, 0, 1)]))]
    assert convergence.has_as0(update([], [], path=(0,)))
    assert not convergence.has_as0(update([], [], path=(3856, 174)))
    assert not convergence.has_as0(update([], [p24(1, 2, 3)], path=()))
    cut, held, dropped = convergence.cut_mrt(b"".join(recs))
    assert cut == recs[0] + recs[2] and held == 2 and dropped == 1


@pytest.mark.parametrize("install", [False, True])
def test_ze_dut_config_has_the_fib_plugins_only_in_the_fib_test(install, tmp_path):
    conf = {
        "router_id": "198.18.0.1",
        "local_as": 3856,
        "listen": [{"address": "198.18.0.1", "port": 179}],
        "peers": [
            {"name": "sender", "address": "198.18.0.2", "remote_as": 3856, "passive": True, "hold_time": 180}
        ],
        "fib": {"install": install},
    }
    text = ze_dut.translate(json.loads(json.dumps(conf)), str(tmp_path / "ze.sock"))
    assert ("internal fib-kernel" in text) is install
    assert ("table main" in text) is install
    cfg = parse_config(text, load_schema(extra=yang_files(discover())))  # ze's own parser takes it
    assert list(cfg.peers) == ["sender"]
