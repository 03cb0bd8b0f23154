"""`<operator> <value>` as JSON and space-delimited conditions both write it.

A value is a quoted string, a bare word (`123.123.*`, `UpdateTrail`), a number, or a
`%regex%`. Bare words that read as a number are numbers: the guide's NUMBER is "an integer
with an optional + or - sign, a decimal with an optional + or - sign, or a number in
scientific notation" (`+1000`, `10e-3`, `1e+3`). A leading or trailing `*` in strings is a
wildcard.
Order comparisons (`<`, `<=`, `>`, `>=`) take numbers only; regexes take `=` and `!=` only.
"""

from __future__ import annotations

import re
from watchkeeper.logfilter.regex import scan_regex
from watchkeeper.logfilter.scanner import WHITESPACE, Scanner
from watchkeeper.logfilter.syntax import Comparison, NumberValue, Operator, RegexValue, StringValue, Value

NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
OPERATORS: tuple[Operator, ...] = ("!=", ">=", "<=", "=", "<", ">")
BARE_STOP = WHITESPACE + ',()[]{}"'


def is_number(text: str) -> bool:
    return NUMBER.fullmatch(text) is not None


def scan_comparison(scanner: Scanner, subject: str) -> Comparison:
    scanner.skip_space()
    operator = next((op for op in OPERATORS if scanner.take(op)), None)
    if operator is None:
        scanner.fail(f"expected a comparison after {subject!r} (one of = != < <= > >=), "
                     f"found {scanner.describe_next()}")
    scanner.skip_space()
    value_at = scanner.pos
    value = _scan_value(scanner, operator)
    if operator not in ("=", "!=") and not isinstance(value, NumberValue):
        scanner.fail(f"expected a number after '{operator}'", at=value_at)
    if isinstance(value, RegexValue) and operator not in ("=", "!="):
        scanner.fail(f"a regex can only be compared with = or !=, not '{operator}'", at=value_at)
    return Comparison(operator, value)


def _scan_value(scanner: Scanner, operator: str) -> Value:
    next_char = scanner.peek()
    if next_char == '"':
        return StringValue(scanner.quoted())
    if next_char == "%":
        return RegexValue(scan_regex(scanner))
    start = scanner.pos
    while not scanner.at_end() and scanner.peek() not in BARE_STOP \
            and scanner.peek(2) not in ("&&", "||"):
        scanner.pos += 1
    word = scanner.text[start:scanner.pos]
    if not word:
        scanner.fail(f"expected a value after '{operator}', found {scanner.describe_next()}")
    if is_number(word):
        return NumberValue(float(word), word)
    return StringValue(word)
