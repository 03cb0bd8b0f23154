"""Envelopes through the real Kafka into ClickHouse: stored once, dead letters set aside, partitions shared."""

from __future__ import annotations

from kafka import KafkaConsumer

from collector_support import (PARTITIONS, Running, StartCollector, Topics, committed, eventually, metric_envelope, produce,
                               sample_counts)
from watchkeeper.events import Kind, MetricDatum
from watchkeeper.storage.engine import Engine
from watchkeeper.wire import make_envelope


def test_envelopes_become_rows_counted_once_and_offsets_committed(
        topics: Topics, unique_name: str, engine: Engine, start_collector: StartCollector) -> None:
    envelopes = [metric_envelope(f"web-{i}", 1_800_000_000 + 100 * i, 50) for i in range(6)]
    produce(topics.bootstrap, topics.metrics, [(e.host, e.encode()) for e in envelopes])

    running = start_collector(topics, unique_name, engine)
    eventually(lambda: committed(topics.bootstrap, unique_name, topics.metrics) == len(envelopes),
               "every record committed")
    running.stop()

    assert sample_counts(engine)[1] == 300
    rows = engine.query("SELECT toUInt32(s.ts), s.sum, ser.dim_values FROM metric_samples AS s FINAL "
                        "ANY INNER JOIN (SELECT fingerprint, dim_values FROM metric_series FINAL) AS ser "
                        "USING fingerprint WHERE s.ts = 1800000201")
    assert rows == [(1800000201, 1800000201.0, ["web-2"])]
    stats = running.collector.stats()
    assert stats["rows_inserted"]["metric_samples"] == 300
    assert stats["dead_lettered"] == 0 and stats["insert_errors"] == 0


def dead_letters(topics: Topics, expected: int) -> list[tuple[bytes, dict[str, bytes]]]:
    consumer = KafkaConsumer(topics.deadletter, bootstrap_servers=topics.bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=10_000)
    found: list[tuple[bytes, dict[str, bytes]]] = []
    try:
        for message in consumer:
            found.append((message.value, dict(message.headers)))
            if len(found) == expected:
                break
    finally:
        consumer.close()
    return found


def test_garbage_and_invalid_items_are_dead_lettered_and_the_rest_flows(
        topics: Topics, unique_name: str, engine: Engine, start_collector: StartCollector) -> None:
    good_before = metric_envelope("web-1", 1_800_000_000, 10)
    bad_item = MetricDatum.single("CWAgent", "mem_used_percent", (("host", "web-1"),), 1_800_000_000.0, 1.0).to_item()
    bad_item["t"] = "yesterday"
    invalid = make_envelope(Kind.METRICS, "agent-web-1", "web-1", [bad_item])
    good_after = metric_envelope("web-1", 1_800_000_100, 10)
    # One key: all four land in one partition, in this order, so the good record after them must flow.
    produce(topics.bootstrap, topics.metrics, [("web-1", good_before.encode()), ("web-1", b"\x00not json"),
                                               ("web-1", invalid.encode()), ("web-1", good_after.encode())])

    running = start_collector(topics, unique_name, engine)
    eventually(lambda: committed(topics.bootstrap, unique_name, topics.metrics) == 4, "every record committed")
    running.stop()

    assert sample_counts(engine)[1] == 20
    letters = dead_letters(topics, 2)
    assert [value for value, _ in letters] == [b"\x00not json", invalid.encode()]
    garbage_headers, invalid_headers = (headers for _, headers in letters)
    assert garbage_headers["watchkeeper.reason"].startswith(b"not JSON")
    assert b"metric item 0" in invalid_headers["watchkeeper.reason"]
    assert b"field 't'" in invalid_headers["watchkeeper.reason"]
    assert invalid_headers["watchkeeper.origin.topic"] == topics.metrics.encode()
    assert int(invalid_headers["watchkeeper.origin.offset"]) == int(garbage_headers["watchkeeper.origin.offset"]) + 1
    assert running.collector.stats()["dead_lettered"] == 2


def test_two_collectors_in_one_group_share_the_partitions(
        topics: Topics, unique_name: str, engine: Engine, start_collector: StartCollector) -> None:
    first = start_collector(topics, unique_name, engine)
    second = start_collector(topics, unique_name, engine)
    def metrics_partitions(running: Running) -> int:
        return sum(stream.startswith(topics.metrics + "[") for stream in running.owned())

    eventually(lambda: metrics_partitions(first) == metrics_partitions(second) == PARTITIONS // 2,
               "each collector owns its share of the metrics partitions")

    envelopes = [metric_envelope(f"host-{i}", 1_800_000_000 + 100 * i, 20) for i in range(10)]
    produce(topics.bootstrap, topics.metrics, [(e.host, e.encode()) for e in envelopes])
    eventually(lambda: committed(topics.bootstrap, unique_name, topics.metrics) == len(envelopes),
               "every record committed")
    first.stop()
    second.stop()

    assert sample_counts(engine)[1] == 200
    inserted = [c.collector.stats()["rows_inserted"].get("metric_samples", 0) for c in (first, second)]
    assert sum(inserted) >= 200 and all(inserted), inserted
