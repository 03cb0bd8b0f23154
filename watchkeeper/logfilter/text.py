"""Literal text inside regexes, shared by the in-process matcher and the SQL renderer.

Escaping covers re2's and Python's metacharacters alike, so one escaped text means
the same in both. A term matches a whole run of word characters (ASCII letters,
digits and `_`, the characters AWS lets a term hold unquoted): `ERROR` matches
`[ERROR 400]` and `ERROR:` but not `ERRORS` or `MY_ERROR`. A quoted phrase's inner
spaces and symbols are matched literally; only its ends are tied to token boundaries.
"""

from __future__ import annotations

WORD_CLASS = "A-Za-z0-9_"
METACHARACTERS = frozenset("\\.^$|?*+()[]{}")


def escape(text: str) -> str:
    return "".join("\\" + char if char in METACHARACTERS else char for char in text)


def is_word_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def term_regex(term: str, end_anchor: str) -> str:
    """A regex finding `term` as whole tokens; `end_anchor` is `$` for re2, `\\Z` for Python."""
    before = f"(?:^|[^{WORD_CLASS}])" if is_word_char(term[0]) else ""
    after = f"(?:[^{WORD_CLASS}]|{end_anchor})" if is_word_char(term[-1]) else ""
    return before + escape(term) + after


def wildcard_regex(text: str) -> str:
    """A regex for a whole string where `*` stands for any run of characters."""
    return ".*".join(escape(part) for part in text.split("*"))


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
