"""Reading an event as a JSON object the way ClickHouse's JSON functions do.

ClickHouse (simdjson) keeps the first of duplicate keys and refuses NaN, Infinity
and numbers beyond float range; so do we, so that pushdown and in-process agree.
"""

from __future__ import annotations

import json
import math
from typing import Any

from watchkeeper.logfilter.syntax import PathStep

MISSING = object()


class _NotJson(ValueError):
    pass


def parse_object(message: str) -> dict[str, Any] | None:
    """The event as a JSON object, or None when it is not one."""
    try:
        document = json.loads(message, object_pairs_hook=_first_key_wins,
                              parse_constant=_refuse_constant, parse_float=_finite_float,
                              parse_int=_finite_int)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def resolve(document: dict[str, Any], path: tuple[PathStep, ...]) -> object:
    """The value at `path`, or MISSING."""
    current: object = document
    for step in path:
        if isinstance(step, int):
            if not isinstance(current, list) or step >= len(current):
                return MISSING
            current = current[step]
        else:
            if not isinstance(current, dict) or step not in current:
                return MISSING
            current = current[step]
    return current


def _first_key_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        document.setdefault(key, value)
    return document


def _refuse_constant(name: str) -> float:
    raise _NotJson(f"{name} is not JSON")


def _finite_int(text: str) -> int:
    if len(text) > 300:  # beyond float range: compared as a number it would overflow
        raise _NotJson(f"{text[:20]}... is beyond float range")
    return int(text)


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise _NotJson(f"{text} is beyond float range")
    return number
