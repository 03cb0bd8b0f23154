"""A metric filter as stored and evaluated: its pattern and its one metric transformation.

The AWS request shapes and limits live in the API (routes_logs.py); this is the
typed form the store returns and the evaluator reads, plus the check that a
transformation's field references exist in its pattern, which needs the parsed pattern.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.logfilter import CompiledPattern, compile_pattern
from watchkeeper.logfilter.syntax import DelimitedField, DelimitedPattern, JsonPattern


@dataclass(frozen=True)
class Transformation:
    """metricValue is "1", a number, "$.json.selector" or "$field"; dimensions map a name to a reference."""

    metric_name: str
    namespace: str
    value: str
    default_value: float | None = None
    dimensions: dict[str, str] = field(default_factory=dict)
    unit: str = "None"

    @property
    def constant(self) -> float | None:
        """The value every match adds, when metricValue is a number rather than a field reference."""
        return None if is_reference(self.value) else float(self.value)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metricName": self.metric_name, "metricNamespace": self.namespace,
                               "metricValue": self.value}
        if self.default_value is not None:
            out["defaultValue"] = self.default_value
        if self.dimensions:
            out["dimensions"] = dict(self.dimensions)
        out["unit"] = self.unit
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transformation:
        default = data.get("defaultValue")
        return cls(str(data["metricName"]), str(data["metricNamespace"]), str(data["metricValue"]),
                   None if default is None else float(default), dict(data.get("dimensions") or {}),
                   str(data.get("unit") or "None"))


@dataclass(frozen=True)
class MetricFilter:
    log_group: str
    name: str
    pattern_text: str
    transformations: tuple[Transformation, ...]
    version_ms: int

    def pattern(self) -> CompiledPattern:
        return compile_pattern(self.pattern_text, "filterPattern")

    @property
    def identity(self) -> tuple[str, str, int]:
        """What a datapoint's identity derives from: a changed filter writes new datapoints, never
        rewrites those of the version before it (see runner.py)."""
        return (self.log_group, self.name, self.version_ms)


def is_reference(value: str) -> bool:
    return value.startswith("$")


def is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def reference_problems(pattern: CompiledPattern, references: dict[str, str]) -> list[str]:
    """Problems of field references (where -> "$.x" / "$name") for this pattern, as AWS refuses them:
    `$.selector` needs a JSON pattern, `$name` a space-delimited pattern that names that field."""
    tree = pattern.tree
    names = {f.name for f in tree.fields if isinstance(f, DelimitedField)} if isinstance(tree, DelimitedPattern) \
        else set()
    problems = []
    for where, reference in references.items():
        if reference.startswith(("$.", "$[")):
            if not isinstance(tree, JsonPattern):
                problems.append(f"{where}: found {reference!r}; a $.selector reference needs a JSON filter pattern "
                                "({ ... })")
        elif reference[1:] not in names and not (reference[1:].isdigit() and isinstance(tree, DelimitedPattern)):
            # $N names the N-th field by position, as the guide's ExtractBytesExample does ($7).
            allowed = (", ".join(f"${name}" for name in sorted(names)) + ", or $N for the N-th field"
                       if isinstance(tree, DelimitedPattern) else "none: the pattern is not space-delimited")
            problems.append(f"{where}: found {reference!r}; allowed: a field of the pattern ({allowed})")
    return problems
