"""The agent's only way out: batches go into the local spool, a forwarder moves them to Kafka.

`submit` only appends to the spool, so collection never waits for the network. The
forwarder thread reads the spool in order, sends a read batch, waits until Kafka
acknowledged all of it and only then acknowledges it in the spool. Any failure
rewinds the spool and retries the same entries, in the same order, with backoff; an
entry too big for one Kafka record goes out as several envelopes, split the same way
on every attempt (split_oversize);
a batch can therefore reach Kafka twice (an acknowledgement lost on the way back),
never zero times. Duplicates carry the same batch_id, which the collector dedupes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from kafka import KafkaProducer
from kafka.errors import InvalidRecordError, KafkaError, MessageSizeTooLargeError

from watchkeeper.config.settings import KafkaSettings
from watchkeeper.errors import WireError
from watchkeeper.events import Kind
from watchkeeper.transport.kafka import MAX_REQUEST_BYTES, envelope_zstd_level, make_producer
from watchkeeper.transport.spool import Spool
from watchkeeper.wire import Envelope, compress, decode, frame, unframe

log = logging.getLogger(__name__)

READ_MAX_ENTRIES = 1000
RETRY_FIRST_S = 0.5
# Kafka refuses these records however often they are sent: retrying would stall every batch behind them.
NEVER_ACCEPTED = (MessageSizeTooLargeError, InvalidRecordError)
# kafka-python refuses a record whose size with its key and record overhead passes max_request_size;
# a spool entry bigger than this is sent as several envelopes (split_oversize) instead.
SEND_MAX_BYTES = MAX_REQUEST_BYTES - 64 * 1024


def split_oversize(payload: bytes, max_bytes: int = SEND_MAX_BYTES) -> list[bytes]:
    """An encoded envelope, or when it is over max_bytes, envelopes of its items in order, each within it.

    Deterministic, so a retry sends the very same records: the items are halved until every
    part fits, and a part's batch id is the original's with its place in the halving
    (<id>.0, <id>.1, <id>.1.0, ...), so a part delivered twice is deduplicated like any batch.
    A single item too big cannot be split and is returned as it is (Kafka then refuses it).
    Raises WireError when an oversize payload is not an envelope.
    """
    if len(payload) <= max_bytes:
        return [payload]
    envelope = decode(payload)
    return _halves(envelope, envelope.items, envelope.batch_id, max_bytes)


def _halves(envelope: Envelope, items: list[dict[str, Any]], batch_id: str, max_bytes: int) -> list[bytes]:
    encoded = replace(envelope, items=items, batch_id=batch_id).encode()
    if len(encoded) <= max_bytes or len(items) <= 1:
        return [encoded]
    half = len(items) // 2
    return _halves(envelope, items[:half], f"{batch_id}.0", max_bytes) + \
        _halves(envelope, items[half:], f"{batch_id}.1", max_bytes)


def _handed_over(entries: list[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
    """The entries in order, each removed from the list as it is given out."""
    entries.reverse()
    while entries:
        yield entries.pop()


class Shipper:
    """Spool-backed delivery of envelopes to Kafka (or, with no producer, into the spool only)."""

    def __init__(
        self,
        spool: Spool,
        producer_factory: Callable[[], KafkaProducer] | None,
        topic_for: Callable[[Kind], str],
        *,
        max_batch_bytes: int = 64 * 1024 * 1024,
        delivery_timeout_s: float = 30.0,
        retry_max_s: float = 30.0,
        zstd_level: int | None = None,
    ) -> None:
        self.spool = spool
        self._zstd_level = zstd_level
        self._producer_factory = producer_factory
        self._topic_for = topic_for
        self._max_batch_bytes = max_batch_bytes
        self._delivery_timeout_s = delivery_timeout_s
        self._retry_max_s = retry_max_s
        self._producer: KafkaProducer | None = None
        self._thread: threading.Thread | None = None
        self._stop_requested = threading.Event()
        self._drain_deadline: float | None = None
        self._kafka_reachable: bool | None = None
        self.batches_sent = 0
        self.send_failures = 0
        self.malformed_entries = 0
        self.rejected_entries = 0

    @classmethod
    def to_kafka(cls, spool: Spool, settings: KafkaSettings) -> Shipper:
        """A Shipper sending to the topics and with the limits the settings name."""
        zstd_level = envelope_zstd_level(settings)
        return cls(
            spool,
            lambda: make_producer(settings, values_compressed=zstd_level is not None),
            lambda kind: settings.topic(kind.value),
            max_batch_bytes=settings.max_in_flight_bytes,
            delivery_timeout_s=settings.request_timeout_s,
            zstd_level=zstd_level,
        )

    def submit(self, envelope: Envelope) -> int:
        """Append the envelope to the spool (durable per its fsync policy); return its spool sequence.

        With a zstd level the envelope is compressed here, once: the spool then writes and fsyncs
        a tenth of the bytes, and the forwarder hands the very same bytes to Kafka.
        """
        encoded = envelope.encode()
        if self._zstd_level is not None:
            encoded = compress(encoded, self._zstd_level)
        return self.spool.append(frame(envelope.kind, envelope.host, encoded))

    def start(self) -> None:
        """Start the forwarder. Without a producer (embedded mode) the spool is the transport: nothing to start."""
        if self._producer_factory is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._forward, name="shipper-forwarder", daemon=True)
        self._thread.start()

    def stop(self, flush_timeout: float) -> None:
        """Stop the forwarder after it shipped everything pending or flush_timeout seconds passed.

        What is not shipped stays in the spool for the next start. An attempt in progress
        at the deadline finishes first (it is bounded by the delivery timeout).
        """
        if self._thread is None:
            return
        self._drain_deadline = time.monotonic() + flush_timeout
        self._stop_requested.set()
        self.spool.wake_reader()  # the forwarder may be waiting for entries with no timeout
        self._thread.join()
        self._thread = None
        self._discard_producer()

    def stats(self) -> dict[str, Any]:
        """Counters for self-monitoring."""
        return {
            "batches_sent": self.batches_sent,
            "send_failures": self.send_failures,
            "malformed_entries": self.malformed_entries,
            "rejected_entries": self.rejected_entries,
            "spool_pending_entries": self.spool.pending_entries,
            "spool_pending_bytes": self.spool.pending_bytes,
            "spool_dropped_entries": self.spool.dropped_entries,
            "spool_dropped_bytes": self.spool.dropped_bytes,
            "kafka_reachable": self._kafka_reachable,
        }

    # ----- the forwarder thread ---------------------------------------------------------

    def _finished(self) -> bool:
        if not self._stop_requested.is_set() or self._drain_deadline is None:
            return False
        return self.spool.pending_entries == 0 or time.monotonic() >= self._drain_deadline

    def _forward(self) -> None:
        retry_in = RETRY_FIRST_S
        while not self._finished():
            # No timeout: an idle agent's forwarder sleeps until an append or stop() wakes it
            # (a 0.2 s poll here was half of the idle agent's CPU).
            entries = self.spool.read(READ_MAX_ENTRIES, self._max_batch_bytes, None)
            if not entries:
                continue
            last_seq = entries[-1][0]
            try:
                self._send(entries)
            except Exception as error:  # noqa: BLE001 - any failure means: keep the batch, retry later
                self.spool.rewind()
                self.send_failures += 1
                self._discard_producer()
                self._note_reachability(False, error)
                self._pause(retry_in)
                retry_in = min(retry_in * 2, self._retry_max_s)
                continue
            self.spool.ack(last_seq)
            self._note_reachability(True, None)
            retry_in = RETRY_FIRST_S

    def _send(self, entries: list[tuple[int, bytes]]) -> None:
        """Send a read batch and return only when Kafka acknowledged every record of it.

        Empties entries as it goes: once the producer holds its copy of an entry, the spool's copy
        is let go, so a read batch is in memory about once (not twice) while Kafka acknowledges it.
        """
        if self._producer is None:
            assert self._producer_factory is not None  # start() runs the forwarder only with a factory
            self._producer = self._producer_factory()
        producer = self._producer
        pending = []
        rejected = 0
        for seq, entry in _handed_over(entries):
            try:
                kind, key, payload = unframe(entry)
                parts = split_oversize(payload)
            except WireError as error:
                self.malformed_entries += 1
                log.error("spool entry %d cannot be routed and is skipped: %s", seq, error)
                continue
            for part in parts:
                try:
                    pending.append((seq, producer.send(self._topic_for(kind), key=key.encode(), value=part)))
                except NEVER_ACCEPTED as error:  # raised by send() itself for a record over max_request_size
                    rejected += 1
                    log.error("Kafka refuses spool entry %d for good (%s); it is dropped", seq, error)
        producer.flush(timeout=self._delivery_timeout_s)
        for seq, future in pending:
            try:
                future.get(timeout=0)
            except NEVER_ACCEPTED as error:
                rejected += 1
                log.error("Kafka refuses spool entry %d for good (%s); it is dropped", seq, error)
        self.rejected_entries += rejected
        self.batches_sent += len(pending) - rejected

    def _discard_producer(self) -> None:
        """Close the producer so the next attempt starts from a clean connection and producer id."""
        if self._producer is not None:
            try:
                self._producer.close(timeout=0)
            except KafkaError as error:
                log.debug("closing the Kafka producer failed: %s", error)
            self._producer = None

    def _note_reachability(self, reachable: bool, error: Exception | None) -> None:
        """Log when Kafka goes away or comes back, once per change rather than per attempt."""
        if reachable == self._kafka_reachable:
            return
        if reachable and self._kafka_reachable is False:
            log.warning("Kafka is reachable again: replaying the spool (%d entries pending)", self.spool.pending_entries)
        elif not reachable:
            log.warning(
                "Kafka unreachable (%s: %s): batches stay in the spool (%d pending) and are retried",
                type(error).__name__, error, self.spool.pending_entries,
            )
        self._kafka_reachable = reachable

    def _pause(self, seconds: float) -> None:
        """Back off; a stop request cuts the pause short unless a drain is still under way."""
        if self._drain_deadline is None:
            self._stop_requested.wait(seconds)
        else:
            time.sleep(max(0.0, min(seconds, self._drain_deadline - time.monotonic())))
