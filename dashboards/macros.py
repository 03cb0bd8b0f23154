"""Expand a panel's SQL exactly as Grafana and the ClickHouse plugin would, for one time range.

No Grafana server can run here, so this is how every panel's query is proven: the
same text the plugin would send, run on both engines. The steps follow the plugin:

1. `$__conditionalAll(cond, $var)`: the plugin's frontend (src/data/CHDatasource.ts,
   applyConditionalAll) replaces it, last occurrence first, by `cond`, or by `1=1`
   when the variable's current value is '' or '$__all'. Arguments split at commas
   outside parentheses (getMacroArgs).
2. Template variables: Grafana's templateSrv.replace with the plugin's format function
   (CHDatasource.ts `format`): a multi value becomes 'a','b' (quoted, joined); a single
   value is inserted as is. `${var:singlequote}` quotes each value, escaping ' as \\'.
   An All selection without a custom allValue stands for every option.
3. Backend macros: grafana/clickhouse-datasource pkg/macros/macros.go (via grafana/sqlds,
   which finds `$__name` or `$__name(args)` and splits args at commas, trimmed):
   $__timeFilter(c) -> `c >= toDateTime(from) AND c <= toDateTime(to)`, $__timeFilter_ms with
   fromUnixTimestamp64Milli(ms), $__dateFilter(c) with toDate('YYYY-MM-DD'), $__fromTime /
   $__toTime -> toDateTime(s), $__fromTime_ms / $__toTime_ms -> fromUnixTimestamp64Milli(ms),
   $__interval_s -> max(interval seconds, 1), $__timeInterval(c) ->
   toStartOfInterval(toDateTime(c), INTERVAL s second), $__timeInterval_ms likewise in ms.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

ALL = "$__all"


@dataclass(frozen=True)
class Selection:
    """A template variable's current value: one or more values, or All (with every option listed)."""

    values: tuple[str, ...]
    is_all: bool = False
    multi: bool = False

    @classmethod
    def one(cls, value: str) -> Selection:
        return cls((value,))

    @classmethod
    def all_of(cls, options: Sequence[str]) -> Selection:
        return cls(tuple(options), is_all=True, multi=True)


@dataclass(frozen=True)
class QueryContext:
    """What Grafana knows when it runs a query: the range (epoch ms), the interval, the variables."""

    from_ms: int
    to_ms: int
    interval_ms: int
    variables: Mapping[str, Selection] = field(default_factory=dict)

    @property
    def interval_s(self) -> int:
        return max(self.interval_ms // 1000, 1)


class MacroError(ValueError):
    """A macro used with the wrong arguments, or a variable that does not exist."""


def _split_args(text: str, open_index: int) -> tuple[list[str], int]:
    """Arguments of the call whose '(' is at open_index (commas at depth 1 split), and the index after ')'."""
    depth, start, args = 0, open_index + 1, []
    for index in range(open_index, len(text)):
        char = text[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                args.append(text[start:index])
                return args, index + 1
        elif char == "," and depth == 1:
            args.append(text[start:index])
            start = index + 1
    raise MacroError(f"unbalanced parentheses after {text[max(0, open_index - 20):open_index + 1]!r}")


def _conditional_all(sql: str, variables: Mapping[str, Selection]) -> str:
    macro = "$__conditionalAll("
    index = sql.rfind(macro)
    while index != -1:
        args, end = _split_args(sql, index + len(macro) - 1)
        if len(args) != 2:
            raise MacroError(f"$__conditionalAll takes 2 arguments, found {len(args)}")
        name = re.search(r"(?<=\$\{)\w+(?=\})|(?<=\$)\w+", args[1].strip())
        phrase = args[0]
        if name is not None:
            selection = variables.get(name.group(0))
            if selection is None or selection.is_all or selection.values in ((), ("",)):
                phrase = "1=1"
        sql = sql[:index] + phrase + sql[end:]
        index = sql.rfind(macro)
    return sql


def _single_quote(value: str) -> str:
    return "'" + value.replace("'", "\\'") + "'"


def _format(selection: Selection, fmt: str | None) -> str:
    if fmt == "singlequote":
        return ",".join(_single_quote(v) for v in selection.values)
    if fmt not in (None, "raw"):
        raise MacroError(f"variable format :{fmt} is not used by these dashboards; allowed: singlequote, raw")
    if selection.multi or selection.is_all:
        return "'" + "','".join(selection.values) + "'"
    return selection.values[0] if selection.values else ""


_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")


def _template_variables(sql: str, variables: Mapping[str, Selection]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if name.startswith("__"):
            return match.group(0)  # a macro or a Grafana global: left for the next step
        if name not in variables:
            raise MacroError(f"variable ${name} is not defined; defined: {', '.join(sorted(variables)) or 'none'}")
        return _format(variables[name], match.group(2))

    return _VARIABLE.sub(replace, sql)


def _datetime(ms: int) -> str:
    return f"toDateTime({ms // 1000})"


def _datetime64(ms: int) -> str:
    return f"fromUnixTimestamp64Milli({ms})"


def _date(ms: int) -> str:
    return "toDate('" + datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d") + "')"


def _range(render: Callable[[int], str]) -> Callable[[QueryContext, list[str]], str]:
    def expand(ctx: QueryContext, args: list[str]) -> str:
        if len(args) != 1:
            raise MacroError(f"expected 1 argument, received {len(args)}")
        column = args[0]
        return f"{column} >= {render(ctx.from_ms)} AND {column} <= {render(ctx.to_ms)}"
    return expand


def _time_interval(ctx: QueryContext, args: list[str]) -> str:
    if len(args) != 1:
        raise MacroError(f"expected 1 argument, received {len(args)}")
    return f"toStartOfInterval(toDateTime({args[0]}), INTERVAL {ctx.interval_s} second)"


def _time_interval_ms(ctx: QueryContext, args: list[str]) -> str:
    if len(args) != 1:
        raise MacroError(f"expected 1 argument, received {len(args)}")
    return f"toStartOfInterval(toDateTime64({args[0]}, 3), INTERVAL {max(ctx.interval_ms, 1)} millisecond)"


BACKEND_MACROS: dict[str, Callable[[QueryContext, list[str]], str]] = {
    "fromTime": lambda ctx, _: _datetime(ctx.from_ms),
    "toTime": lambda ctx, _: _datetime(ctx.to_ms),
    "fromTime_ms": lambda ctx, _: _datetime64(ctx.from_ms),
    "toTime_ms": lambda ctx, _: _datetime64(ctx.to_ms),
    "timeFilter": _range(_datetime),
    "timeFilter_ms": _range(_datetime64),
    "dateFilter": _range(_date),
    "timeInterval": _time_interval,
    "timeInterval_ms": _time_interval_ms,
    "interval_s": lambda ctx, _: str(ctx.interval_s),
}
_MACRO = re.compile(r"\$__(\w+)")


def _backend_macros(sql: str, ctx: QueryContext) -> str:
    out, position = [], 0
    for match in _MACRO.finditer(sql):
        if match.start() < position:
            continue  # inside the arguments of a macro already expanded
        name = match.group(1)
        if name not in BACKEND_MACROS:
            raise MacroError(f"unknown macro $__{name}; allowed: {', '.join(sorted(BACKEND_MACROS))}")
        args: list[str] = []
        end = match.end()
        if end < len(sql) and sql[end] == "(":
            raw_args, end = _split_args(sql, end)
            args = [a.strip() for a in raw_args]
        out.append(sql[position:match.start()])
        out.append(BACKEND_MACROS[name](ctx, args))
        position = end
    out.append(sql[position:])
    return "".join(out)


def expand(sql: str, ctx: QueryContext) -> str:
    """The SQL the plugin would run for this panel in this context."""
    return _backend_macros(_template_variables(_conditional_all(sql, ctx.variables), ctx.variables), ctx)
