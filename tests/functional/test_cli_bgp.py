"""`ze bgp decode/encode`, `ze --version/--help` run as the installed `ze`, in subprocesses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ze.bgp.wire.context import EncodingContext
from ze.bgp.wire.render import update_from_json
from ze.core.family import Family

ZE = str(Path(sys.executable).parent / "ze")
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "update-sample.hex"
TEXT = "update text origin set igp nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/24 10.0.1.0/24"
TEXT_HEX = "FF" * 16 + "002A020000000B40010100400304C0000201180A0000180A0001"


def ze(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([ZE, *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_version_and_help():
    r = ze("--version")
    assert r.returncode == 0 and r.stdout.startswith("ze ")
    r = ze("--help")
    assert r.returncode == 0 and "bgp" in r.stdout
    r = ze("bgp", "--help")
    assert r.returncode == 0 and "decode" in r.stdout and "encode" in r.stdout


def test_encode_prints_uppercase_hex():
    r = ze("bgp", "encode", TEXT)
    assert (r.returncode, r.stdout, r.stderr) == (0, TEXT_HEX + "\n", "")


def test_round_trip_encode_then_decode():
    encoded = ze("bgp", "encode", TEXT).stdout.strip()
    r = ze("bgp", "decode", "--json", encoded)
    assert r.returncode == 0
    assert json.loads(r.stdout) == {
        "type": "bgp",
        "bgp": {
            "message": {"type": "update"},
            "update": {
                "attr": {"origin": "igp"},
                "nlri": {
                    "ipv4/unicast": [
                        {"next-hop": "192.0.2.1", "action": "add", "nlri": ["10.0.0.0/24", "10.0.1.0/24"]}
                    ]
                },
            },
        },
    }


def test_round_trip_ipv6_add_path_from_stdin():
    flags = ["--add-path", "ipv6/unicast"]
    text = "update text origin set igp nhop set 2001:db8::1 nlri ipv6/unicast add 2001:db8:1::/48 path-id 5"
    encoded = ze("bgp", "encode", *flags, text).stdout
    r = ze("bgp", "decode", "--json", *flags, "-", stdin=encoded)
    assert r.returncode == 0
    assert json.loads(r.stdout)["bgp"]["update"]["nlri"] == {
        "ipv6/unicast": [{"next-hop": "2001:db8::1", "action": "add", "nlri": ["2001:db8:1::/48 path-id 5"]}]
    }


def test_decode_without_marker_and_bare_body_and_human_view():
    body = TEXT_HEX[38:]
    for given in (TEXT_HEX[32:], body, " ".join(body[i : i + 2] for i in range(0, len(body), 2))):
        r = ze("bgp", "decode", given)
        assert (r.returncode, r.stdout) == (0, TEXT + "\n")


def test_encode_json_shows_decoded_view():
    r = ze("bgp", "encode", "--json", "update text nlri ipv6/unicast eor")
    assert r.returncode == 0
    assert json.loads(r.stdout) == {
        "hex": "FF" * 16 + "001D0200000006800F03000201",
        "decoded": {
            "type": "bgp",
            "bgp": {
                "message": {"type": "update"},
                "update": {"attr": {}, "nlri": {"ipv6/unicast": [{"action": "eor"}]}},
            },
        },
    }


def test_sample_file_decodes():
    r = ze("bgp", "decode", "--json", "-", stdin=SAMPLE.read_text())
    assert r.returncode == 0
    assert json.loads(r.stdout)["bgp"]["update"]["nlri"] == {
        "ipv4/unicast": [{"next-hop": "192.0.2.1", "action": "add", "nlri": ["10.0.0.0/24"]}]
    }


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["decode", "ZZ"], "ze: error: not hex: 'Z' at byte 0"),
        (["decode", "0000001"], "ze: error: odd number of hex digits at byte 3"),
        (
            ["decode", "00000003400101"],
            "ze: error: attribute 1 length 1 runs 1 bytes past the attributes at byte 4",
        ),
        (["decode", "0000000440010103"], "ze: error: ORIGIN value 3 is not 0, 1 or 2 at byte 7"),
        (["decode", "FF" * 16 + "002F02"], "ze: error: message of 47 bytes cut short: 19 given at byte 16"),
        (
            ["decode", "FE" + "FF" * 15 + "001304"],
            "ze: error: withdrawn routes length 65279 runs past the message at byte 0",
        ),
        (
            ["decode", "FF" * 16 + "001704" + "00000000"],
            "ze: error: bad length 23 for KEEPALIVE (allowed 19..4096) at byte 16",
        ),
        (
            ["encode", "update text origin set igp"],
            "ze: error: word 6: expected at least one nlri section (nlri FAMILY add|del|eor ...), got the end",
        ),
        (
            ["encode", "update text nhop set 2001:db8::1 nlri ipv4/unicast add 10.0.0.0/24"],
            "ze: error: ipv4/unicast: next hop of 16 bytes not allowed",
        ),
        (["decode", "--add-path", "ipv9/x", "00000000"], "ze: error: unknown afi 'ipv9'"),
    ],
)
def test_bad_input_one_line_exit_1(args, error):
    r = ze("bgp", *args)
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(error)
    assert "Traceback" not in r.stderr


def test_readme_examples_round_trip():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    commands = re.findall(r'^\$ ze bgp encode ((?:--add-path \S+ )?)"(update [^"]+)"', readme, re.M)
    assert len(commands) == 3
    for flags, text in commands:
        encoded = ze("bgp", "encode", *flags.split(), text)
        assert encoded.returncode == 0
        decoded = ze("bgp", "decode", "--json", *flags.split(), "-", stdin=encoded.stdout)
        assert decoded.returncode == 0
        docs = json.loads(decoded.stdout)
        docs = docs if isinstance(docs, list) else [docs]
        # the decoded views encode back to the very bytes ze printed
        ctx = EncodingContext(addpath=frozenset(Family.parse(f) for f in flags.split()[1:]))
        assert [update_from_json(doc, ctx).hex().upper() for doc in docs] == encoded.stdout.split()
    first = re.search(
        r"^\$ ze bgp encode \"update text origin set igp nhop set 192.0.2.1[^\n]*\n([0-9A-F]+)$", readme, re.M
    )
    assert first is not None and first.group(1) == TEXT_HEX


def test_text_view_of_unknown_attribute_is_a_hex_command_that_encodes_back():
    msg = "FF" * 16 + "002D0200000012" + "40010100" + "400304C0000201" + "E0FF04DEADBEEF" + "180A0000"
    r = ze("bgp", "decode", msg)
    text = "update hex attr set E0FF04DEADBEEF origin set igp nhop set 192.0.2.1 nlri ipv4/unicast add 10.0.0.0/24"
    assert (r.returncode, r.stdout) == (0, text + "\n")
    assert ze("bgp", "encode", text).stdout == msg + "\n"


def test_bare_bodies_of_other_types():
    r = ze("bgp", "decode", "--json", "--type", "keepalive", "")
    assert r.returncode == 0
    assert json.loads(r.stdout)["bgp"]["message"] == {"type": "keepalive"}
    r = ze("bgp", "decode", "--json", "--type", "route-refresh", "00010001")
    assert r.returncode == 0
    assert json.loads(r.stdout)["bgp"]["message"] == {"type": "route-refresh"}
    r = ze("bgp", "decode", "")
    assert (r.returncode, r.stderr) == (1, "ze: error: no hex given at byte 0\n")


def test_readme_decode_outputs_are_what_ze_prints():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    shown = re.findall(r"^\$ ze bgp decode ([0-9A-F]+)\n(update [^\n]+)$", readme, re.M)
    assert shown == [(TEXT_HEX, TEXT)]
    assert ze("bgp", "decode", TEXT_HEX).stdout == TEXT + "\n"
