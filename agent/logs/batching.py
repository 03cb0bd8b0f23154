"""Pending runs -> envelopes that Kafka takes: never one over ENVELOPE_MAX_BYTES encoded.

kafka-python refuses a record over its max_request_size (16 MiB, uncompressed) in
send(). A batch's encoded size is bounded cheaply first (every character may take 6
bytes as a JSON escape, every event an offset and a timestamp of 20 digits); only a
batch over the bound is measured exactly, by encoding its runs, and cut: runs go
into envelopes in order, and a run too big alone is halved until its pieces fit
(a piece of one event stays whole: max_line_bytes keeps it far below the cap).
"""

from __future__ import annotations

import orjson

from watchkeeper.storage.logs import LogRun

# Below the shipper's 16 MiB (which splits anything bigger); a default batch (2 MiB of text) always fits the
# cheap bound, so the exact measure is only taken for unusual batches.
ENVELOPE_MAX_BYTES = 15 * 1024 * 1024
# The envelope's own fields (kind, agent, host, batch id...) and the items list's brackets.
ENVELOPE_FRAME_BYTES = 4096
_EVENT_BYTES = 2 * 21 + 3  # an offset and a timestamp with their commas, a message's quotes and comma
_RUN_BYTES = 512  # an item's field names and numbers


def envelope_batches(runs: list[LogRun], max_bytes: int = ENVELOPE_MAX_BYTES) -> list[list[LogRun]]:
    """The runs, in order, grouped into batches each encoding to at most max_bytes."""
    room = max_bytes - ENVELOPE_FRAME_BYTES
    if sum(map(_bound, runs)) <= room:
        return [runs]
    batches: list[list[LogRun]] = [[]]
    used = 0
    for run in runs:
        for piece in _fitting(run, room):
            size = _exact(piece)
            if batches[-1] and used + size > room:
                batches.append([])
                used = 0
            batches[-1].append(piece)
            used += size
    return batches


def _fitting(run: LogRun, room: int) -> list[LogRun]:
    if len(run.offsets) == 1 or _exact(run) <= room:
        return [run]
    half = len(run.offsets) // 2
    return _fitting(run.part(0, half), room) + _fitting(run.part(half, len(run.offsets)), room)


def _bound(run: LogRun) -> int:
    names = len(run.log_group) + len(run.log_stream) + len(run.file) + len(run.file_id)
    return _RUN_BYTES + 6 * (names + run.message_chars()) + _EVENT_BYTES * len(run.offsets)


def _exact(run: LogRun) -> int:
    return len(orjson.dumps(run.to_item())) + 1  # and the comma between items
