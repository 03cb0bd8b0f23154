"""What `<operator> <value>` means for a value found in an event (in process).

One rule for JSON and space-delimited patterns alike:
- only value nodes are compared: strings and numbers. The guide (FilterAndPatternSyntax.md,
  "JSON Special Considerations"): "both {$.users = 1} and {$.users != 1} will fail to match a
  log event where users is an array". We read null and booleans the same way (they have
  IS NULL / IS TRUE / IS FALSE), so every comparison on them is false;
- a number compares numerically, with values that are numbers (JSON numbers; a
  space-delimited field that reads as a number);
- a string or regex compares with string values; a wildcard string also with numbers
  ("Use the asterisk as a wild card to match numbers"; `{ $.latency = * }` matches
  `"latency": 50`): a lone `*` with any number, other wildcards with an integer's decimal text
  (ours: a fraction's text differs between writers, so `4*` does not try to match 4.5);
- `!=` is the negation of `=` among value nodes; order operators need numbers.
The caller decides existence: a comparison on a missing value is false.
"""

from __future__ import annotations

import re
from functools import lru_cache

from watchkeeper.logfilter.syntax import Comparison, NumberValue, RegexValue, StringValue
from watchkeeper.logfilter.text import split_wildcard, wildcard_regex
from watchkeeper.logfilter.values import is_number

JsonValue = object


def holds(comparison: Comparison, actual: JsonValue, numeric_text: bool) -> bool:
    """Whether `actual` satisfies the comparison; `numeric_text` lets strings that read as numbers count as numbers."""
    if not is_value_node(actual):
        return False
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


def is_value_node(actual: JsonValue) -> bool:
    return isinstance(actual, (str, int, float)) and not isinstance(actual, bool)


def as_number(actual: JsonValue, numeric_text: bool) -> float | None:
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return float(actual)
    if numeric_text and isinstance(actual, str) and is_number(actual):
        return float(actual)
    return None


def _equals(value: NumberValue | StringValue | RegexValue, actual: JsonValue, numeric_text: bool) -> bool:
    if isinstance(value, NumberValue):
        return as_number(actual, numeric_text) == value.value
    if isinstance(value, StringValue) and value.has_wildcard and not isinstance(actual, str):
        if split_wildcard(value.text).matches_anything:
            return True
        actual = str(actual) if isinstance(actual, int) else None
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
