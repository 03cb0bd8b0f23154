"""LookupEvents over thousands of chained events, on both engines: pages, order, tokens, attributes, time range."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from audit.chain import Chainer, write_audit
from audit.lookup import LookupQuery, lookup_events
from audit.record import new_record, resource
from watchkeeper.errors import ApiError
from watchkeeper.storage.engine import Engine

START = 1_790_000_000
EVENTS = 3000
PER_SECOND = 7  # several events share each second: the page boundary often splits a second


def _record(index: int, when: int, **overrides: Any) -> dict[str, Any]:
    record = new_record(
        event_source="files.watchkeeper.local", event_name="ModifyFile",
        user_identity={"type": "HostUser", "principalId": "0", "userName": "root"}, installation_id="123456789012",
        resources=[resource("Host::File", f"/etc/app/{index}.conf", "web-1")], event_time=when)
    record.update(overrides)
    return record


def _store(engine: Engine, records: list[dict[str, Any]], chain: str = "web-1") -> None:
    assert write_audit(engine, Chainer(engine), [(chain, records)]) == len(records)


def _fill(engine: Engine, count: int = EVENTS) -> list[dict[str, Any]]:
    """count events over count / PER_SECOND seconds, stored on two chains in several inserts."""
    records = [_record(i, START + i // PER_SECOND) for i in range(count)]
    for number, first in enumerate(range(0, count, 700)):
        _store(engine, records[first:first + 700], f"web-{number % 2}")
    return records


def _expected_order(records: list[dict[str, Any]]) -> list[str]:
    """Newest first; within a second by eventID descending (what the keyset pages on)."""
    keyed = sorted(((r["eventTime"], r["eventID"]) for r in records), reverse=True)
    return [event_id for _, event_id in keyed]


def _all_pages(engine: Engine, query: LookupQuery,
               between_pages: Callable[[int, dict[str, Any]], None] | None = None) -> tuple[list[dict[str, Any]], int]:
    """Follow NextToken to the end; (every event returned, number of pages)."""
    events: list[dict[str, Any]] = []
    token: str | None = None
    pages = 0
    while True:
        answer = lookup_events(engine, query, token)
        pages += 1
        assert len(answer["Events"]) <= query.max_results
        events += answer["Events"]
        token = answer.get("NextToken")
        if token is None:
            return events, pages
        assert answer["Events"], "a page with a NextToken must not be empty"
        if between_pages is not None:
            between_pages(pages, answer["Events"][-1])


def _everything(max_results: int = 50, attribute: tuple[str, str] | None = None) -> LookupQuery:
    return LookupQuery(START - 10, START + EVENTS, max_results, attribute)


# One event per page over 3,000 events would take minutes; 120 events still split every second.
@pytest.mark.parametrize(("count", "max_results"), [(EVENTS, 50), (EVENTS, 37), (120, 1)])
def test_every_event_exactly_once_newest_first(engine: Engine, count: int, max_results: int) -> None:
    records = _fill(engine, count)
    events, pages = _all_pages(engine, _everything(max_results))
    returned = [e["EventId"] for e in events]
    assert returned == _expected_order(records)
    assert pages == -(-len(records) // max_results)
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)


def test_events_arriving_between_pages_appear_once_or_not_at_all(engine: Engine) -> None:
    """New events newer than the cursor are not on later pages; late deliveries older than it are, once."""
    records = _fill(engine)
    arrived_behind_cursor: list[str] = []
    arrived_ahead: list[str] = []

    def deliver(page: int, last: dict[str, Any]) -> None:
        if page > 20:
            return
        newer = _record(10_000 + page, START + EVENTS // PER_SECOND + page)
        # A late delivery whose eventTime lies in the part of the range not yet paged through.
        older = _record(20_000 + page, int(last["EventTime"]) - 30)
        _store(engine, [newer, older], f"late-{page}")
        arrived_ahead.append(newer["eventID"])
        arrived_behind_cursor.append(older["eventID"])

    events, _ = _all_pages(engine, _everything(), deliver)
    returned = [e["EventId"] for e in events]
    assert len(returned) == len(set(returned)), "an event appeared on two pages"
    original = {r["eventID"] for r in records}
    assert original <= set(returned), f"{len(original - set(returned))} stored events never returned"
    assert not set(arrived_ahead) & set(returned), "an event newer than the cursor showed up on a later page"
    assert set(arrived_behind_cursor) <= set(returned)
    keys = [(e["EventTime"], e["EventId"]) for e in events]
    assert keys == sorted(keys, reverse=True)


def test_next_token_only_works_with_identical_parameters(engine: Engine) -> None:
    _fill(engine)
    query = _everything(20)
    token = lookup_events(engine, query, None)["NextToken"]
    assert lookup_events(engine, query, token)["Events"]
    for other in (LookupQuery(query.start, query.end, 21, None), LookupQuery(query.start + 1, query.end, 20, None),
                  LookupQuery(query.start, query.end - 1, 20, None),
                  LookupQuery(query.start, query.end, 20, ("EventName", "ModifyFile"))):
        with pytest.raises(ApiError) as refused:
            lookup_events(engine, other, token)
        assert refused.value.code == "InvalidNextTokenException"
    with pytest.raises(ApiError) as garbage:
        lookup_events(engine, query, "bm90IGEgdG9rZW4=")
    assert garbage.value.code == "InvalidNextTokenException"


def test_every_lookup_attribute_finds_exactly_its_events(engine: Engine) -> None:
    _fill(engine)  # background noise: 3,000 ModifyFile by root on /etc/app/*.conf
    when = START + 100
    sudo = _record(1, when, eventSource="logins.watchkeeper.local", eventName="SudoCommand",
                   userIdentity={"type": "HostUser", "userName": "alice", "uid": 1000},
                   resources=[resource("Host::User", "alice", "web-1")])
    alarm = _record(2, when, eventSource="watchkeeper.api", eventName="PutMetricAlarm", readOnly=True,
                    userIdentity={"type": "WatchkeeperUser", "userName": "bob", "accessKeyId": "AKWKBOB"},
                    resources=[resource("Watchkeeper::Alarm", "cpu-high", "web-1")])
    two_files = _record(3, when, eventName="MoveFile",
                        resources=[resource("Host::File", "/etc/new.conf", "web-1"),
                                   resource("Host::File", "/etc/old.conf", "web-1")])
    _store(engine, [sudo, alarm, two_files], "web-3")
    expectations = {
        ("EventId", sudo["eventID"]): {sudo["eventID"]},
        ("EventName", "SudoCommand"): {sudo["eventID"]},
        ("EventName", "MoveFile"): {two_files["eventID"]},
        ("ReadOnly", "true"): {alarm["eventID"]},
        ("Username", "alice"): {sudo["eventID"]},
        ("Username", "bob"): {alarm["eventID"]},
        ("ResourceType", "Watchkeeper::Alarm"): {alarm["eventID"]},
        ("ResourceType", "Host::User"): {sudo["eventID"]},
        ("ResourceName", "/etc/old.conf"): {two_files["eventID"]},
        ("ResourceName", "/etc/new.conf"): {two_files["eventID"]},
        ("ResourceName", "cpu-high"): {alarm["eventID"]},
        ("EventSource", "watchkeeper.api"): {alarm["eventID"]},
        ("AccessKeyId", "AKWKBOB"): {alarm["eventID"]},
        ("EventName", "DeleteAlarms"): set(),
    }
    for attribute, expected in expectations.items():
        events, _ = _all_pages(engine, _everything(attribute=attribute))
        assert {e["EventId"] for e in events} == expected, attribute
    found = lookup_events(engine, _everything(attribute=("AccessKeyId", "AKWKBOB")), None)["Events"][0]
    assert found["EventName"] == "PutMetricAlarm" and found["ReadOnly"] == "true"
    assert found["AccessKeyId"] == "AKWKBOB" and found["Username"] == "bob"
    assert found["Resources"] == [{"ResourceType": "Watchkeeper::Alarm", "ResourceName": "cpu-high"}]
    assert found["EventTime"] == when and found["EventSource"] == "watchkeeper.api"
    # ReadOnly=false is everything else; an unknown ReadOnly value is refused by name.
    not_read_only, _ = _all_pages(engine, _everything(attribute=("ReadOnly", "false")))
    assert len(not_read_only) == EVENTS + 2
    with pytest.raises(ApiError) as refused:
        lookup_events(engine, _everything(attribute=("ReadOnly", "yes")), None)
    assert refused.value.code == "InvalidLookupAttributesException" and "'yes'" in refused.value.message


def test_time_range_is_inclusive_at_both_ends(engine: Engine) -> None:
    at = {offset: _record(offset, START + offset) for offset in (-1, 0, 5, 10, 11)}
    _store(engine, list(at.values()))
    events, _ = _all_pages(engine, LookupQuery(START, START + 10, 50, None))
    assert [e["EventId"] for e in events] == [at[10]["eventID"], at[5]["eventID"], at[0]["eventID"]]
    single, _ = _all_pages(engine, LookupQuery(START + 5, START + 5, 50, None))
    assert [e["EventId"] for e in single] == [at[5]["eventID"]]
