"""Create or update the data source, the folder and every dashboard in a Grafana, through grafana-client.

Idempotent: the data source and folder keep stable uids (created when missing,
updated otherwise) and dashboards are posted with overwrite, so pushing twice
leaves the same Grafana. Before changing anything it checks that Grafana answers,
that the credentials are accepted and that the ClickHouse plugin is installed.
Failures become ApiError with a message saying what to do (the CLI exits 2 for
bad input or credentials, 3 when Grafana cannot be reached).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import niquests
from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaUnauthorizedError

from dashboards.catalog import dashboards
from dashboards.model import DATASOURCE_UID, PLUGIN_ID
from watchkeeper.errors import ApiError

UNREACHABLE = 503
T = TypeVar("T")


@dataclass(frozen=True)
class Credentials:
    token: str | None = None
    user: str | None = None
    password: str | None = None

    def for_client(self) -> str | tuple[str, str]:
        if self.token:
            return self.token
        if self.user and self.password is not None:
            return (self.user, self.password)
        raise ApiError("MissingCredentials", "give --token, or --user and --password", 400)


@dataclass
class PushReport:
    datasource: str = ""
    folder: str = ""
    dashboards: list[str] = field(default_factory=list)


def folder_uid(name: str) -> str:
    """A stable folder uid derived from its name, so a re-push finds the same folder."""
    return "wk-" + (re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "folder")[:36]


def _call(url: str, what: str, action: Callable[[], T]) -> T:
    try:
        return action()
    except GrafanaUnauthorizedError:
        raise ApiError("GrafanaUnauthorized", f"Grafana at {url} refused the credentials (401) while {what}; "
                       "check --token or --user/--password", 401) from None
    except GrafanaClientError as error:
        raise ApiError("GrafanaRefused", f"Grafana at {url} answered {error.status_code} while {what}: "
                       f"{error.message}", 400 if error.status_code < 500 else error.status_code) from None
    except (GrafanaException, niquests.exceptions.RequestException, OSError) as error:
        raise ApiError("GrafanaUnreachable", f"cannot reach Grafana at {url} while {what}: {error}",
                       UNREACHABLE) from None


def _check_plugin(api: GrafanaApi, url: str) -> None:
    try:
        _call(url, "looking for the ClickHouse plugin",
              lambda: api.client.GET(f"/plugins/{PLUGIN_ID}/settings"))
    except ApiError as error:
        if error.code != "GrafanaRefused":
            raise
        raise ApiError("GrafanaPluginMissing", f"Grafana at {url} has no {PLUGIN_ID} plugin; install it with "
                       f"`grafana cli plugins install {PLUGIN_ID}` and restart Grafana", 400) from None


def _exists(url: str, what: str, action: Callable[[], Any]) -> bool:
    try:
        _call(url, what, action)
    except ApiError as error:
        if error.code == "GrafanaRefused" and "answered 404" in error.message:
            return False
        raise
    return True


def push(url: str, credentials: Credentials, datasource: dict[str, Any], folder: str) -> PushReport:
    api = GrafanaApi.from_url(url, credential=credentials.for_client(), timeout=10.0)
    _call(url, "checking its health", api.health.check)
    _check_plugin(api, url)
    report = PushReport()
    if _exists(url, "reading the data source", lambda: api.datasource.get_datasource_by_uid(DATASOURCE_UID)):
        _call(url, "updating the data source", lambda: api.datasource.update_datasource_by_uid(DATASOURCE_UID,
                                                                                                 datasource))
        report.datasource = "updated"
    else:
        _call(url, "creating the data source", lambda: api.datasource.create_datasource(datasource))
        report.datasource = "created"
    uid = folder_uid(folder)
    if _exists(url, "reading the folder", lambda: api.folder.get_folder(uid)):
        report.folder = "exists"
    else:
        _call(url, "creating the folder", lambda: api.folder.create_folder(folder, uid=uid))
        report.folder = "created"
    for model in dashboards():
        body = {"dashboard": model, "folderUid": uid, "overwrite": True, "message": "watchkeeper dashboards push"}
        _call(url, f"saving dashboard {model['uid']}", partial(api.dashboard.update_dashboard, body))
        report.dashboards.append(model["uid"])
    return report
