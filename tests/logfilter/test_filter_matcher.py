"""The in-process matcher against the documentation's examples, and metric-filter extraction."""

from __future__ import annotations

import pytest
from filter_cases import CASES, EVENTS

from watchkeeper.logfilter import compile_pattern


@pytest.mark.parametrize(("pattern", "expected"), CASES, ids=[case[0] or "<empty>" for case in CASES])
def test_matches_documented_examples(pattern: str, expected: set[str]) -> None:
    compiled = compile_pattern(pattern)
    matched = {key for key, message in EVENTS.items() if compiled.matches(message)}
    assert matched == expected


def test_extract_names_every_space_delimited_field() -> None:
    # FilterAndPatternSyntax.md (2022): "Example: Extracted fields and values"
    expected = {
        "$bytes": "1534", "$status_code": "404", "$request": "GET /index.html HTTP/1.0",
        "$timestamp": "10/Oct/2000:13:25:15 -0700", "$username": "frank", "$user": "Prod", "$ip": "127.0.0.1",
    }
    pattern = compile_pattern("[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]")
    assert pattern.extract(EVENTS["prod404"]) == expected
    server = compile_pattern("[ip, server, username, timestamp, request, status_code, bytes > 1000]")
    assert server.extract(EVENTS["prod404"]) == {**{k: v for k, v in expected.items() if k != "$user"},
                                                 "$server": "Prod"}


def test_extract_names_unnamed_fields_by_position() -> None:
    # FilterAndPatternSyntax.md (2018-2021): the fields `...` covers are $1..$4, the empty last slot $7.
    # (The guide shows "$request": "GET /products/index.html HTTP/1.0", which its own event does not hold.)
    pattern = compile_pattern("[..., request=*.html*, status_code=4*,]")
    assert pattern.extract(EVENTS["access404"]) == {
        "$status_code": "404", "$request": "GET /index.html HTTP/1.0", "$7": "1534",
        "$4": "10/Oct/2000:13:25:15 -0700", "$3": "frank", "$2": "-", "$1": "127.0.0.1",
    }
    assert pattern.extract(EVENTS["apache1"]) == {}


def test_extract_with_ellipsis_names_the_rest_by_position() -> None:
    pattern = compile_pattern("[..., status_code = 4*, bytes]")
    assert pattern.extract(EVENTS["access410"]) == {
        "$1": "192.168.0.3", "$2": "-", "$3": "alice", "$4": "10/Oct/2000:13:27:44 -0700",
        "$5": "GET /old.html HTTP/1.1", "$status_code": "410", "$bytes": "233",
    }
    assert pattern.extract(EVENTS["access500"]) == {}


def test_metric_value_by_name_and_by_position() -> None:
    # ExtractBytesExample.md: metricValue $size, "the value of the seventh matched token ... "$7""
    pattern = compile_pattern("[ip, id, user, timestamp, request, status_code, size]")
    keys = ["bytes1", "bytes2", "bytes3", "bytes4", "bytes5", "bytes6"]
    sizes = ["287", "287", "3", "308", "308", "3"]
    assert [pattern.value_of(EVENTS[key], "$size") for key in keys] == sizes
    assert [pattern.value_of(EVENTS[key], "$7") for key in keys] == sizes
    assert pattern.value_of(EVENTS["bytes1"], "$8") is None
    assert pattern.value_of(EVENTS["e400"], "$size") is None  # three fields: no match


def test_extract_gives_json_selectors_of_a_matching_event() -> None:
    pattern = compile_pattern("{ $.bandwidth > 75 && ($.latency > 50 || $.missing IS NULL) }")
    assert pattern.extract(EVENTS["numbers"]) == {"$.bandwidth": 76, "$.latency": 1500}
    assert pattern.extract(EVENTS["numbers_low"]) == {}


def test_value_of_resolves_metric_values_outside_the_pattern() -> None:
    # FilterAndPatternSyntax.md: { $.latency = * } with metricValue $.latency publishes 50
    assert compile_pattern("{ $.latency = * }").value_of(EVENTS["latency50"], "$.latency") == 50
    pattern = compile_pattern('{ $.eventType = "UpdateTrail" }')
    assert pattern.value_of(EVENTS["cloudtrail"], "$.objectList[1].id") == 2
    assert pattern.value_of(EVENTS["cloudtrail"], "$.nothing") is None
    assert pattern.value_of(EVENTS["typed"], "$.bandwidth") is None  # the event does not match
    assert compile_pattern("[..., bytes]").value_of(EVENTS["access404"], "$bytes") == "1534"


def test_a_term_is_a_case_sensitive_substring() -> None:
    # FilterAndPatternSyntax.md (2018-2021): "ERROR" matches "Exiting with ERRORCODE: -1"
    pattern = compile_pattern("ERROR")
    assert pattern.matches("ERROR: disk full")
    assert pattern.matches("ERRORS everywhere")
    assert pattern.matches("MY_ERROR")
    assert not pattern.matches("error")
    assert not pattern.matches("ERR OR")
