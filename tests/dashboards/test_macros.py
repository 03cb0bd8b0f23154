"""The macro expander against the plugin's documented and implemented expansions.

Expected strings follow grafana/clickhouse-datasource pkg/macros/macros.go (backend
macros) and src/data/CHDatasource.ts (conditionalAll, variable formatting).
"""

from __future__ import annotations

import pytest

from dashboards.macros import MacroError, QueryContext, Selection, expand

FROM_MS, TO_MS = 1_415_792_726_371, 1_447_328_726_371
CTX = QueryContext(FROM_MS, TO_MS, 30_000, {
    "host": Selection.all_of(["a", "b"]),
    "one": Selection.one("web-1"),
    "picked": Selection(("x", "y"), multi=True),
    "quote": Selection.one("it's"),
    "empty": Selection.one(""),
})


@pytest.mark.parametrize(("sql", "expanded"), [
    ("$__timeFilter(ts)", "ts >= toDateTime(1415792726) AND ts <= toDateTime(1447328726)"),
    ("$__timeFilter_ms(ts)",
     "ts >= fromUnixTimestamp64Milli(1415792726371) AND ts <= fromUnixTimestamp64Milli(1447328726371)"),
    ("$__dateFilter(d)", "d >= toDate('2014-11-12') AND d <= toDate('2015-11-12')"),
    ("$__fromTime, $__toTime", "toDateTime(1415792726), toDateTime(1447328726)"),
    ("$__fromTime_ms $__toTime_ms", "fromUnixTimestamp64Milli(1415792726371) fromUnixTimestamp64Milli(1447328726371)"),
    ("$__interval_s", "30"),
    ("$__timeInterval(ts)", "toStartOfInterval(toDateTime(ts), INTERVAL 30 second)"),
    ("$__timeInterval_ms(ts)", "toStartOfInterval(toDateTime64(ts, 3), INTERVAL 30000 millisecond)"),
    ("$__timeFilter( ts ) AND $__timeFilter_ms(t2)",
     "ts >= toDateTime(1415792726) AND ts <= toDateTime(1447328726) AND "
     "t2 >= fromUnixTimestamp64Milli(1415792726371) AND t2 <= fromUnixTimestamp64Milli(1447328726371)"),
])
def test_backend_macros(sql: str, expanded: str) -> None:
    assert expand(sql, CTX) == expanded


def test_interval_is_at_least_one_second() -> None:
    assert expand("$__interval_s", QueryContext(0, 1000, 200)) == "1"


@pytest.mark.parametrize(("sql", "expanded"), [
    ("h IN (${host:singlequote})", "h IN ('a','b')"),
    ("h IN ($host)", "h IN ('a','b')"),
    ("h = '$one' OR h = '${one}'", "h = 'web-1' OR h = 'web-1'"),
    ("h IN ($picked)", "h IN ('x','y')"),
    ("m = ${quote:singlequote}", "m = 'it\\'s'"),
    ("$__conditionalAll(h IN (${host:singlequote}), $host)", "1=1"),
    ("$__conditionalAll(h IN (${picked:singlequote}), ${picked})", "h IN ('x','y')"),
    ("$__conditionalAll(h = '$empty', $empty)", "1=1"),
    ("$__conditionalAll(f(a, b) = 1, $one) AND $__conditionalAll(x, $host)", "f(a, b) = 1 AND 1=1"),
])
def test_variables_and_conditional_all(sql: str, expanded: str) -> None:
    assert expand(sql, CTX) == expanded


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT $nope", "variable $nope is not defined"),
    ("$__timeFilter(a, b)", "expected 1 argument, received 2"),
    ("$__bogus", "unknown macro $__bogus"),
    ("$__timeFilter(ts", "unbalanced parentheses"),
    ("$__conditionalAll(a)", "takes 2 arguments"),
])
def test_errors_name_the_problem(sql: str, message: str) -> None:
    with pytest.raises(MacroError, match=message.replace("$", r"\$").replace("(", r"\(")):
        expand(sql, CTX)
