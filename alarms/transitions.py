"""Committing state changes: state and StateUpdate history first, then the actions.

The order is the durability promise: a transition is in ClickHouse before any
receiver hears of it, and its actions count as handled only once the
dispatcher finished all of them (alarm_actions_done). After a crash or a change
of leader, `resume` re-queues exactly the transitions that were persisted but
not finished, so nothing is lost and nothing finished is sent twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from alarms import history
from alarms.evaluate import INITIAL_REASON
from alarms.model import PutCompositeAlarm, PutMetricAlarm, StateValue
from alarms.notify.dispatcher import Dispatcher
from alarms.notify.message import AlarmMessage, build_message
from alarms.silences import Silences, first_match
from alarms.store import ActionsDone, AlarmStore, HistoryItem, StoredDefinition, StoredState

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class StateChange:
    """A new state for one alarm; actions run when the value differs from the old one."""

    definition: StoredDefinition
    old: StoredState
    value: StateValue
    reason: str
    reason_data: str
    actions_held_by: str | None = None  # why a composite's ActionsSuppressor holds its actions
    # A composite's ALARM actions deferred by ActionsSuppressorWaitPeriod: stored, not acted on here
    # (alarms/pending.py; the scheduler releases them with `release`).
    actions_deferred: bool = False


def initial_state(name: str, now_ms: int) -> StoredState:
    return StoredState(name, "INSUFFICIENT_DATA", "INSUFFICIENT_DATA", INITIAL_REASON, "", now_ms, now_ms, 0)


def new_transition_id() -> int:
    return uuid.uuid4().int >> 65  # 63 bits: a positive Int64 for every client


def actions_for(alarm: PutMetricAlarm | PutCompositeAlarm, value: StateValue) -> list[str]:
    if not alarm.ActionsEnabled:
        return []
    return {"ALARM": alarm.AlarmActions, "OK": alarm.OKActions,
            "INSUFFICIENT_DATA": alarm.InsufficientDataActions}[value]


class Transitions:
    def __init__(self, store: AlarmStore, silences: Silences, dispatcher: Dispatcher, clock: Clock, region: str,
                 account_id: str) -> None:
        self._store = store
        self._silences = silences
        self._dispatcher = dispatcher
        self._clock = clock
        self._region = region
        self._account_id = account_id

    def commit(self, changes: Sequence[StateChange]) -> list[StoredState]:
        """Persist the new states with their history, then queue actions: a few statements for any number
        of changes (the state insert, one history insert, and with actions due one read of the silences and
        one insert of the suppressed transitions' finished marks)."""
        now_ms = int(self._clock() * 1000)
        rows: list[StoredState] = []
        for change in changes:
            moved = change.value != change.old.value
            rows.append(StoredState(
                change.old.name, change.value, change.old.value if moved else change.old.previous, change.reason,
                change.reason_data, now_ms, now_ms if moved else change.old.transitioned_ms,
                new_transition_id() if moved else change.old.transition_id))
        self._store.write_states(rows)
        updates = [history.state_update(c.old.name, (c.old.value, c.old.reason, c.old.reason_data),
                                        (c.value, c.reason, c.reason_data), now_ms) for c in changes]
        transitioned = [(change.definition, row, change.actions_held_by)
                        for change, row in zip(changes, rows, strict=True)
                        if change.value != change.old.value and not change.actions_deferred]
        self._act(transitioned, updates)
        return rows

    def _act(self, transitions: Sequence[tuple[StoredDefinition, StoredState, str | None]],
             history_first: Sequence[HistoryItem]) -> None:
        """Queue the actions of these transitions, or record them as suppressed (a silence matches, or a
        composite's ActionsSuppressor holds them). history_first is stored before any of it."""
        due = [(definition, state, held_by, uris) for definition, state, held_by in transitions
               if (uris := actions_for(definition.model, state.value))]
        now_ms = int(self._clock() * 1000)
        silences = self._silences.active(now_ms) if due else []
        suppressed: list[HistoryItem] = []
        finished: list[ActionsDone] = []
        messages: list[tuple[AlarmMessage, list[str]]] = []
        for definition, state, held_by, uris in due:
            silence = first_match(silences, state.name)
            why = f"silence {silence.silence_id} ({silence.comment}) by {silence.created_by}" if silence else held_by
            if why is not None:
                suppressed += [history.action_suppressed(state.name, uri, state.transitioned_ms, now_ms, why)
                               for uri in uris]
                finished.append(ActionsDone(state.name, state.transition_id, now_ms))
                continue
            messages.append((build_message(
                definition.model, region=self._region, account_id=self._account_id,
                configuration_updated_ms=definition.updated_ms, transition_id=state.transition_id,
                old_state=state.previous, new_state=state.value, reason=state.reason, reason_data=state.reason_data,
                changed_ms=state.transitioned_ms), uris))
        self._store.append_history([*history_first, *suppressed])
        self._store.mark_actions_done(finished)
        for message, uris in messages:
            self._dispatcher.submit(message, uris)

    def release(self, transitions: Sequence[tuple[StoredDefinition, StoredState, str | None]],
                history_first: Sequence[HistoryItem] = ()) -> None:
        """Act on deferred transitions now: send, or record as suppressed with the reason given."""
        self._act(transitions, history_first)

    def resume(self, deferred: Collection[tuple[str, int]] = ()) -> int:
        """Re-queue the actions of persisted transitions not yet finished, except the deferred ones (name,
        transition id) that wait for their release; how many transitions."""
        self._dispatcher.flush()  # what this process finished counts as finished only once it is written
        definitions = self._store.definitions()
        states = self._store.states()  # unfiltered: see Scheduler.run_cycle (max_query_size)
        due = [s for s in states.values()
               if s.name in definitions and s.transition_id and actions_for(definitions[s.name].model, s.value)
               and not self._dispatcher.has(s.name, s.transition_id) and (s.name, s.transition_id) not in deferred]
        done = self._store.actions_done([(s.name, s.transition_id) for s in due],
                                        min((s.transitioned_ms for s in due), default=0))
        unfinished = [s for s in due if (s.name, s.transition_id) not in done]
        self._act([(definitions[s.name], s, None) for s in unfinished], [])
        return len(unfinished)
