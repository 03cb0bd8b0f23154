"""The evaluator against AWS's own statements: the missing-data tables, M of N, premature alarms,
percentiles with too few samples, StateReason text character for character."""

from __future__ import annotations

import json

import pytest
from alarm_builders import NOW, metric_alarm, row

from alarms.evaluate import AlarmState, PeriodValue, evaluate, evaluation_range, newest_complete_period

RETAIN = "retain"
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")

# "Configuring How CloudWatch Alarms Treat Missing Data" (CloudWatch user guide, the
# awsdocs/amazon-cloudwatch-user-guide source, doc_source/AlarmThatSendsEmail.md): its two tables,
# row for row. The five most recent periods, oldest on the left (the guide explains that the 0 of
# "0 - - - -" is the point that drops out next); 0 = not breaching, X = breaching, - = missing; the
# state for MISSING, IGNORE, BREACHING, NOT BREACHING.
# First table: DatapointsToAlarm = EvaluationPeriods = 3.
THREE_OF_THREE = [
    ("0 - X - X", ("OK", "OK", "OK", "OK")),
    ("0 - - - -", ("OK", "OK", "OK", "OK")),
    ("- - - - -", ("INSUFFICIENT_DATA", RETAIN, "ALARM", "OK")),
    ("0 X X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("- - - - X", ("INSUFFICIENT_DATA", RETAIN, "ALARM", "OK")),
    ("X - - - -", ("ALARM", RETAIN, "ALARM", "OK")),
]
# Second table: DatapointsToAlarm = 2, EvaluationPeriods = 3.
TWO_OF_THREE = [
    ("0 - X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 0 X 0 X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 - X - -", ("OK", "OK", "ALARM", "OK")),
    ("- - - - 0", ("OK", "OK", "ALARM", "OK")),
    ("- - - - X", ("INSUFFICIENT_DATA", RETAIN, "ALARM", "OK")),
]
CASES = [(m, notation, treat, expected)
         for m, table in ((3, THREE_OF_THREE), (2, TWO_OF_THREE))
         for notation, outcomes in table
         for treat, expected in zip(TREATMENTS, outcomes, strict=True)]


@pytest.mark.parametrize(("m", "notation", "treat", "expected"), CASES)
@pytest.mark.parametrize("current", ["OK", "ALARM", "INSUFFICIENT_DATA"])
def test_documented_missing_data_tables(m: int, notation: str, treat: str, expected: str, current: str) -> None:
    alarm = metric_alarm(EvaluationPeriods=3, DatapointsToAlarm=m, TreatMissingData=treat)
    result = evaluate(alarm, row(notation), AlarmState(current), NOW)  # type: ignore[arg-type]
    assert result.state == (current if expected == RETAIN else expected)
    assert result.transition == (result.state != current)


def test_evaluation_range_is_five_periods_for_three() -> None:
    assert evaluation_range(3) == 5


def test_data_older_than_the_range_is_not_seen() -> None:
    alarm = metric_alarm(EvaluationPeriods=3, TreatMissingData="missing")
    # Six periods: the breaching oldest one lies outside the 5-period range.
    result = evaluate(alarm, row("X - - - - -"), AlarmState("OK"), NOW)
    assert result.state == "INSUFFICIENT_DATA"


def test_current_partial_period_is_not_evaluated() -> None:
    alarm = metric_alarm()
    partial = newest_complete_period(NOW, 60) + 60
    result = evaluate(alarm, {partial: PeriodValue(99.5)}, AlarmState(), NOW)
    assert result.state == "INSUFFICIENT_DATA"
    assert result.reason == "Insufficient Data: 1 datapoint was unknown."


def test_documented_state_reason_and_reason_data() -> None:
    alarm = metric_alarm()
    result = evaluate(alarm, row("X"), AlarmState("OK"), NOW)
    assert result.state == "ALARM" and result.transition
    assert result.reason == (
        "Threshold Crossed: 1 out of the last 1 datapoints [99.5 (02/10/19 16:59:00)] was greater than the "
        "threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).")
    assert result.reason_data is not None
    data = json.loads(result.reason_data)
    assert list(data)[:7] == ["version", "queryDate", "startDate", "statistic", "period", "recentDatapoints",
                              "threshold"]
    assert data["version"] == "1.0"
    assert data["queryDate"] == "2019-02-10T17:00:20.012+0000"
    assert data["startDate"] == "2019-02-10T16:57:00.000+0000"  # 3 periods: range of N=1 is 1 + 2
    assert data["statistic"] == "Average" and data["period"] == 60
    assert data["recentDatapoints"] == [99.5] and data["threshold"] == 50.0
    assert data["evaluatedDatapoints"] == [
        {"timestamp": "2019-02-10T16:59:00.000+0000", "sampleCount": 1.0, "value": 99.5}]


def test_transition_back_to_ok_reason() -> None:
    alarm = metric_alarm(ComparisonOperator="GreaterThanOrEqualToThreshold")
    result = evaluate(alarm, row("X 0"), AlarmState("ALARM"), NOW)
    assert result.state == "OK" and result.transition
    assert result.reason == (
        "Threshold Crossed: 1 out of the last 1 datapoints [10.0 (02/10/19 16:59:00)] was not greater than or "
        "equal to the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition).")


def test_m_of_n_lists_breaching_datapoints_newest_first() -> None:
    alarm = metric_alarm(EvaluationPeriods=3, DatapointsToAlarm=2)
    result = evaluate(alarm, row("X 0 X"), AlarmState("OK"), NOW)
    assert result.reason == (
        "Threshold Crossed: 2 out of the last 3 datapoints [99.5 (02/10/19 16:59:00), 99.5 (02/10/19 16:57:00)] "
        "were greater than the threshold (50.0) (minimum 2 datapoints for OK -> ALARM transition).")


def test_m_equal_n_needs_every_datapoint() -> None:
    alarm = metric_alarm(EvaluationPeriods=3)
    assert evaluate(alarm, row("X X 0"), AlarmState("OK"), NOW).state == "OK"
    assert evaluate(alarm, row("X X X"), AlarmState("OK"), NOW).state == "ALARM"


def test_staying_in_alarm_is_no_transition() -> None:
    alarm = metric_alarm()
    held = AlarmState("ALARM", "earlier reason", "{}")
    result = evaluate(alarm, row("X"), held, NOW)
    assert result.state == "ALARM" and not result.transition


def test_insufficient_data_after_data_stops() -> None:
    alarm = metric_alarm(EvaluationPeriods=2)
    assert evaluate(alarm, row("X X"), AlarmState(), NOW).state == "ALARM"
    later = NOW + 5 * 60  # five quiet minutes: the range (4 periods) holds nothing any more
    result = evaluate(alarm, row("X X"), AlarmState("ALARM"), later)
    assert result.state == "INSUFFICIENT_DATA" and result.transition
    assert result.reason == "Insufficient Data: 2 datapoints were unknown."


@pytest.mark.parametrize(("treat", "state", "word"), [("breaching", "ALARM", "Breaching"),
                                                      ("notBreaching", "OK", "NonBreaching")])
def test_all_missing_reason(treat: str, state: str, word: str) -> None:
    alarm = metric_alarm(EvaluationPeriods=2, TreatMissingData=treat)
    result = evaluate(alarm, {}, AlarmState(), NOW)
    assert result.state == state
    assert result.reason == (f"Threshold Crossed: no datapoints were received for 2 periods and 2 missing "
                             f"datapoints were treated as [{word}].")


def test_filled_gaps_are_named_in_the_reason() -> None:
    alarm = metric_alarm(EvaluationPeriods=3, TreatMissingData="breaching")
    result = evaluate(alarm, row("- X -"), AlarmState("OK"), NOW)
    assert result.state == "ALARM"
    assert result.reason == (
        "Threshold Crossed: 3 out of the last 3 datapoints [99.5 (02/10/19 16:58:00)] was greater than the "
        "threshold (50.0), and 2 missing datapoints were treated as [Breaching] "
        "(minimum 3 datapoints for OK -> ALARM transition).")


def test_premature_alarm_needs_the_oldest_datapoint_old_enough() -> None:
    alarm = metric_alarm(EvaluationPeriods=3, DatapointsToAlarm=3)
    # One breaching datapoint, only 2 periods old: not yet an alarm (M = 3), and with no
    # non-breaching point not OK either (as the guide's "- - - - X" row).
    assert evaluate(alarm, row("- - - X -"), AlarmState("OK"), NOW).state == "INSUFFICIENT_DATA"
    # Three periods old, nothing newer: ALARM with fewer than M datapoints.
    assert evaluate(alarm, row("- - X - -"), AlarmState("OK"), NOW).state == "ALARM"


@pytest.mark.parametrize(("samples", "expected"), [(99.0, "OK"), (100.0, "ALARM")])
def test_low_sample_count_percentile_keeps_state(samples: float, expected: str) -> None:
    # p90 needs 10 / (1 - 0.9) = 100 samples to count.
    alarm = metric_alarm(Statistic=None, ExtendedStatistic="p90", EvaluateLowSampleCountPercentile="ignore")
    period = newest_complete_period(NOW, 60)
    result = evaluate(alarm, {period: PeriodValue(99.5, samples)}, AlarmState("OK"), NOW)
    assert result.state == expected


def test_low_sample_count_evaluated_by_default() -> None:
    alarm = metric_alarm(Statistic=None, ExtendedStatistic="p99")
    period = newest_complete_period(NOW, 60)
    assert evaluate(alarm, {period: PeriodValue(99.5, 3)}, AlarmState("OK"), NOW).state == "ALARM"


def test_high_resolution_periods() -> None:
    alarm = metric_alarm(Period=10, EvaluationPeriods=2)
    result = evaluate(alarm, row("X X", period=10), AlarmState("OK"), NOW)
    assert result.state == "ALARM"
    assert "(02/10/19 17:00:10)" in result.reason  # the 10-s period before the one holding 17:00:20
