"""The agent's log tailer: every line of the configured files shipped exactly once.

Modules, each with one job:
- spec: what to tail (TailSpec), validated and compiled once.
- timestamps: CloudWatch-agent timestamp_format -> regex + parser.
- identity: which file is this (device, inode and a fingerprint of its first bytes).
- lines: bytes -> lines with their offsets, long lines split with visible markers.
- multiline: lines -> events by multi_line_start_pattern.
- tracked: one open file being read, its position and what it still holds back.
- discovery: glob expansion (`*`, `**`), directories and unreadable files warned about.
- offsets: the durable, atomic state file of positions.
- watcher: inotify (watchdog) or polling, behind one small interface.
- tailer: the loop tying them together: read, batch, submit, then save offsets.
"""
