"""A bad pattern is refused with the column where it went wrong and a caret under it."""

from __future__ import annotations

import pytest

from watchkeeper.errors import ConfigError, FilterPatternError
from watchkeeper.logfilter import compile_pattern

BAD: list[tuple[str, int, str]] = [
    ("{ $.eventType = }", 17, "expected a value after '='"),
    ("{ $.latency > fast }", 15, "expected a number after '>'"),
    ("{ $.a = 1 ", 11, "expected '}' to close the JSON pattern"),
    ("{ $.a = 1 && }", 14, "expected a selector such as $.field"),
    ("{ eventType = 1 }", 3, "expected a selector such as $.field"),
    ("{ $. = 1 }", 5, "expected a field name after '.'"),
    ("{ $.a[x] = 1 }", 7, "expected an array index"),
    ("{ $.a IS MAYBE }", 10, "expected NULL, TRUE or FALSE after IS"),
    ("{ $.a NOT THERE }", 11, "expected EXISTS after NOT"),
    ("{ $.a ~ 1 }", 7, "expected a comparison after '$.a'"),
    ("{ ($.a = 1 }", 12, "expected ')' to close the '('"),
    ("{ $.a > %x% }", 9, "expected a number after '>'"),
    ('{ $.a = "open }', 9, "this quoted string is never closed"),
    ("{ $.a = 1 } tail", 13, "unexpected 't' after the end of the pattern"),
    ("ERROR:", 6, "':' cannot appear in an unquoted term"),
    ("ERROR { $.a = 1 }", 7, "'{' starts a JSON, space-delimited or regex pattern"),
    ("? ERROR", 2, "expected a term"),
    ('ERROR ""', 7, 'an empty term "" only makes sense as the whole pattern'),
    ("%a(b)%", 3, "'(' is not allowed in a regex"),
    ("%café%", 5, "'é' is not allowed in a regex"),
    ("%abc", 1, "this regex is never closed"),
    ("%%", 1, "empty regex"),
    ("%[a%", 2, "invalid regex"),
    ("{ $.a = %a% || $.b = %b% || $.c = %c% }", 35, "a filter pattern may hold at most 2 regexes"),
    ("[ip, user", 10, "expected ',' between fields"),
    ("[]", 2, "expected at least one field"),
    ("[ip, = 4]", 6, "expected a field name (letters, digits, _), '...' or ','"),
    # the guide: "The variables IS NOT and EXISTS currently aren't supported" (FilterAndPatternSyntax.md, 2022)
    ("{ $.a IS NOT NULL }", 10, "expected NULL, TRUE or FALSE after IS"),
    ("{ $.a EXISTS }", 7, "expected a comparison, IS or NOT EXISTS"),
    ("[ip, ip]", 6, "field 'ip' is named twice"),
    ("[status = 4* || code = 5*]", 17, "a condition inside field 'status' can only test 'status'"),
    # FilterAndPatternSyntax.md (2018-2020) shows this as its last example, but `bytes` has no slot of
    # its own there (six slots for seven fields): refused, with the reason
    ("[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]", 62,
     "a condition inside field 'status_code' can only test 'status_code', not 'bytes'"),
    ("[bytes >= ]", 11, "expected a value after '>='"),
]


@pytest.mark.parametrize(("pattern", "column", "reason"), BAD, ids=[case[0] for case in BAD])
def test_bad_pattern_names_the_column(pattern: str, column: int, reason: str) -> None:
    with pytest.raises(FilterPatternError) as raised:
        compile_pattern(pattern)
    error = raised.value
    assert (error.column, error.reason.startswith(reason)) == (column, True), error.reason
    first, shown, caret = str(error).split("\n")
    assert first.startswith(f"filter pattern: column {column}: {reason}")
    assert shown.strip() == pattern.strip()
    assert caret.index("^") - caret.index(" " * 4) - 4 == column - 1


def test_the_error_is_a_config_error_with_the_callers_source() -> None:
    with pytest.raises(ConfigError) as raised:
        compile_pattern("{ $.a = }", source="metric filter 'errors': filterPattern")
    assert str(raised.value).startswith("metric filter 'errors': filterPattern: column 9: expected a value")
