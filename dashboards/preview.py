"""Draw each dashboard's panels to a PNG from the same queries Grafana would run, for review without Grafana.

One PNG per dashboard; panels keep their grid positions (24 columns), time series
are drawn as lines per series label, tables and logs as their first rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from dashboards.macros import expand  # noqa: E402
from dashboards.runner import Result, context_for, resolve_variables, run_sql  # noqa: E402
from watchkeeper.storage.engine import Engine  # noqa: E402

ROW_INCHES = 0.32
TABLE_ROWS = 12
CELL_CHARS = 40


def _draw_series(axes: Axes, result: Result) -> None:
    time_column = next(c.name for c in result.columns if c.is_time)
    labels = [c.name for c in result.columns if c.is_text]
    values = [c.name for c in result.columns if c.is_number]
    lines: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for row in result.rows:
        record = dict(zip([c.name for c in result.columns], row, strict=True))
        when = datetime.fromtimestamp(int(record[time_column]), UTC)
        for value in values:
            name = " ".join([str(record[label]) for label in labels] + ([value] if len(values) > 1 else []))
            lines[name or value].append((when, float(record[value])))
    for name, points in sorted(lines.items()):
        when = mdates.date2num([p[0] for p in points])  # type: ignore[no-untyped-call]
        axes.plot(when, [p[1] for p in points], label=name, linewidth=1)
    locator = mdates.AutoDateLocator(maxticks=5)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.tick_params(labelsize=6)
    if 0 < len(lines) <= 12:
        axes.legend(fontsize=5, loc="upper left")


def _cell(value: Any, is_time: bool) -> str:
    text = datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%d %H:%M:%S") if is_time else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS - 1] + "…"


def _draw_table(axes: Axes, result: Result) -> None:
    axes.axis("off")
    if not result.rows:
        axes.text(0.5, 0.5, "no data", ha="center", va="center")
        return
    cells = [[_cell(v, c.is_time) for v, c in zip(row, result.columns, strict=True)] for row in result.rows[:TABLE_ROWS]]
    table = axes.table(cellText=cells, colLabels=[c.name for c in result.columns], loc="upper center", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(6)


def draw(engine: Engine, dashboard: dict[str, Any], from_s: int, to_s: int, out: Path) -> Path:
    ctx = resolve_variables(engine, dashboard, context_for(from_s, to_s))
    panels = dashboard["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    figure = plt.figure(figsize=(16, rows * ROW_INCHES + 0.6))
    grid = figure.add_gridspec(rows, 24, hspace=2.5, wspace=1.2)
    for panel in panels:
        pos = panel["gridPos"]
        axes = figure.add_subplot(grid[pos["y"]:pos["y"] + pos["h"], pos["x"]:pos["x"] + pos["w"]])
        axes.set_title(panel["title"], fontsize=8)
        target = panel["targets"][0]
        result = run_sql(engine, expand(target["rawSql"], ctx))
        if target["format"] == 0 and result.rows:
            _draw_series(axes, result)
        else:
            _draw_table(axes, result)
    span = f"{datetime.fromtimestamp(from_s, UTC):%Y-%m-%d %H:%M} to {datetime.fromtimestamp(to_s, UTC):%Y-%m-%d %H:%M} UTC"
    figure.suptitle(f"{dashboard['title']}  ({span})", fontsize=10)
    path = out / f"{dashboard['uid']}.png"
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path
