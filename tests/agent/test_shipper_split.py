"""An envelope too big for one Kafka record is split by the shipper the same way on every attempt."""

from __future__ import annotations

from agent.shipper import split_oversize
from watchkeeper.events import Kind
from watchkeeper.wire import decode, make_envelope


def test_oversize_envelope_splits_in_order_within_the_limit_and_deterministically() -> None:
    items = [{"n": n, "text": f"{n:04d}" * 2500} for n in range(10)]  # ~10 KB each
    payload = make_envelope(Kind.LOGS, "agent-1", "web-1", items).encode()
    parts = split_oversize(payload, max_bytes=25_000)
    assert len(parts) > 1 and all(len(part) <= 25_000 for part in parts)
    envelopes = [decode(part) for part in parts]
    assert [item for envelope in envelopes for item in envelope.items] == items
    original = decode(payload).batch_id
    ids = [envelope.batch_id for envelope in envelopes]
    assert len(set(ids)) == len(ids) and all(i.startswith(original + ".") for i in ids)
    assert split_oversize(payload, max_bytes=25_000) == parts  # a retry sends the very same records


def test_an_envelope_within_the_limit_or_of_one_item_goes_as_it_is() -> None:
    small = make_envelope(Kind.LOGS, "agent-1", "web-1", [{"n": 1}]).encode()
    assert split_oversize(small, max_bytes=len(small)) == [small]
    single = make_envelope(Kind.LOGS, "agent-1", "web-1", [{"text": "x" * 50_000}]).encode()
    assert split_oversize(single, max_bytes=25_000) == [single]
