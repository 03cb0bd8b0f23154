"""Render SQL literals ourselves so that both engines receive byte-identical statements."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def quote(value: str) -> str:
    return "'" + "".join(_ESCAPES.get(ch, ch) for ch in value) + "'"


def literal(value: Any) -> str:
    """A ClickHouse literal for a Python value (str, bool, int, float, None, list/tuple)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    raise TypeError(f"no ClickHouse literal for {type(value).__name__}")


def in_list(values: Iterable[Any]) -> str:
    """(a, b, c) for IN; never empty, since `x IN ()` is a syntax error."""
    rendered = [literal(v) for v in values]
    return "(" + (", ".join(rendered) if rendered else "NULL") + ")"


def identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a safe identifier: {name!r}")
    return name
