"""DescribeLogGroups / DescribeLogStreams, and the `watchkeeper logs` CLI end to end against a real server."""

from __future__ import annotations

import json

import httpx
from click.testing import CliRunner
from logs_support import BASE_MS, Line, call, write

from watchkeeper.cli.main import cli
from watchkeeper.storage.engine import Engine


def test_describe_groups_and_streams(logs_api: httpx.Client, engine: Engine) -> None:
    write(engine, "app/web", [Line(BASE_MS + 5000, "a", "b-stream"), Line(BASE_MS, "bb", "a-stream"),
                              Line(BASE_MS + 9000, "c", "c-stream")])
    write(engine, "db", [Line(BASE_MS, "x")])
    call(logs_api, "CreateLogGroup", {"logGroupName": "empty"})
    assert call(logs_api, "CreateLogGroup", {"logGroupName": "empty"}, 400)["__type"] == \
        "ResourceAlreadyExistsException"
    groups = call(logs_api, "DescribeLogGroups", {})["logGroups"]
    assert [(g["logGroupName"], g["storedBytes"]) for g in groups] == [("app/web", 4), ("db", 1), ("empty", 0)]
    first = call(logs_api, "DescribeLogGroups", {"limit": 2})
    rest = call(logs_api, "DescribeLogGroups", {"limit": 2, "nextToken": first["nextToken"]})
    assert [g["logGroupName"] for g in first["logGroups"] + rest["logGroups"]] == ["app/web", "db", "empty"]
    assert [g["logGroupName"] for g in call(logs_api, "DescribeLogGroups", {"logGroupNamePrefix": "app"})[
        "logGroups"]] == ["app/web"]

    streams = call(logs_api, "DescribeLogStreams", {"logGroupName": "app/web"})["logStreams"]
    assert [(s["logStreamName"], s["firstEventTimestamp"]) for s in streams] == [
        ("a-stream", BASE_MS), ("b-stream", BASE_MS + 5000), ("c-stream", BASE_MS + 9000)]
    latest = call(logs_api, "DescribeLogStreams", {"logGroupName": "app/web", "orderBy": "LastEventTime",
                                                   "descending": True, "limit": 1})
    assert [s["logStreamName"] for s in latest["logStreams"]] == ["c-stream"] and "nextToken" in latest
    bad = call(logs_api, "DescribeLogStreams", {"logGroupName": "app/web", "orderBy": "LastEventTime",
                                                "logStreamNamePrefix": "a"}, 400)
    assert "orderBy is LastEventTime" in bad["message"]
    assert call(logs_api, "DescribeLogStreams", {"logGroupName": "nope"}, 400)["__type"] == "ResourceNotFoundException"


def run(endpoint: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--endpoint", endpoint, "logs", *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_end_to_end(endpoint: str, engine: Engine) -> None:
    write(engine, "app", [Line(BASE_MS + i * 1000, f"{'ERROR' if i % 2 else 'INFO'} {i}", f"s{i % 2}")
                          for i in range(6)])
    code, out, _ = run(endpoint, "filter-log-events", "--log-group-name", "app", "--filter-pattern", "ERROR",
                       "--start-time", str(BASE_MS))
    assert code == 0 and [e["message"] for e in json.loads(out)["events"]] == ["ERROR 1", "ERROR 3", "ERROR 5"]
    code, out, _ = run(endpoint, "filter-log-events", "--log-group-name", "app", "--limit", "2")
    page = json.loads(out)
    assert code == 0 and len(page["events"]) == 2 and page["nextToken"]
    code, out, _ = run(endpoint, "tail", "app", "--since", "2h", "--format", "short", "--filter-pattern", "INFO")
    assert code == 0 and [line.split(" ", 1)[1] for line in out.splitlines()] == ["INFO 0", "INFO 2", "INFO 4"]
    code, out, _ = run(endpoint, "describe-log-streams", "--log-group-name", "app")
    assert code == 0 and [s["logStreamName"] for s in json.loads(out)["logStreams"]] == ["s0", "s1"]
    code, _, _ = run(endpoint, "put-metric-filter", "--log-group-name", "app", "--filter-name", "errors",
                     "--filter-pattern", "ERROR", "--metric-transformations",
                     "metricName=Errors,metricNamespace=App,metricValue=1,defaultValue=0")
    assert code == 0
    code, out, _ = run(endpoint, "describe-metric-filters", "--log-group-name", "app")
    assert code == 0 and json.loads(out)["metricFilters"][0]["metricTransformations"][0]["defaultValue"] == 0
    code, _, _ = run(endpoint, "delete-metric-filter", "--log-group-name", "app", "--filter-name", "errors")
    assert code == 0


def test_cli_bad_pattern_exits_2_with_the_column(endpoint: str, engine: Engine) -> None:
    write(engine, "app", [Line(BASE_MS, "x")])
    code, out, err = run(endpoint, "filter-log-events", "--log-group-name", "app", "--filter-pattern", "[a, b = ]")
    assert code == 2 and out == ""
    assert "InvalidParameterException" in err and "column 9" in err and "Traceback" not in err
    code, _, err = run(endpoint, "tail", "app", "--since", "yesterday")
    assert code == 2 and "--since" in err
