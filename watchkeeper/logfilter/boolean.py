"""`&&`, `||` and parentheses over leaf conditions, for JSON and space-delimited patterns.

`&&` binds tighter than `||`; parentheses group. The caller supplies the leaf parser.
"""

from __future__ import annotations

from collections.abc import Callable

from watchkeeper.logfilter.scanner import Scanner
from watchkeeper.logfilter.syntax import AllOf, AnyOf, Condition

LeafParser = Callable[[Scanner], Condition]


def scan_condition(scanner: Scanner, leaf: LeafParser) -> Condition:
    parts = [_scan_conjunction(scanner, leaf)]
    while _take_operator(scanner, "||"):
        parts.append(_scan_conjunction(scanner, leaf))
    return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))


def _scan_conjunction(scanner: Scanner, leaf: LeafParser) -> Condition:
    parts = [_scan_primary(scanner, leaf)]
    while _take_operator(scanner, "&&"):
        parts.append(_scan_primary(scanner, leaf))
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _scan_primary(scanner: Scanner, leaf: LeafParser) -> Condition:
    scanner.skip_space()
    if scanner.take("("):
        inner = scan_condition(scanner, leaf)
        scanner.skip_space()
        scanner.expect(")", "to close the '('")
        return inner
    return leaf(scanner)


def _take_operator(scanner: Scanner, operator: str) -> bool:
    scanner.skip_space()
    return scanner.take(operator)
