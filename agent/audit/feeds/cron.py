"""Crontab edits: each crontab file's content compared with the last seen, as ModifyCrontab with a redacted diff.

A user crontab (/var/spool/cron/crontabs/<user>) names its user; other crontabs name
their file's owner. Crontabs larger than MAX_CRONTAB_BYTES are compared by hash only.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any

from agent.audit.diffs import text_diff
from agent.audit.feeds.base import FeedContext
from agent.audit.feeds.snapshot import SnapshotFeed
from agent.audit.identity import host_user
from agent.audit.redaction import Redactor

SOURCE = "cron.watchkeeper.local"
MAX_CRONTAB_BYTES = 256 * 1024
USER_CRONTAB_DIRS = ("/var/spool/cron/crontabs", "/var/spool/cron")


def crontab_files(paths: list[str]) -> list[str]:
    """The files among paths, and the files directly in the directories among them (cron does not recurse)."""
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            files.extend(entry.path for entry in os.scandir(path) if entry.is_file() and not entry.name.startswith("."))
        elif os.path.isfile(path):
            files.append(path)
    return sorted(files)


def read_crontab(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CRONTAB_BYTES + 1)
            uid = os.fstat(handle.fileno()).st_uid
    except OSError:
        return None
    text = data.decode("utf-8", errors="replace") if len(data) <= MAX_CRONTAB_BYTES else None
    return {"sha256": hashlib.sha256(data).hexdigest(), "uid": uid, "text": text}


class CronFeed(SnapshotFeed):
    name = "cron"

    def __init__(self, context: FeedContext, paths: list[str], redactor: Redactor) -> None:
        super().__init__(context)
        self.paths = paths
        self.redactor = redactor

    def read(self) -> Any:
        return {path: state for path in crontab_files(self.paths) if (state := read_crontab(path)) is not None}

    def compare(self, previous: Any, current: Any) -> list[dict[str, Any]]:
        records = []
        for path in sorted(previous.keys() | current.keys()):
            before, after = previous.get(path), current.get(path)
            if before == after:
                continue
            change = "created" if before is None else "deleted" if after is None else "modified"
            extra: dict[str, Any] = {"change": change, "sha256Before": before and before["sha256"],
                                     "sha256After": after and after["sha256"]}
            texts = [(state or {"text": ""})["text"] for state in (before, after)]
            if texts[0] is not None and texts[1] is not None:
                diff = text_diff(texts[0].encode(), texts[1].encode(), path if before else "/dev/null",
                                 path if after else "/dev/null", self.redactor)
                extra.update({"diff": diff.diff, "diffRedacted": diff.redacted} if diff.diff is not None
                             else {"diffOmitted": diff.omitted})
            owner = after or before
            assert owner is not None
            directory, name = os.path.split(path)
            identity = host_user(name, None, "crontabUser") if directory in USER_CRONTAB_DIRS \
                else host_user(None, owner["uid"], "fileOwner")
            records.append(self.context.record(
                source=SOURCE, name="ModifyCrontab", identity=identity, resource_type="Host::Crontab",
                resource_name=path, event_time=time.time(), request={"path": path}, extra=extra, agent_part="cron",
                id_parts=(path, extra["sha256Before"], extra["sha256After"])))
        return records
