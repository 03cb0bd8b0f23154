"""`{ <condition> }`: conditions on JSON selectors such as `$.user.id` or `$.users[0].email`."""

from __future__ import annotations

import string

from watchkeeper.logfilter.boolean import scan_condition
from watchkeeper.logfilter.scanner import WHITESPACE, Scanner
from watchkeeper.logfilter.syntax import (
    Condition,
    JsonComparison,
    JsonIs,
    JsonKeyword,
    JsonNotExists,
    JsonPattern,
    PathStep,
    Selector,
)
from watchkeeper.logfilter.values import scan_comparison

KEY_STOP = WHITESPACE + '.[]=!<>&|()"{},'
KEYWORDS: dict[str, JsonKeyword] = {"NULL": "NULL", "TRUE": "TRUE", "FALSE": "FALSE"}


def scan_json(scanner: Scanner) -> JsonPattern:
    scanner.expect("{", "to open a JSON pattern")
    condition = scan_condition(scanner, _scan_leaf)
    scanner.skip_space()
    scanner.expect("}", "to close the JSON pattern (or '&&' / '||' to add a condition)")
    return JsonPattern(condition)


def _scan_leaf(scanner: Scanner) -> Condition:
    selector = scan_selector(scanner)
    scanner.skip_space()
    keyword_at = scanner.pos
    word = scanner.take_while(string.ascii_letters).upper()
    if word == "IS":
        scanner.skip_space()
        keyword_at = scanner.pos
        keyword = scanner.take_while(string.ascii_letters).upper()
        if keyword not in KEYWORDS:
            scanner.fail("expected NULL, TRUE or FALSE after IS", at=keyword_at)
        return JsonIs(selector, KEYWORDS[keyword])
    if word == "NOT":
        scanner.skip_space()
        keyword_at = scanner.pos
        if scanner.take_while(string.ascii_letters).upper() != "EXISTS":
            scanner.fail("expected EXISTS after NOT", at=keyword_at)
        return JsonNotExists(selector)
    if word:
        scanner.fail(f"expected a comparison, IS or NOT EXISTS after {selector.text!r}", at=keyword_at)
    return JsonComparison(selector, scan_comparison(scanner, selector.text))


def scan_selector(scanner: Scanner) -> Selector:
    """`$` followed by `.key` and `[index]` steps."""
    start = scanner.pos
    if not scanner.take("$"):
        scanner.fail(f"expected a selector such as $.field, found {scanner.describe_next()}")
    steps: list[PathStep] = []
    while True:
        if scanner.take("."):
            key_at = scanner.pos
            key = _take_until(scanner, KEY_STOP)
            if not key:
                scanner.fail("expected a field name after '.'", at=key_at)
            steps.append(key)
        elif scanner.take("["):
            index_at = scanner.pos
            digits = scanner.take_while("0123456789")
            if not digits:
                scanner.fail("expected an array index (0, 1, ...) after '['", at=index_at)
            scanner.expect("]", "to close the array index")
            steps.append(int(digits))
        else:
            break
    if not steps:
        scanner.fail("expected '.field' or '[index]' after '$'", at=start + 1)
    return Selector(scanner.text[start:scanner.pos], tuple(steps))


def _take_until(scanner: Scanner, stop: str) -> str:
    start = scanner.pos
    while not scanner.at_end() and scanner.peek() not in stop:
        scanner.pos += 1
    return scanner.text[start:scanner.pos]
