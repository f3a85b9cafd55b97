"""An independent decoder for ze's bytes: write BGP messages into a pcap (one TCP segment per
message) and let Wireshark's BGP dissector (tshark, Debian package) read them back field by field.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

FIELDS = (
    "bgp.type",
    "bgp.withdrawn_prefix",
    "bgp.nlri_prefix",
    "bgp.prefix_length",
    "bgp.update.path_attribute.type_code",
    "bgp.update.path_attribute.origin",
    "bgp.update.path_attribute.as_path_segment.type",
    "bgp.update.path_attribute.as_path_segment.as4",
    "bgp.update.path_attribute.as_path_segment.as2",
    "bgp.update.path_attribute.next_hop",
    "bgp.update.path_attribute.multi_exit_disc",
    "bgp.update.path_attribute.local_pref",
    "bgp.update.path_attribute.community_as",
    "bgp.update.path_attribute.community_value",
    "bgp.large_communities.ga",
    "bgp.large_communities.ldp1",
    "bgp.large_communities.ldp2",
    "bgp.update.path_attribute.originator_id",
    "bgp.path_attribute.cluster_id",
    "bgp.update.path_attribute.aggregator_as",
    "bgp.update.path_attribute.aggregator_origin",
    "bgp.update.path_attribute.mp_reach_nlri.afi",
    "bgp.update.path_attribute.mp_reach_nlri.safi",
    "bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6",
    "bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6.link_local",
    "bgp.mp_reach_nlri_ipv6_prefix",
    "bgp.mp_unreach_nlri_ipv6_prefix",
    "bgp.update.path_attribute.mp_unreach_nlri.afi",
    "bgp.open.version",
    "bgp.open.myas",
    "bgp.open.holdtime",
    "bgp.open.identifier",
    "bgp.cap.type",
    "bgp.cap.mp.afi",
    "bgp.cap.mp.safi",
    "bgp.cap.4as",
    "bgp.cap.gr.timers.restart_time",
    "bgp.cap.ap.afi",
    "bgp.cap.ap.safi",
    "bgp.cap.ap.sendreceive",
    "bgp.cap.orf.fqdn.hostname",
    "bgp.cap.orf.fqdn.domain_name",
)


def available() -> bool:
    return shutil.which("tshark") is not None


def write_pcap(messages: list[bytes], path: Path) -> None:
    """Ethernet/IPv4/TCP frames 127.0.0.1:40000 -> 127.0.0.2:179, one BGP message per frame."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    seq = 1
    for i, msg in enumerate(messages):
        tcp = struct.pack("!HHIIBBHHH", 40000, 179, seq, 1, 5 << 4, 0x18, 65535, 0, 0)
        seq = (seq + len(msg)) & 0xFFFFFFFF
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 40 + len(msg), i & 0xFFFF, 0, 64, 6, 0, b"\x7f\0\0\1", b"\x7f\0\0\2"
        )
        frame = b"\0" * 12 + b"\x08\x00" + ip + tcp + msg
        out += struct.pack("<IIII", i, 0, len(frame), len(frame)) + frame
    path.write_bytes(out)


def dissect(messages: list[bytes], workdir: Path, asn_len: int = 4) -> list[dict[str, list[str]]]:
    """One dict per message: field -> list of values tshark found (in order)."""
    pcap = workdir / "ze.pcap"
    write_pcap(messages, pcap)
    cmd = [
        "tshark",
        "-n",
        "-r",
        str(pcap),
        "-o",
        f"bgp.asn_len:{asn_len}",
        "-o",
        "tcp.analyze_sequence_numbers:FALSE",
    ]
    cmd += ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in FIELDS:
        cmd += ["-e", f]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)
    rows = []
    for line in r.stdout.splitlines():
        cols = line.split("\t")
        rows.append({f: (c.split("|") if c else []) for f, c in zip(FIELDS, cols)})
    return rows
