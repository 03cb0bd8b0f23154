"""FilterLogEvents through a real API server on both engines: pushdown equals the in-process matcher,
pages return every event exactly once and in order, duplicates fold, stream and time filters hold."""

from __future__ import annotations

import httpx
import pytest
from logs_support import BASE_MS, Line, all_events, call, envelope_of, store, write

from watchkeeper.logfilter import compile_pattern
from watchkeeper.storage.engine import Engine

MESSAGES = [
    "ERROR 400 bad request",
    "[ERROR] disk full",
    "ERRORS are not errors",
    "INFO user=alice action=login",
    "WARN slow query took 1200 ms",
    '{"level": "error", "status": 503, "user": {"name": "bob"}, "latency": 12.5}',
    '{"level": "info", "status": 200, "user": {"name": "alice"}, "latency": 3}',
    '{"level": "info", "status": "500"}',
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /index.html HTTP/1.0" 404 2326',
    '10.0.0.2 - - [10/Oct/2000:13:56:01 -0700] "POST /login HTTP/1.1" 200 512',
    "request id 42 from 10.1.2.3 failed",
    "INTERNAL SERVER ERROR on /api",
]
PATTERNS = [
    "",
    "ERROR",
    '"INTERNAL SERVER ERROR"',
    "?WARN ?INFO",
    "ERROR -disk",
    "{ $.status >= 500 }",
    '{ $.level = "info" && $.user.name = "ali*" }',
    "{ $.user.name NOT EXISTS }",
    "[ip, identity, user, timestamp, request = *GET*, status = 4*, bytes]",
    "[..., status = 200, bytes > 500]",
    r"%\d+\.\d+\.\d+\.\d+%",
    "%^INFO%",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_pushdown_equals_in_process_matcher(logs_api: httpx.Client, engine: Engine, pattern: str) -> None:
    write(engine, "app", [Line(BASE_MS + index * 1000, message) for index, message in enumerate(MESSAGES)])
    expected = [m for m in MESSAGES if compile_pattern(pattern).matches(m)]
    assert expected, "every pattern here matches something"
    answer = call(logs_api, "FilterLogEvents", {"logGroupName": "app", "filterPattern": pattern})
    assert [event["message"] for event in answer["events"]] == expected
    assert "nextToken" not in answer
    event = answer["events"][0]
    assert set(event) == {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}
    assert isinstance(event["eventId"], str) and event["logStreamName"] == "web-1"


@pytest.mark.parametrize("pattern", ["", "seq", "[word, number = *7]"])
def test_pages_return_every_event_once_in_order(logs_api: httpx.Client, engine: Engine, pattern: str) -> None:
    # 3,000 events, ten per millisecond, so pages break inside runs of equal timestamps.
    lines = [Line(BASE_MS + index // 10, f"seq {index}", f"s{index % 3}") for index in range(3000)]
    for start in range(0, len(lines), 1000):
        write(engine, "app", lines[start:start + 1000])
    matcher = compile_pattern(pattern)
    expected = [line.message for line in lines if matcher.matches(line.message)]
    events = all_events(logs_api, {"logGroupName": "app", "filterPattern": pattern, "limit": 137})
    assert sorted(event["message"] for event in events) == sorted(expected)
    keys = [(event["timestamp"], int(event["eventId"])) for event in events]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_a_batch_delivered_twice_is_returned_once(logs_api: httpx.Client, engine: Engine) -> None:
    envelope = envelope_of("app", [Line(BASE_MS + i, f"line {i}") for i in range(50)])
    store(engine, envelope)
    store(engine, envelope)
    events = all_events(logs_api, {"logGroupName": "app", "limit": 7})
    assert [event["message"] for event in events] == [f"line {i}" for i in range(50)]


def test_stream_and_time_filters(logs_api: httpx.Client, engine: Engine) -> None:
    write(engine, "app", [Line(BASE_MS + i * 1000, f"event {i}", stream) for i in range(10)
                          for stream in ("web-1", "web-2", "db-1")])
    write(engine, "other", [Line(BASE_MS, "event 0", "web-1")])

    def messages(**body: object) -> list[tuple[str, str]]:
        answer = call(logs_api, "FilterLogEvents", {"logGroupName": "app", **body})
        return [(event["logStreamName"], event["message"]) for event in answer["events"]]

    assert messages(logStreamNames=["db-1"]) == [("db-1", f"event {i}") for i in range(10)]
    assert {stream for stream, _ in messages(logStreamNamePrefix="web-")} == {"web-1", "web-2"}
    # Both ends are inclusive.
    assert sorted(messages(startTime=BASE_MS + 2000, endTime=BASE_MS + 4000, logStreamNames=["web-1"])) == [
        ("web-1", "event 2"), ("web-1", "event 3"), ("web-1", "event 4")]
    answer = call(logs_api, "FilterLogEvents", {"logGroupName": "app", "logStreamNamePrefix": "db"})
    assert answer["searchedLogStreams"] == [{"logStreamName": "db-1", "searchedCompletely": True}]
    by_arn = call(logs_api, "FilterLogEvents",
                  {"logGroupIdentifier": "arn:watchkeeper:logs:local:000000000000:log-group:app"})
    assert len(by_arn["events"]) == 30


def test_bad_requests_name_the_problem(logs_api: httpx.Client, engine: Engine) -> None:
    write(engine, "app", [Line(BASE_MS, "x")])
    bad = call(logs_api, "FilterLogEvents", {"logGroupName": "app", "filterPattern": "{ $.status = }"}, 400)
    assert bad["__type"] == "InvalidParameterException"
    assert "column 14" in bad["message"] and "{ $.status = }" in bad["message"]
    both = call(logs_api, "FilterLogEvents", {"logGroupName": "app", "logStreamNames": ["a"],
                                              "logStreamNamePrefix": "a"}, 400)
    assert "logStreamNames and logStreamNamePrefix" in both["message"]
    assert call(logs_api, "FilterLogEvents", {"logGroupName": "app", "limit": 10_001}, 400)["__type"] == \
        "InvalidParameterException"
    missing = call(logs_api, "FilterLogEvents", {"logGroupName": "nope"}, 400)
    assert missing["__type"] == "ResourceNotFoundException"


def test_a_token_resumes_only_the_query_that_issued_it(logs_api: httpx.Client, engine: Engine) -> None:
    write(engine, "app", [Line(BASE_MS + i, f"ERROR {i}") for i in range(5)])
    first = call(logs_api, "FilterLogEvents", {"logGroupName": "app", "filterPattern": "ERROR", "limit": 2})
    token = first["nextToken"]
    moved = call(logs_api, "FilterLogEvents", {"logGroupName": "app", "filterPattern": "ERROR", "limit": 3,
                                               "nextToken": token})
    assert [e["message"] for e in moved["events"]] == ["ERROR 2", "ERROR 3", "ERROR 4"]
    other = call(logs_api, "FilterLogEvents", {"logGroupName": "app", "filterPattern": "INFO", "nextToken": token},
                 400)
    assert "other parameters" in other["message"]
    garbage = call(logs_api, "FilterLogEvents", {"logGroupName": "app", "nextToken": "not-a-token"}, 400)
    assert garbage["__type"] == "InvalidParameterException"
