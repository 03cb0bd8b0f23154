"""Literal text inside regexes and wildcards, shared by the in-process matcher and the SQL renderer.

Escaping covers re2's and Python's metacharacters alike, so one escaped text means
the same in both.

Wildcards (AWS user guide, FilterAndPatternSyntax.md, 2018-2021 versions): "`*Event` will
match PutEvent and GetEvent. `Event*` will match EventId and EventName. `Ev*ent` will only
match the actual string Ev*ent". So only leading and trailing asterisks are wildcards;
one inside the text stands for itself.
"""

from __future__ import annotations

from dataclasses import dataclass

METACHARACTERS = frozenset("\\.^$|?*+()[]{}")


def escape(text: str) -> str:
    return "".join("\\" + char if char in METACHARACTERS else char for char in text)


@dataclass(frozen=True)
class Wildcard:
    """A value split at its wildcard ends: `*core*` is (True, "core", True)."""

    open_start: bool
    core: str
    open_end: bool

    @property
    def is_wildcard(self) -> bool:
        return self.open_start or self.open_end

    @property
    def matches_anything(self) -> bool:
        """`*` (or `**`...): any value at all."""
        return self.is_wildcard and not self.core


def split_wildcard(text: str) -> Wildcard:
    core = text.strip("*")
    if not core:
        return Wildcard(bool(text), "", bool(text))
    return Wildcard(text.startswith("*"), core, text.endswith("*"))


def wildcard_regex(text: str) -> str:
    """A regex for a whole string where a leading or trailing `*` stands for any run of characters."""
    parts = split_wildcard(text)
    return (".*" if parts.open_start else "") + escape(parts.core) + (".*" if parts.open_end else "")


def like_pattern(text: str) -> str:
    """The same as a ClickHouse LIKE pattern."""
    parts = split_wildcard(text)
    escaped = parts.core.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return ("%" if parts.open_start else "") + escaped + ("%" if parts.open_end else "")


def literal_runs(text: str, allowed: frozenset[str]) -> list[str]:
    """The maximal runs of `allowed` characters in `text` (the pieces a prefilter can look for)."""
    runs: list[str] = []
    current: list[str] = []
    for char in text + "\0":
        if char in allowed:
            current.append(char)
        elif current:
            runs.append("".join(current))
            current = []
    return runs
