from __future__ import annotations

from ze.config.errors import Loc
from ze.config.tokenizer import tokenize


def kinds(text):
    toks, problems = tokenize(text, "f")
    return [(t.kind, t.text, t.loc.line, t.loc.column) for t in toks], [str(p) for p in problems]


def test_tokens_with_places():
    toks, problems = kinds('bgp {\n  router-id 192.0.2.1; # comment\n  x "a b\\"c";\n}\n')
    assert problems == []
    assert toks == [
        ("word", "bgp", 1, 1),
        ("{", "{", 1, 5),
        ("word", "router-id", 2, 3),
        ("word", "192.0.2.1", 2, 13),
        (";", ";", 2, 22),
        ("word", "x", 3, 3),
        ("string", 'a b"c', 3, 5),
        (";", ";", 3, 13),
        ("}", "}", 4, 1),
        ("end of file", "", 5, 1),
    ]


def test_brackets_and_no_space():
    toks, _ = kinds("a[b c];")
    assert [t[:2] for t in toks] == [
        ("word", "a"),
        ("[", "["),
        ("word", "b"),
        ("word", "c"),
        ("]", "]"),
        (";", ";"),
        ("end of file", ""),
    ]


def test_unterminated_string():
    _, problems = kinds('x "abc\n')
    assert problems == ["f:1:3: unterminated string (missing closing '\"')"]


def test_unknown_escape():
    toks, problems = kinds('x "a\\qb";')
    assert problems == ["f:1:5: unknown escape '\\q' in string"]
    assert toks[1][1] == "aqb"


def test_multiline_string_keeps_counting_lines():
    toks, _ = tokenize('x "a\nb";\ny;', "f")
    assert toks[-2].loc == Loc("f", 3, 2)
