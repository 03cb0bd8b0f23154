"""Print API answers as the aws CLI does: JSON by default, a table for people, tab-separated text for scripts."""

from __future__ import annotations

import json
from typing import Any

import click


def _cell(value: Any) -> str:
    """One table cell: {Name, Value} lists (dimensions) read as name=value, nested objects as k=v."""
    if isinstance(value, list):
        return ",".join(f"{v['Name']}={v['Value']}" if isinstance(v, dict) and {"Name", "Value"} <= v.keys()
                        else _cell(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}={_cell(v)}" for k, v in value.items())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows(answer: dict[str, Any]) -> tuple[list[tuple[str, str]], dict[str, list[dict[str, Any]]]]:
    """(scalar fields, lists of records) of an answer."""
    scalars = [(k, _cell(v)) for k, v in answer.items() if not isinstance(v, list)]
    lists = {k: v for k, v in answer.items() if isinstance(v, list)}
    return scalars, lists


def _columns(records: list[dict[str, Any]]) -> list[str]:
    columns: list[str] = []
    for record in records:
        columns.extend(key for key in record if key not in columns)
    return columns


def render_table(answer: dict[str, Any]) -> str:
    scalars, lists = _rows(answer)
    lines = [f"{key}: {value}" for key, value in scalars]
    for name, records in lists.items():
        records = [r if isinstance(r, dict) else {"Value": r} for r in records]
        columns = _columns(records)
        cells = [[_cell(r.get(c, "")) for c in columns] for r in records]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
        lines.append(f"{name} ({len(records)})")
        if columns:
            lines.append("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
            lines.append("  ".join("-" * w for w in widths))
            lines.extend("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells)
    return "\n".join(lines)


def render_text(answer: dict[str, Any]) -> str:
    """aws-style text: KEY<TAB>value for scalars, LISTNAME<TAB>fields... per record."""
    scalars, lists = _rows(answer)
    lines = [f"{key.upper()}\t{value}" for key, value in scalars]
    for name, records in lists.items():
        for record in records:
            values = record.values() if isinstance(record, dict) else [record]
            lines.append("\t".join([name.upper(), *(_cell(v) for v in values)]))
    return "\n".join(lines)


def echo_answer(ctx: click.Context, answer: dict[str, Any]) -> None:
    """Print an answer in the format the root group's --output chose."""
    fmt = ctx.find_root().obj["output"]
    if fmt == "table":
        text = render_table(answer)
    elif fmt == "text":
        text = render_text(answer)
    else:
        text = json.dumps(answer, indent=4)
    if text:
        click.echo(text)
