"""LookupEvents request bounds and the read-only Query action through a real uvicorn server, on both engines."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from audit.chain import Chainer, write_audit
from audit.record import new_record, resource
from watchkeeper.storage.engine import Engine

START = 1_790_000_000
USERS = {"alice": 3, "bob": 2, "root": 1}


@pytest.fixture
def stored(engine: Engine) -> list[dict[str, Any]]:
    """Six events by three users, one second apart."""
    records = [
        new_record(event_source="files.watchkeeper.local", event_name="ModifyFile",
                   user_identity={"type": "HostUser", "userName": user}, installation_id="123456789012",
                   resources=[resource("Host::File", f"/etc/{user}/{n}", "web-1")], event_time=START + i)
        for i, (user, n) in enumerate((user, n) for user, count in USERS.items() for n in range(count))
    ]
    write_audit(engine, Chainer(engine), [("web-1", records)])
    return records


def lookup(api: httpx.Client, **fields: Any) -> httpx.Response:
    return api.post("/v1/cloudtrail/LookupEvents",
                    json={"StartTime": START - 1, "EndTime": START + 100, **fields})


def query(api: httpx.Client, statement: str) -> httpx.Response:
    return api.post("/v1/cloudtrail/Query", json={"QueryStatement": statement})


@pytest.mark.parametrize("max_results", [1, 50])
def test_max_results_bounds_are_accepted(api: httpx.Client, stored: list[dict[str, Any]], max_results: int) -> None:
    response = lookup(api, MaxResults=max_results)
    assert response.status_code == 200, response.text
    assert len(response.json()["Events"]) == min(max_results, len(stored))
    assert ("NextToken" in response.json()) == (max_results < len(stored))


@pytest.mark.parametrize("max_results", [0, 51, -1])
def test_max_results_out_of_bounds_is_refused(api: httpx.Client, max_results: int) -> None:
    response = lookup(api, MaxResults=max_results)
    assert response.status_code == 400
    assert response.json()["__type"] == "InvalidParameterException"
    assert "MaxResults" in response.json()["message"] and str(max_results) in response.json()["message"]


def test_lookup_refuses_two_attributes_an_unknown_key_and_a_reversed_range(api: httpx.Client) -> None:
    two = lookup(api, LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "bob"},
                                        {"AttributeKey": "EventName", "AttributeValue": "ModifyFile"}])
    assert two.status_code == 400 and "LookupAttributes" in two.json()["message"]
    unknown = lookup(api, LookupAttributes=[{"AttributeKey": "Color", "AttributeValue": "red"}])
    assert unknown.status_code == 400 and "'Color'" in unknown.json()["message"]
    reversed_range = lookup(api, StartTime=START + 10, EndTime=START)
    assert reversed_range.status_code == 400 and reversed_range.json()["__type"] == "InvalidTimeRangeException"


def test_lookup_over_http_pages_and_returns_the_record(api: httpx.Client, stored: list[dict[str, Any]]) -> None:
    first = lookup(api, MaxResults=2, LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "alice"}])
    body = first.json()
    second = lookup(api, MaxResults=2, NextToken=body["NextToken"],
                    LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "alice"}]).json()
    alice = [r["eventID"] for r in reversed(stored) if r["userIdentity"]["userName"] == "alice"]
    assert [e["EventId"] for e in body["Events"] + second["Events"]] == alice
    assert "NextToken" not in second
    changed = lookup(api, MaxResults=3, NextToken=body["NextToken"])
    assert changed.status_code == 400 and changed.json()["__type"] == "InvalidNextTokenException"


def test_query_answers_a_group_by(api: httpx.Client, engine: Engine, stored: list[dict[str, Any]]) -> None:
    response = query(api, "SELECT username, count() AS n FROM audit_events GROUP BY username ORDER BY username")
    assert response.status_code == 200, response.text
    assert response.json() == {"Rows": [[user, count] for user, count in sorted(USERS.items())], "Truncated": False}
    nested = query(api, "SELECT count() FROM audit_events WHERE event_id IN (SELECT event_id FROM audit_events)")
    assert nested.json()["Rows"] == [[len(stored)]]
    qualified = query(api, f"SELECT count() FROM {engine.database}.audit_events")
    assert qualified.json()["Rows"] == [[len(stored)]]


@pytest.mark.parametrize(("statement", "named"), [
    ("INSERT INTO audit_events (chain) VALUES ('forged')", "only SELECT"),
    ("ALTER TABLE audit_events DELETE WHERE 1", "only SELECT"),
    ("DROP TABLE audit_events", "only SELECT"),
    ("SELECT 1; DROP TABLE audit_events", "';'"),
    ("SELECT * FROM audit_events INTO OUTFILE '/tmp/x'", "'INTO'"),
    ("SELECT * FROM audit_events FORMAT JSON", "'FORMAT'"),
    ("SELECT count() FROM audit_events SETTINGS max_threads = 1", "'SETTINGS'"),
    ("SELECT * FROM metric_samples", "'metric_samples'"),
    ("SELECT name FROM system.tables", "'system'"),
    ("SELECT * FROM other_installation.audit_events", "'other_installation.audit_events'"),
    ("SELECT * FROM audit_events JOIN alarms USING (chain)", "'alarms'"),
    ("SELECT * FROM numbers(10)", "'numbers'"),
    ("SELECT * FROM file('/etc/passwd', 'CSV', 'line String')", "'file'"),
    ("SELECT * FROM url('http://127.0.0.1/', 'CSV', 'x String')", "'url'"),
])
def test_query_refuses_writes_other_tables_table_functions_and_settings(
        api: httpx.Client, engine: Engine, stored: list[dict[str, Any]], statement: str, named: str) -> None:
    response = query(api, statement)
    assert response.status_code == 400, response.text
    assert response.json()["__type"] == "InvalidQueryStatementException"
    assert named in response.json()["message"]
    assert engine.query("SELECT count() FROM audit_events") == [(len(stored),)]
