"""What the monitor knows about one file: its stat and its SHA-256, and how to get them cheaply.

A file is hashed only when its size, mtime, ctime or inode differ from the last known
state: anything that rewrites content changes mtime or ctime (ctime cannot be set from
user space), so an unchanged stat means unchanged content and a large tree's baseline
costs one stat per file.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat
from dataclasses import asdict, dataclass
from typing import Any

HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileState:
    """A regular file or symlink (directories are walked, not recorded)."""

    sha256: str  # of the content; of the link target text for a symlink; "" when it could not be read
    size: int
    mode: int  # st_mode: type and permission bits
    uid: int
    gid: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    def to_json(self) -> list[Any]:
        return list(asdict(self).values())

    @classmethod
    def from_json(cls, row: list[Any]) -> FileState:
        return cls(str(row[0]), *(int(value) for value in row[1:]))

    def same_stat(self, other: os.stat_result) -> bool:
        return (self.size == other.st_size and self.mtime_ns == other.st_mtime_ns and self.ctime_ns == other.st_ctime_ns
                and self.inode == other.st_ino and self.device == other.st_dev)

    @property
    def is_symlink(self) -> bool:
        return stat.S_ISLNK(self.mode)

    def describe(self) -> dict[str, Any]:
        """The CloudTrail-facing view: hash, size, octal mode, owner and group by name and id."""
        return {
            "sha256": self.sha256 or None,
            "size": self.size,
            "mode": format(stat.S_IMODE(self.mode), "04o"),
            "fileType": "symlink" if self.is_symlink else "file",
            "owner": user_name(self.uid),
            "uid": self.uid,
            "group": group_name(self.gid),
            "gid": self.gid,
            "mtime": self.mtime_ns / 1e9,
        }


def user_name(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def user_id(name: str) -> int | None:
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def group_name(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None


def content_sha256(path: str, info: os.stat_result) -> str:
    """SHA-256 of a file's content (a symlink's target text); "" when it cannot be read (e.g. vanished)."""
    try:
        if stat.S_ISLNK(info.st_mode):
            return hashlib.sha256(os.fsencode(os.readlink(path))).hexdigest()
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(HASH_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return ""


def observe(path: str, info: os.stat_result, known: FileState | None) -> FileState:
    """The state of path given its lstat; reuses known's hash when the stat says nothing changed."""
    if known is not None and known.same_stat(info) and known.sha256:
        sha = known.sha256
    else:
        sha = content_sha256(path, info)
    return FileState(sha, info.st_size, info.st_mode, info.st_uid, info.st_gid, info.st_mtime_ns, info.st_ctime_ns,
                     info.st_ino, info.st_dev)


def is_recorded(info: os.stat_result) -> bool:
    """Regular files and symlinks are recorded; devices, sockets and fifos are not content."""
    return stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)
