"""`watchkeeper dashboards build|push|preview`: Grafana dashboards as code (dashboards/)."""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

import click

from dashboards.catalog import dashboards
from dashboards.provisioning import PASSWORD_ENV, Connection, datasource, write_build
from dashboards.push import Credentials, PushReport, push
from watchkeeper.cli._client import ApiClient, caller, client_from
from watchkeeper.config import load_settings
from watchkeeper.errors import ApiError, ConfigError, Problem
from watchkeeper.storage.engine import open_engine

_config = click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
                       help="watchkeeper.toml (clickhouse.url names the server Grafana reads).")
_url = click.option("--url", default=None, help="Override clickhouse.url.")
_RANGE = re.compile(r"^(\d+)([mhd])$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}


@click.group("dashboards")
def command() -> None:
    """Grafana dashboards over Watchkeeper's tables."""


def _db_password() -> str:
    return os.environ.get(PASSWORD_ENV) or secrets.token_urlsafe(24)


@command.command("build")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Directory to write into.")
@_config
@_url
def build_command(out: Path, config_path: Path | None, url: str | None) -> None:
    """Write dashboard JSON, Grafana provisioning files and Grafana's read-only ClickHouse user."""
    settings = load_settings(config_path)
    connection = Connection.from_url(url or settings.clickhouse.url, settings.clickhouse.secure,
                                     "--url" if url else "clickhouse.url")
    generated = PASSWORD_ENV not in os.environ
    for path in write_build(out, connection, _db_password()):
        click.echo(f"wrote {path}")
    if generated:
        click.echo(f"note: {PASSWORD_ENV} was not set, so a random password was rendered into {out}/clickhouse; "
                   f"set {PASSWORD_ENV} (for Grafana too) and build again to choose it")


def _push_event(grafana_url: str, folder: str, report: PushReport) -> dict[str, Any]:
    """The audit record of a push (PutAuditEvents shape): what was changed in which Grafana."""
    return {
        "eventSource": "watchkeeper.dashboards", "eventName": "PushDashboards", "eventType": "ExternalChange",
        "userIdentity": {"type": "WatchkeeperUser", "userName": caller()},
        "requestParameters": {"grafanaUrl": grafana_url, "folder": folder},
        "responseElements": {"datasource": report.datasource, "folder": report.folder,
                             "dashboards": report.dashboards},
        "resources": [{"ARN": f"grafana:{grafana_url}:dashboard/{uid}", "type": "Grafana::Dashboard"}
                      for uid in report.dashboards],
        "userAgent": "watchkeeper-cli/dashboards",
    }


@command.command("push")
@click.option("--grafana-url", required=True, help="e.g. http://grafana:3000")
@click.option("--token", envvar="WATCHKEEPER_GRAFANA_TOKEN", default=None, help="A Grafana service account token.")
@click.option("--user", default=None)
@click.option("--password", envvar="WATCHKEEPER_GRAFANA_PASSWORD", default=None)
@click.option("--folder", default="Watchkeeper", show_default=True)
@_config
@_url
@click.pass_context
def push_command(ctx: click.Context, grafana_url: str, token: str | None, user: str | None, password: str | None,
                 folder: str, config_path: Path | None, url: str | None) -> None:
    """Create or update the data source, the folder and every dashboard in Grafana; record it in the audit trail."""
    if not token and not (user and password is not None):
        raise ConfigError([Problem("push", "credentials", "found none; allowed: --token T, or --user U --password P")])
    settings = load_settings(config_path)
    connection = Connection.from_url(url or settings.clickhouse.url, settings.clickhouse.secure,
                                     "--url" if url else "clickhouse.url")
    if PASSWORD_ENV not in os.environ:
        raise ConfigError([Problem("environment", PASSWORD_ENV, "found nothing; allowed: the password of "
                                   "Grafana's read-only ClickHouse user (see `dashboards build`)")])
    report = push(grafana_url, Credentials(token, user, password), datasource(connection, os.environ[PASSWORD_ENV]),
                  folder)
    click.echo(f"data source {report.datasource}; folder {folder!r} {report.folder}; "
               f"dashboards saved: {', '.join(report.dashboards)}")
    client: ApiClient = client_from(ctx)
    try:
        answer = client.call("cloudtrail", "PutAuditEvents",
                             {"AuditEvents": [_push_event(grafana_url, folder, report)]})
    except ApiError:
        click.echo("error: the push is done but NOT recorded in the audit trail:", err=True)
        raise
    click.echo(f"recorded in the audit trail: {', '.join(answer.get('EventIds', []))}")


def _seconds(text: str) -> int:
    match = _RANGE.match(text)
    if match is None:
        raise ConfigError([Problem("--range", "", f"found {text!r}; allowed: a number and m, h or d, e.g. 24h")])
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


@command.command("preview")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Directory for the PNG files.")
@click.option("--range", "range_text", default="24h", show_default=True, help="How far back from now.")
@_config
@_url
def preview_command(out: Path, range_text: str, config_path: Path | None, url: str | None) -> None:
    """Draw every dashboard's panels to PNG files from the same queries Grafana runs."""
    from dashboards.preview import draw  # matplotlib only when drawing

    span = _seconds(range_text)
    settings = load_settings(config_path)
    engine = open_engine(url or settings.clickhouse.url, settings.clickhouse.password, settings.clickhouse.secure)
    out.mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    try:
        for model in dashboards():
            click.echo(f"wrote {draw(engine, model, now - span, now, out)}")
    finally:
        engine.close()
