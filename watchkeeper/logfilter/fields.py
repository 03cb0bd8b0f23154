"""Splitting an event into space-delimited fields and lining them up with a pattern.

Fields are separated by runs of spaces or tabs. A field that starts with `"` runs to the
next `"`, one that starts with `[` to the next `]` (so `"GET / HTTP/1.0"` and
`[10/Oct/2000:13:55:36 -0700]` are one field each); the enclosing characters are not
part of the value. `...` in the pattern stands for any number of fields, preferring as
few as possible, so `[..., level = ERROR, ...]` binds the first ERROR.

A binding names every field of the event: by the pattern's name, or, for a field that
`...` or an unnamed slot (`[..., status_code=4*,]`) covers, by its position from 1. The
guide's extraction example gives `"$status_code": "404"` beside `"$4": "10/Oct/2000:..."`
and `"$7": "1534"`.
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

    def walk(at_field: int, at_value: int) -> list[str] | None:
        """The names of values[at_value:] in the first alignment with fields[at_field:] ("" = unnamed)."""
        if at_field == len(fields):
            return [] if at_value == len(values) else None
        if (at_field, at_value) in failed:
            return None
        field = fields[at_field]
        names: list[str] | None = None
        if isinstance(field, AnyFields):
            for skip_to in range(at_value, len(values) + 1):
                rest = walk(at_field + 1, skip_to)
                if rest is not None:
                    names = [""] * (skip_to - at_value) + rest
                    break
        elif at_value < len(values) and accepts(field, values[at_value]):
            rest = walk(at_field + 1, at_value + 1)
            names = None if rest is None else [field.name, *rest]
        if names is None:
            failed.add((at_field, at_value))
        return names

    found = walk(0, 0)
    if found is None:
        return None
    return {name or str(position): value for position, (name, value) in enumerate(zip(found, values), start=1)}
