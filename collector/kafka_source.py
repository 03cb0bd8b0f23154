"""Records from Kafka topics through a consumer group, committed manually.

Several collector processes in one group share the partitions. Offsets are
committed only when the collector says so (after its inserts); a partition
taken away by a rebalance is reported so its uncommitted records are not
committed by this process (the new owner reads them again, and event ids make
that harmless).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from kafka import ConsumerRebalanceListener, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from collector.source import Record, Stream

log = logging.getLogger(__name__)


class _Revocations(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self) -> None:
        self.revoked: set[Stream] = set()

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.revoked.update((tp.topic, tp.partition) for tp in revoked)

    def on_partitions_assigned(self, assigned: Any) -> None:
        # A partition handed back to us restarts from its committed offset, so it stays in
        # `revoked`: what was tracked before must be forgotten either way.
        pass


class KafkaSource:
    """A KafkaConsumer (enable_auto_commit=False, a group id) subscribed here to the given topics."""

    def __init__(self, consumer: Any, topics: list[str], max_records: int) -> None:
        self._consumer = consumer
        self._revocations = _Revocations()
        self._max_records = max_records
        self._paused = False
        consumer.subscribe(topics, listener=self._revocations)

    def poll(self, timeout_s: float) -> list[Record]:
        if self._paused:
            # Partitions assigned by a rebalance during the pause start unpaused.
            self._consumer.pause(*self._consumer.assignment())
        batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=self._max_records)
        return [Record(message.value, message.key, message.topic, message.partition, message.offset)
                for messages in batches.values() for message in messages]

    def commit(self, through: dict[Stream, int]) -> None:
        owned = self.owned()
        offsets = {TopicPartition(topic, partition): OffsetAndMetadata(offset + 1, "", -1)
                   for (topic, partition), offset in through.items() if (topic, partition) in owned}
        if not offsets:
            return
        try:
            self._consumer.commit(offsets)
        except KafkaError as error:
            # Not fatal: the next commit covers these offsets, or the records are redelivered
            # and their event ids keep them from counting twice.
            log.warning("offset commit failed (%s); a later commit or redelivery covers it", error)

    def pause(self) -> None:
        self._paused = True
        self._consumer.pause(*self._consumer.assignment())

    def resume(self) -> None:
        self._paused = False
        self._consumer.resume(*self._consumer.paused())

    def take_revoked(self) -> set[Stream]:
        revoked, self._revocations.revoked = self._revocations.revoked, set()
        return revoked

    def lag(self) -> int | None:
        """The largest per-partition lag the consumer saw in its last fetches (kafka-python's own metric)."""
        metric = self._consumer.metrics().get("consumer-fetch-manager-metrics", {}).get("records-lag-max")
        # The metric is -inf (or absent) until a fetch measured it.
        return int(metric) if isinstance(metric, (int, float)) and math.isfinite(metric) else None

    def owned(self) -> set[Stream]:
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def close(self) -> None:
        self._consumer.close(autocommit=False)
