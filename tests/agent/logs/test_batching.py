"""A batch that would encode over the envelope limit leaves as several envelopes, every event once, in order."""

from __future__ import annotations

from agent.logs.batching import envelope_batches
from watchkeeper.events import Kind
from watchkeeper.storage.logs import LogRun
from watchkeeper.wire import make_envelope


def run(first: int, count: int, line: str) -> LogRun:
    return LogRun("app", "host-1", "/var/log/app.log", "fe-1", 0, 1_000, list(range(first, first + count)), [],
                  "\n".join(f"{n} {line}" for n in range(first, first + count)))


def test_batches_stay_within_the_limit_and_keep_every_event_in_order() -> None:
    # Control characters take 6 bytes each in JSON: the text's length says little about the envelope's.
    runs = [run(0, 400, "\x01" * 200), run(400, 10, "plain"), run(410, 300, "\x02" * 100)]
    batches = envelope_batches(runs, max_bytes=200_000)
    assert len(batches) > 2
    encoded = [make_envelope(Kind.LOGS, "a", "h", [r.to_item() for r in batch]).encode() for batch in batches]
    assert all(len(envelope) <= 200_000 for envelope in encoded)
    events = [(offset, message) for batch in batches for r in batch for offset, message in zip(r.offsets, r.message_list())]
    assert events == [(offset, message) for r in runs for offset, message in zip(r.offsets, r.message_list())]


def test_a_batch_within_the_bound_is_one_envelope_of_the_same_runs() -> None:
    runs = [run(0, 100, "plain"), run(100, 100, "plain")]
    assert envelope_batches(runs) == [runs]
