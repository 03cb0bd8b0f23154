"""Package changes from dpkg's log, with the apt command line and requesting user from apt's history.

dpkg.log is the authority (it also sees `dpkg -i`): one record per install, upgrade,
remove or purge. apt's history.log adds who asked and with what command: its blocks
(Start-Date ... End-Date) are matched to dpkg lines by time. apt writes a block's
End-Date only when it finishes, so dpkg lines from after an open block's start are
held back until the block is complete (or an hour old: apt may have been killed).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.audit.feeds.base import FeedContext
from agent.audit.feeds.logreader import Line, Position, read_new_lines
from agent.audit.identity import host_user

SOURCE = "packages.watchkeeper.local"
DPKG_ACTIONS = {"install": "InstallPackage", "upgrade": "UpgradePackage", "remove": "RemovePackage",
                "purge": "PurgePackage"}
DPKG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (install|upgrade|remove|purge) (\S+) (\S+) (\S+)$")
HISTORY_FIELD = re.compile(r"^([A-Za-z-]+): (.*)$")
REQUESTED_BY = re.compile(r"^(\S+) \((\d+)\)$")
OPEN_BLOCK_GIVE_UP_S = 3600.0
RECENT_TRANSACTIONS = 50


@dataclass(frozen=True, slots=True)
class PackageAction:
    when: datetime
    event_name: str
    package: str
    architecture: str | None
    version_before: str | None
    version_after: str | None


@dataclass(frozen=True, slots=True)
class AptTransaction:
    start: datetime
    end: datetime | None
    command_line: str | None
    user: str | None
    uid: int | None

    def to_json(self) -> list[Any]:
        return [self.start.isoformat(), self.end.isoformat() if self.end else None, self.command_line, self.user,
                self.uid]

    @classmethod
    def from_json(cls, row: list[Any]) -> AptTransaction:
        return cls(datetime.fromisoformat(row[0]), datetime.fromisoformat(row[1]) if row[1] else None, row[2], row[3],
                   row[4])

    def covers(self, when: datetime) -> bool:
        return self.start <= when and (self.end is None or when <= self.end)


def _version(text: str) -> str | None:
    return None if text == "<none>" else text


def parse_dpkg_line(line: str) -> PackageAction | None:
    """An install/upgrade/remove/purge line of dpkg.log; None for status, configure, trigproc and others."""
    match = DPKG_LINE.match(line.strip())
    if match is None:
        return None
    stamp, action, package, before, after = match.groups()
    name, _, arch = package.partition(":")
    return PackageAction(datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S"), DPKG_ACTIONS[action], name, arch or None,
                         _version(before), _version(after))


def _history_time(text: str) -> datetime:
    return datetime.strptime(" ".join(text.split()), "%Y-%m-%d %H:%M:%S")


def parse_history_block(lines: list[str]) -> AptTransaction | None:
    """One history.log block (its lines up to a blank line); None when it has no Start-Date."""
    fields = {}
    for line in lines:
        match = HISTORY_FIELD.match(line.strip())
        if match:
            fields[match.group(1)] = match.group(2).strip()
    if "Start-Date" not in fields:
        return None
    user = uid = None
    if requested := REQUESTED_BY.match(fields.get("Requested-By", "")):
        user, uid = requested.group(1), int(requested.group(2))
    end = _history_time(fields["End-Date"]) if "End-Date" in fields else None
    return AptTransaction(_history_time(fields["Start-Date"]), end, fields.get("Commandline"), user, uid)


def split_history(lines: list[Line]) -> tuple[list[AptTransaction], int | None, AptTransaction | None]:
    """(complete transactions, offset of the first line of the open block or None, the open block)."""
    done: list[AptTransaction] = []
    block: list[Line] = []
    for line in [*lines, Line(-1, "")]:
        if line.text.strip():
            block.append(line)
            continue
        if block:
            parsed = parse_history_block([item.text for item in block])
            if parsed is not None and parsed.end is None and line.offset == -1:
                return done, block[0].offset, parsed
            if parsed is not None:
                done.append(parsed)
        block = []
    return done, None, None


class PackagesFeed:
    name = "packages"

    def __init__(self, context: FeedContext, dpkg_log: str, history_log: str) -> None:
        self.context = context
        self.dpkg_log = dpkg_log
        self.history_log = history_log
        self.dpkg_position: Position | None = None
        self.history_position: Position | None = None
        self.recent: list[AptTransaction] = []

    def restore(self, saved: Any | None) -> None:
        saved = saved or {}
        self.dpkg_position = Position.from_json(saved["dpkg"]) if saved.get("dpkg") else None
        self.history_position = Position.from_json(saved["history"]) if saved.get("history") else None
        self.recent = [AptTransaction.from_json(row) for row in saved.get("recent", [])]

    def saved(self) -> Any:
        return {"dpkg": self.dpkg_position.to_json() if self.dpkg_position else None,
                "history": self.history_position.to_json() if self.history_position else None,
                "recent": [t.to_json() for t in self.recent]}

    def poll(self) -> list[dict[str, Any]]:
        open_block = self._read_history()
        lines, after = read_new_lines(self.dpkg_log, self.dpkg_position)
        if after is None:
            return []
        records = []
        for line in lines:
            action = parse_dpkg_line(line.text)
            if action is not None and open_block is not None and open_block.covers(action.when):
                after = Position(after.device, after.inode, line.offset)  # wait for apt to finish the block
                break
            if action is not None:
                records.append(self._record(action, after.file_identity, line.offset))
        self.dpkg_position = after
        return records

    def _read_history(self) -> AptTransaction | None:
        """Take up complete apt blocks; the still open one (if recent) is returned and re-read next poll."""
        lines, after = read_new_lines(self.history_log, self.history_position)
        if after is None:
            return None
        done, open_offset, open_block = split_history(lines)
        self.recent = (self.recent + done)[-RECENT_TRANSACTIONS:]
        if open_block is not None and open_offset is not None:
            if time.time() - open_block.start.timestamp() < OPEN_BLOCK_GIVE_UP_S:
                self.history_position = Position(after.device, after.inode, open_offset)
                return open_block
        self.history_position = after
        return None

    def _record(self, action: PackageAction, file_identity: str, offset: int) -> dict[str, Any]:
        transaction = next((t for t in reversed(self.recent) if t.covers(action.when)), None)
        extra: dict[str, Any] = {"via": "dpkg"}
        if transaction is None:
            identity = host_user(None, None, "log")  # dpkg run directly: its log does not say by whom
        else:
            extra.update(via="apt", commandLine=transaction.command_line)
            # apt names the sudo user in Requested-By; without one, apt ran as root itself.
            identity = host_user(transaction.user or "root", transaction.uid if transaction.user else 0, "log")
        request = {"package": action.package, "architecture": action.architecture,
                   "versionBefore": action.version_before, "versionAfter": action.version_after}
        return self.context.record(
            source=SOURCE, name=action.event_name, identity=identity, resource_type="Host::Package",
            resource_name=action.package, event_time=action.when.timestamp(), request=request, extra=extra,
            id_parts=(self.dpkg_log, file_identity, offset), agent_part="packages")
