"""Alarm history items in CloudWatch's wording and HistoryData JSON.

    ConfigurationUpdate  Alarm "cpu-high" created | updated | deleted
                         {"type":"Create","version":"1.0","createdAlarm":{...}}
    StateUpdate          Alarm updated from OK to ALARM
                         {"version":"1.0","oldState":{"stateValue":...,"stateReason":...,"stateReasonData":{...}},
                          "newState":{...}}
    Action               Successfully executed action <uri>
                         Failed to execute action <uri>. Received error: "<why>"
                         Suppressed action <uri>: <why> | Released action <uri>: <why> (wait period over)
                         {"actionState":"Succeeded"|"Failed"|"Suppressed"|"Released","stateUpdateTimestamp":<ms>,
                          "notificationResource":<uri>, ...}
"""

from __future__ import annotations

import json
from typing import Any, Literal

from alarms.model import StateValue
from alarms.store import HistoryItem, next_version

ChangeType = Literal["Create", "Update", "Delete"]
_CHANGE_KEYS: dict[ChangeType, tuple[str, str]] = {
    "Create": ("created", "createdAlarm"), "Update": ("updated", "updatedAlarm"),
    "Delete": ("deleted", "deletedAlarm")}


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def _item(name: str, timestamp_ms: int, item_type: Any, summary: str, data: dict[str, Any]) -> HistoryItem:
    # Ids increase in the order items are made, so items of one millisecond keep their order in
    # DescribeAlarmHistory (which sorts by timestamp, then id).
    return HistoryItem(name, timestamp_ms, item_type, summary, _json(data), f"{next_version():020d}")


def configuration_update(name: str, change: ChangeType, before: dict[str, Any] | None,
                         after: dict[str, Any] | None, timestamp_ms: int) -> HistoryItem:
    verb, key = _CHANGE_KEYS[change]
    data: dict[str, Any] = {"type": change, "version": "1.0"}
    if change == "Update":
        data["originalUpdatedAlarm"] = before
    data[key] = after if change != "Delete" else before
    return _item(name, timestamp_ms, "ConfigurationUpdate", f'Alarm "{name}" {verb}', data)


def _state(value: StateValue, reason: str, reason_data: str) -> dict[str, Any]:
    out: dict[str, Any] = {"stateValue": value, "stateReason": reason}
    if reason_data:
        out["stateReasonData"] = json.loads(reason_data)
    return out


def state_update(name: str, old: tuple[StateValue, str, str], new: tuple[StateValue, str, str],
                 timestamp_ms: int) -> HistoryItem:
    """old and new are (state value, reason, reason data JSON or '')."""
    data = {"version": "1.0", "oldState": _state(*old), "newState": _state(*new)}
    return _item(name, timestamp_ms, "StateUpdate", f"Alarm updated from {old[0]} to {new[0]}", data)


def action_succeeded(name: str, uri: str, state_change_ms: int, timestamp_ms: int, outcome: str,
                     message: bytes) -> HistoryItem:
    data = {"actionState": "Succeeded", "stateUpdateTimestamp": state_change_ms, "notificationResource": uri,
            "publishedMessage": message.decode(), "outcome": outcome}
    return _item(name, timestamp_ms, "Action", f"Successfully executed action {uri}", data)


def action_failed(name: str, uri: str, state_change_ms: int, timestamp_ms: int, error: str, attempt: int,
                  attempts: int, retry_in_s: float | None) -> HistoryItem:
    next_step = f"retrying in {retry_in_s:g} s" if retry_in_s is not None else "giving up"
    data = {"actionState": "Failed", "stateUpdateTimestamp": state_change_ms, "notificationResource": uri,
            "error": error, "attempt": attempt, "attempts": attempts}
    return _item(name, timestamp_ms, "Action",
                 f'Failed to execute action {uri}. Received error: "{error}" (attempt {attempt} of {attempts}, '
                 f"{next_step})", data)


def action_suppressed(name: str, uri: str, state_change_ms: int, timestamp_ms: int, why: str) -> HistoryItem:
    data = {"actionState": "Suppressed", "stateUpdateTimestamp": state_change_ms, "notificationResource": uri,
            "suppressedBy": why}
    return _item(name, timestamp_ms, "Action", f"Suppressed action {uri}: {why}", data)


def action_released(name: str, uri: str, state_change_ms: int, timestamp_ms: int, why: str) -> HistoryItem:
    """A composite's action deferred by ActionsSuppressorWaitPeriod, released to be sent now."""
    data = {"actionState": "Released", "stateUpdateTimestamp": state_change_ms, "notificationResource": uri,
            "releasedBecause": why}
    return _item(name, timestamp_ms, "Action", f"Released action {uri}: {why}", data)
