"""AlarmRule parsing (with column-precise errors), evaluation, cycles and actions suppression."""

from __future__ import annotations

import json

import pytest

from alarms.composite import (
    And, ChildState, Const, Not, Or, Ref, SuppressorView, actions_suppressed_by, check_no_cycle,
    evaluate_composite, find_cycle, holds, load_composite, parse_rule, referenced,
)
from alarms.evaluate import AlarmState
from watchkeeper.errors import ConfigError

ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"


def states(**values: str) -> dict[str, ChildState]:
    return {name.replace("_", "-"): ChildState(value, 1_549_818_000.0, ARN + name.replace("_", "-"))  # type: ignore[arg-type]
            for name, value in values.items()}


@pytest.mark.parametrize(("text", "tree"), [
    ('ALARM("cpu-high")', Ref("ALARM", "cpu-high")),
    ("OK(cpu-high)", Ref("OK", "cpu-high")),
    (f"INSUFFICIENT_DATA({ARN}disk full)", Ref("INSUFFICIENT_DATA", "disk full")),
    ('ALARM("with \\"quotes\\" (and parens)")', Ref("ALARM", 'with "quotes" (and parens)')),
    ("TRUE", Const(True)),
    ("NOT FALSE", Not(Const(False))),
    ("ALARM(a) OR ALARM(b) AND NOT OK(c)",
     Or((Ref("ALARM", "a"), And((Ref("ALARM", "b"), Not(Ref("OK", "c"))))))),
    ("(ALARM(a) OR ALARM(b)) AND TRUE", And((Or((Ref("ALARM", "a"), Ref("ALARM", "b"))), Const(True)))),
])
def test_parse(text: str, tree: object) -> None:
    assert parse_rule(text) == tree


@pytest.mark.parametrize(("text", "column", "expected"), [
    ("ALARM(a) AND", 13, "expected ALARM(...)"),
    ("ALARM(a) XOR ALARM(b)", 10, "expected AND, OR or the end of the rule"),
    ("ALARM(", 7, "an alarm name"),
    ('OK("unterminated)', 18, "closing"),
    ("(ALARM(a)", 10, "expected ')'"),
    ("alarm(a)", 1, "expected ALARM(...)"),
    ('ALARM("")', 7, "non-empty"),
])
def test_parse_errors_point_at_the_column(text: str, column: int, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rule(text, "c.json")
    problem = caught.value.problems[0]
    assert problem.source == "c.json" and problem.path == "AlarmRule"
    assert problem.message.startswith(f"column {column}:")
    assert expected in problem.message


def test_more_than_100_children_refused() -> None:
    rule = " OR ".join(f"ALARM(a{i})" for i in range(101))
    with pytest.raises(ConfigError, match="allowed at most 100"):
        parse_rule(rule)


@pytest.mark.parametrize(("rule", "children", "expected"), [
    ("ALARM(a) AND ALARM(b)", {"a": "ALARM", "b": "OK"}, False),
    ("ALARM(a) OR ALARM(b)", {"a": "ALARM", "b": "OK"}, True),
    ("NOT OK(a)", {"a": "INSUFFICIENT_DATA"}, True),
    ("INSUFFICIENT_DATA(a) AND TRUE", {"a": "INSUFFICIENT_DATA"}, True),
    ("ALARM(a) AND NOT ALARM(b)", {"a": "ALARM", "b": "ALARM"}, False),
    ("FALSE OR (OK(a) AND OK(b))", {"a": "OK", "b": "OK"}, True),
])
def test_holds(rule: str, children: dict[str, str], expected: bool) -> None:
    assert holds(parse_rule(rule), states(**children)) is expected


def test_composite_alarm_lists_triggering_children() -> None:
    rule_text = "ALARM(cpu-high) OR ALARM(mem-high)"
    children = states(cpu_high="ALARM", mem_high="OK")
    result = evaluate_composite(rule_text, parse_rule(rule_text), children, AlarmState("OK"), 1_549_818_060.0)
    assert result.state == "ALARM" and result.transition
    assert result.reason_data is not None
    assert json.loads(result.reason_data) == {"triggeringAlarms": [
        {"arn": ARN + "cpu-high", "state": {"value": "ALARM", "timestamp": "2019-02-10T17:00:00.000+0000"}}]}
    assert result.reason == f"{ARN}cpu-high transitioned to ALARM at 2019-02-10T17:00:00.000+0000."


def test_composite_back_to_ok_and_unknown_child() -> None:
    rule_text = "ALARM(a)"
    ok = evaluate_composite(rule_text, parse_rule(rule_text), states(a="OK"), AlarmState("ALARM"), 0)
    assert ok.state == "OK" and ok.transition
    missing = evaluate_composite(rule_text, parse_rule(rule_text), {}, AlarmState("OK"), 0)
    assert missing.state == "INSUFFICIENT_DATA" and "do not exist: a" in missing.reason


def test_cycles_are_found_across_composites() -> None:
    rules = {"top": parse_rule("ALARM(mid) OR ALARM(leaf)"), "mid": parse_rule("ALARM(bottom)"),
             "bottom": parse_rule("NOT OK(top)")}
    assert find_cycle(rules) == ["bottom", "top", "mid", "bottom"]
    with pytest.raises(ConfigError, match="cycle bottom -> top -> mid -> bottom"):
        check_no_cycle(rules, "alarms/")
    rules["bottom"] = parse_rule("ALARM(leaf)")
    assert find_cycle(rules) is None
    assert find_cycle({"self": parse_rule("ALARM(self)")}) == ["self", "self"]


@pytest.mark.parametrize(("suppressor", "now", "expected"), [
    (SuppressorView("ALARM"), 1000.0, "Alarm"),
    (SuppressorView("OK"), 1000.0 + 59, "WaitPeriod"),       # composite in ALARM since 1000, wait 60
    (SuppressorView("OK"), 1000.0 + 60, None),
    (SuppressorView("OK", left_alarm_at=1030.0), 1100.0, "ExtensionPeriod"),  # extension 120
    (SuppressorView("OK", left_alarm_at=1030.0), 1150.0, None),
])
def test_actions_suppressor(suppressor: SuppressorView, now: float, expected: str | None) -> None:
    assert actions_suppressed_by(suppressor, 1000.0, 60, 120, now) == expected


def test_load_composite_names_alarm_and_column() -> None:
    alarm, rule = load_composite({"AlarmName": "svc", "AlarmRule": "ALARM(a) OR ALARM(b)"}, "c.json")
    assert alarm.AlarmName == "svc" and referenced(rule) == {"a", "b"}
    with pytest.raises(ConfigError) as caught:
        load_composite({"AlarmName": "svc", "AlarmRule": "ALARM(a) OR"}, "c.json")
    assert str(caught.value).startswith("c.json (alarm svc): AlarmRule: column 12: found end of rule")
    with pytest.raises(ConfigError, match="may not refer to itself"):
        load_composite({"AlarmName": "svc", "AlarmRule": "ALARM(svc)"}, "c.json")
