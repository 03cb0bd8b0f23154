"""Helpers and fixtures for collector tests (imported by their conftest.py): topics with several partitions, envelopes produced to the real
broker, a collector running in a thread, and exact counts read back with FINAL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from collector.buffers import Batch
from collector.loop import Collector
from collector.service import kafka_collector
from watchkeeper.config.settings import CollectorSettings, KafkaSettings, Settings
from watchkeeper.events import Kind, MetricDatum
from watchkeeper.selfmetrics import NAMESPACE as SELF_NAMESPACE
from watchkeeper.storage.engine import Engine
from watchkeeper.transport.kafka import ensure_topics
from watchkeeper.wire import Envelope, make_envelope

PARTITIONS = 2


@dataclass(frozen=True)
class Topics:
    bootstrap: str
    prefix: str

    @property
    def metrics(self) -> str:
        return f"{self.prefix}.metrics"

    @property
    def deadletter(self) -> str:
        return f"{self.prefix}.deadletter"


@pytest.fixture
def topics(kafka_bootstrap: str, unique_name: str) -> Topics:
    """A fresh topic prefix; its topics are created with PARTITIONS partitions, as a deployment would."""
    ensure_topics(KafkaSettings(bootstrap_servers=[kafka_bootstrap], topic_prefix=unique_name), ["metrics"],
                  partitions=PARTITIONS)
    return Topics(kafka_bootstrap, unique_name)


def collector_settings(topics: Topics, group_id: str, max_rows: int = 1000) -> Settings:
    return Settings(kafka=KafkaSettings(bootstrap_servers=[topics.bootstrap], topic_prefix=topics.prefix),
                    collector=CollectorSettings(group_id=group_id, max_rows=max_rows, max_age_s=0.2,
                                                retry_max_s=1.0))


def write_config(path: Path, topics: Topics, name: str, collector: str) -> Path:
    """A watchkeeper.toml for a collector process: group and database both called name."""
    path.write_text(f'[kafka]\nbootstrap_servers = ["{topics.bootstrap}"]\ntopic_prefix = "{topics.prefix}"\n'
                    f'[clickhouse]\nurl = "clickhouse://127.0.0.1:9000/{name}"\n'
                    f'[collector]\ngroup_id = "{name}"\n{collector}\n')
    return path


def metric_envelope(host: str, start: int, count: int, name: str = "cpu_usage_idle") -> Envelope:
    """count datapoints of one series, one per second from start, values start..start+count-1."""
    items = [MetricDatum.single("CWAgent", name, (("host", host),), float(start + i), float(start + i)).to_item()
             for i in range(count)]
    return make_envelope(Kind.METRICS, "agent-" + host, host, items)


def produce(bootstrap: str, topic: str, payloads: list[tuple[str, bytes]]) -> None:
    """Send (key, value) records and wait until the broker acknowledged every one."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for key, value in payloads:
            producer.send(topic, key=key.encode(), value=value).get(timeout=30)
    finally:
        producer.close()


@dataclass
class Running:
    collector: Collector
    thread: threading.Thread

    def owned(self) -> list[str]:
        owned: list[str] = self.collector.stats()["streams_owned"]
        return owned

    def stop(self) -> None:
        self.collector.stop()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "collector did not stop"


StartCollector = Callable[..., Running]


@pytest.fixture
def start_collector() -> Iterator[StartCollector]:
    """Start collectors (the production assembly) in threads; each is stopped at the end of the test."""
    started: list[Running] = []

    def start(topics: Topics, group_id: str, engine: Engine, max_rows: int = 1000,
              after_insert: Callable[[Batch], None] | None = None) -> Running:
        collector = kafka_collector(collector_settings(topics, group_id, max_rows), engine, wait_s=30,
                                    after_insert=after_insert)
        thread = threading.Thread(target=collector.run, daemon=True)
        thread.start()
        running = Running(collector, thread)
        started.append(running)
        return running

    yield start
    for running in started:
        if running.thread.is_alive():
            running.stop()


def eventually(condition: Callable[[], bool], what: str, limit_s: float = 60.0) -> None:
    """Wait for a condition that the system must reach; the limit only bounds a hung test."""
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.1)


def sample_counts(engine: Engine) -> tuple[int, int]:
    """(rows as stored, rows as queries count them with FINAL) in metric_samples.

    The collector's reports about itself (namespace Watchkeeper) land in the same table and are
    not what the tests sent, so they are not counted.
    """
    own = f"WHERE namespace != '{SELF_NAMESPACE}'"
    raw = engine.query(f"SELECT count() FROM metric_samples {own}")[0][0]
    final = engine.query(f"SELECT count() FROM metric_samples FINAL {own}")[0][0]
    return int(raw), int(final)


def committed(bootstrap: str, group_id: str, topic: str) -> int:
    """Records committed by the group over all partitions of topic (offset = next record to read)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    try:
        return sum(consumer.committed(TopicPartition(topic, p)) or 0 for p in range(PARTITIONS))
    finally:
        consumer.close(autocommit=False)
