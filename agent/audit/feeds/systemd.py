"""Units enabled and disabled, from the symlinks `systemctl enable` makes, and masks.

`systemctl enable x.service` links x into <dir>/<target>.wants/ (or .requires/);
`mask` links <dir>/x.service to /dev/null. Both are plain files to compare, so this
works without a running systemd. Started and stopped units are only in the journal,
which this feed does not read (docs/audit-sources.md says why and what to do).
"""

from __future__ import annotations

import os
import time
from typing import Any

from agent.audit.feeds.base import FeedContext
from agent.audit.feeds.snapshot import SnapshotFeed
from agent.audit.identity import host_user

SOURCE = "systemd.watchkeeper.local"
DEPENDENCY_SUFFIXES = (".wants", ".requires")


def unit_links(directory: str) -> dict[str, str]:
    """'<target>.wants/<unit>' (an enablement) or 'mask/<unit>' (a mask) -> where the link points."""
    links: dict[str, str] = {}
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return links
    for entry in entries:
        if entry.is_dir(follow_symlinks=False) and entry.name.endswith(DEPENDENCY_SUFFIXES):
            try:
                for link in os.scandir(entry.path):
                    if link.is_symlink():
                        links[f"{entry.name}/{link.name}"] = os.readlink(link.path)
            except OSError:
                continue
        elif entry.is_symlink() and os.readlink(entry.path) == "/dev/null":
            links[f"mask/{entry.name}"] = "/dev/null"
    return links


def unit_changes(previous: dict[str, str], current: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(eventName, unit, details) for each link added or removed."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    for key in sorted(previous.keys() ^ current.keys()):
        added = key in current
        holder, _, unit = key.partition("/")
        if holder == "mask":
            found.append(("MaskUnit" if added else "UnmaskUnit", unit, {}))
        else:
            relation = "wantedBy" if holder.endswith(".wants") else "requiredBy"
            target = (current if added else previous)[key]
            found.append(("EnableUnit" if added else "DisableUnit", unit,
                          {relation: holder.rsplit(".", 1)[0], "unitFile": target}))
    return found


class SystemdFeed(SnapshotFeed):
    name = "systemd"

    def __init__(self, context: FeedContext, directories: list[str]) -> None:
        super().__init__(context)
        self.directories = directories

    def read(self) -> Any:
        return {directory: unit_links(directory) for directory in self.directories}

    def compare(self, previous: Any, current: Any) -> list[dict[str, Any]]:
        records = []
        for directory in self.directories:
            for event_name, unit, details in unit_changes(previous.get(directory, {}), current.get(directory, {})):
                records.append(self.context.record(
                    source=SOURCE, name=event_name, identity=host_user(None, None, "unknown"),
                    resource_type="Host::SystemdUnit", resource_name=unit, event_time=time.time(),
                    request={"unit": unit, "directory": directory, **details}, agent_part="systemd",
                    id_parts=(directory, event_name, unit, repr(details), repr(sorted(current[directory])))))
        return records
