"""Matching events in process: `compile_pattern(text).matches(message)`, plus the values a
metric filter needs (`extract`, `value_of`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from watchkeeper.logfilter.compare import holds
from watchkeeper.logfilter.fields import Binding, align, split_fields
from watchkeeper.logfilter.json_parser import scan_selector
from watchkeeper.logfilter.jsondoc import MISSING, parse_object, resolve
from watchkeeper.logfilter.parser import parse
from watchkeeper.logfilter.scanner import Scanner
from watchkeeper.logfilter.syntax import (
    AllOf,
    AnyOf,
    Condition,
    DelimitedField,
    DelimitedPattern,
    FieldComparison,
    JsonComparison,
    JsonIs,
    JsonNotExists,
    JsonPattern,
    MatchAll,
    Pattern,
    RegexPattern,
    Selector,
    TermPattern,
)

Leaf = JsonComparison | JsonIs | JsonNotExists | FieldComparison
KEYWORD_VALUES: dict[str, object] = {"NULL": None, "TRUE": True, "FALSE": False}


def compile_pattern(text: str, source: str = "filter pattern") -> CompiledPattern:
    """Parse once; raises FilterPatternError for a malformed pattern."""
    return CompiledPattern(text, parse(text, source))


class CompiledPattern:
    def __init__(self, text: str, tree: Pattern) -> None:
        self.text = text
        self.tree = tree

    def matches(self, message: str) -> bool:
        tree = self.tree
        if isinstance(tree, MatchAll):
            return True
        if isinstance(tree, TermPattern):
            return _match_terms(tree, message)
        if isinstance(tree, RegexPattern):
            return tree.regex.compiled.search(message) is not None
        if isinstance(tree, JsonPattern):
            document = parse_object(message)
            return document is not None and _json_holds(tree.condition, document)
        return self._bind_fields(tree, message) is not None

    def extract(self, message: str) -> dict[str, Any]:
        """For a matching event: `$name` of every named space-delimited field and `$N` (position
        from 1) of every unnamed one, or `$.path` of every JSON selector in the pattern that the
        event has. Empty when the event does not match."""
        tree = self.tree
        if isinstance(tree, DelimitedPattern):
            bound = self._bind_fields(tree, message)
            return {} if bound is None else {f"${name}": value for name, value in bound.items()}
        if isinstance(tree, JsonPattern):
            document = parse_object(message)
            if document is None or not _json_holds(tree.condition, document):
                return {}
            found = {selector.text: resolve(document, selector.path) for selector in _selectors(tree.condition)}
            return {text: value for text, value in found.items() if value is not MISSING}
        return {}

    def value_of(self, message: str, reference: str) -> Any:
        """A metric filter's metricValue reference (`$.a.b`, `$field` or `$N`) for a matching event, or None.

        `$N` is the N-th space-delimited field, named or not (ExtractBytesExample.md: "the value
        of the seventh matched token ... the reference to the token as "$7"")."""
        if not self.matches(message):
            return None
        if isinstance(self.tree, DelimitedPattern) and reference[1:].isdigit():
            values = split_fields(message)
            position = int(reference[1:])
            return values[position - 1] if 1 <= position <= len(values) else None
        if reference.startswith(("$.", "$[")):
            scanner = Scanner(reference, "metricValue")
            selector = scan_selector(scanner)
            if not scanner.at_end():
                scanner.fail(f"unexpected {scanner.describe_next()} after the selector")
            document = parse_object(message)
            value = MISSING if document is None else resolve(document, selector.path)
            return None if value is MISSING else value
        return self.extract(message).get(reference)

    def _bind_fields(self, tree: DelimitedPattern, message: str) -> Binding | None:
        return align(tree, split_fields(message), _field_accepts)


def _match_terms(tree: TermPattern, message: str) -> bool:
    """Terms are case-sensitive substrings of the message: the guide's "ERROR" matches
    "Exiting with ERRORCODE: -1" and "ERROR Exception" matches "[ERROR] Caught
    IllegalArgumentException" (FilterAndPatternSyntax.md)."""
    return (all(term in message for term in tree.required)
            and (not tree.optional or any(term in message for term in tree.optional))
            and not any(term in message for term in tree.excluded))


def evaluate(condition: Condition, leaf: Callable[[Leaf], bool]) -> bool:
    if isinstance(condition, AllOf):
        return all(evaluate(part, leaf) for part in condition.parts)
    if isinstance(condition, AnyOf):
        return any(evaluate(part, leaf) for part in condition.parts)
    return leaf(condition)


def _json_holds(condition: Condition, document: dict[str, Any]) -> bool:
    def leaf(node: Leaf) -> bool:
        if isinstance(node, FieldComparison):
            raise TypeError("a field condition inside a JSON pattern")  # the parser never builds one
        value = resolve(document, node.selector.path)
        if isinstance(node, JsonNotExists):
            return value is MISSING
        if value is MISSING:
            return False
        if isinstance(node, JsonIs):
            return value is KEYWORD_VALUES[node.keyword]
        return holds(node.comparison, value, numeric_text=False)

    return evaluate(condition, leaf)


def _field_accepts(field: DelimitedField, value: str) -> bool:
    if field.condition is None:
        return True

    def leaf(node: Leaf) -> bool:
        if not isinstance(node, FieldComparison):
            raise TypeError("a JSON condition inside a space-delimited field")  # never built
        return holds(node.comparison, value, numeric_text=True)

    return evaluate(field.condition, leaf)


def _selectors(condition: Condition) -> list[Selector]:
    if isinstance(condition, (AllOf, AnyOf)):
        return [selector for part in condition.parts for selector in _selectors(part)]
    if isinstance(condition, FieldComparison):
        return []
    return [condition.selector]
