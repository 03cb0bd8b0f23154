"""Pushing a filter pattern down to ClickHouse as a WHERE condition over the message column.

`to_sql(tree, column, caps)` gives a SqlFilter. When `exact` is true the condition alone
selects exactly the events the in-process matcher selects; otherwise it is a prefilter
that keeps every matching event (and some others), and the caller runs the matcher on
what comes back. Terms (`position`) and regexes (re2's `match`) are exact everywhere; JSON patterns
are exact where the server has JSONExtract (19.9+); space-delimited patterns are a
prefilter everywhere (splitting quoted and bracketed fields is not worth doing in SQL).
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass

from watchkeeper.logfilter.syntax import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    DelimitedField,
    DelimitedPattern,
    FieldComparison,
    JsonComparison,
    JsonIs,
    JsonNotExists,
    JsonPattern,
    MatchAll,
    NumberValue,
    Pattern,
    RegexPattern,
    RegexValue,
    Selector,
    StringValue,
    TermPattern,
)
from watchkeeper.logfilter.text import like_pattern, literal_runs, split_wildcard
from watchkeeper.storage.capabilities import Capabilities
from watchkeeper.storage.sql import identifier, literal, quote

TRUE = "1"
NUMBER_TYPES = "('Int64', 'UInt64', 'Double')"
VALUE_NODE_TYPES = "('String', 'Int64', 'UInt64', 'Double')"
# Characters that stand for themselves inside JSON text: anything else may be escaped
# (`\/`, `\"`, `\\`, control characters); `\u` escapes are handled by a separate escape hatch.
JSON_LITERAL_CHARS = frozenset(string.ascii_letters + string.digits + " !#$%&'()*+,-.:;<=>?@[]^_`{|}~")
KEYWORD_TEXT = {"NULL": "null", "TRUE": "true", "FALSE": "false"}


@dataclass(frozen=True)
class SqlFilter:
    condition: str
    exact: bool


def to_sql(tree: Pattern, caps: Capabilities, column: str = "message") -> SqlFilter:
    column = identifier(column)
    if isinstance(tree, MatchAll):
        return SqlFilter(TRUE, True)
    if isinstance(tree, TermPattern):
        return SqlFilter(_terms(tree, column), True)
    if isinstance(tree, RegexPattern):
        return SqlFilter(f"match({column}, {quote(tree.regex.source)})", True)
    if isinstance(tree, JsonPattern):
        if caps.json_extract:
            return SqlFilter(f"JSONType({column}) = 'Object' AND ({_json_exact(tree.condition, column)})", True)
        return SqlFilter(_json_prefilter(tree.condition, column), False)
    return SqlFilter(_delimited_prefilter(tree, column), False)


def _all(parts: list[str]) -> str:
    return " AND ".join(f"({part})" for part in parts) if parts else TRUE


def _any(parts: list[str]) -> str:
    return " OR ".join(f"({part})" for part in parts)


# ---- terms ----------------------------------------------------------------------------------

def _terms(tree: TermPattern, column: str) -> str:
    def found(term: str) -> str:
        return f"position({column}, {quote(term)}) > 0"

    parts = [found(term) for term in tree.required]
    if tree.optional:
        parts.append(_any([found(term) for term in tree.optional]))
    parts.extend(f"NOT {found(term)}" for term in tree.excluded)
    return _all(parts)


# ---- JSON, exact (JSONExtract) ----------------------------------------------------------------

def _json_exact(condition: Condition, column: str) -> str:
    if isinstance(condition, AllOf):
        return _all([_json_exact(part, column) for part in condition.parts])
    if isinstance(condition, AnyOf):
        return _any([_json_exact(part, column) for part in condition.parts])
    if isinstance(condition, FieldComparison):
        raise TypeError("a field condition inside a JSON pattern")  # the parser never builds one
    args = _json_args(column, condition.selector.path)
    exists = _json_exists(column, condition.selector)
    if isinstance(condition, JsonNotExists):
        return f"NOT ({exists})"
    if isinstance(condition, JsonIs):
        if condition.keyword == "NULL":
            return f"{exists} AND JSONType({args}) = 'Null'"
        flag = 1 if condition.keyword == "TRUE" else 0
        return f"{exists} AND JSONType({args}) = 'Bool' AND JSONExtractBool({args}) = {flag}"
    return f"{exists} AND {_json_comparison(condition.comparison, args)}"


def _json_comparison(comparison: Comparison, args: str) -> str:
    """The rules of compare.py: only strings and numbers are compared, `!=` negates `=` among them."""
    value = comparison.value
    if isinstance(value, NumberValue):
        number = f"JSONType({args}) IN {NUMBER_TYPES}"
        extracted = f"JSONExtractFloat({args})"
        if comparison.operator == "!=":
            return f"JSONType({args}) IN {VALUE_NODE_TYPES} AND NOT ({number} AND {extracted} = {literal(value.value)})"
        return f"{number} AND {extracted} {comparison.operator} {literal(value.value)}"
    equal = _json_equals(value, args)
    return equal if comparison.operator == "=" else f"JSONType({args}) IN {VALUE_NODE_TYPES} AND NOT ({equal})"


def _json_equals(value: StringValue | RegexValue, args: str) -> str:
    string = f"JSONType({args}) = 'String' AND {_string_equals(f'JSONExtractString({args})', value)}"
    if not (isinstance(value, StringValue) and value.has_wildcard):
        return string
    if split_wildcard(value.text).matches_anything:
        return f"JSONType({args}) IN {VALUE_NODE_TYPES}"
    # A wildcard also matches an integer's decimal text (compare.py).
    like = quote(like_pattern(value.text))
    return (f"({string}) OR (JSONType({args}) = 'Int64' AND toString(JSONExtractInt({args})) LIKE {like})"
            f" OR (JSONType({args}) = 'UInt64' AND toString(JSONExtractUInt({args})) LIKE {like})")


def _string_equals(expression: str, value: StringValue | RegexValue) -> str:
    if isinstance(value, RegexValue):
        return f"match({expression}, {quote(value.regex.source)})"
    if value.has_wildcard:
        return f"{expression} LIKE {quote(like_pattern(value.text))}"
    return f"{expression} = {quote(value.text)}"


def _json_args(column: str, path: tuple[str | int, ...]) -> str:
    # ClickHouse counts array elements from 1; selectors count from 0.
    steps = [quote(step) if isinstance(step, str) else str(step + 1) for step in path]
    return ", ".join([column, *steps])


def _json_exists(column: str, selector: Selector) -> str:
    """JSONHas, plus: every [index] step really indexes an array (ClickHouse would also index objects)."""
    parts = [f"JSONHas({_json_args(column, selector.path)})"]
    for position, step in enumerate(selector.path):
        if isinstance(step, int):
            parts.append(f"JSONType({_json_args(column, selector.path[:position])}) = 'Array'")
    return " AND ".join(parts)


# ---- prefilters: a condition every matching event satisfies ------------------------------------

FragmentRule = Callable[[Condition], list[str]]


def _json_prefilter(condition: Condition, column: str) -> str:
    needed = _necessary(condition, column, _json_fragments)
    text = f"position({column}, '{{') > 0"
    if needed is None:
        return text
    # Keys and values may be spelled with \u escapes, which the fragments cannot see.
    return f"{text} AND ({needed} OR position({column}, {quote(chr(92) + 'u')}) > 0)"


def _delimited_prefilter(tree: DelimitedPattern, column: str) -> str:
    needed = [_necessary(field.condition, column, _field_fragments) for field in tree.fields
              if isinstance(field, DelimitedField) and field.condition is not None]
    return _all([part for part in needed if part is not None])


def _necessary(condition: Condition, column: str, fragments: FragmentRule) -> str | None:
    """SQL that holds for every event satisfying `condition`, or None when nothing useful does."""
    if isinstance(condition, (AllOf, AnyOf)):
        parts = [_necessary(part, column, fragments) for part in condition.parts]
        known = [part for part in parts if part is not None]
        if isinstance(condition, AllOf):
            return _all(known) if known else None
        return _any(known) if len(known) == len(parts) else None
    texts = fragments(condition)
    if not texts:
        return None
    return _all([f"position({column}, {quote(text)}) > 0" for text in texts])


def _json_fragments(condition: Condition) -> list[str]:
    if isinstance(condition, (JsonNotExists, FieldComparison, AllOf, AnyOf)):
        return []
    texts: list[str] = []
    for step in condition.selector.path:
        if isinstance(step, str):
            # A key spelled plainly is found with its quotes; otherwise by its plain pieces.
            plain = set(step) <= JSON_LITERAL_CHARS
            texts.extend([f'"{step}"'] if plain else literal_runs(step, JSON_LITERAL_CHARS))
    if isinstance(condition, JsonIs):
        texts.append(KEYWORD_TEXT[condition.keyword])
    elif condition.comparison.operator == "=" and isinstance(condition.comparison.value, StringValue):
        texts.extend(literal_runs(condition.comparison.value.text, JSON_LITERAL_CHARS - {"*"}))
    return texts


def _field_fragments(condition: Condition) -> list[str]:
    if not isinstance(condition, FieldComparison):
        return []
    comparison = condition.comparison
    if comparison.operator != "=" or not isinstance(comparison.value, StringValue):
        return []
    return [part for part in comparison.value.text.split("*") if part]
