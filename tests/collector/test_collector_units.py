"""The pieces of the collector that decide what is valid and what may be committed."""

from __future__ import annotations

import pytest

from collector.buffers import TableBuffers
from collector.ledger import CommitLedger
from collector.source import Record
from collector.writers import rows_for, writer_for
from collector_support import metric_envelope
from watchkeeper.errors import WireError
from watchkeeper.events import Kind
from watchkeeper.storage.engine import Columns


def record(offset: int, partition: int = 0) -> Record:
    return Record(b"", None, "wk.metrics", partition, offset)


def test_a_record_is_committable_only_when_every_table_holding_its_rows_was_inserted() -> None:
    ledger = CommitLedger()
    buffers = TableBuffers(max_rows=1000, max_age_s=60)
    for offset in (0, 1):
        pending = ledger.track(record(offset), ["samples", "series"])
        buffers.add("samples", {"x": [offset]}, pending, now=0)
        buffers.add("series", {"y": [offset]}, pending, now=0)
    ledger.track(record(5, partition=1), [])  # a dead letter: nothing to insert

    batches = {batch.table: batch for batch in buffers.seal_all()}
    assert ledger.committable() == {("wk.metrics", 1): 5}
    batches["samples"].settle()
    assert ledger.committable() == {}
    batches["series"].settle()
    assert ledger.committable() == {("wk.metrics", 0): 1}


def test_forgotten_streams_are_never_committed() -> None:
    ledger = CommitLedger()
    ledger.track(record(3), [])
    ledger.forget([("wk.metrics", 0)])
    assert ledger.committable() == {}


def test_buffers_seal_by_size_and_by_age() -> None:
    ledger = CommitLedger()
    buffers = TableBuffers(max_rows=3, max_age_s=1.0)
    buffers.add("big", {"x": [1, 2, 3]}, ledger.track(record(0), ["big"]), now=10.0)
    buffers.add("small", {"x": [1]}, ledger.track(record(1), ["small"]), now=10.0)
    assert [batch.table for batch in buffers.seal_due(now=10.0)] == ["big"]
    assert buffers.next_due_in(now=10.5) == 0.5
    assert [(batch.table, batch.rows) for batch in buffers.seal_due(now=11.0)] == [("small", 1)]
    assert buffers.next_due_in(now=11.0) is None


@pytest.mark.parametrize(("field", "value", "message"), [
    ("t", "yesterday", "metric item 1: field 't': found 'yesterday' (str); allowed: epoch seconds"),
    ("ns", None, "metric item 1: field 'ns': found None (NoneType); allowed: a non-empty string"),
    ("d", [["host"]], "metric item 1: field 'd': found [['host']] (list); allowed: a list of [name, value]"),
    ("s", True, "metric item 1: field 's' (sum): found True (bool); allowed: a finite number"),
    ("r", 5, "metric item 1: field 'r': found 5 (int); allowed: 1 or 60"),
])
def test_an_invalid_metric_item_names_the_item_and_the_field(field: str, value: object, message: str) -> None:
    envelope = metric_envelope("web-1", 1_800_000_000, 2)
    envelope.items[1][field] = value
    with pytest.raises(WireError) as raised:
        rows_for(envelope)
    assert str(raised.value).startswith(message)


def test_redelivered_envelope_yields_identical_rows() -> None:
    envelope = metric_envelope("web-1", 1_800_000_000, 3)
    def as_lists(tables: dict[str, Columns]) -> dict[str, dict[str, list[object]]]:
        return {table: {name: list(values) for name, values in columns.items()} for table, columns in tables.items()}

    assert as_lists(rows_for(envelope)) == as_lists(rows_for(envelope))
    assert len(set(rows_for(envelope)["metric_samples"]["event_id"])) == 3


def test_a_kind_without_a_writer_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("collector.writers.WRITERS", {})
    writer_for.cache_clear()
    with pytest.raises(WireError, match="no writer for kind 'metrics'"):
        writer_for(Kind.METRICS)
    writer_for.cache_clear()
