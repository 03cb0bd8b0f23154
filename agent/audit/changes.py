"""From two states of the same paths to the changes between them.

A rename keeps the inode and the content, so a path gone and a path new that share
(device, inode, sha256) are one move; matching the hash as well keeps a reused inode
(a file deleted, another created and given its number) from passing for a move.
A file whose only difference is its timestamps (touch) has not changed.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping, Set
from dataclasses import dataclass
from enum import Enum

from agent.audit.filestate import FileState


class ChangeKind(Enum):
    CREATE = "CreateFile"
    MODIFY = "ModifyFile"
    DELETE = "DeleteFile"
    MOVE = "MoveFile"
    CHMOD = "ChangeFileMode"
    CHOWN = "ChangeFileOwner"


@dataclass(frozen=True, slots=True)
class FileChange:
    kind: ChangeKind
    path: str
    before: FileState | None
    after: FileState | None
    source_path: str | None = None  # a move's old path


def changes_between(before: Mapping[str, FileState], after: Mapping[str, FileState], covered: Set[str]) -> list[FileChange]:
    """The changes among the covered paths from before to after (after holds only covered paths)."""
    gone = sorted(path for path in covered if path in before and path not in after)
    new = sorted(path for path in after if path not in before)
    by_identity = {(before[path].device, before[path].inode, before[path].sha256): path for path in gone}
    result: list[FileChange] = []
    moved_from: set[str] = set()
    for path in new:
        state = after[path]
        source = by_identity.pop((state.device, state.inode, state.sha256), None)
        if source is not None and state.sha256:
            moved_from.add(source)
            result.append(FileChange(ChangeKind.MOVE, path, before[source], state, source))
        else:
            result.append(FileChange(ChangeKind.CREATE, path, None, state))
    result.extend(FileChange(ChangeKind.DELETE, path, before[path], None) for path in gone if path not in moved_from)
    for path in sorted(after.keys() & before.keys()):
        result.extend(_in_place(path, before[path], after[path]))
    return result


def _in_place(path: str, old: FileState, new: FileState) -> list[FileChange]:
    found = []
    if old.sha256 != new.sha256 or old.size != new.size or stat.S_IFMT(old.mode) != stat.S_IFMT(new.mode):
        found.append(FileChange(ChangeKind.MODIFY, path, old, new))
    if stat.S_IMODE(old.mode) != stat.S_IMODE(new.mode):
        found.append(FileChange(ChangeKind.CHMOD, path, old, new))
    if (old.uid, old.gid) != (new.uid, new.gid):
        found.append(FileChange(ChangeKind.CHOWN, path, old, new))
    return found
