"""What `dashboards build` writes: dashboard JSON, Grafana provisioning files and Grafana's ClickHouse user.

    OUT/dashboards/watchkeeper/<uid>.json         one file per dashboard (folder "Watchkeeper")
    OUT/provisioning/dashboards/watchkeeper.yaml  a file provider reading OUT/dashboards
    OUT/provisioning/datasources/watchkeeper.yaml the ClickHouse data source, as the read-only user
    OUT/clickhouse/grafana-user.sql               for ClickHouse 20.5+ (run as an administrator)
    OUT/clickhouse/users.d/watchkeeper-grafana.xml for older servers (18.16): copy into users.d

The password never lands in the data source file: Grafana expands
$WATCHKEEPER_GRAFANA_DB_PASSWORD from its environment when it provisions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from dashboards.catalog import dashboards
from dashboards.model import DATASOURCE_NAME, DATASOURCE_UID, PLUGIN_ID
from watchkeeper.errors import ConfigError, Problem
from watchkeeper.storage.migrations.m0500_grafana_user import GRAFANA_USER, grafana_user_sql, users_xml

FOLDER = "Watchkeeper"
PASSWORD_ENV = "WATCHKEEPER_GRAFANA_DB_PASSWORD"


@dataclass(frozen=True)
class Connection:
    """How Grafana reaches ClickHouse (the native protocol, as the read-only user)."""

    host: str
    port: int
    database: str
    secure: bool = False

    @classmethod
    def from_url(cls, url: str, secure: bool = False, source: str = "clickhouse.url") -> Connection:
        parsed = urlparse(url)
        if parsed.scheme != "clickhouse":
            raise ConfigError([Problem(source, "", f"found {url!r}; allowed: clickhouse://host:port/db "
                                                   "(Grafana needs a ClickHouse server; chdb runs in-process)")])
        return cls(parsed.hostname or "127.0.0.1", parsed.port or 9000, parsed.path.strip("/") or "watchkeeper",
                   secure)


def datasource(connection: Connection, password: str) -> dict[str, Any]:
    """The data source as Grafana's API and provisioning both describe it."""
    return {
        "name": DATASOURCE_NAME, "type": PLUGIN_ID, "uid": DATASOURCE_UID, "access": "proxy", "editable": False,
        "jsonData": {"host": connection.host, "port": connection.port, "protocol": "native",
                     "secure": connection.secure, "username": GRAFANA_USER,
                     "defaultDatabase": connection.database},
        "secureJsonData": {"password": password},
    }


def _yaml(document: dict[str, Any]) -> str:
    text: str = yaml.safe_dump(document, sort_keys=False)
    return text


def write_build(out: Path, connection: Connection, password: str) -> list[Path]:
    """Write every file; return their paths. Re-running overwrites them with identical content."""
    board_dir = out / "dashboards" / "watchkeeper"
    files: dict[Path, str] = {
        board_dir / f"{model['uid']}.json": json.dumps(model, indent=2, sort_keys=True) + "\n"
        for model in dashboards()
    }
    files[out / "provisioning" / "dashboards" / "watchkeeper.yaml"] = _yaml({"apiVersion": 1, "providers": [{
        "name": "watchkeeper", "type": "file", "disableDeletion": False, "allowUiUpdates": False,
        "options": {"path": str((out / "dashboards").resolve()), "foldersFromFilesStructure": True}}]})
    files[out / "provisioning" / "datasources" / "watchkeeper.yaml"] = _yaml(
        {"apiVersion": 1, "datasources": [datasource(connection, f"${PASSWORD_ENV}")]})
    files[out / "clickhouse" / "grafana-user.sql"] = ";\n".join(grafana_user_sql(connection.database, password)) + ";\n"
    files[out / "clickhouse" / "users.d" / "watchkeeper-grafana.xml"] = users_xml(connection.database, password)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(files)
