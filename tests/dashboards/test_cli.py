"""`dashboards build` and `dashboards preview` end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dashboards.catalog import dashboards
from dashboards.provisioning import PASSWORD_ENV
from tests.dashboards.pipeline_data import write_all
from watchkeeper.cli.main import cli
from watchkeeper.storage.engine import EmbeddedEngine
from watchkeeper.storage.schema import migrate


def test_build_writes_dashboards_and_provisioning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "reader-password")
    result = CliRunner().invoke(cli, ["dashboards", "build", "--out", str(tmp_path),
                                      "--url", "clickhouse://ch.internal:9440/metrics_db"])
    assert result.exit_code == 0, result.output
    written = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "dashboards" / "watchkeeper").glob("*.json")}
    assert written == {model["uid"]: model for model in dashboards()}
    provider = yaml.safe_load((tmp_path / "provisioning" / "dashboards" / "watchkeeper.yaml").read_text())
    assert provider["providers"][0]["options"] == {"path": str((tmp_path / "dashboards").resolve()),
                                                   "foldersFromFilesStructure": True}
    source = yaml.safe_load((tmp_path / "provisioning" / "datasources" / "watchkeeper.yaml").read_text())
    [entry] = source["datasources"]
    assert entry["jsonData"] == {"host": "ch.internal", "port": 9440, "protocol": "native", "secure": False,
                                 "username": "watchkeeper_grafana", "defaultDatabase": "metrics_db"}
    assert entry["secureJsonData"] == {"password": f"${PASSWORD_ENV}"}  # the secret stays in the environment
    sql = (tmp_path / "clickhouse" / "grafana-user.sql").read_text()
    assert "GRANT SELECT ON metrics_db.*" in sql and "readonly = 2" in sql and "reader-password" not in sql
    assert "<allow_databases><database>metrics_db</database>" in (
        tmp_path / "clickhouse" / "users.d" / "watchkeeper-grafana.xml").read_text()


def test_build_refuses_an_embedded_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["dashboards", "build", "--out", str(tmp_path), "--url", "chdb:///tmp/x"])
    assert result.exit_code == 2 and "Grafana needs a ClickHouse server" in result.output


def test_preview_draws_a_png_per_dashboard(tmp_path: Path) -> None:
    engine = EmbeddedEngine(tmp_path / "db")
    migrate(engine)
    write_all(engine)
    engine.close()
    result = CliRunner().invoke(cli, ["dashboards", "preview", "--out", str(tmp_path / "png"),
                                      "--url", f"chdb://{tmp_path / 'db'}", "--range", "3h"])
    assert result.exit_code == 0, result.output
    pngs = sorted((tmp_path / "png").glob("*.png"))
    assert [p.stem for p in pngs] == sorted(model["uid"] for model in dashboards())
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 20_000 for p in pngs)


def test_preview_rejects_a_bad_range(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["dashboards", "preview", "--out", str(tmp_path), "--range", "soon"])
    assert result.exit_code == 2 and "found 'soon'" in result.output
