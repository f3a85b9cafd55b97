"""The schema-driven parser: node kinds, typing, and every error path with its message."""

from __future__ import annotations

import pytest

from ze.config.errors import ConfigProblems
from ze.config.parser import parse, parse_or_raise, render


def problems(schema, text):
    return [str(p) for p in parse(text, schema, "c.conf").problems]


def test_kinds_and_types(schema):
    tree = parse_or_raise(
        """
        bgp {
            router-id 192.0.2.1;
            hold-time 30;
            passive;
            family { ipv4 [ unicast multicast ]; ipv6 unicast; }
            group g { peer p1 { remote { ip 2001:DB8::1; as 4200000000; } } }
        }
        plugin { internal bgp-rib; internal "bgp-rs"; search-dir "/opt/x y"; }
        process pol { run "./pol --fast"; required false; }
        """,
        schema,
    )
    assert tree.data == {
        "bgp": {
            "router-id": "192.0.2.1",
            "hold-time": 30,
            "passive": True,
            "family": {"ipv4": ["unicast", "multicast"], "ipv6": ["unicast"]},
            "group": {"g": {"peer": {"p1": {"remote": {"ip": "2001:db8::1", "as": 4200000000}}}}},
        },
        "plugin": {"internal": ["bgp-rib", "bgp-rs"], "search-dir": ["/opt/x y"]},
        "process": {"pol": {"run": "./pol --fast", "required": False}},
    }
    assert str(tree.locs[("bgp", "group", "g", "peer", "p1")]) == "<config>:7:23"


def test_render_round_trips(schema):
    text = 'bgp { router-id 192.0.2.1; peer a { remote { ip 10.0.0.1; as 1; } md5-password "a b;c"; } }'
    tree = parse_or_raise(text, schema)
    out = render(tree.data, schema.root)
    assert out == (
        "bgp {\n    router-id 192.0.2.1;\n    peer a {\n        remote {\n            ip 10.0.0.1;\n"
        '            as 1;\n        }\n        md5-password "a b;c";\n    }\n}'
    )
    assert parse_or_raise(out, schema).data == tree.data


ERRORS = [
    ("bgp { hold-tim 90; }", ["c.conf:1:7: unknown key 'hold-tim' in bgp (did you mean 'hold-time'?)"]),
    ("bgpp { }", ["c.conf:1:1: unknown key 'bgpp' in the top level (did you mean 'bgp'?)"]),
    ("zzz;", ["c.conf:1:1: unknown key 'zzz' in the top level"]),
    (
        "bgp { hold-time 2; }",
        ["c.conf:1:17: hold-time: 2 is out of range (expected hold-time in 0 | 3..65535)"],
    ),
    (
        "bgp { hold-time x; }",
        ["c.conf:1:17: hold-time: 'x' is not an integer (expected hold-time in 0 | 3..65535)"],
    ),
    ("bgp { router-id 1.2.3.999; }", ["c.conf:1:17: router-id: '1.2.3.999' is not a valid IPv4 address"]),
    ("bgp { router-id 1.2.3; }", ["c.conf:1:17: router-id: '1.2.3' is not a valid router-id"]),
    ("bgp { passive yes; }", ["c.conf:1:15: passive: 'yes' is not a boolean (expected true or false)"]),
    (
        "bgp { family { ipv4 unicats; } }",
        [
            "c.conf:1:21: ipv4: 'unicats' is not one of unicast, multicast, mpls-label, mpls-vpn, flowspec (did you mean 'unicast'?)"
        ],
    ),
    ("bgp { family { ipv4 unicast; ipv4 unicast; } }", ["c.conf:1:35: ipv4 unicast given twice"]),
    ("bgp { hold-time 90; hold-time 60; }", ["c.conf:1:21: 'hold-time' set twice (first at c.conf:1:7)"]),
    ("bgp { hold-time 90 }", ["c.conf:1:20: expected ';' after the value of hold-time, found '}'"]),
    (
        "bgp { hold-time; }",
        ["c.conf:1:16: expected a value for hold-time (hold-time in 0 | 3..65535), found ';'"],
    ),
    ("bgp { remote 1; }", ["c.conf:1:14: expected '{' after remote, found '1'"]),
    ("bgp { router-id 192.0.2.1;", ["c.conf:1:27: missing '}' to close bgp (opened at c.conf:1:1)"]),
    ("}", ["c.conf:1:1: unexpected '}' (no block to close)"]),
    ("bgp { peer { } }", ["c.conf:1:12: expected the name of a peer, found '{'"]),
    ("bgp { peer a { name b; } }", ["c.conf:1:16: 'name' is the key of peer: give it after 'peer'"]),
    ("bgp { peer a; peer a; }", ["c.conf:1:15: peer 'a' defined twice (first at c.conf:1:7)"]),
    ("bgp { peer -x; }", ["c.conf:1:12: peer name: '-x' is not a valid name"]),
    ("process p { required true; }", ["c.conf:1:1: process 'p' is missing mandatory 'run'"]),
    ("plugin { internal [ a b ; }", ["c.conf:1:25: expected ']' to end the internal list, found ';'"]),
    ('bgp { md5-password ""; }', ["c.conf:1:20: md5-password: '' has length 0 (expected 1..80)"]),
    (
        "bgp { ttl-security 255; }",
        ["c.conf:1:20: ttl-security: 255 is out of range (expected uint8 in 1..254)"],
    ),
    (
        "environment { log { level loud; } }",
        ["c.conf:1:27: level: 'loud' is not one of debug, info, warning, error"],
    ),
    ("{ }", ["c.conf:1:1: expected a keyword, found '{'"]),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_error_messages(schema, text, expected):
    assert problems(schema, text) == expected


def test_keeps_going_after_errors(schema):
    text = "bgp {\n  hold-tim 90;\n  router-id 1.2.3.4;\n  peer a { remote { as 0; } }\n}\nplugin { externl x; }\n"
    assert problems(schema, text) == [
        "c.conf:2:3: unknown key 'hold-tim' in bgp (did you mean 'hold-time'?)",
        "c.conf:4:24: as: 0 is out of range (expected as-number in 1..4294967295)",
        "c.conf:6:10: unknown key 'externl' in plugin (did you mean 'external'?)",
    ]
    tree = parse(text, schema)
    assert tree.data["bgp"]["router-id"] == "1.2.3.4"


def test_parse_or_raise_lists_every_problem(schema):
    with pytest.raises(ConfigProblems) as e:
        parse_or_raise("bgp { x 1; y 2; }", schema, "c.conf")
    assert str(e.value) == "c.conf:1:7: unknown key 'x' in bgp\nc.conf:1:12: unknown key 'y' in bgp"
