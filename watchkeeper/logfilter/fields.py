"""Splitting an event into space-delimited fields and lining them up with a pattern.

Fields are separated by runs of spaces or tabs. A field that starts with `"` runs to the
next `"`, one that starts with `[` to the next `]` (so `"GET / HTTP/1.0"` and
`[10/Oct/2000:13:55:36 -0700]` are one field each); the enclosing characters are not
part of the value. `...` in the pattern stands for any number of fields, preferring as
few as possible, so `[..., level = ERROR, ...]` binds the first ERROR.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from watchkeeper.logfilter.syntax import AnyFields, DelimitedField, DelimitedPattern

_FIELD = re.compile(r'"([^"]*)"(?=[ \t]|\Z)|\[([^\]]*)\](?=[ \t]|\Z)|([^ \t]+)')

Binding = dict[str, str]
FieldTest = Callable[[DelimitedField, str], bool]


def split_fields(message: str) -> list[str]:
    return [next(group for group in found.groups() if group is not None) for found in _FIELD.finditer(message)]


def align(pattern: DelimitedPattern, values: list[str], accepts: FieldTest) -> Binding | None:
    """The field bindings of the first alignment where every field's condition holds, or None."""
    fields = pattern.fields
    failed: set[tuple[int, int]] = set()  # (pattern index, value index) pairs known not to align

    def walk(at_field: int, at_value: int, bound: Binding) -> Binding | None:
        if at_field == len(fields):
            return bound if at_value == len(values) else None
        if (at_field, at_value) in failed:
            return None
        field = fields[at_field]
        result: Binding | None = None
        if isinstance(field, AnyFields):
            for skip_to in range(at_value, len(values) + 1):
                result = walk(at_field + 1, skip_to, bound)
                if result is not None:
                    break
        elif at_value < len(values) and accepts(field, values[at_value]):
            result = walk(at_field + 1, at_value + 1, {**bound, field.name: values[at_value]})
        if result is None:
            failed.add((at_field, at_value))
        return result

    return walk(0, 0, {})

