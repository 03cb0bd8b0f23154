"""File changes as CloudTrail records (eventSource files.watchkeeper.local, resources [Host::File])."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.audit.changes import ChangeKind, FileChange
from agent.audit.diffs import TextDiff
from agent.audit.filestate import FileState
from agent.audit.identity import host_user, stable_event_id
from audit.record import new_record, resource

EVENT_SOURCE = "files.watchkeeper.local"


@dataclass(frozen=True, slots=True)
class Detection:
    """How a change was noticed: 'inotify', 'poll', 'rescan' or 'baseline' (found at start)."""

    method: str
    at: float

    @property
    def found_at_start(self) -> bool:
        return self.method == "baseline"


def _state_key(state: FileState | None) -> str:
    if state is None:
        return "-"
    return f"{state.sha256}:{state.mode}:{state.uid}:{state.gid}:{state.inode}:{state.mtime_ns}:{state.ctime_ns}"


def file_record(change: FileChange, diff: TextDiff | None, detection: Detection, host: str,
                installation_id: str) -> dict[str, Any]:
    owner_state = change.after or change.before
    assert owner_state is not None  # every change has a before or an after
    request: dict[str, Any] = {"path": change.path}
    if change.kind is ChangeKind.MOVE:
        request["sourcePath"] = change.source_path
    elif change.kind is ChangeKind.CHMOD:
        request["mode"] = owner_state.describe()["mode"]
    elif change.kind is ChangeKind.CHOWN:
        view = owner_state.describe()
        request.update(owner=view["owner"], uid=view["uid"], group=view["group"], gid=view["gid"])
    extra: dict[str, Any] = {
        "before": change.before.describe() if change.before else None,
        "after": change.after.describe() if change.after else None,
        "detectedBy": detection.method,
    }
    if detection.found_at_start:
        extra["foundAtStart"] = True
    if diff is not None and diff.diff is not None:
        extra["diff"] = diff.diff
        extra["diffRedacted"] = diff.redacted
    elif diff is not None:
        extra["diffOmitted"] = diff.omitted
    resources = [resource("Host::File", change.path, host)]
    if change.source_path:
        resources.append(resource("Host::File", change.source_path, host))
    record = new_record(
        event_source=EVENT_SOURCE,
        event_name=change.kind.value,
        user_identity=host_user(None, owner_state.uid, "fileOwner"),
        installation_id=installation_id,
        resources=resources,
        event_type="HostChange",
        request_parameters=request,
        additional_event_data=extra,
        user_agent="watchkeeper-agent/fim",
        event_time=detection.at,
    )
    record["eventID"] = stable_event_id(host, EVENT_SOURCE, change.kind.value, change.path, change.source_path,
                                        _state_key(change.before), _state_key(change.after))
    return record

