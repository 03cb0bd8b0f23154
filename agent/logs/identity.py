"""Which file is this? Device + inode, confirmed by a fingerprint of the file's first bytes.

Device + inode alone is fooled by inode reuse (a rotated file deleted, a new one given
its inode); a content fingerprint alone is fooled by copies and by files that start
alike. Together they tell files apart. Unlike Vector, a file shorter than the
fingerprint is still read: its fingerprint covers the bytes it has (at least one), and
grows as the file does, up to FINGERPRINT_BYTES, without changing the file's id.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace

FINGERPRINT_BYTES = 1024


def fingerprint(fd: int, length: int) -> str:
    """Hex digest of the first length bytes of the open file."""
    return hashlib.blake2b(os.pread(fd, length, 0), digest_size=12).hexdigest()


@dataclass(frozen=True)
class FileIdentity:
    """A file as the tailer knows it.

    file_id is fixed when the file is first read and names it in every event, so it
    must stay the same for the file's life: it is derived from device, inode, the
    first fingerprint and a generation that grows each time the same inode is
    truncated and rewritten (copytruncate), so rewritten content never shares ids
    with what was there before.
    """

    file_id: str
    device: int
    inode: int
    fingerprint_length: int
    fingerprint: str
    generation: int = 0

    @classmethod
    def first_seen(cls, fd: int, stat: os.stat_result, generation: int = 0) -> FileIdentity:
        """The identity of a file read for the first time; it must not be empty."""
        length = min(stat.st_size, FINGERPRINT_BYTES)
        digest = fingerprint(fd, length)
        file_id = f"{stat.st_dev:x}-{stat.st_ino:x}-{digest[:16]}-{length}"
        if generation:
            file_id += f"-g{generation}"
        return cls(file_id, stat.st_dev, stat.st_ino, length, digest, generation)

    def same_inode(self, stat: os.stat_result) -> bool:
        return self.device == stat.st_dev and self.inode == stat.st_ino

    def matches(self, fd: int, stat: os.stat_result) -> bool:
        """True when the open file is this one: same inode and still starting with the same bytes."""
        return (self.same_inode(stat) and stat.st_size >= self.fingerprint_length
                and fingerprint(fd, self.fingerprint_length) == self.fingerprint)

    def grown(self, fd: int, stat: os.stat_result) -> FileIdentity:
        """A stronger fingerprint once the file has more of its first bytes (same file_id)."""
        length = min(stat.st_size, FINGERPRINT_BYTES)
        if length <= self.fingerprint_length:
            return self
        return replace(self, fingerprint_length=length, fingerprint=fingerprint(fd, length))
