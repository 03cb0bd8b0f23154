"""`[name, name = value, name = a || name = b, ...]`: positional fields of a space-delimited event.

A slot may be left empty (`[..., status_code=4*,]`, the guide's extraction example): an
unnamed field, extracted by its position (`$7`). A condition inside a slot tests that slot
only; its names compare without letter case, as the guide writes `[w1=ERROR || W1=WARNING, w2]`.
"""

from __future__ import annotations

import string

from watchkeeper.logfilter.boolean import scan_condition
from watchkeeper.logfilter.scanner import Scanner
from watchkeeper.logfilter.syntax import AnyFields, Condition, DelimitedField, DelimitedPattern, FieldComparison
from watchkeeper.logfilter.values import scan_comparison

NAME_CHARS = string.ascii_letters + string.digits + "_"


def scan_delimited(scanner: Scanner) -> DelimitedPattern:
    scanner.expect("[", "to open a space-delimited pattern")
    fields: list[DelimitedField | AnyFields] = []
    names: set[str] = set()
    scanner.skip_space()
    if scanner.peek() == "]":
        scanner.fail("expected at least one field (a name, '...' or a condition) before ']'")
    while True:
        scanner.skip_space()
        field_at = scanner.pos
        if scanner.take("..."):
            fields.append(AnyFields())
        else:
            field = _scan_field(scanner)
            if field.name and field.name in names:
                scanner.fail(f"field {field.name!r} is named twice", at=field_at)
            names.add(field.name)
            fields.append(field)
        scanner.skip_space()
        if scanner.take("]"):
            return DelimitedPattern(tuple(fields))
        scanner.expect(",", "between fields (or ']' to close the pattern)")


def _scan_field(scanner: Scanner) -> DelimitedField:
    start = scanner.pos
    name = scanner.take_while(NAME_CHARS)
    scanner.skip_space()
    if scanner.peek() in (",", "]", ""):
        return DelimitedField(name, None)
    if not name and scanner.peek() != "(":
        scanner.fail(f"expected a field name (letters, digits, _), '...' or ',', found {scanner.describe_next()}")
    scanner.pos = start
    named: list[str] = []

    def leaf(inner: Scanner) -> Condition:
        inner.skip_space()
        leaf_at = inner.pos
        leaf_name = inner.take_while(NAME_CHARS)
        if not leaf_name:
            inner.fail(f"expected a field name, found {inner.describe_next()}")
        if named and leaf_name.lower() != named[0].lower():
            inner.fail(f"a condition inside field {named[0]!r} can only test {named[0]!r}, "
                       f"not {leaf_name!r}", at=leaf_at)
        named.append(leaf_name)
        return FieldComparison(leaf_name, scan_comparison(inner, leaf_name))

    condition = scan_condition(scanner, leaf)
    return DelimitedField(named[0], condition)
