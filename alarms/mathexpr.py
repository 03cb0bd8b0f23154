"""Metric math for alarms: expressions over the ids of Metrics[] on aligned per-period series.

Supported, as CloudWatch defines them: numbers, ids (m1, e1...), + - * / ^ with
series and scalars (a missing operand gives a missing point), comparisons
(> < >= <= == !=) and && || ! (AND/OR/NOT) giving 1 or 0, and the functions
FILL(x, value|REPEAT|LINEAR), IF(cond, a[, b]), DIFF, RATE (per second),
METRICS(["id filter"]), ABS, and MIN/MAX/SUM/AVG (over an array: per period;
over one series: one scalar). Everything is pure; the caller aggregates the
MetricStat queries into series first.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from alarms.model import MetricDataQuery
from watchkeeper.errors import ConfigError, Problem

Point = float | None
Series = tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class SeriesArray:
    """The result of METRICS(): several series, evaluated function by function."""

    items: tuple[Series, ...]


Value = float | Series | SeriesArray


class ExpressionError(Exception):
    def __init__(self, column: int, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<str>\"[^\"]*\")|(?P<op>&&|\|\||>=|<=|==|!=|[-+*/^(),<>!]))")
_BINARY_LEVELS: tuple[dict[str, Callable[[float, float], float]], ...] = (
    {"||": lambda a, b: float(bool(a) or bool(b)), "OR": lambda a, b: float(bool(a) or bool(b))},
    {"&&": lambda a, b: float(bool(a) and bool(b)), "AND": lambda a, b: float(bool(a) and bool(b))},
    {">": lambda a, b: float(a > b), "<": lambda a, b: float(a < b), ">=": lambda a, b: float(a >= b),
     "<=": lambda a, b: float(a <= b), "==": lambda a, b: float(a == b), "!=": lambda a, b: float(a != b)},
    {"+": operator.add, "-": operator.sub},
    {"*": operator.mul, "/": operator.truediv},
    {"^": operator.pow},
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    column: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            column = pos + len(text[pos:]) - len(text[pos:].lstrip()) + 1
            raise ExpressionError(column, f"found {text[column - 1]!r}; expected a number, id, function or operator")
        kind = match.lastgroup or "op"
        tokens.append(Token(kind, match.group(kind), match.start(kind) + 1))
        pos = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


class _Evaluator:
    def __init__(self, tokens: list[Token], context: MathContext) -> None:
        self.tokens = tokens
        self.index = 0
        self.context = context

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        if self.current.text != text:
            raise ExpressionError(self.current.column, f"found {self.current.text or 'end'!r}; expected {text!r}")
        self.take()

    def run(self) -> Value:
        value = self.binary(0)
        if self.current.kind != "end":
            raise ExpressionError(self.current.column, f"found {self.current.text!r}; expected an operator or the end")
        return value

    def binary(self, level: int) -> Value:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.current.text in _BINARY_LEVELS[level]:
            sign = self.take()
            right = self.binary(level + 1)
            try:
                left = combine(_BINARY_LEVELS[level][sign.text], left, right)
            except (TypeError, ValueError) as error:
                raise ExpressionError(sign.column, f"{sign.text}: {error}") from None
        return left

    def unary(self) -> Value:
        if self.current.text in ("-", "!", "NOT"):
            sign = self.take().text
            value = self.unary()
            return combine(operator.sub if sign == "-" else lambda _, v: float(not v), 0.0, value)
        return self.primary()

    def primary(self) -> Value:
        token = self.take()
        if token.kind == "num":
            return float(token.text)
        if token.text == "(":
            value = self.binary(0)
            self.expect(")")
            return value
        if token.kind == "name" and self.current.text == "(":
            return self.call(token)
        if token.kind == "name":
            return self.context.resolve(token.text, token.column)
        raise ExpressionError(token.column, f"found {token.text or 'end'!r}; expected a number, id or function")

    def arguments(self) -> list[tuple[Token, Value | str]]:
        self.expect("(")
        args: list[tuple[Token, Value | str]] = []
        while self.current.text != ")":
            start = self.current
            if start.kind == "str":
                args.append((self.take(), start.text.strip('"')))
            elif start.text in ("REPEAT", "LINEAR"):
                args.append((self.take(), start.text))
            else:
                args.append((start, self.binary(0)))
            if self.current.text == ",":
                self.take()
            elif self.current.text != ")":
                raise ExpressionError(self.current.column, f"found {self.current.text or 'end'!r}; expected ',' or ')'")
        self.take()
        return args

    def call(self, name: Token) -> Value:
        function = FUNCTIONS.get(name.text.upper())
        if function is None:
            raise ExpressionError(name.column, f"found unknown function {name.text!r}; allowed {', '.join(FUNCTIONS)}")
        args = self.arguments()
        try:
            return function(self.context, [value for _, value in args])
        except (TypeError, ValueError) as error:
            raise ExpressionError(name.column, f"{name.text}: {error}") from None


def combine(function: Callable[[float, float], float], left: Value, right: Value) -> Value:
    """Apply a binary operator to scalars, series (point by point) or arrays (item by item)."""
    if isinstance(left, SeriesArray):
        return SeriesArray(tuple(_series(combine(function, item, right)) for item in left.items))
    if isinstance(right, SeriesArray):
        return SeriesArray(tuple(_series(combine(function, left, item)) for item in right.items))
    if isinstance(left, float) and isinstance(right, float):
        result = _safe(function, left, right)
        if result is None:
            raise ValueError("division by zero or overflow between numbers")
        return result
    length = len(left) if isinstance(left, tuple) else len(_series(right))
    lefts: Series = left if isinstance(left, tuple) else (left,) * length
    rights: Series = right if isinstance(right, tuple) else (right,) * length
    return tuple(None if a is None or b is None else _safe(function, a, b) for a, b in zip(lefts, rights, strict=True))


def _safe(function: Callable[[float, float], float], a: float, b: float) -> float | None:
    """Division by zero and overflow give no datapoint, as in CloudWatch."""
    try:
        result = function(a, b)
    except (ZeroDivisionError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def _series(value: Value | str) -> Series:
    if not isinstance(value, tuple):
        raise TypeError("expected a time series")
    return value


@dataclass
class MathContext:
    """The aligned period starts, the period, the MetricStat series by id, and the expressions to resolve."""

    timestamps: Sequence[int]
    period: int
    metric_series: Mapping[str, Series]
    expressions: Mapping[str, str]
    resolving: tuple[str, ...] = ()

    def resolve(self, name: str, column: int) -> Value:
        if name in self.metric_series:
            return self.metric_series[name]
        if name in self.expressions:
            if name in self.resolving:
                raise ExpressionError(column, f"found a cycle {' -> '.join(self.resolving + (name,))}")
            nested = MathContext(self.timestamps, self.period, self.metric_series, self.expressions,
                                 self.resolving + (name,))
            return _Evaluator(tokenize(self.expressions[name]), nested).run()
        known = sorted(set(self.metric_series) | set(self.expressions))
        raise ExpressionError(column, f"found unknown id {name!r}; allowed {', '.join(known)}")


def _fill(context: MathContext, args: list[Value | str]) -> Value:
    if len(args) != 2:
        raise TypeError("takes (series, value|REPEAT|LINEAR)")
    target, how = args
    if isinstance(target, SeriesArray):
        return SeriesArray(tuple(_series(_fill(context, [item, how])) for item in target.items))
    points = list(_series(target))
    present = [i for i, v in enumerate(points) if v is not None]
    for i, value in enumerate(points):
        if value is not None:
            continue
        before = [j for j in present if j < i]
        after = [j for j in present if j > i]
        if how == "REPEAT":
            points[i] = points[before[-1]] if before else None
        elif how == "LINEAR":
            if before and after:
                a, b = before[-1], after[0]
                low, high = points[a], points[b]
                assert low is not None and high is not None
                points[i] = low + (high - low) * (i - a) / (b - a)
        elif isinstance(how, float):
            points[i] = how
        else:
            raise TypeError("the fill value must be a number, REPEAT or LINEAR")
    return tuple(points)


def _if(context: MathContext, args: list[Value | str]) -> Value:
    if len(args) not in (2, 3) or any(isinstance(a, str | SeriesArray) for a in args):
        raise TypeError("takes (condition, value if true[, value if false]) over series or scalars")
    condition, when_true = args[0], args[1]
    when_false = args[2] if len(args) == 3 else None
    length = len(context.timestamps)

    def point(value: Value | str | None, i: int) -> Point:
        if isinstance(value, tuple):
            return value[i]
        return value if isinstance(value, float) else None

    out: list[Point] = []
    for i in range(length):
        test = point(condition, i)
        out.append(None if test is None else point(when_true if test else when_false, i))
    return tuple(out)


def _difference(context: MathContext, args: list[Value | str], per_second: bool) -> Value:
    if len(args) != 1:
        raise TypeError("takes one series")
    if isinstance(args[0], SeriesArray):
        return SeriesArray(tuple(_series(_difference(context, [item], per_second)) for item in args[0].items))
    points = _series(args[0])
    out: list[Point] = []
    previous: int | None = None
    for i, value in enumerate(points):
        prior = points[previous] if previous is not None else None
        if value is None or prior is None or previous is None:
            out.append(None)
        else:
            delta = value - prior
            seconds = context.timestamps[i] - context.timestamps[previous]
            out.append(delta / seconds if per_second else delta)
        if value is not None:
            previous = i
    return tuple(out)


def _metrics(context: MathContext, args: list[Value | str]) -> Value:
    if len(args) > 1 or (args and not isinstance(args[0], str)):
        raise TypeError('takes no argument or one "id filter" string')
    needle = args[0] if args else ""
    assert isinstance(needle, str)
    return SeriesArray(tuple(s for name, s in sorted(context.metric_series.items()) if needle in name))


def _reduction(reduce: Callable[[list[float]], float]) -> Callable[[MathContext, list[Value | str]], Value]:
    def apply(context: MathContext, args: list[Value | str]) -> Value:
        if len(args) != 1:
            raise TypeError("takes one series or array")
        value = args[0]
        if isinstance(value, SeriesArray):
            columns = zip(*value.items, strict=True) if value.items else iter(())
            return tuple(_reduce_points(reduce, list(column)) for column in columns)
        if isinstance(value, tuple):
            result = _reduce_points(reduce, list(value))
            if result is None:
                raise ValueError("the series has no datapoints")
            return result
        raise TypeError("takes a series or an array, not a number")
    return apply


def _reduce_points(reduce: Callable[[list[float]], float], points: list[Point]) -> Point:
    present = [p for p in points if p is not None]
    return reduce(present) if present else None


def _abs(context: MathContext, args: list[Value | str]) -> Value:
    if len(args) != 1 or isinstance(args[0], str):
        raise TypeError("takes one argument")
    return combine(lambda _, v: abs(v), 0.0, args[0])


FUNCTIONS: dict[str, Callable[[MathContext, list[Value | str]], Value]] = {
    "FILL": _fill,
    "IF": _if,
    "DIFF": lambda context, args: _difference(context, args, per_second=False),
    "RATE": lambda context, args: _difference(context, args, per_second=True),
    "METRICS": _metrics,
    "ABS": _abs,
    "MIN": _reduction(min),
    "MAX": _reduction(max),
    "SUM": _reduction(math.fsum),
    "AVG": _reduction(lambda values: math.fsum(values) / len(values)),
}


def evaluate_metrics(queries: Sequence[MetricDataQuery], timestamps: Sequence[int], period: int,
                     metric_series: Mapping[str, Series], source: str) -> Series:
    """The ReturnData series of an alarm's Metrics, given each MetricStat query's aligned series."""
    expressions = {q.Id: q.Expression for q in queries if q.Expression is not None}
    returned = next(i for i, q in enumerate(queries) if q.ReturnData)
    query = queries[returned]
    if query.Expression is None:
        return metric_series[query.Id]
    context = MathContext(timestamps, period, metric_series, expressions, (query.Id,))
    path = f"Metrics[{returned}].Expression"
    try:
        value = _Evaluator(tokenize(query.Expression), context).run()
    except ExpressionError as error:
        raise ConfigError([Problem(source, path, f"column {error.column}: {error.message}")]) from None
    if isinstance(value, float):
        return (value,) * len(timestamps)
    if isinstance(value, SeriesArray):
        raise ConfigError([Problem(source, path, f"found an array of {len(value.items)} series; an alarm needs "
                                                 "one time series (reduce it with SUM, AVG, MIN or MAX)")])
    return value
