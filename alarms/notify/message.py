"""CloudWatch's alarm state-change message (what SNS delivers for an alarm action), built once per transition."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from alarms.model import PutCompositeAlarm, PutMetricAlarm, StateValue
from alarms.reason import iso_time


def alarm_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{account_id}:alarm:{name}"


@dataclass(frozen=True, slots=True)
class AlarmMessage:
    """One transition of one alarm, as its actions announce it."""

    alarm_name: str
    transition_id: int
    new_state: StateValue
    old_state: StateValue
    reason: str
    changed_ms: int
    body: dict[str, Any]

    def json_bytes(self) -> bytes:
        return json.dumps(self.body, separators=(",", ":")).encode()


def _trigger(alarm: PutMetricAlarm) -> dict[str, Any]:
    """The Trigger object: the metric (or metric math) and the comparison, as SNS shows it."""
    trigger: dict[str, Any] = {}
    if alarm.Metrics is not None:
        trigger["Metrics"] = [q.model_dump(mode="json", exclude_none=True) for q in alarm.Metrics]
    else:
        trigger.update({"MetricName": alarm.MetricName, "Namespace": alarm.Namespace})
        if alarm.Statistic is not None:
            trigger.update({"StatisticType": "Statistic", "Statistic": alarm.Statistic.upper()})
        else:
            trigger.update({"StatisticType": "ExtendedStatistic", "ExtendedStatistic": alarm.ExtendedStatistic})
        trigger["Dimensions"] = [{"value": d.Value, "name": d.Name} for d in alarm.Dimensions]
        trigger["Period"] = alarm.Period
    trigger.update({
        "Unit": alarm.Unit, "EvaluationPeriods": alarm.EvaluationPeriods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm, "ComparisonOperator": alarm.ComparisonOperator,
        "Threshold": alarm.Threshold, "TreatMissingData": alarm.TreatMissingData,
        "EvaluateLowSampleCountPercentile": alarm.EvaluateLowSampleCountPercentile or "",
    })
    return trigger


def build_message(alarm: PutMetricAlarm | PutCompositeAlarm, *, region: str, account_id: str,
                  configuration_updated_ms: int, transition_id: int, old_state: StateValue,
                  new_state: StateValue, reason: str, reason_data: str, changed_ms: int) -> AlarmMessage:
    body: dict[str, Any] = {
        "AlarmName": alarm.AlarmName,
        "AlarmDescription": alarm.AlarmDescription,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": iso_time(configuration_updated_ms / 1000),
        "NewStateValue": new_state,
        "NewStateReason": reason,
        "StateChangeTime": iso_time(changed_ms / 1000),
        "Region": region,
        "AlarmArn": alarm_arn(region, account_id, alarm.AlarmName),
        "OldStateValue": old_state,
        "OKActions": alarm.OKActions,
        "AlarmActions": alarm.AlarmActions,
        "InsufficientDataActions": alarm.InsufficientDataActions,
    }
    if isinstance(alarm, PutMetricAlarm):
        body["Trigger"] = _trigger(alarm)
    else:
        body["AlarmRule"] = alarm.AlarmRule
        body["NewStateReasonData"] = reason_data
    return AlarmMessage(alarm.AlarmName, transition_id, new_state, old_state, reason, changed_ms, body)
