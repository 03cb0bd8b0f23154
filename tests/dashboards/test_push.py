"""`dashboards push` against a stand-in for Grafana (fake_grafana.py; no Grafana can be installed here)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from dashboards.catalog import dashboards
from dashboards.model import DATASOURCE_UID
from dashboards.provisioning import PASSWORD_ENV, Connection, datasource
from dashboards.push import Credentials, folder_uid, push
from tests.dashboards.fake_grafana import PASSWORD, TOKEN, USER, GrafanaState, fake_grafana
from watchkeeper.errors import ApiError

SOURCE = datasource(Connection("clickhouse.internal", 9000, "watchkeeper"), "reader-password")
UIDS = [model["uid"] for model in dashboards()]


@pytest.fixture
def grafana() -> Iterator[tuple[str, GrafanaState]]:
    state = GrafanaState()
    with fake_grafana(state) as url:
        yield url, state


def test_push_creates_datasource_folder_and_every_dashboard(grafana: tuple[str, GrafanaState]) -> None:
    url, state = grafana
    report = push(url, Credentials(token=TOKEN), SOURCE, "Watchkeeper")
    assert (report.datasource, report.folder, report.dashboards) == ("created", "created", UIDS)
    assert state.datasources[DATASOURCE_UID]["jsonData"]["username"] == "watchkeeper_grafana"
    assert state.folders[folder_uid("Watchkeeper")]["title"] == "Watchkeeper"
    assert sorted(state.dashboards) == sorted(UIDS)
    assert all(body["folderUid"] == folder_uid("Watchkeeper") and body["overwrite"]
               for body in state.dashboards.values())
    assert state.dashboards["watchkeeper-logs"]["dashboard"] == dashboards()[1]


def test_push_twice_updates_in_place(grafana: tuple[str, GrafanaState]) -> None:
    url, state = grafana
    push(url, Credentials(user=USER, password=PASSWORD), SOURCE, "Watchkeeper")
    first = (dict(state.datasources), dict(state.folders), dict(state.dashboards))
    report = push(url, Credentials(user=USER, password=PASSWORD), SOURCE, "Watchkeeper")
    assert (report.datasource, report.folder) == ("updated", "exists")
    assert (state.datasources, state.folders, state.dashboards) == first
    assert ("PUT", f"/api/datasources/uid/{DATASOURCE_UID}") in state.requests


def test_bad_credentials_are_reported_before_anything_changes(grafana: tuple[str, GrafanaState]) -> None:
    url, state = grafana
    with pytest.raises(ApiError) as caught:
        push(url, Credentials(token="wrong"), SOURCE, "Watchkeeper")
    assert caught.value.code == "GrafanaUnauthorized" and caught.value.status == 401
    assert "401" in caught.value.message and not state.datasources and not state.dashboards


def test_missing_clickhouse_plugin_is_named(grafana: tuple[str, GrafanaState]) -> None:
    url, state = grafana
    state.plugin_installed = False
    with pytest.raises(ApiError) as caught:
        push(url, Credentials(token=TOKEN), SOURCE, "Watchkeeper")
    assert caught.value.code == "GrafanaPluginMissing"
    assert "grafana cli plugins install grafana-clickhouse-datasource" in caught.value.message
    assert not state.datasources


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_grafana_is_reported_as_unavailable() -> None:
    with pytest.raises(ApiError) as caught:
        push(f"http://127.0.0.1:{_closed_port()}", Credentials(token=TOKEN), SOURCE, "Watchkeeper")
    assert caught.value.code == "GrafanaUnreachable" and caught.value.status == 503


def test_cli_push_records_an_audit_event(grafana: tuple[str, GrafanaState], monkeypatch: pytest.MonkeyPatch) -> None:
    """The push goes to the (stand-in) Grafana, then to a real Watchkeeper API's PutAuditEvents."""
    from audit.recorder import AuditRecorder
    from watchkeeper.api.app import create_app
    from watchkeeper.api.context import ApiContext
    from watchkeeper.cli.cmd_api import ApiServer
    from watchkeeper.cli.main import cli
    from watchkeeper.config.settings import Settings
    from watchkeeper.wire import Envelope

    url, state = grafana
    submitted: list[Envelope] = []
    recorder = AuditRecorder(submitted.append, "test-host", "test-installation")
    context = ApiContext(Settings(), engine=None, services={"audit": recorder})  # type: ignore[arg-type]
    monkeypatch.setenv(PASSWORD_ENV, "reader-password")
    with ApiServer.running(create_app(context), "127.0.0.1:0") as api:
        result = CliRunner().invoke(cli, ["--endpoint", api.url, "dashboards", "push", "--grafana-url", url,
                                          "--token", TOKEN, "--folder", "Ops"])
    assert result.exit_code == 0, result.output
    assert sorted(state.dashboards) == sorted(UIDS)
    records: list[dict[str, Any]] = [record for envelope in submitted for record in envelope.items]
    assert [r["eventName"] for r in records] == ["PushDashboards"]
    assert records[0]["requestParameters"] == {"grafanaUrl": url, "folder": "Ops"}
    assert records[0]["responseElements"]["dashboards"] == UIDS


def test_cli_push_without_credentials_exits_2() -> None:
    from watchkeeper.cli.main import cli

    result = CliRunner().invoke(cli, ["dashboards", "push", "--grafana-url", "http://127.0.0.1:1"])
    assert result.exit_code == 2 and "--token T, or --user U --password P" in result.output


def test_cli_push_says_when_the_audit_record_failed(grafana: tuple[str, GrafanaState],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from watchkeeper.cli.main import cli

    url, state = grafana
    monkeypatch.setenv(PASSWORD_ENV, "reader-password")
    result = CliRunner().invoke(cli, ["--endpoint", f"http://127.0.0.1:{_closed_port()}", "dashboards", "push",
                                      "--grafana-url", url, "--token", TOKEN])
    assert result.exit_code == 3 and "NOT recorded in the audit trail" in result.output
    assert sorted(state.dashboards) == sorted(UIDS)
