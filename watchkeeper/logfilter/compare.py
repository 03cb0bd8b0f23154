"""What `<operator> <value>` means for a value found in an event (in process).

One rule for JSON and space-delimited patterns alike:
- a number compares numerically, with values that are numbers (JSON numbers; a
  space-delimited field that reads as a number);
- a string (with `*` wildcards) or regex compares with string values only;
- `!=` is the negation of `=` for a value that exists; order operators need numbers.
The caller decides existence: a comparison on a missing value is false.
"""

from __future__ import annotations

import re
from functools import lru_cache

from watchkeeper.logfilter.syntax import Comparison, NumberValue, RegexValue, StringValue
from watchkeeper.logfilter.text import wildcard_regex
from watchkeeper.logfilter.values import is_number

JsonValue = object


def holds(comparison: Comparison, actual: JsonValue, numeric_text: bool) -> bool:
    """Whether `actual` satisfies the comparison; `numeric_text` lets strings that read as numbers count as numbers."""
    value = comparison.value
    if comparison.operator in ("=", "!="):
        equal = _equals(value, actual, numeric_text)
        return equal if comparison.operator == "=" else not equal
    number = as_number(actual, numeric_text)
    if number is None or not isinstance(value, NumberValue):
        return False
    if comparison.operator == "<":
        return number < value.value
    if comparison.operator == "<=":
        return number <= value.value
    if comparison.operator == ">":
        return number > value.value
    return number >= value.value


def as_number(actual: JsonValue, numeric_text: bool) -> float | None:
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return float(actual)
    if numeric_text and isinstance(actual, str) and is_number(actual):
        return float(actual)
    return None


def _equals(value: NumberValue | StringValue | RegexValue, actual: JsonValue, numeric_text: bool) -> bool:
    if isinstance(value, NumberValue):
        return as_number(actual, numeric_text) == value.value
    if not isinstance(actual, str):
        return False
    if isinstance(value, RegexValue):
        return value.regex.compiled.search(actual) is not None
    if value.has_wildcard:
        return _wildcard(value.text).fullmatch(actual) is not None
    return actual == value.text


@lru_cache(maxsize=256)
def _wildcard(text: str) -> re.Pattern[str]:
    return re.compile(wildcard_regex(text), re.DOTALL)
