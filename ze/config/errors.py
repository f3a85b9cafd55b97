"""Config problems with their place (file:line:column), collected so every one is reported."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from ze.core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Loc:
    """Where something is in a config file; line and column count from 1."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Problem:
    loc: Loc | None
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}" if self.loc else self.message

    def to_dict(self) -> dict:
        out: dict = {"message": self.message}
        if self.loc:
            out.update(file=self.loc.file, line=self.loc.line, column=self.loc.column)
        return out


class ConfigProblems(ConfigError):
    """One or more problems in a config; str() gives one 'file:line:col: message' per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
