"""The Shipper delivers every spooled batch to the real Kafka, in order, keyed by host, across outages."""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from kafka.admin import KafkaAdminClient

from agent.shipper import Shipper
from services import KafkaInstance
from watchkeeper.config.settings import KafkaSettings
from watchkeeper.events import Kind
from watchkeeper.transport.kafka import ensure_topics, make_consumer
from watchkeeper.transport.spool import Spool
from watchkeeper.wire import Envelope, decode, make_envelope, unframe

MiB = 1024 * 1024
WAIT_S = 180.0
PRIVATE_BROKER = KafkaInstance("shipper", 19192, 19193)


def open_spool(directory: Path) -> Spool:
    return Spool(directory, max_bytes=64 * MiB, segment_bytes=MiB, fsync="always")


def envelopes(hosts: list[str], count: int) -> list[Envelope]:
    kinds = [Kind.METRICS, Kind.LOGS]
    return [
        make_envelope(kinds[i % 2], "agent-1", hosts[i % len(hosts)], [{"i": i}]) for i in range(count)
    ]


def wait_until_shipped(shipper: Shipper) -> None:
    deadline = time.monotonic() + WAIT_S
    while shipper.spool.pending_entries and time.monotonic() < deadline:
        time.sleep(0.1)
    assert shipper.spool.pending_entries == 0, f"still pending after {WAIT_S}s: {shipper.stats()}"


def consume(settings: KafkaSettings, group: str, expected: int) -> list[tuple[str, bytes, Envelope]]:
    """(topic, key, envelope) of every record on the metrics and logs topics, in partition order."""
    consumer = make_consumer(settings, group, [settings.topic("metrics"), settings.topic("logs")])
    records: list[tuple[str, bytes, Envelope]] = []
    deadline = time.monotonic() + WAIT_S
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=1000).values():
                records.extend((r.topic, r.key, decode(r.value)) for r in batch)
        # Anything beyond `expected` would be a duplicate: give it a moment to show up.
        for batch in consumer.poll(timeout_ms=2000).values():
            records.extend((r.topic, r.key, decode(r.value)) for r in batch)
    finally:
        consumer.close()
    return records


def delete_topics(settings: KafkaSettings) -> None:
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        admin.delete_topics([t for t in admin.list_topics() if t.startswith(settings.topic_prefix + ".")])
    finally:
        admin.close()


def test_batches_arrive_once_in_order_on_their_kinds_topic_keyed_by_host(
    tmp_path: Path, kafka_bootstrap: str, unique_name: str
) -> None:
    settings = KafkaSettings(bootstrap_servers=[kafka_bootstrap], topic_prefix=unique_name)
    ensure_topics(settings, [kind.value for kind in Kind], partitions=3)
    sent = envelopes(["web-1", "web-2", "db-1"], 60)
    shipper = Shipper.to_kafka(open_spool(tmp_path), settings)
    try:
        seqs = [shipper.submit(envelope) for envelope in sent[:30]]
        shipper.start()
        seqs += [shipper.submit(envelope) for envelope in sent[30:]]
        assert seqs == list(range(1, 61))
        wait_until_shipped(shipper)
        assert shipper.stats()["batches_sent"] == 60
        records = consume(settings, unique_name, len(sent))
    finally:
        shipper.stop(flush_timeout=5)
        shipper.spool.close()
        delete_topics(settings)

    assert Counter(envelope.batch_id for _, _, envelope in records) == Counter(e.batch_id for e in sent)
    for topic, key, envelope in records:
        assert topic == settings.topic(envelope.kind.value)
        assert key == envelope.host.encode()
    # key = host puts one host's batches of one kind in one partition, so Kafka keeps their order.
    arrived: dict[tuple[str, str], list[str]] = defaultdict(list)
    for topic, _, envelope in records:
        arrived[(topic, envelope.host)].append(envelope.batch_id)
    submitted: dict[tuple[str, str], list[str]] = defaultdict(list)
    for envelope in sent:
        submitted[(settings.topic(envelope.kind.value), envelope.host)].append(envelope.batch_id)
    assert arrived == submitted


def test_without_a_producer_the_spool_is_the_transport(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    shipper = Shipper(spool, None, lambda kind: f"unused.{kind.value}")
    envelope = make_envelope(Kind.AUDIT, "agent-1", "web-1", [{"event": "login"}])
    shipper.start()
    assert shipper.submit(envelope) == 1
    [(seq, entry)] = spool.read(max_entries=10, max_bytes=MiB, timeout=0)
    kind, key, payload = unframe(entry)
    assert (seq, kind, key, decode(payload)) == (1, Kind.AUDIT, "web-1", envelope)
    shipper.stop(flush_timeout=0)
    spool.close()


def test_an_unroutable_spool_entry_is_skipped_and_counted(
    tmp_path: Path, kafka_bootstrap: str, unique_name: str
) -> None:
    settings = KafkaSettings(bootstrap_servers=[kafka_bootstrap], topic_prefix=unique_name)
    ensure_topics(settings, [kind.value for kind in Kind], partitions=1)
    shipper = Shipper.to_kafka(open_spool(tmp_path), settings)
    good = make_envelope(Kind.METRICS, "agent-1", "web-1", [])
    try:
        shipper.spool.append(b"\x05nokind")
        shipper.submit(good)
        shipper.start()
        wait_until_shipped(shipper)
        records = consume(settings, unique_name, 1)
    finally:
        shipper.stop(flush_timeout=5)
        shipper.spool.close()
        delete_topics(settings)
    assert [envelope.batch_id for _, _, envelope in records] == [good.batch_id]
    assert shipper.stats()["malformed_entries"] == 1


@pytest.mark.torture
def test_kafka_outage_and_agent_restart_lose_nothing(
    tmp_path: Path, unique_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    PRIVATE_BROKER.start()
    settings = KafkaSettings(
        bootstrap_servers=[PRIVATE_BROKER.bootstrap], topic_prefix=unique_name, request_timeout_s=5
    )
    ensure_topics(settings, [kind.value for kind in Kind], partitions=3)
    sent = envelopes(["web-1", "web-2"], 60)
    caplog.set_level(logging.WARNING, logger="agent.shipper")
    try:
        shipper = Shipper.to_kafka(open_spool(tmp_path), settings)
        shipper.start()
        for envelope in sent[:20]:
            shipper.submit(envelope)
        wait_until_shipped(shipper)

        PRIVATE_BROKER.stop()
        for envelope in sent[20:40]:
            shipper.submit(envelope)  # the broker is gone: these only reach the spool
        # The agent restarts while Kafka is still down.
        shipper.stop(flush_timeout=1)
        shipper.spool.close()
        shipper = Shipper.to_kafka(open_spool(tmp_path), settings)
        assert shipper.spool.pending_entries >= 20
        shipper.start()
        for envelope in sent[40:]:
            shipper.submit(envelope)

        PRIVATE_BROKER.start()
        wait_until_shipped(shipper)
        shipper.stop(flush_timeout=5)
        shipper.spool.close()
        records = consume(settings, unique_name, len(sent))
    finally:
        PRIVATE_BROKER.start()  # whatever happened, so its topics can be deleted
        delete_topics(settings)
        PRIVATE_BROKER.stop()

    arrived = Counter(envelope.batch_id for _, _, envelope in records)
    assert set(arrived) == {envelope.batch_id for envelope in sent}, "a batch was lost"
    duplicates = {batch: count for batch, count in arrived.items() if count > 1}
    # Redelivery after a lost acknowledgement is allowed (the collector dedupes by batch_id): report it.
    print(f"duplicates after the outage: {len(duplicates)} of {len(sent)} batches")
    assert "Kafka unreachable" in caplog.text
    assert "reachable again" in caplog.text
