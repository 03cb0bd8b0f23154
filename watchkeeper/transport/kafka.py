"""Kafka clients configured once, from KafkaSettings, for every role.

Checked against kafka-python 3.0.12 and Kafka 4.1.2: with `api_version` unset the
client probes the broker eagerly and its constructor fails while Kafka is down;
pinned to the 4.0 protocol baseline, a producer can be built at any time and
connects when it first sends, which is what a spooling agent needs. The reported
ListOffsets v0 failure against 4.x brokers does not occur with this pin.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from watchkeeper.config.settings import KafkaSettings

log = logging.getLogger(__name__)

API_VERSION = (4, 0)
LINGER_MS = 5
# kafka-python checks a record's *uncompressed* size against max_request_size (1 MiB by default) and
# raises in send(); the broker's own limit (message.max.bytes) applies to the compressed batch. A log
# envelope of 1 MiB of lines encodes to ~1.5 MB of JSON that compresses far below the broker's limit,
# yet the default client check refused it and the agent's shipper retried it forever (every batch
# behind it stalled). The client check is raised; the broker stays the judge of what fits.
MAX_REQUEST_BYTES = 16 * 1024 * 1024
DEADLETTER = "deadletter"
# With `compression = "zstd"` the agent compresses each envelope itself, once, and the same bytes go into its
# spool and onto Kafka (watchkeeper.wire.compress). Level 1: on 2 MiB of access-log lines it takes half the CPU
# of zstd's default level 3 (which kafka-python uses) for a frame 2 % larger.
ENVELOPE_ZSTD_LEVEL = 1


def _connection_options(settings: KafkaSettings) -> dict[str, Any]:
    """Bootstrap, security and timeouts: identical for producers, consumers and the admin client."""
    return {
        "bootstrap_servers": settings.bootstrap_servers,
        "api_version": API_VERSION,
        "request_timeout_ms": int(settings.request_timeout_s * 1000),
        "security_protocol": settings.security_protocol,
        "sasl_mechanism": settings.sasl_mechanism,
        "sasl_plain_username": settings.sasl_username,
        "sasl_plain_password": settings.sasl_password,
        "ssl_cafile": str(settings.ssl_cafile) if settings.ssl_cafile else None,
        "ssl_certfile": str(settings.ssl_certfile) if settings.ssl_certfile else None,
        "ssl_keyfile": str(settings.ssl_keyfile) if settings.ssl_keyfile else None,
    }


def envelope_zstd_level(settings: KafkaSettings) -> int | None:
    """The zstd level at which the agent compresses its envelopes itself, or None: the producer compresses."""
    return ENVELOPE_ZSTD_LEVEL if settings.compression == "zstd" else None


def make_producer(settings: KafkaSettings, *, values_compressed: bool = False) -> KafkaProducer:
    """An idempotent producer waiting for all in-sync replicas.

    values_compressed: the caller sends values it compressed itself (envelope_zstd_level), so the
    producer does not spend a second compression on them.
    kafka-python 3.0 has no buffer_memory: in-flight memory is bounded by the caller
    sending at most settings.max_in_flight_bytes before it waits for delivery (the
    agent's Shipper reads the spool in batches of that size).
    """
    compress = settings.compression != "none" and not values_compressed
    return KafkaProducer(
        **_connection_options(settings),
        acks="all",
        enable_idempotence=True,
        compression_type=settings.compression if compress else None,
        linger_ms=LINGER_MS,
        max_request_size=MAX_REQUEST_BYTES,
        # Give up on a batch within the request timeout so the caller can spool and retry.
        max_block_ms=int(settings.request_timeout_s * 1000),
        delivery_timeout_ms=int(settings.request_timeout_s * 1000) + LINGER_MS,
        # Nothing reads producer metrics; recording its ~20 sensors per request was ~15 % of
        # the agent's Kafka I/O thread (bench/agent_overhead.py).
        metrics_enabled=False,
    )


def make_consumer(settings: KafkaSettings, group_id: str, topics: Iterable[str]) -> KafkaConsumer:
    """A classic-protocol group member that commits only when told to (after the data is stored)."""
    return KafkaConsumer(
        *topics,
        **_connection_options(settings),
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # Watchkeeper's producers are not transactional; this only guards against foreign ones.
        isolation_level="read_committed",
    )


def ensure_topics(settings: KafkaSettings, kinds: Iterable[str], partitions: int = 6, replication: int = 1) -> list[str]:
    """Create `<prefix>.<kind>` for every kind and the dead-letter topic if missing; return the names."""
    names = [settings.topic(kind) for kind in (*kinds, DEADLETTER)]
    admin = KafkaAdminClient(**_connection_options(settings))
    try:
        existing = set(admin.list_topics())
        missing = [name for name in names if name not in existing]
        for name in missing:
            try:
                # The topic accepts what the client may send, so no batch is refused by the broker
                # (a refused batch could only be dropped) whatever message.max.bytes the broker has.
                admin.create_topics([NewTopic(name, partitions, replication,
                                              topic_configs={"max.message.bytes": str(MAX_REQUEST_BYTES)})])
                log.info("created Kafka topic %s (%d partitions, replication %d)", name, partitions, replication)
            except TopicAlreadyExistsError:
                pass  # another process created it between our listing and our request
    finally:
        admin.close()
    return names
