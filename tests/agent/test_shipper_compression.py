"""With compression = "zstd" the agent compresses each envelope once; the same bytes sit in the spool and on Kafka."""

from __future__ import annotations

from pathlib import Path

import pytest
import zstandard
from kafka import KafkaConsumer, TopicPartition

from agent.shipper import Shipper
from test_shipper import delete_topics
from watchkeeper.config.settings import KafkaSettings
from watchkeeper.errors import WireError
from watchkeeper.events import Kind
from watchkeeper.transport.kafka import API_VERSION, ENVELOPE_ZSTD_LEVEL, ensure_topics
from watchkeeper.transport.spool import Spool
from watchkeeper.wire import MAX_ENVELOPE_BYTES, ZSTD_FRAME_MAGIC, compress, decode, make_envelope, unframe

MiB = 1024 * 1024


def log_envelope(lines: int) -> bytes:
    text = "\n".join(f'10.0.0.{i % 250} - - "GET /item/{i} HTTP/1.1" 200 {i}' for i in range(lines))
    return make_envelope(Kind.LOGS, "agent-1", "web-1", [{"text": text, "offsets": list(range(lines))}]).encode()


def test_a_compressed_envelope_decodes_to_the_same_envelope_and_is_far_smaller() -> None:
    encoded = log_envelope(5000)
    compressed = compress(encoded, ENVELOPE_ZSTD_LEVEL)
    assert compressed.startswith(ZSTD_FRAME_MAGIC)
    assert len(compressed) * 4 < len(encoded)
    assert decode(compressed) == decode(encoded)


def test_a_damaged_compressed_envelope_is_a_wire_error() -> None:
    compressed = compress(log_envelope(100), ENVELOPE_ZSTD_LEVEL)
    with pytest.raises(WireError, match="compressed envelope is damaged"):
        decode(compressed[:-8])


def frame_header_announcing(size: int) -> bytes:
    """A zstd frame header (single segment, 8-byte content size) followed by an empty last block."""
    return ZSTD_FRAME_MAGIC + bytes([0xE0]) + size.to_bytes(8, "little") + b"\x01\x00\x00"


def test_a_compressed_envelope_announcing_too_much_or_no_size_is_refused_before_it_is_inflated() -> None:
    with pytest.raises(WireError, match=f"announces {MAX_ENVELOPE_BYTES + 1} bytes; allowed: 0 to"):
        decode(frame_header_announcing(MAX_ENVELOPE_BYTES + 1))
    without_size = zstandard.ZstdCompressor(write_content_size=False).compress(b"{}")
    with pytest.raises(WireError, match="announces -1 bytes"):
        decode(without_size)


def test_the_spool_and_kafka_carry_the_same_compressed_bytes(
    tmp_path: Path, kafka_bootstrap: str, unique_name: str
) -> None:
    settings = KafkaSettings(bootstrap_servers=[kafka_bootstrap], topic_prefix=unique_name, compression="zstd")
    (topic,) = [name for name in ensure_topics(settings, ["logs"], partitions=1) if name.endswith(".logs")]
    spool = Spool(tmp_path, max_bytes=64 * MiB, segment_bytes=MiB, fsync="always")
    shipper = Shipper.to_kafka(spool, settings)
    envelope = decode(log_envelope(2000))
    shipper.submit(envelope)
    [(_, entry)] = spool.read(max_entries=10, max_bytes=MiB, timeout=0)
    spool.rewind()
    kind, key, spooled = unframe(entry)
    assert spooled.startswith(ZSTD_FRAME_MAGIC)
    shipper.start()
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, api_version=API_VERSION)
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning()
        records = []
        for _ in range(60):
            records += consumer.poll(timeout_ms=1000).get(partition, [])
            if records:
                break
    finally:
        consumer.close()
        shipper.stop(flush_timeout=5)
        spool.close()
        delete_topics(settings)
    assert [(record.key, record.value) for record in records] == [(key.encode(), spooled)]
    assert decode(records[0].value) == envelope
