"""The lab's pure parts: prefixes and targets, the config with optional blocks left out, BIRD's
config, and the view saying "not available yet" instead of numbers it does not have."""

from __future__ import annotations

import ipaddress
import re

from rich.console import Console

from ze.lab import lab, sender, view


def state(**kw) -> lab.State:
    d = {"name": "t", "dir": "/nonexistent", "namespaces": lab.namespaces_of("t"), "socket": "/tmp/t.sock",
         "bird_socket": "/tmp/b.ctl", "pin_dir": "/sys/fs/bpf/t", "prefixes": 3, "plen": 26, "pps": 10,
         "seconds": 5, "md5": "s3cret"}  # fmt: skip
    d.update(kw)
    return lab.State(**d)


def test_routes_and_targets():
    r = lab.routes(3, 26)
    assert [str(n) for n in r] == ["198.18.0.0/26", "198.18.0.64/26", "198.18.0.128/26"]
    assert sender.targets("198.18.0.0", 3, 26) == ["198.18.0.1", "198.18.0.65", "198.18.0.129"]
    assert all(ipaddress.ip_address(t) in n for t, n in zip(sender.targets("198.18.0.0", 3, 26), r))
    assert len(lab.routes(2048, 26)) == 2048


def test_namespaces_are_named_after_the_lab():
    assert lab.namespaces_of("x") == {"tx": "x-tx", "ze": "x-ze", "up": "x-up", "sink": "x-sink"}


def test_config_keeps_what_ze_accepts():
    text, left = lab.ze_config(state(), validate=lambda t: [])
    assert left == {}
    assert 'md5-password "s3cret";' in text and "ttl-security 1;" in text
    assert 'socket "/tmp/t.sock";' in text and "remote { ip 192.0.2.2; as 65002; }" in text
    assert "{" + "socket}" not in text
    # the lab's pins and state in its own places (down removes them), not a system ze's
    assert 'pin-dir "/sys/fs/bpf/t";' in text and 'state-dir "/nonexistent";' in text
    assert not re.search(r"\{[a-z_]+\}", text), "a placeholder left unfilled"


def test_config_leaves_out_refused_blocks():
    def validate(text: str) -> list[tuple[int, str]]:
        out = []
        for i, line in enumerate(text.splitlines(), 1):
            if line.startswith(("fib ", "bpf ")):
                out.append((i, f"unknown key '{line.split()[0]}' in the top level"))
        return out

    text, left = lab.ze_config(state(), validate=validate)
    assert left == {"fib": "unknown key 'fib' in the top level", "bpf": "unknown key 'bpf' in the top level"}
    assert "fib {" not in text and "bpf {" not in text and "plugin {" in text
    assert "# lab-block fib left out: unknown key 'fib' in the top level" in text
    assert validate(text) == []


def test_config_refused_outside_a_block_is_an_error():
    import pytest

    with pytest.raises(lab.LabError, match="refused: bad router-id"):
        lab.ze_config(state(), validate=lambda t: [(10, "bad router-id")])


def test_bird_config():
    text = lab.bird_config(state())
    assert "route 198.18.0.128/26 blackhole;" in text and text.count(" blackhole;") == 3
    assert 'password "s3cret";' in text and "ttl security on;" in text
    assert "local 192.0.2.2 as 65002;" in text and "neighbor 192.0.2.1 as 65001;" in text


def render(snap) -> str:
    c = Console(record=True, width=120)
    c.print(view.render(snap))
    return c.export_text()


def snap(ze: dict) -> dict:
    return {"lab": "t", "uptime": 3.0, "namespaces": {}, "processes": [
        {"role": "bird", "pid": 1, "alive": True}, {"role": "ze", "pid": 2, "alive": False, "last": ["boom"]}],
        "config-left-out": {"bpf": "unknown key 'bpf'"}, "ze": ze, "kernel-routes": {"kernel": 2},
        "bird": {"state": "Connect"}, "links": {"sender tx": {"packets": 5, "bytes": 500}},
        "announced": {"prefixes": 3, "length": 26, "from": "198.18.0.0/15"}}  # fmt: skip


def test_view_says_what_is_not_available():
    out = render(
        snap({
            "ze show peers": {"method": "ze-api:show-peers", "data": {"peers": [
                {"name": "upstream", "remote": {"ip": "192.0.2.2", "as": 65002}, "state": "idle", "since": "x"}]}},
            "ze show fib": {"method": "ze-api:show-fib",
                            "unavailable": "not available yet: the running ze has no ze-api:show-fib"},
            "ze show forwarding": {"method": "ze-api:show-forwarding", "error": "ze is not running"},
        })
    )  # fmt: skip
    assert "upstream   192.0.2.2   65002   idle" in out
    assert "not available yet: the running ze has no ze-api:show-fib" in out
    assert "ze is not running" in out
    assert "ze 2 (exited)" in out and "ze: boom" in out
    assert "config block 'bpf' left out: unknown key 'bpf'" in out
    assert "by ze (protocol 186): 0" in out


def test_view_renders_unknown_shapes_as_tables():
    out = render(
        snap({
            "ze show fib": {"method": "ze-api:show-fib", "data": {"routes": 500, "by-protocol": {"bgp": 500},
                            "tables": [{"table": "main", "routes": 500}]}},
        })
    )  # fmt: skip
    assert re.search(r"│ routes +500 ", out) and re.search(r"│ by-protocol.bgp +500 ", out)
    assert re.search(r"│ main +500 ", out)


def test_bpf_block_matches_the_feature_yang(tmp_path):
    """With ze-bpf.yang loaded (as discovery will), the bpf block is accepted as it is."""
    from pathlib import Path

    from ze.config.errors import ConfigProblems
    from ze.config.resolve import load_config
    from ze.config.schema import load_schema

    schema = load_schema(extra=[Path(__file__).resolve().parents[3] / "ze" / "bpf" / "ze-bpf.yang"])

    def validate(text: str) -> list[tuple[int, str]]:
        f = tmp_path / "lab.conf"
        f.write_text(text)
        try:
            load_config(f, schema)
        except ConfigProblems as e:
            return [(p.loc.line if p.loc else 0, p.message) for p in e.problems]
        return []

    text, left = lab.ze_config(state(), validate=validate)
    assert "bpf" not in left, left
    assert "interface tx0 { mode tc; }" in text and "detach-on-stop true;" in text
