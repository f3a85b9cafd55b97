"""`ze show WORDS` / `ze clear WORDS` fall back to a plugin's command."""

from __future__ import annotations

from ze.cli.plugin import main_show_fallback


def test_show_and_clear_go_to_plugin_commands():
    assert main_show_fallback(["show", "forwarding", "p1"], {"peer"}) == [
        "plugin", "command", "show", "forwarding", "p1"
    ]  # fmt: skip
    assert main_show_fallback(["clear", "forwarding", "--json"], set()) == [
        "plugin", "command", "clear", "forwarding", "--json"
    ]  # fmt: skip
    assert main_show_fallback(["show", "peer"], {"peer"}) == ["show", "peer"]  # built in
    assert main_show_fallback(["clear"], set()) == ["clear"]  # nothing to run: `ze run clear`


def test_plugin_answers_become_tables_where_rows_are_alike():
    from ze.cli.plugin import split_tables

    data = {
        "state": "running",
        "loader": {"seconds": 2.2, "max-rss-kib": 137000},
        "routes": {"ipv4": 3, "ipv6": 2},
        "interfaces": {"r0": {"mode": "xdp", "attached": "native"}},
        "counters": {
            "peers": {"p1": {"packets": 5, "bytes": 500}, "p2": {"packets": 1, "bytes": 60}},
            "total": {"packets": 6, "bytes": 560},
            "unmatched": {"packets": 0, "bytes": 0},
        },
        "prefixes": [{"prefix": "10.1.0.0/16", "peer": "p1"}],
    }
    scalars, tables = split_tables(data)
    assert scalars == [
        ("state", "running"),
        ("loader.seconds", 2.2),
        ("loader.max-rss-kib", 137000),
        ("routes.ipv4", 3),
        ("routes.ipv6", 2),
    ]
    assert tables == [
        ("interfaces", ["", "mode", "attached"], [["r0", "xdp", "native"]]),
        ("counters", ["", "packets", "bytes"], [["total", 6, 560], ["unmatched", 0, 0]]),
        ("counters.peers", ["", "packets", "bytes"], [["p1", 5, 500], ["p2", 1, 60]]),
        ("prefixes", ["prefix", "peer"], [["10.1.0.0/16", "p1"]]),
    ]
