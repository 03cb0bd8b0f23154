"""The syntax tree of a CloudWatch Logs filter pattern: plain frozen dataclasses.

A pattern is exactly one of four forms, chosen by its first character:
terms (`ERROR ?WARN -DEBUG "a phrase"`), a regex (`%...%`), a JSON pattern
(`{ $.a = 1 && ... }`) or a space-delimited pattern (`[ip, ..., status = 4*]`).
The empty pattern matches every event. Conditions inside JSON and space-delimited
patterns share the value forms and the `&&` / `||` combinators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Union

Operator = Literal["=", "!=", "<", "<=", ">", ">="]
JsonKeyword = Literal["NULL", "TRUE", "FALSE"]


@dataclass(frozen=True)
class Regex:
    """A `%...%` regular expression in the AWS subset.

    `source` is what the user wrote between the percent signs (and what ClickHouse's
    re2 receives); `compiled` is its Python equivalent with re2's meaning of `$` and `\\s`.
    """

    source: str
    compiled: re.Pattern[str]


@dataclass(frozen=True)
class StringValue:
    """A string to compare with; a leading or trailing `*` matches any run of characters
    (possibly empty), one inside the text is literal (see text.py)."""

    text: str

    @property
    def has_wildcard(self) -> bool:
        return self.text.startswith("*") or self.text.endswith("*")


@dataclass(frozen=True)
class NumberValue:
    value: float
    text: str


@dataclass(frozen=True)
class RegexValue:
    regex: Regex


Value = Union[StringValue, NumberValue, RegexValue]


@dataclass(frozen=True)
class Comparison:
    """`<subject> <operator> <value>`; the subject is a JSON selector or a delimited field."""

    operator: Operator
    value: Value


# ---- terms and regex ------------------------------------------------------------------

@dataclass(frozen=True)
class MatchAll:
    """The empty pattern: every event matches."""


@dataclass(frozen=True)
class TermPattern:
    """Space-separated terms: every required term, at least one optional (`?`) term if
    there are any, and none of the excluded (`-`) terms."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    excluded: tuple[str, ...]


@dataclass(frozen=True)
class RegexPattern:
    regex: Regex


# ---- JSON -------------------------------------------------------------------------------

PathStep = Union[str, int]


@dataclass(frozen=True)
class Selector:
    """`$.a.b[0].c`: object keys (str) and array indexes (int, from 0) from the top-level object."""

    text: str
    path: tuple[PathStep, ...]


@dataclass(frozen=True)
class JsonComparison:
    selector: Selector
    comparison: Comparison


@dataclass(frozen=True)
class JsonIs:
    """`IS NULL`, `IS TRUE`, `IS FALSE`."""

    selector: Selector
    keyword: JsonKeyword


@dataclass(frozen=True)
class JsonNotExists:
    selector: Selector


# ---- space-delimited ----------------------------------------------------------------------

@dataclass(frozen=True)
class FieldComparison:
    """A condition on one field of a space-delimited pattern, e.g. `status_code = 4*`."""

    field: str
    comparison: Comparison


# ---- shared boolean structure -------------------------------------------------------------

@dataclass(frozen=True)
class AllOf:
    """`a && b && ...`"""

    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    """`a || b || ...`"""

    parts: tuple[Condition, ...]


Condition = Union[AllOf, AnyOf, JsonComparison, JsonIs, JsonNotExists, FieldComparison]


@dataclass(frozen=True)
class JsonPattern:
    condition: Condition


@dataclass(frozen=True)
class DelimitedField:
    """One named position; `condition` (if any) must hold for the value found there."""

    name: str
    condition: Condition | None


@dataclass(frozen=True)
class AnyFields:
    """`...`: any number of fields, including none."""


@dataclass(frozen=True)
class DelimitedPattern:
    fields: tuple[DelimitedField | AnyFields, ...]


Pattern = Union[MatchAll, TermPattern, RegexPattern, JsonPattern, DelimitedPattern]
