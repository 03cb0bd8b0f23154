"""The JSON models Grafana receives: stable unique uids, a grid without overlaps, resolvable references."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dashboards.catalog import dashboards
from dashboards.model import DATASOURCE_UID, PLUGIN_ID

MODELS = dashboards()
STABLE_UIDS = ["watchkeeper-host-overview", "watchkeeper-logs", "watchkeeper-alarms", "watchkeeper-audit", "watchkeeper-pipeline"]
_REFERENCE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


def test_uids_are_stable_unique_and_of_grafana_length() -> None:
    uids = [model["uid"] for model in MODELS]
    assert uids == STABLE_UIDS
    assert all(8 <= len(uid) <= 40 for uid in uids)
    assert dashboards() == MODELS  # rendering twice gives the same JSON


@pytest.mark.parametrize("model", MODELS, ids=STABLE_UIDS)
def test_grid_stays_within_24_columns_without_overlap(model: dict[str, Any]) -> None:
    taken: set[tuple[int, int]] = set()
    for panel in model["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                 for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


def _datasources(model: dict[str, Any]) -> list[dict[str, Any]]:
    refs = [panel["datasource"] for panel in model["panels"]]
    refs += [target["datasource"] for panel in model["panels"] for target in panel["targets"]]
    refs += [v["datasource"] for v in model["templating"].get("list", []) if v["type"] == "query"]
    refs += [a["datasource"] for a in model["annotations"].get("list", [])]
    return refs


@pytest.mark.parametrize("model", MODELS, ids=STABLE_UIDS)
def test_every_datasource_reference_is_the_provisioned_clickhouse(model: dict[str, Any]) -> None:
    refs = _datasources(model)
    assert refs and all(ref == {"type": PLUGIN_ID, "uid": DATASOURCE_UID} for ref in refs)


@pytest.mark.parametrize("model", MODELS, ids=STABLE_UIDS)
def test_every_referenced_variable_exists_before_use(model: dict[str, Any]) -> None:
    defined: list[str] = []
    for variable in model["templating"].get("list", []):
        for match in _REFERENCE.finditer(variable.get("query", "")):
            name = match.group(1) or match.group(2)
            assert name.startswith("__") or name in defined, f"variable {variable['name']} uses ${name} first"
        defined.append(variable["name"])
    sqls = [t["rawSql"] for p in model["panels"] for t in p["targets"]]
    sqls += [a["target"]["rawSql"] for a in model["annotations"].get("list", [])]
    for sql in sqls:
        for match in _REFERENCE.finditer(sql):
            name = match.group(1) or match.group(2)
            assert name.startswith("__") or name in defined, f"${name} is not a variable of {model['uid']}"


@pytest.mark.parametrize("model", MODELS, ids=STABLE_UIDS)
def test_panels_have_unique_ids_and_sql_targets(model: dict[str, Any]) -> None:
    ids = [panel["id"] for panel in model["panels"]]
    assert len(set(ids)) == len(ids)
    for panel in model["panels"]:
        assert [t["editorType"] for t in panel["targets"]] == ["sql"], panel["title"]
        assert panel["targets"][0]["format"] in (0, 1, 2)
