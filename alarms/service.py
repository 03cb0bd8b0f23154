"""The alarm service: one object that `up` and `watchkeeper api` construct, start and stop, and that the
API routes (watchkeeper/api/routes_alarms.py, found at ctx.services["alarms"]) call.

It owns the store, silences, the notification dispatcher and the scheduler. Every
configuration change (PutMetricAlarm, PutCompositeAlarm, DeleteAlarms,
Enable/DisableAlarmActions, GitOps apply) becomes a ConfigurationUpdate history
item and is handed to the optional audit hook.

The audit hook: `services["audit"]`, when present, is any object with the
`api_call` method of AuditHook (audit.recorder.AuditRecorder is one). It is
called once per changed alarm (resource Watchkeeper::Alarm) and per silence
change (Watchkeeper::Silence), with the Caller that made the change, after the
change is stored; an exception it raises is logged and does not undo the change.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from alarms import history
from alarms.composite import check_no_cycle, parse_rule
from alarms.model import PutCompositeAlarm, PutMetricAlarm, StateValue, load_composite_alarm, load_metric_alarm
from alarms.notify.bookkeeping import Bookkeeper
from alarms.notify.dispatcher import Dispatcher
from alarms.notify.transports import action_problem, deliver
from alarms.scheduler import MetricReader, Scheduler
from alarms.silences import Silences
from alarms.store import AlarmKind, AlarmStore, Lease, StoredDefinition, StoredState, canonical_json
from alarms.transitions import StateChange, Transitions, initial_state
from watchkeeper.config.settings import Settings
from watchkeeper.errors import ApiError, ConfigError, Problem
from watchkeeper.storage.engine import Engine

log = logging.getLogger(__name__)

Clock = Callable[[], float]
ChangeType = Literal["Create", "Update", "Delete"]
AlarmModel = PutMetricAlarm | PutCompositeAlarm


@dataclass(frozen=True, slots=True)
class AlarmChange:
    """One alarm's configuration change: a ConfigurationUpdate history item and an audit event."""

    action: str  # the API action: PutMetricAlarm, PutCompositeAlarm, DeleteAlarms, EnableAlarmActions, ...
    alarm_name: str
    change: ChangeType
    before: dict[str, Any] | None  # the definition before (None when created)
    after: dict[str, Any] | None  # the definition after (None when deleted)
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class Caller:
    """Who made a change: the API's X-Watchkeeper-User, or the service itself (GitOps at start)."""

    name: str
    source_ip: str
    user_agent: str


SERVICE_CALLER = Caller("watchkeeper-alarms", "127.0.0.1", "watchkeeper-alarms")


class AuditHook(Protocol):
    """What the alarm service needs of services["audit"]: record one control-plane action."""

    def api_call(self, event_name: str, *, caller: str, source_ip: str, user_agent: str,
                 resources: list[tuple[str, str]], request: dict[str, Any] | None,
                 response: dict[str, Any] | None = None, error: tuple[str, str] | None = None,
                 read_only: bool = False) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class ApplyResult:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def _action_problems(data: Any, where: str) -> list[Problem]:
    """Action URIs we cannot deliver, checked on the raw body so they are reported with the model's problems."""
    problems = []
    for field_name in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        actions = data.get(field_name) if isinstance(data, dict) else None
        for index, uri in enumerate(actions if isinstance(actions, list) else []):
            if isinstance(uri, str) and (problem := action_problem(uri)) is not None:
                problems.append(Problem(where, f"{field_name}[{index}]", problem))
    return problems


def load_definition(data: Any, source: str) -> AlarmModel:
    """A PutMetricAlarm or PutCompositeAlarm body (composite when it has AlarmRule), fully checked;
    ConfigError lists every problem, each naming the source, the alarm and the field."""
    name = data.get("AlarmName") if isinstance(data, dict) else None
    where = f"{source} (alarm {name})" if isinstance(name, str) and name else source
    problems = _action_problems(data, where)
    try:
        alarm: AlarmModel = (load_composite_alarm(data, source) if isinstance(data, dict) and "AlarmRule" in data
                             else load_metric_alarm(data, source))
        if isinstance(alarm, PutCompositeAlarm):
            parse_rule(alarm.AlarmRule, where)
    except ConfigError as error:
        raise ConfigError(problems + error.problems) from None
    if problems:
        raise ConfigError(problems)
    return alarm


def _kind(alarm: AlarmModel) -> AlarmKind:
    return "metric" if isinstance(alarm, PutMetricAlarm) else "composite"


def _body(alarm: AlarmModel) -> dict[str, Any]:
    return alarm.model_dump(mode="json", exclude_none=True)


class AlarmService:
    """open_bookkeeping_engine, when given, opens a second connection to the same database for the
    dispatcher's history and finished marks, so delivery bookkeeping never queues behind (or holds up)
    an evaluation cycle on the engine's lock; the service closes it on stop. Without it (chdb: one
    session per path) both share `engine`."""

    def __init__(self, settings: Settings, engine: Engine, services: Mapping[str, Any] | None = None,
                 clock: Clock = time.time, holder: str | None = None,
                 open_bookkeeping_engine: Callable[[], Engine] | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.region = settings.alarms.region
        self.account_id = settings.audit.installation_id
        self.store = AlarmStore(engine)
        self.silences = Silences(engine)
        self._services = services if services is not None else {}
        alarms = settings.alarms
        self._bookkeeping_engine = open_bookkeeping_engine() if open_bookkeeping_engine is not None else None
        bookkeeper = Bookkeeper(AlarmStore(self._bookkeeping_engine or engine), clock)
        self.dispatcher = Dispatcher(lambda uri, message: deliver(uri, message, alarms), bookkeeper, clock, alarms)
        self.transitions = Transitions(self.store, self.silences, self.dispatcher, clock, self.region,
                                       self.account_id)
        holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = Lease(engine, "alarm-evaluator", holder, alarms.lease_ttl_s, alarms.lease_settle_s)
        self.scheduler = Scheduler(self.store, MetricReader(engine, settings.retention), self.transitions,
                                   self.lease, clock, self.region, self.account_id)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # Lifecycle ---------------------------------------------------------------------------------

    def start(self, evaluate: bool = True) -> None:
        """Start delivering; apply [alarms] rules_dir; with evaluate, run the scheduler thread too."""
        self.dispatcher.start()
        if self.settings.alarms.rules_dir is not None:
            from alarms.gitops import load_directory

            self.apply(load_directory(self.settings.alarms.rules_dir), f"gitops:{self.settings.alarms.rules_dir}")
        if evaluate:
            self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.dispatcher.stop()
        if self._bookkeeping_engine is not None:
            self._bookkeeping_engine.close()

    # Configuration -----------------------------------------------------------------------------

    def apply(self, alarms: Sequence[AlarmModel], source: str, action: str | None = None,
              caller: Caller = SERVICE_CALLER) -> ApplyResult:
        """Create or replace alarms; unchanged ones leave no trace. Composite cycles are refused."""
        existing = self.store.definitions()
        rules = {name: parse_rule(d.composite().AlarmRule, name) for name, d in existing.items()
                 if d.kind == "composite"}
        for alarm in alarms:
            if isinstance(alarm, PutCompositeAlarm):
                rules[alarm.AlarmName] = parse_rule(alarm.AlarmRule, alarm.AlarmName)
            else:
                rules.pop(alarm.AlarmName, None)
        check_no_cycle(rules, source)
        now_ms = self.now_ms()
        result = ApplyResult([], [], [])
        written: list[StoredDefinition] = []
        changes: list[AlarmChange] = []
        for alarm in alarms:
            before = existing.get(alarm.AlarmName)
            body = _body(alarm)
            if before is not None and before.kind == _kind(alarm) and canonical_json(before.body) == canonical_json(body):
                result.unchanged.append(alarm.AlarmName)
                continue
            (result.updated if before is not None else result.created).append(alarm.AlarmName)
            written.append(StoredDefinition(alarm.AlarmName, _kind(alarm), body, now_ms))
            changes.append(AlarmChange(action or ("PutMetricAlarm" if isinstance(alarm, PutMetricAlarm)
                                                  else "PutCompositeAlarm"), alarm.AlarmName,
                                       "Update" if before is not None else "Create",
                                       before.body if before is not None else None, body, now_ms))
        self.store.put_definitions(written)
        self.store.write_states([initial_state(name, now_ms) for name in result.created])
        self._record_changes(changes, caller)
        return result

    def _record_changes(self, changes: Sequence[AlarmChange], caller: Caller) -> None:
        self.store.append_history([history.configuration_update(c.alarm_name, c.change, c.before, c.after,
                                                                c.timestamp_ms) for c in changes])
        for change in changes:
            self.audit(change.action, caller, ("Watchkeeper::Alarm", change.alarm_name),
                       change.after if change.after is not None else {"AlarmName": change.alarm_name})

    def audit(self, action: str, caller: Caller, resource: tuple[str, str], request: dict[str, Any]) -> None:
        """Hand one change to the audit hook, if one is plugged in."""
        hook: AuditHook | None = self._services.get("audit")
        if hook is None:
            return
        try:
            hook.api_call(action, caller=caller.name, source_ip=caller.source_ip, user_agent=caller.user_agent,
                          resources=[resource], request=request)
        except Exception:  # the change is stored; the audit module reports its own failure
            log.exception("audit hook failed for %s of %s", action, resource[1])

    def put(self, data: Any, kind: AlarmKind, caller: Caller) -> None:
        """PutMetricAlarm / PutCompositeAlarm from the API."""
        action = "PutMetricAlarm" if kind == "metric" else "PutCompositeAlarm"
        if kind == "composite" and (not isinstance(data, dict) or "AlarmRule" not in data):
            raise ConfigError([Problem(action, "AlarmRule", "required key is missing")])
        if kind == "metric" and isinstance(data, dict) and "AlarmRule" in data:
            raise ConfigError([Problem(action, "AlarmRule", "allowed only in PutCompositeAlarm")])
        self.apply([load_definition(data, action)], "api", action, caller)

    def _existing(self, names: Sequence[str]) -> dict[str, StoredDefinition]:
        found = self.store.definitions(names)
        missing = [n for n in names if n not in found]
        if missing:
            raise ApiError("ResourceNotFound", f"AlarmNames: found {', '.join(missing)}; no such alarm", 404)
        return found

    def delete(self, names: Sequence[str], caller: Caller) -> None:
        found = self._existing(names)
        now_ms = self.now_ms()
        self.store.delete_definitions(list(found.values()), now_ms)
        self._record_changes([AlarmChange("DeleteAlarms", d.name, "Delete", d.body, None, now_ms)
                              for d in found.values()], caller)

    def set_actions_enabled(self, names: Sequence[str], enabled: bool, caller: Caller) -> None:
        found = self._existing(names)
        action = "EnableAlarmActions" if enabled else "DisableAlarmActions"
        now_ms = self.now_ms()
        changed = [StoredDefinition(d.name, d.kind, {**d.body, "ActionsEnabled": enabled}, now_ms)
                   for d in found.values() if d.body.get("ActionsEnabled", True) != enabled]
        self.store.put_definitions(changed)
        self._record_changes([AlarmChange(action, d.name, "Update", found[d.name].body, d.body, now_ms)
                              for d in changed], caller)

    # State -------------------------------------------------------------------------------------

    def state_of(self, name: str) -> StoredState:
        return self.store.states([name]).get(name) or initial_state(name, self.now_ms())

    def set_state(self, name: str, value: StateValue, reason: str, reason_data: str | None) -> None:
        """SetAlarmState: holds until the next evaluation; actions run when the value changes."""
        definition = self._existing([name])[name]
        self.transitions.commit([StateChange(definition, self.state_of(name), value, reason, reason_data or "")])

    def describe(self, names: Sequence[str] | None) -> list[tuple[StoredDefinition, StoredState]]:
        definitions = self.store.definitions(names)
        states = self.store.states(definitions)
        return [(d, states.get(d.name) or initial_state(d.name, d.updated_ms)) for d in definitions.values()]

