"""Every Watchkeeper dashboard, rendered to Grafana JSON."""

from __future__ import annotations

from typing import Any

from dashboards import alarms_dashboard, audit_dashboard, host_overview, logs_dashboard, pipeline_dashboard
from dashboards.model import DashboardSpec, render

SPECS = (host_overview.spec, logs_dashboard.spec, alarms_dashboard.spec, audit_dashboard.spec,
         pipeline_dashboard.spec)


def specs() -> list[DashboardSpec]:
    return [make() for make in SPECS]


def dashboards() -> list[dict[str, Any]]:
    """The JSON model of every dashboard, in a stable order."""
    return [render(spec) for spec in specs()]
