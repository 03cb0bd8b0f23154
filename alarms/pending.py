"""Composite ALARM actions deferred by ActionsSuppressorWaitPeriod, kept in ClickHouse (or chdb).

A composite that goes to ALARM while its ActionsSuppressor is not in ALARM (and not within its
extension period) and has a wait period does not act at once: the transition is stored here as
pending. Each cycle the lease holder reads the open ones and lets alarms.composite.release_deferred
decide (send, suppress, or wait on). Rows persist with the alarm tables, so a restarted or new leader
neither loses a pending action nor sends one twice (see DeferredActions for the write order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from alarms import history
from alarms.composite import SuppressorView, actions_suppressed_by, release_deferred
from alarms.model import PutCompositeAlarm, StateValue
from alarms.store import AlarmStore, HistoryItem, StoredDefinition, StoredState, next_version
from alarms.transitions import StateChange, Transitions, actions_for
from watchkeeper.storage.engine import Engine


@dataclass(frozen=True, slots=True)
class PendingAction:
    """The ALARM actions of transition `transition_id` of composite `name`, waiting for `suppressor`."""

    name: str
    transition_id: int
    alarm_since_ms: int
    suppressor: str
    wait_period_s: int


class PendingActions:
    """The alarm_pending_actions table (migration m0310): one insert or one read per call."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _insert(self, rows: Sequence[PendingAction], released: bool) -> None:
        if not rows:
            return
        self._engine.insert("alarm_pending_actions", {
            "name": [r.name for r in rows], "transition_id": [r.transition_id for r in rows],
            "alarm_since_ms": [r.alarm_since_ms for r in rows], "suppressor": [r.suppressor for r in rows],
            "wait_period_s": [r.wait_period_s for r in rows], "released": [int(released)] * len(rows),
            "version": [next_version() for _ in rows]})

    def defer(self, rows: Sequence[PendingAction]) -> None:
        self._insert(rows, released=False)

    def released(self, rows: Sequence[PendingAction]) -> None:
        """These are settled (sent or suppressed): never open again."""
        self._insert(rows, released=True)

    def open(self) -> list[PendingAction]:
        """Every pending action not yet released, oldest first."""
        rows = self._engine.query(
            "SELECT name, transition_id, argMax(alarm_since_ms, version) AS since, argMax(suppressor, version), "
            "argMax(wait_period_s, version) FROM alarm_pending_actions GROUP BY name, transition_id "
            "HAVING argMax(released, version) = 0 ORDER BY since, name")
        return [PendingAction(str(name), int(tid), int(since), str(suppressor), int(wait))
                for name, tid, since, suppressor, wait in rows]


def _suppressor_view(states: Mapping[str, StoredState], name: str) -> SuppressorView:
    """The suppressor as the rules read it; an alarm that does not exist is never in ALARM."""
    state = states.get(name)
    if state is None:
        return SuppressorView("INSUFFICIENT_DATA")
    return SuppressorView(state.value, state.transitioned_ms / 1000 if state.previous == "ALARM" else None)


def hold_at_transition(alarm: PutCompositeAlarm, states: Mapping[str, StoredState], value: StateValue,
                       now: float) -> tuple[str | None, bool]:
    """For a composite transitioning to `value` now: why its actions are suppressed (the suppressor is in
    ALARM, or within its extension period), or whether they are deferred by the wait period."""
    if alarm.ActionsSuppressor is None or value != "ALARM" or not actions_for(alarm, value):
        return None, False
    why = actions_suppressed_by(_suppressor_view(states, alarm.ActionsSuppressor), now,
                                alarm.ActionsSuppressorWaitPeriod or 0, alarm.ActionsSuppressorExtensionPeriod or 0,
                                now)
    if why == "WaitPeriod":
        return None, True
    return (f"ActionsSuppressor {alarm.ActionsSuppressor} ({why})" if why else None), False


class DeferredActions:
    """The scheduler's side of the wait period: defer at transition, release each cycle.

    Only the lease holder calls it. While leading, the open pending actions are kept in memory (this
    process is their only writer), so a cycle with nothing pending sends no statement; `lead` reads them
    back when leadership starts, `follow` forgets them when it ends.

    Write order, so that neither a crash nor a change of leader loses or doubles an action: a release to
    send is marked released before the actions are queued (a crash after it leaves an unfinished
    transition that Transitions.resume re-queues; resume skips the ones still pending); a release to
    suppress records the suppression (and the transition's finished mark) before it is marked released.
    """

    def __init__(self, store: AlarmStore, transitions: Transitions) -> None:
        self._table = PendingActions(store.engine)
        self._transitions = transitions
        self._open: list[PendingAction] = []

    def lead(self) -> set[tuple[str, int]]:
        """Leadership starts: load the open pending actions; their (name, transition id)."""
        self._open = self._table.open()
        return {(p.name, p.transition_id) for p in self._open}

    def follow(self) -> None:
        self._open = []

    def defer(self, changes: Sequence[StateChange], rows: Sequence[StoredState]) -> None:
        """Store the deferred ones among committed changes (rows: what Transitions.commit wrote)."""
        new = [PendingAction(row.name, row.transition_id, row.transitioned_ms,
                             change.definition.composite().ActionsSuppressor or "",
                             change.definition.composite().ActionsSuppressorWaitPeriod or 0)
               for change, row in zip(changes, rows, strict=True) if change.actions_deferred]
        self._table.defer(new)
        self._open += new

    def release(self, definitions: Mapping[str, StoredDefinition], states: Mapping[str, StoredState],
                now: float) -> None:
        """Send or suppress every pending action whose wait is settled (a few statements, none when nothing is)."""
        released_first: list[PendingAction] = []  # to send, or gone: marked released before anything is queued
        suppressed: list[PendingAction] = []
        settled: list[tuple[StoredDefinition, StoredState, str | None]] = []
        notes: list[HistoryItem] = []
        waiting: list[PendingAction] = []
        now_ms = int(now * 1000)
        for pending in self._open:
            definition, state = definitions.get(pending.name), states.get(pending.name)
            if definition is None or state is None or definition.kind != "composite":
                released_first.append(pending)  # the alarm was deleted (or is no longer composite): nothing to act on
                continue
            still = state.value == "ALARM" and state.transition_id == pending.transition_id
            decision = release_deferred(pending.suppressor, _suppressor_view(states, pending.suppressor),
                                        pending.alarm_since_ms / 1000, pending.wait_period_s, still, now)
            if decision.release == "wait":
                waiting.append(pending)
            elif decision.release == "send":
                released_first.append(pending)
                settled.append((definition, state, None))
                notes += [history.action_released(pending.name, uri, pending.alarm_since_ms, now_ms, decision.why)
                          for uri in actions_for(definition.model, "ALARM")]
            else:
                suppressed.append(pending)
                # The ALARM transition as it was deferred: the composite may have moved on since.
                settled.append((definition, replace(state, value="ALARM", transition_id=pending.transition_id,
                                                    transitioned_ms=pending.alarm_since_ms), decision.why))
        if len(waiting) == len(self._open):
            return
        self._table.released(released_first)
        self._transitions.release(settled, notes)
        self._table.released(suppressed)
        self._open = waiting
