"""Tuning of the tailer; the defaults suit a server, tests shorten the waits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

WatchMode = Literal["auto", "inotify", "poll"]


@dataclass(frozen=True)
class TailOptions:
    chunk_bytes: int = 1024 * 1024
    """One read() of a file; big chunks keep the per-byte cost in C."""
    batch_max_bytes: int = 2 * 1024 * 1024
    """Message characters per batch: fewer, bigger batches mean fewer spool appends, fsyncs and offset saves per
    MiB. Any batch that would encode over Kafka's record limit goes out as several envelopes (batching.py)."""
    batch_max_events: int = 20_000
    flush_interval_s: float = 1.0
    """logs.force_flush_interval: the longest a read event waits before its batch is submitted."""
    caught_up_flush_bytes: int = 256 * 1024
    """A batch holding at least this many message characters is submitted as soon as every file was read to its
    end, without waiting for flush_interval_s: the end of a burst ships at once (it waited up to a second, a fifth
    of a 500 MiB backlog's time), while a slow writer's lines are still gathered into batches worth an fsync."""
    partial_line_timeout_s: float = 5.0
    """A last line without its newline is shipped after its file was quiet this long."""
    multiline_quiet_s: float = 1.0
    """A held multi-line event is shipped after its file was quiet this long."""
    rotate_wait_s: float = 5.0
    """A rotated or deleted file is let go after it was at its end and quiet this long."""
    rescan_interval_s: float = 10.0
    """Globs are re-expanded at least this often, whatever inotify says (it can overflow)."""
    poll_interval_s: float = 0.5
    """How often files are checked when polling (also the wait between steps without events)."""
    watch: WatchMode = "auto"
