"""Metric math on aligned series: arithmetic, FILL, IF, DIFF, RATE, METRICS() and reductions."""

from __future__ import annotations

import pytest

from alarms.mathexpr import Series, evaluate_metrics
from alarms.model import MetricDataQuery
from watchkeeper.errors import ConfigError

TIMES = [0, 60, 120, 180]
SERIES: dict[str, Series] = {
    "m1": (1.0, None, 3.0, 7.0),
    "m2": (2.0, 2.0, None, 1.0),
    "errors_a": (0.0, 1.0, 2.0, 3.0),
}


def run(expression: str, **extra: str) -> Series:
    queries = [MetricDataQuery(Id=name, Expression=text, ReturnData=False) for name, text in extra.items()]
    queries.append(MetricDataQuery(Id="result", Expression=expression))
    return evaluate_metrics(queries, TIMES, 60, SERIES, "a.json")


@pytest.mark.parametrize(("expression", "expected"), [
    ("m1 + m2", (3.0, None, None, 8.0)),
    ("m1 * 2 - 1", (1.0, None, 5.0, 13.0)),
    ("-m1 + 10", (9.0, None, 7.0, 3.0)),
    ("m1 / (m2 - 2)", (None, None, None, -7.0)),  # division by zero: no datapoint
    ("2 ^ 3 + m2", (10.0, 10.0, None, 9.0)),
    ("FILL(m1, 0)", (1.0, 0.0, 3.0, 7.0)),
    ("FILL(m2, REPEAT)", (2.0, 2.0, 2.0, 1.0)),
    ("FILL(m1, LINEAR)", (1.0, 2.0, 3.0, 7.0)),
    ("IF(m1 > 2, 1, 0)", (0.0, None, 1.0, 1.0)),
    ("IF(m1 >= 3 && m2 < 2, m1)", (None, None, None, 7.0)),
    ("DIFF(m1)", (None, None, 2.0, 4.0)),
    ("RATE(m1)", (None, None, 2.0 / 120, 4.0 / 60)),
    ("ABS(DIFF(m2) * 10)", (None, 0.0, None, 10.0)),
    ("SUM(METRICS())", (3.0, 3.0, 5.0, 11.0)),
    ('MAX(METRICS("m"))', (2.0, 2.0, 3.0, 7.0)),
    ('AVG(METRICS("errors"))', (0.0, 1.0, 2.0, 3.0)),
    ("m1 - AVG(m1)", (-2.6666666666666665, None, -0.6666666666666665, 3.3333333333333335)),
    ("e1 * 2", (2.0, None, 6.0, 14.0)),
])
def test_expressions(expression: str, expected: Series) -> None:
    assert run(expression, e1="FILL(m1, REPEAT) * 0 + m1") == expected


@pytest.mark.parametrize(("expression", "message"), [
    ("m1 +", "column 5: found 'end'; expected a number, id or function"),
    ("m9 * 2", "column 1: found unknown id 'm9'"),
    ("NOPE(m1)", "column 1: found unknown function 'NOPE'"),
    ("FILL(m1)", "column 1: FILL: takes (series, value|REPEAT|LINEAR)"),
    ("METRICS()", "found an array of 3 series"),
    ("m1 $ 2", "column 4: found '$'"),
    ("e2", "found a cycle result -> e2 -> e3 -> e2"),
])
def test_errors_name_field_and_column(expression: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        run(expression, e2="e3 + 1", e3="e2 * 2")
    problem = caught.value.problems[0]
    assert problem.source == "a.json" and problem.path == "Metrics[2].Expression"
    assert message in problem.message


def test_scalar_result_is_a_constant_series() -> None:
    assert run("MAX(m1)") == (7.0, 7.0, 7.0, 7.0)
