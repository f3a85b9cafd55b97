"""Map key/value layouts (struct ze_lpm4/ze_lpm6/ze_route/ze_top_key in prog/counter.bpf.c),
per-CPU sums, config parsing, peer index persistence: no kernel needed."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from ze.bgp.wire.nlri.prefix import Prefix
from ze.bpf import loader, mapsync
from ze.bpf.counters import sum_percpu
from ze.bpf.peers import PeerIndex
from ze.bpf.plugin import BpfConfig
from ze.core.family import AFI

FEATURE = Path(__file__).resolve().parents[3] / "ze" / "bpf"


def test_lpm_keys_are_prefixlen_then_address_in_network_order():
    assert mapsync.key(Prefix.parse("10.1.0.0/16")).hex().upper() == "100000000A010000"
    assert (
        mapsync.key(Prefix.parse("2001:db8:a::/48")).hex().upper() == "30000000" + "20010DB8000A" + "00" * 10
    )
    assert len(mapsync.key(Prefix.parse("::/0"))) == 20


def test_route_values_carry_peer_length_and_next_hop():
    v4 = mapsync.route(Prefix.parse("10.1.0.0/16"), 7, 0x0AFF0102)
    assert v4.hex().upper() == "07000000" + "1000" + "04" + "00" + "0AFF0102" + "00" * 12
    v6 = mapsync.route(
        Prefix.parse("2001:db8:b::/48"),
        2,
        int.from_bytes(bytes.fromhex("20010DB8" + "00" * 11 + "02"), "big"),
    )
    assert v6.hex().upper() == "02000000" + "3000" + "06" + "00" + "20010DB8" + "00" * 11 + "02"
    none = mapsync.route(Prefix.parse("10.2.0.0/16"), 3, None)
    assert none.hex().upper() == "03000000" + "1000" + "00" + "00" + "00" * 16
    # RFC 8950: an IPv4 prefix with an IPv6 next hop keeps all 16 bytes.
    ext = mapsync.route(Prefix.parse("10.3.0.0/16"), 1, 1 << 100)
    assert ext[6] == 6 and mapsync.decode_route(ext) == (1, 16, 1 << 100)
    assert mapsync.decode_route(v4) == (7, 16, 0x0AFF0102)
    assert mapsync.decode_route(none) == (3, 16, None)


def test_keys_decode_back():
    for text in ("10.1.0.0/16", "0.0.0.0/0", "2001:db8:a::/48", "::/0"):
        p = Prefix.parse(text)
        assert mapsync.decode_key(p.afi, mapsync.key(p)) == p


class _FakePerCpu:
    ncpu, slot = 3, 16


def test_percpu_values_sum_over_cpus():
    raw = b"".join(struct.pack("=QQ", p, b) for p, b in ((1, 100), (2, 200), (40, 4000)))
    assert sum_percpu(_FakePerCpu(), raw) == (43, 4300)  # type: ignore[arg-type]


def test_peer_indexes_are_stable_across_reloads(tmp_path):
    idx = PeerIndex(tmp_path)
    assert [idx.index(n) for n in ("a", "b", "c", "a")] == [1, 2, 3, 1]
    assert idx.release("b") == 2
    again = PeerIndex(tmp_path)  # a restart reads the state file
    assert again.names() == {1: "a", 3: "c"}
    assert again.index("d") == 2  # the lowest free slot
    assert json.loads((tmp_path / "bpf-peers.json").read_text()) == {"peers": {"a": 1, "c": 3, "d": 2}}
    small = PeerIndex(tmp_path / "x", limit=2)
    small.index("only")
    with pytest.raises(ValueError, match="no free counter slot for peer 'more'"):
        small.index("more")


def test_config_from_json():
    cfg = BpfConfig.from_json(
        {"counters": {"interface": [{"name": "eth0", "mode": "tc"}, {"name": "eth1"}], "per-prefix": True}}
    )
    assert (cfg.interfaces, cfg.per_prefix, cfg.pin_dir, cfg.detach_on_stop) == (
        {"eth0": "tc", "eth1": "xdp"},
        True,
        "/sys/fs/bpf/ze",
        False,
    )
    assert BpfConfig.from_json({"counters": {"detach-on-stop": True}}).detach_on_stop is True
    with pytest.raises(ValueError, match="mode 'ebpf' is not xdp or tc"):
        BpfConfig.from_json({"counters": {"interface": [{"name": "eth0", "mode": "ebpf"}]}})


def test_missing_headers_reason_names_the_path():
    assert loader.headers_reason("0.0.0-none") == (
        "kernel headers for 0.0.0-none not found: /lib/modules/0.0.0-none/build is missing"
        " (scripts/bootstrap installs linux-headers-amd64 and links it there)"
    )


def test_yang_module_passes_pyang_strict():
    pyang = Path(sys.executable).with_name("pyang")
    r = subprocess.run(
        [str(pyang), "--strict", "-f", "tree", str(FEATURE / "ze-bpf.yang")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "module: ze-bpf\n"
        "  +--rw bpf\n"
        "     +--rw counters\n"
        "        +--rw interface* [name]\n"
        "        |  +--rw name    string\n"
        "        |  +--rw mode?   enumeration\n"
        "        +--rw per-prefix?       boolean\n"
        "        +--rw pin-dir?          string\n"
        "        +--rw state-dir?        string\n"
        "        +--rw detach-on-stop?   boolean\n"
    )


def test_manifest_imports_no_bcc():
    code = "import sys, ze.bpf.manifest as m; print(m.PLUGIN.name, m.PLUGIN.entry, 'bcc' in sys.modules, 'ze.bpf.syscall' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert r.stdout.split() == ["bpf-counters", "ze.bpf.plugin:run", "False", "False"], r.stderr


def test_manifest_fields():
    from ze.bpf.manifest import PLUGIN

    assert (PLUGIN.requires, PLUGIN.config_roots, PLUGIN.yang) == ((), ("bpf",), ("ze-bpf.yang",))
    assert all((FEATURE / y).exists() for y in PLUGIN.yang)


def test_afi_values_match_the_trie_choice():
    assert mapsync.key(Prefix(AFI.IPV4, 8, 10 << 24)) == struct.pack("=I4s", 8, bytes([10, 0, 0, 0]))


def test_show_table_text():
    from ze.bpf.forwarding import table

    row = {"packets": 10, "bytes": 1420, "packets-per-second": 2.5, "bits-per-second": 2840.0}
    zero = {"packets": 0, "bytes": 0, "packets-per-second": 0.0, "bits-per-second": 0.0}
    view = {"peers": {"peer-a": {"index": 1, **row}}, "total": row, "unmatched": zero, "other": zero}
    assert table(view) == (
        "peer       packets  bytes  pps   bps\n"
        "peer-a          10   1420  2.5  2840\n"
        "total           10   1420  2.5  2840\n"
        "unmatched        0      0  0.0     0\n"
        "other            0      0  0.0     0"
    )


def test_loader_capabilities(tmp_path):
    from ze.bpf import loader

    status = tmp_path / "status"
    status.write_text("Name:\tx\nCapEff:\t000000c000003400\n")
    assert loader.missing_caps(str(status)) == []
    status.write_text("CapEff:\t0000004000001000\n")  # NET_ADMIN and PERFMON
    assert loader.missing_caps(str(status)) == ["CAP_BPF"]
    status.write_text("CapEff:\t0000000000000000\n")
    assert loader.missing_caps(str(status)) == ["CAP_NET_ADMIN", "CAP_PERFMON", "CAP_BPF"]
    assert loader.missing_caps(str(tmp_path / "absent")) == ["CAP_NET_ADMIN", "CAP_PERFMON", "CAP_BPF"]


def test_config_from_json_as_the_daemon_gives_it():
    # The config hands a YANG list over as {key: {leaves}}; pin-dir and state-dir place one instance.
    cfg = BpfConfig.from_json(
        {
            "counters": {
                "interface": {"r0": {"mode": "xdp"}, "r1": {"mode": "tc"}, "r2": {}},
                "pin-dir": "/sys/fs/bpf/ze-lab",
                "state-dir": "/tmp/ze-state",
                "detach-on-stop": True,
                "per-prefix": "false",
            }
        }
    )
    assert (cfg.interfaces, cfg.pin_dir, cfg.state_dir, cfg.detach_on_stop, cfg.per_prefix) == (
        {"r0": "xdp", "r1": "tc", "r2": "xdp"},
        "/sys/fs/bpf/ze-lab",
        "/tmp/ze-state",
        True,
        False,
    )
    assert BpfConfig.from_json({}).state_dir == "/var/lib/ze"
