"""Assemble a Kafka -> ClickHouse collector from settings, waiting a bounded time for the services.

At start the collector waits for ClickHouse and Kafka, logging every failed
attempt, for up to `wait_s` seconds; then the caller gives up (exit 3). Once
running, an outage never stops it: ClickHouse outages pause consumption and
retry (loop.py); Kafka outages are retried by the Kafka client.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from kafka.errors import KafkaError

from collector.buffers import Batch
from collector.deadletter import KafkaDeadLetters
from collector.kafka_source import KafkaSource
from collector.loop import Collector
from collector.writers import writable_kinds
from watchkeeper.config.settings import KafkaSettings, Settings
from watchkeeper.errors import StorageUnavailable, TransportError
from watchkeeper.storage.engine import Engine, open_engine
from watchkeeper.storage.schema import migrate
from watchkeeper.transport.kafka import DEADLETTER, ensure_topics, make_consumer, make_producer

log = logging.getLogger(__name__)

T = TypeVar("T")

# Records per poll: envelopes carry thousands of items, so a few hundred records fill a buffer.
_MAX_RECORDS_PER_POLL = 500


def wait_for(what: str, attempt: Callable[[], T], wait_s: float) -> T:
    """attempt() until it stops raising StorageUnavailable/TransportError, for at most wait_s seconds."""
    deadline = time.monotonic() + wait_s
    delay = 0.5
    while True:
        try:
            return attempt()
        except (StorageUnavailable, TransportError) as error:
            if time.monotonic() + delay > deadline:
                raise type(error)(f"{what} still unreachable after {wait_s:g}s: {error}") from error
            log.warning("%s unreachable (%s); retrying in %.1fs", what, error, delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


def open_storage(settings: Settings, wait_s: float) -> Engine:
    """The ClickHouse engine, migrated (migrations are idempotent, so every collector may run them)."""
    clickhouse = settings.clickhouse
    engine = wait_for("ClickHouse", lambda: open_engine(clickhouse.url, clickhouse.password, clickhouse.secure),
                      wait_s)
    applied = migrate(engine, settings.retention)
    for migration in applied:
        log.info("applied migration %04d %s", migration.version, migration.name)
    return engine


def kafka_collector(settings: Settings, engine: Engine, wait_s: float,
                    after_insert: Callable[[Batch], None] | None = None) -> Collector:
    """A collector consuming the topics of every kind with a writer, in group collector.group_id."""
    kafka = settings.kafka
    kinds = [kind.value for kind in writable_kinds()]
    wait_for("Kafka", lambda: _ensure_topics(kafka, kinds), wait_s)
    topics = [kafka.topic(kind) for kind in kinds]
    source = KafkaSource(make_consumer(kafka, settings.collector.group_id, []), topics, _MAX_RECORDS_PER_POLL)
    dead_letters = KafkaDeadLetters(make_producer(kafka), kafka.topic(DEADLETTER), kafka.request_timeout_s)
    log.info("collector consuming %s as group %s", ", ".join(topics), settings.collector.group_id)
    return Collector(source, engine, dead_letters, settings.collector, after_insert)


def _ensure_topics(kafka: KafkaSettings, kinds: list[str]) -> list[str]:
    try:
        return ensure_topics(kafka, kinds)
    except KafkaError as error:
        raise TransportError(f"Kafka at {', '.join(kafka.bootstrap_servers)}: {error}") from error
