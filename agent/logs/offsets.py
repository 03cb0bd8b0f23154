"""The offsets state file: where each known file identity has been read and shipped up to.

Format (JSON, one file, `<state_dir>/log_offsets.json`):

    {"version": 1,
     "files": {"<file_id>": {"device": int, "inode": int, "fingerprint_length": int,
                             "fingerprint": "<hex>", "generation": int, "offset": int,
                             "continued": bool, "path": "<last known path>"}}}

`offset` is the first byte not yet handed on durably (every event before it is in the
spool or Kafka); `continued` says that byte is inside a line cut for being too long.
The file is replaced atomically: written to a temporary file, fsynced, renamed over
the old one, and the directory fsynced, so a crash or power cut leaves either the old
or the new state, never a torn one. A state file that cannot be parsed is kept aside
(`.corrupt`) and reading starts over: re-reading duplicates, which ClickHouse folds by
event id; skipping would lose.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from watchkeeper.atomicfile import write_atomically

from agent.logs.identity import FileIdentity

log = logging.getLogger(__name__)
STATE_VERSION = 1
STATE_FILE = "log_offsets.json"


@dataclass(frozen=True)
class Checkpoint:
    identity: FileIdentity
    offset: int
    continued: bool
    path: str

    def to_json(self) -> dict[str, Any]:
        out = asdict(self.identity)
        del out["file_id"]
        out.update(offset=self.offset, continued=self.continued, path=self.path)
        return out

    @classmethod
    def from_json(cls, file_id: str, data: dict[str, Any]) -> Checkpoint:
        identity = FileIdentity(file_id, int(data["device"]), int(data["inode"]), int(data["fingerprint_length"]),
                                str(data["fingerprint"]), int(data["generation"]))
        return cls(identity, int(data["offset"]), bool(data["continued"]), str(data["path"]))


class OffsetStore:
    """The checkpoints of every file identity, persisted atomically on save()."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / STATE_FILE
        state_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoints: dict[str, Checkpoint] = self._load()

    def _load(self) -> dict[str, Checkpoint]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            data = orjson.loads(raw)
            if data.get("version") != STATE_VERSION:
                raise ValueError(f"version {data.get('version')!r}, this agent reads {STATE_VERSION}")
            return {file_id: Checkpoint.from_json(file_id, entry) for file_id, entry in data["files"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            aside = self.path.with_suffix(".corrupt")
            os.replace(self.path, aside)
            log.warning("offsets state %s is unreadable (%s); kept as %s, files are read from their start "
                        "(duplicates fold in ClickHouse by event id)", self.path, error, aside)
            return {}

    def put(self, checkpoint: Checkpoint) -> None:
        self.checkpoints[checkpoint.identity.file_id] = checkpoint

    def forget(self, file_id: str) -> None:
        self.checkpoints.pop(file_id, None)

    def save(self) -> None:
        payload = orjson.dumps({"version": STATE_VERSION,
                                "files": {k: c.to_json() for k, c in self.checkpoints.items()}})
        write_atomically(self.path, payload)
