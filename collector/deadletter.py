"""Where records that cannot be stored go, with the reason and their origin.

A dead letter is written before the record's offset is committed and `send`
returns only once it is durable (Kafka acknowledged it, or the file is
fsynced), so a rejected record is never lost, only set aside.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any, Protocol

import orjson

from collector.source import Record
from watchkeeper.errors import TransportError


class DeadLetters(Protocol):
    def send(self, record: Record, reason: str) -> None:
        """Set the record aside durably; raises TransportError when that is impossible."""

    def close(self) -> None: ...


def origin_headers(record: Record, reason: str) -> list[tuple[str, bytes]]:
    """Kafka headers that say why the record was rejected and where it came from."""
    return [
        ("watchkeeper.reason", reason.encode()),
        ("watchkeeper.origin.topic", record.topic.encode()),
        ("watchkeeper.origin.partition", str(record.partition).encode()),
        ("watchkeeper.origin.offset", str(record.offset).encode()),
    ]


class KafkaDeadLetters:
    """The `<prefix>.deadletter` topic: the original payload and key, the reason and origin in headers."""

    def __init__(self, producer: Any, topic: str, timeout_s: float) -> None:
        self._producer = producer
        self._topic = topic
        self._timeout_s = timeout_s

    def send(self, record: Record, reason: str) -> None:
        from kafka.errors import KafkaError

        try:
            future = self._producer.send(self._topic, value=record.payload, key=record.key,
                                         headers=origin_headers(record, reason))
            future.get(timeout=self._timeout_s)
        except KafkaError as error:
            raise TransportError(f"cannot write dead letter for {record.origin()} to {self._topic}: {error}") \
                from error

    def close(self) -> None:
        self._producer.close()


class FileDeadLetters:
    """For the embedded mode (no Kafka): one JSON line per record in a local file, fsynced."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle = path.open("ab")

    def send(self, record: Record, reason: str) -> None:
        line = orjson.dumps({
            "reason": reason,
            "origin": {"topic": record.topic, "partition": record.partition, "offset": record.offset},
            "key": record.key.decode(errors="replace") if record.key is not None else None,
            "payload_base64": base64.b64encode(record.payload).decode(),
        })
        try:
            self._handle.write(line + b"\n")
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except OSError as error:
            raise TransportError(f"cannot write dead letter to {self.path}: {error.strerror}") from error

    def close(self) -> None:
        self._handle.close()
