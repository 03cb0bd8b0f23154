"""The shape of a Watchkeeper dashboard, and its rendering to Grafana JSON with grafana-foundation-sdk.

Dashboards are declared as small specs (panels with their SQL, variables,
annotations) so that the JSON for Grafana, the previews and the proofs all come
from one declaration. Panels flow left to right in rows of 24 columns (the SDK's
layout); every row of specs must add up to 24 (tests/dashboards check the grid).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal

from grafana_foundation_sdk.builders import dashboard as sdk
from grafana_foundation_sdk.builders import logs, statetimeline, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as models

PLUGIN_ID = "grafana-clickhouse-datasource"
DATASOURCE_UID = "watchkeeper-clickhouse"
DATASOURCE_NAME = "Watchkeeper ClickHouse"
DATASOURCE_REF = models.DataSourceRef(type_val=PLUGIN_ID, uid=DATASOURCE_UID)


class Format(IntEnum):
    """The plugin's result formats (what Grafana turns the rows into)."""

    TIME_SERIES = 0
    TABLE = 1
    LOGS = 2


PanelKind = Literal["timeseries", "table", "logs", "state-timeline"]
_FORMATS: dict[PanelKind, Format] = {"timeseries": Format.TIME_SERIES, "state-timeline": Format.TIME_SERIES,
                                     "table": Format.TABLE, "logs": Format.LOGS}
_QUERY_TYPES = {Format.TIME_SERIES: "timeseries", Format.TABLE: "table", Format.LOGS: "logs"}


@dataclass(frozen=True)
class PanelSpec:
    title: str
    kind: PanelKind
    sql: str
    width: int
    height: int = 8
    unit: str = ""
    description: str = ""
    # For state timelines: numeric state -> label shown (value mappings).
    states: tuple[tuple[int, str, str], ...] = ()

    @property
    def format(self) -> Format:
        return _FORMATS[self.kind]


@dataclass(frozen=True)
class VariableSpec:
    """A query variable (SQL returning the options), or a text box when sql is None."""

    name: str
    label: str
    sql: str | None = None
    multi: bool = False
    include_all: bool = False
    hidden: bool = False
    refresh_on_time_change: bool = False
    default: str = ""


@dataclass(frozen=True)
class AnnotationSpec:
    """A SQL annotation: rows of (time, text[, tags])."""

    name: str
    sql: str
    color: str = "orange"


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    title: str
    description: str
    panels: tuple[PanelSpec, ...]
    variables: tuple[VariableSpec, ...] = ()
    annotations: tuple[AnnotationSpec, ...] = ()
    time_from: str = "now-6h"
    tags: tuple[str, ...] = field(default=("watchkeeper",))


class ClickHouseQuery(cogvariants.Dataquery):
    """A target of the ClickHouse plugin in SQL editor mode."""

    def __init__(self, sql: str, fmt: Format, ref_id: str = "A") -> None:
        self.sql, self.format, self.ref_id = sql, fmt, ref_id

    def to_json(self) -> dict[str, object]:
        return {"datasource": DATASOURCE_REF.to_json(), "editorType": "sql", "rawSql": self.sql,
                "format": int(self.format), "queryType": _QUERY_TYPES[self.format], "refId": self.ref_id}


class ClickHouseTarget(cogbuilder.Builder[cogvariants.Dataquery]):
    def __init__(self, sql: str, fmt: Format) -> None:
        self._query = ClickHouseQuery(sql, fmt)

    def build(self) -> cogvariants.Dataquery:
        return self._query


class ClickHouseAnnotation(models.AnnotationQuery):
    """The SDK's annotation target only knows the built-in Grafana source; the plugin reads rawSql."""

    def __init__(self, spec: AnnotationSpec) -> None:
        super().__init__(name=spec.name, datasource=DATASOURCE_REF, enable=True, icon_color=spec.color)
        self.sql = spec.sql

    def to_json(self) -> dict[str, object]:
        payload = super().to_json()
        payload["target"] = ClickHouseQuery(self.sql, Format.TABLE).to_json()
        return payload


class AnnotationBuilder(cogbuilder.Builder[models.AnnotationQuery]):
    def __init__(self, spec: AnnotationSpec) -> None:
        self._annotation = ClickHouseAnnotation(spec)

    def build(self) -> models.AnnotationQuery:
        return self._annotation


def _panel(spec: PanelSpec) -> cogbuilder.Builder[models.Panel]:
    builder: Any
    if spec.kind == "timeseries":
        builder = timeseries.Panel().fill_opacity(10).show_points(common.VisibilityMode.NEVER)
    elif spec.kind == "table":
        builder = table.Panel().filterable(True)
    elif spec.kind == "logs":
        builder = logs.Panel().show_time(True).wrap_log_message(True).sort_order(common.LogsSortOrder.DESCENDING)
    else:
        builder = statetimeline.Panel().mappings([
            models.ValueMap(options={str(value): models.ValueMappingResult(text=text, color=color)
                                     for value, text, color in spec.states})])
    builder = builder.title(spec.title).datasource(DATASOURCE_REF).span(spec.width).height(spec.height)
    builder = builder.with_target(ClickHouseTarget(spec.sql, spec.format))
    if spec.unit:
        builder = builder.unit(spec.unit)
    if spec.description:
        builder = builder.description(spec.description)
    return builder  # type: ignore[no-any-return]


def _variable(spec: VariableSpec) -> cogbuilder.Builder[models.VariableModel]:
    hide = models.VariableHide.HIDE_VARIABLE if spec.hidden else models.VariableHide.DONT_HIDE
    if spec.sql is None:
        return sdk.TextBoxVariable(spec.name).label(spec.label).default_value(spec.default).hide(hide)
    refresh = (models.VariableRefresh.ON_TIME_RANGE_CHANGED if spec.refresh_on_time_change
               else models.VariableRefresh.ON_DASHBOARD_LOAD)
    return (sdk.QueryVariable(spec.name).label(spec.label).datasource(DATASOURCE_REF).query(spec.sql)
            .multi(spec.multi).include_all(spec.include_all).refresh(refresh).hide(hide)
            .sort(models.VariableSort.ALPHABETICAL_ASC))


def render(spec: DashboardSpec) -> dict[str, Any]:
    """The dashboard's Grafana JSON model."""
    builder = (sdk.Dashboard(spec.title).uid(spec.uid).description(spec.description).tags(list(spec.tags))
               .time(spec.time_from, "now").refresh("1m").timezone("browser"))
    for variable in spec.variables:
        builder = builder.with_variable(_variable(variable))
    for annotation in spec.annotations:
        builder = builder.annotation(AnnotationBuilder(annotation))
    for index, panel in enumerate(spec.panels, start=1):
        builder = builder.with_panel(_panel(panel).id(index))  # type: ignore[attr-defined]
    model: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    return model
