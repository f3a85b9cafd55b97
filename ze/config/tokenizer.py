"""Tokens of the JUNOS-like config syntax: words, "strings", { } [ ] ; and # comments.

Every token carries its line and column (from 1) so each error can name its place.
"""

from __future__ import annotations

from dataclasses import dataclass

from ze.config.errors import Loc, Problem

WORD = "word"
STRING = "string"
LBRACE = "{"
RBRACE = "}"
LBRACK = "["
RBRACK = "]"
SEMI = ";"
EOF = "end of file"

_PUNCT = {"{": LBRACE, "}": RBRACE, "[": LBRACK, "]": RBRACK, ";": SEMI}
_STOP = frozenset(' \t\r\n{}[];#"')
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    loc: Loc

    def describe(self) -> str:
        if self.kind == WORD:
            return f"'{self.text}'"
        if self.kind == STRING:
            return f'"{self.text}"'
        return "end of file" if self.kind == EOF else f"'{self.kind}'"


def tokenize(text: str, file: str = "<config>") -> tuple[list[Token], list[Problem]]:
    """All tokens (ending with EOF) and the lexical problems found on the way."""
    tokens: list[Token] = []
    problems: list[Problem] = []
    i, n = 0, len(text)
    line, line_start = 1, 0
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            line_start = i + 1
            i += 1
            continue
        if c in " \t\r":
            i += 1
            continue
        loc = Loc(file, line, i - line_start + 1)
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in _PUNCT:
            tokens.append(Token(_PUNCT[c], c, loc))
            i += 1
            continue
        if c == '"':
            out = []
            j = i + 1
            while j < n and text[j] != '"':
                ch = text[j]
                if ch == "\\" and j + 1 < n:
                    nxt = text[j + 1]
                    if nxt not in _ESCAPES:
                        col = j - line_start + 1
                        problems.append(Problem(Loc(file, line, col), f"unknown escape '\\{nxt}' in string"))
                    out.append(_ESCAPES.get(nxt, nxt))
                    j += 2
                    continue
                if ch == "\n":
                    line += 1
                    line_start = j + 1
                out.append(ch)
                j += 1
            if j >= n:
                problems.append(Problem(loc, "unterminated string (missing closing '\"')"))
                i = n
                tokens.append(Token(STRING, "".join(out), loc))
                break
            tokens.append(Token(STRING, "".join(out), loc))
            i = j + 1
            continue
        j = i
        while j < n and text[j] not in _STOP:
            j += 1
        tokens.append(Token(WORD, text[i:j], loc))
        i = j
    tokens.append(Token(EOF, "", Loc(file, line, n - line_start + 1)))
    return tokens, problems
