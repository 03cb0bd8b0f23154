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
    pattern = compile_pattern("[ip, user, username, timestamp, request, status_code, bytes]")
    assert pattern.extract(EVENTS["access404"]) == {
        "$ip": "127.0.0.1", "$user": "-", "$username": "frank",
        "$timestamp": "10/Oct/2000:13:25:15 -0700", "$request": "GET /index.html HTTP/1.0",
        "$status_code": "404", "$bytes": "1534",
    }


def test_extract_with_ellipsis_binds_the_named_fields_only() -> None:
    pattern = compile_pattern("[..., status_code = 4*, bytes]")
    assert pattern.extract(EVENTS["access410"]) == {"$status_code": "410", "$bytes": "233"}
    assert pattern.extract(EVENTS["access500"]) == {}


def test_extract_gives_json_selectors_of_a_matching_event() -> None:
    pattern = compile_pattern("{ $.bandwidth > 75 && ($.latency < 50 || $.missing IS NULL) }")
    assert pattern.extract(EVENTS["cloudtrail"]) == {"$.bandwidth": 76, "$.latency": 49.5}
    assert pattern.extract(EVENTS["typed"]) == {}


def test_value_of_resolves_metric_values_outside_the_pattern() -> None:
    pattern = compile_pattern('{ $.eventType = "UpdateTrail" }')
    assert pattern.value_of(EVENTS["cloudtrail"], "$.objectList[1].id") == 2
    assert pattern.value_of(EVENTS["cloudtrail"], "$.nothing") is None
    assert pattern.value_of(EVENTS["typed"], "$.bandwidth") is None  # the event does not match
    assert compile_pattern("[..., bytes]").value_of(EVENTS["access404"], "$bytes") == "1534"


def test_a_term_is_a_whole_token_not_a_substring() -> None:
    pattern = compile_pattern("ERROR")
    assert pattern.matches("ERROR: disk full")
    assert pattern.matches("x=ERROR")
    assert not pattern.matches("ERRORS everywhere")
    assert not pattern.matches("MY_ERROR")
    assert not pattern.matches("error")
