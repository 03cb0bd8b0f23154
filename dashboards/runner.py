"""Run a dashboard's queries the way Grafana would: variables first, then every panel and annotation.

Used by the proofs (tests/dashboards), the previews and the benchmark, so all three
run exactly the SQL the delivered JSON carries. Variables resolve in their list
order (as Grafana does); a multi variable with All selects every option, any
other takes its first option, a text box its default. The interval is the range
over 1,000 data points (a wide panel), at least one second.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dashboards.macros import QueryContext, Selection, expand
from watchkeeper.storage.engine import Engine, Row

MAX_DATA_POINTS = 1000


@dataclass(frozen=True)
class Column:
    name: str
    type: str

    @property
    def is_time(self) -> bool:
        return self.type.startswith("DateTime")

    @property
    def is_number(self) -> bool:
        inner = self.type.removeprefix("Nullable(").rstrip(")")
        return inner.startswith(("UInt", "Int", "Float", "Decimal"))

    @property
    def is_text(self) -> bool:
        return "String" in self.type or self.type.startswith("Enum")


@dataclass(frozen=True)
class Result:
    """A query's columns (ClickHouse types) and rows, with times as epoch seconds on both engines."""

    sql: str
    columns: tuple[Column, ...]
    rows: list[Row]

    def values(self, name: str) -> list[Any]:
        index = [c.name for c in self.columns].index(name)
        return [row[index] for row in self.rows]


@dataclass(frozen=True)
class Target:
    """One query of a dashboard: a panel's target or an annotation."""

    dashboard: str
    title: str
    panel_type: str
    format: int
    raw_sql: str


def run_sql(engine: Engine, sql: str) -> Result:
    columns = tuple(Column(str(row[0]), str(row[1])) for row in engine.query(f"DESCRIBE TABLE ({sql})"))
    # Distinct aliases: reusing a column's own name as the alias is a cyclic alias on old servers.
    projection = ", ".join(
        f"{'toUInt32' if column.is_time else ''}(`{column.name}`) AS c{index}" for index, column in enumerate(columns))
    return Result(sql, columns, engine.query(f"SELECT {projection} FROM ({sql})"))


def context_for(from_s: int, to_s: int) -> QueryContext:
    interval_ms = max((to_s - from_s) * 1000 // MAX_DATA_POINTS, 1000)
    return QueryContext(from_s * 1000, to_s * 1000, interval_ms)


def resolve_variables(engine: Engine, dashboard: dict[str, Any], base: QueryContext) -> QueryContext:
    """The context with every template variable set as Grafana would on first open."""
    variables: dict[str, Selection] = {}
    for variable in dashboard.get("templating", {}).get("list", []):
        ctx = QueryContext(base.from_ms, base.to_ms, base.interval_ms, dict(variables))
        if variable["type"] == "textbox":
            variables[variable["name"]] = Selection.one(str(variable.get("query", "")))
            continue
        options = [str(row[0]) for row in run_sql(engine, expand(variable["query"], ctx)).rows]
        if variable.get("includeAll"):
            variables[variable["name"]] = Selection.all_of(options)
        else:
            variables[variable["name"]] = Selection((options[0],) if options else ())
    return QueryContext(base.from_ms, base.to_ms, base.interval_ms, variables)


def targets(dashboard: dict[str, Any]) -> Iterator[Target]:
    """Every panel target and annotation query of a dashboard's JSON model."""
    uid = dashboard["uid"]
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            yield Target(uid, panel["title"], panel["type"], int(target["format"]), target["rawSql"])
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if "target" in annotation:
            target = annotation["target"]
            yield Target(uid, annotation["name"], "annotation", int(target["format"]), target["rawSql"])


def variable_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    return [(v["name"], v["query"]) for v in dashboard.get("templating", {}).get("list", []) if v["type"] == "query"]
