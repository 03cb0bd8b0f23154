"""The alarm tables (watchkeeper/storage/migrations/m0300_alarms.py): definitions, state, history,
delivered transitions, and the evaluator lease.

Every update is an insert of a whole row with a larger version; reads take
argMax(column, version) per key, so they are exact whatever merges have run and
identical on ClickHouse 18.16 and chdb. Reads are one query per table, never per
alarm: the scheduler loads every definition and state at once.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import orjson

from alarms.model import PutCompositeAlarm, PutMetricAlarm, StateValue
from watchkeeper.storage.engine import Engine, Row
from watchkeeper.storage.sql import in_list, quote

AlarmKind = Literal["metric", "composite"]
HistoryItemType = Literal["ConfigurationUpdate", "StateUpdate", "Action"]
T = TypeVar("T")


class _Versions:
    """Strictly increasing row versions: nanoseconds, bumped when two writes share one."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(time.time_ns(), self._last + 1)
            return self._last


_VERSIONS = _Versions()


def next_version() -> int:
    """A row version larger than every one this process handed out before."""
    return _VERSIONS.next()


@dataclass(frozen=True)
class StoredDefinition:
    """An alarm's configuration as last put: the validated request, canonical JSON."""

    name: str
    kind: AlarmKind
    body: dict[str, Any]
    updated_ms: int

    @functools.cached_property
    def model(self) -> PutMetricAlarm | PutCompositeAlarm:
        """The request model, validated once per object (AlarmStore.definitions hands out unchanged
        definitions as the same object, so a cycle does not validate 10,000 alarms again)."""
        if self.kind == "metric":
            return PutMetricAlarm.model_validate(self.body)
        return PutCompositeAlarm.model_validate(self.body)

    def metric(self) -> PutMetricAlarm:
        assert isinstance(self.model, PutMetricAlarm), f"{self.name} is a {self.kind} alarm"
        return self.model

    def composite(self) -> PutCompositeAlarm:
        assert isinstance(self.model, PutCompositeAlarm), f"{self.name} is a {self.kind} alarm"
        return self.model


@dataclass(frozen=True, slots=True)
class StoredState:
    """An alarm's state; transition_id names the transition whose actions are (or were) due."""

    name: str
    value: StateValue
    previous: StateValue
    reason: str
    reason_data: str
    updated_ms: int
    transitioned_ms: int
    transition_id: int


@dataclass(frozen=True, slots=True)
class HistoryItem:
    name: str
    timestamp_ms: int
    item_type: HistoryItemType
    summary: str
    data: str
    item_id: str


@dataclass(frozen=True, slots=True)
class ActionsDone:
    """Every action of one transition finished (delivered, given up or suppressed) at done_ms."""

    name: str
    transition_id: int
    done_ms: int


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """DescribeAlarmHistory's filters; None means no filter."""

    name: str | None = None
    item_type: HistoryItemType | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    newest_first: bool = True


def canonical_json(body: dict[str, Any]) -> str:
    """Key-sorted JSON, so an unchanged definition compares equal byte for byte."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()


def _name_filter(names: Iterable[str] | None) -> str:
    return "" if names is None else f"WHERE name IN {in_list(sorted(set(names)))}"


# Most names one read lists in an IN clause (alarm names are up to 255 characters; statements are
# limited to max_query_size, 256 KiB); more changed rows than this are read unfiltered.
_MAX_NAMES_LISTED = 500


class _Versioned(Generic[T]):
    """The rows of a name-keyed table last read, each with the version it was read at.

    Reading only (name, max(version)) costs a hundredth of reading whole rows (definitions are JSON,
    states carry reason texts); rows whose version moved are read again, the others are handed out
    as the same objects (so the scheduler parses an unchanged definition once).
    """

    def __init__(self, table: str, columns: Sequence[str], build: Callable[[Row], T], having: str = "") -> None:
        self._table = table
        self._columns = ", ".join(f"argMax({column}, version)" for column in columns)
        self._build = build
        self._having = having
        self._rows: dict[str, tuple[int, T]] = {}

    def read(self, engine: Engine, names: Iterable[str] | None) -> dict[str, T]:
        """The current row of every name (of the given names), in name order."""
        wanted = None if names is None else sorted(set(names))
        current = engine.query_columns(f"SELECT name, max(version) FROM {self._table} {_name_filter(wanted)} "
                                       f"GROUP BY name{self._having} ORDER BY name")
        versions = dict(zip(map(str, current[0]), map(int, current[1]))) if current else {}
        rows = self._rows
        stale = [name for name, version in versions.items() if name not in rows or rows[name][0] != version]
        fetched = set()
        if stale:
            listed = stale if len(stale) <= _MAX_NAMES_LISTED else wanted
            for row in engine.query(f"SELECT name, max(version), {self._columns} FROM {self._table} "
                                    f"{_name_filter(listed)} GROUP BY name{self._having}"):
                rows[str(row[0])] = (int(row[1]), self._build(row))
                fetched.add(str(row[0]))
        if names is None:  # deleted rows leave the cache too
            self._rows = {name: rows[name] for name in versions if name in rows}
        # A stale row the second read did not return was deleted in between: it is not handed out.
        return {name: rows[name][1] for name in versions if name in rows and (name in fetched or name not in stale)}


def _definition(row: Row) -> StoredDefinition:
    name, _, kind, body, updated = row
    return StoredDefinition(str(name), kind, orjson.loads(body), int(updated))


def _state(row: Row) -> StoredState:
    name, _, value, previous, reason, reason_data, updated, transitioned, transition_id = row
    return StoredState(str(name), value, previous, str(reason), str(reason_data), int(updated), int(transitioned),
                       int(transition_id))


class AlarmStore:
    """Reads and writes of the alarm tables on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._definitions = _Versioned("alarm_definitions", ("kind", "definition", "updated_ms"), _definition,
                                       " HAVING argMax(deleted, version) = 0")
        self._states = _Versioned("alarm_state", ("state_value", "previous_value", "reason", "reason_data",
                                                  "updated_ms", "transitioned_ms", "transition_id"), _state)

    # Definitions -----------------------------------------------------------------------------

    def put_definitions(self, definitions: Sequence[StoredDefinition]) -> None:
        self._insert_definitions(definitions, deleted=False)

    def delete_definitions(self, definitions: Sequence[StoredDefinition], now_ms: int) -> None:
        gone = [StoredDefinition(d.name, d.kind, d.body, now_ms) for d in definitions]
        self._insert_definitions(gone, deleted=True)

    def _insert_definitions(self, definitions: Sequence[StoredDefinition], deleted: bool) -> None:
        if not definitions:
            return
        self.engine.insert("alarm_definitions", {
            "name": [d.name for d in definitions],
            "kind": [d.kind for d in definitions],
            "definition": [canonical_json(d.body) for d in definitions],
            "updated_ms": [d.updated_ms for d in definitions],
            "deleted": [int(deleted)] * len(definitions),
            "version": [_VERSIONS.next() for _ in definitions],
        })

    def definitions(self, names: Iterable[str] | None = None) -> dict[str, StoredDefinition]:
        """The alarms that exist (not deleted), by name; an unchanged definition as the same object."""
        return self._definitions.read(self.engine, names)

    # State -----------------------------------------------------------------------------------

    def write_states(self, states: Sequence[StoredState]) -> None:
        if not states:
            return
        self.engine.insert("alarm_state", {
            "name": [s.name for s in states],
            "state_value": [s.value for s in states],
            "previous_value": [s.previous for s in states],
            "reason": [s.reason for s in states],
            "reason_data": [s.reason_data for s in states],
            "updated_ms": [s.updated_ms for s in states],
            "transitioned_ms": [s.transitioned_ms for s in states],
            "transition_id": [s.transition_id for s in states],
            "version": [_VERSIONS.next() for _ in states],
        })

    def states(self, names: Iterable[str] | None = None) -> dict[str, StoredState]:
        return self._states.read(self.engine, names)

    # History ---------------------------------------------------------------------------------

    def append_history(self, items: Sequence[HistoryItem]) -> None:
        if not items:
            return
        self.engine.insert("alarm_history", {
            "name": [i.name for i in items],
            "timestamp_ms": [i.timestamp_ms for i in items],
            "item_type": [i.item_type for i in items],
            "summary": [i.summary for i in items],
            "data": [i.data for i in items],
            "item_id": [i.item_id for i in items],
        })

    def history(self, query: HistoryQuery, offset: int, limit: int) -> list[HistoryItem]:
        conditions = ["1"]
        if query.name is not None:
            conditions.append(f"name = {quote(query.name)}")
        if query.item_type is not None:
            conditions.append(f"item_type = {quote(query.item_type)}")
        if query.start_ms is not None:
            conditions.append(f"timestamp_ms >= {int(query.start_ms)}")
        if query.end_ms is not None:
            conditions.append(f"timestamp_ms <= {int(query.end_ms)}")
        order = "DESC" if query.newest_first else "ASC"
        rows = self.engine.query(
            "SELECT name, timestamp_ms, item_type, summary, data, item_id FROM alarm_history "
            f"WHERE {' AND '.join(conditions)} ORDER BY timestamp_ms {order}, item_id {order} "
            f"LIMIT {int(offset)}, {int(limit)}")
        return [HistoryItem(str(n), int(t), kind, str(s), str(d), str(i)) for n, t, kind, s, d, i in rows]

    # Delivered transitions -------------------------------------------------------------------

    def mark_actions_done(self, done: Sequence[ActionsDone]) -> None:
        """Record transitions whose actions are all finished (one insert for any number)."""
        if not done:
            return
        self.engine.insert("alarm_actions_done", {"name": [d.name for d in done],
                                                  "transition_id": [d.transition_id for d in done],
                                                  "done_ms": [d.done_ms for d in done]})

    def actions_done(self, transitions: Iterable[tuple[str, int]], since_ms: int) -> set[tuple[str, int]]:
        """Which of the given (alarm, transition id) pairs, none older than since_ms, had their actions handled.

        Filtered by time, not by an IN list: thousands of ids would exceed the server's max_query_size.
        """
        wanted = set(transitions)
        if not wanted:
            return set()
        rows = self.engine.query(f"SELECT DISTINCT name, transition_id FROM alarm_actions_done "
                                 f"WHERE done_ms >= {int(since_ms)}")
        return {(str(n), int(t)) for n, t in rows} & wanted


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    term: int
    holder: str
    expires_ms: int


class Lease:
    """Leadership among evaluators through the alarm_leases table (ClickHouse has no compare-and-set).

    Each holder renews by inserting (term, holder, now + ttl). When the newest
    term has expired, a contender inserts term + 1, waits `settle_s`, and reads
    back: the holder of the highest term wins, ties broken by the smallest
    holder id, so every contender reads the same winner.

    The race window, honestly: two contenders that both saw the expired term
    both insert term + 1; the settle wait lets the later insert land before
    either reads back. If an insert takes longer than settle_s (a stalled
    server), the earlier contender may act as leader for one cycle before the
    later one's row makes it lose, so two evaluators could both send the
    notifications of that one cycle. A holder that loses the lease stops at its
    next cycle. Clocks of contenders must agree to well within the ttl.
    """

    def __init__(self, engine: Engine, lease: str, holder: str, ttl_s: float, settle_s: float,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._engine = engine
        self._lease = lease
        self.holder = holder
        self._ttl_ms = int(ttl_s * 1000)
        self._settle_s = settle_s
        self._sleep = sleep

    def current(self) -> LeaseHolder | None:
        rows = self._engine.query(
            f"SELECT term, holder, max(expires_ms) FROM alarm_leases WHERE lease = {quote(self._lease)} "
            "GROUP BY term, holder ORDER BY term DESC, holder ASC LIMIT 1")
        return LeaseHolder(int(rows[0][0]), str(rows[0][1]), int(rows[0][2])) if rows else None

    def _claim(self, term: int, now_ms: int) -> None:
        self._engine.insert("alarm_leases", {"lease": [self._lease], "term": [term], "holder": [self.holder],
                                             "expires_ms": [now_ms + self._ttl_ms]})

    def hold(self, now: float) -> bool:
        """Renew or take the lease as of `now`; whether this holder leads until now + ttl."""
        now_ms = int(now * 1000)
        current = self.current()
        if current is not None and current.expires_ms > now_ms:
            if current.holder != self.holder:
                return False
            self._claim(current.term, now_ms)
            return True
        term = current.term + 1 if current is not None else 1
        self._claim(term, now_ms)
        self._sleep(self._settle_s)
        winner = self.current()
        return winner is not None and winner.term == term and winner.holder == self.holder
