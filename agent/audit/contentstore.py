"""The last content of small text files, so the next change can be shown as a diff.

Content-addressed: one zstd-compressed blob per SHA-256 under <state_dir>/audit-content/,
so identical files cost one blob and the snapshot's hash is the key. The store is
bounded by compressed bytes: when full, blobs no current file refers to go first,
then the least recently written. An evicted blob costs only the diff of that file's
next change (the event still carries both hashes).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Set
from pathlib import Path

import zstandard

STORE_DIR = "audit-content"
EVICT_TO = 0.9


class ContentStore:
    def __init__(self, state_dir: Path, max_bytes: int, referenced: Callable[[], Set[str]]) -> None:
        self.directory = state_dir / STORE_DIR
        self.directory.mkdir(parents=True, exist_ok=True)
        self._max_bytes = max_bytes
        self._referenced = referenced
        self._sizes: dict[str, int] = {}
        # Oldest first by mtime, so eviction order survives restarts.
        for entry in sorted(os.scandir(self.directory), key=lambda e: e.stat().st_mtime_ns):
            if entry.name.endswith(".tmp"):
                os.unlink(entry.path)
            else:
                self._sizes[entry.name] = entry.stat().st_size
        self._total = sum(self._sizes.values())
        self._compressor = zstandard.ZstdCompressor(level=3)
        self._decompressor = zstandard.ZstdDecompressor()

    @property
    def total_bytes(self) -> int:
        return self._total

    def has(self, sha256: str) -> bool:
        return sha256 in self._sizes

    def get(self, sha256: str) -> bytes | None:
        if sha256 not in self._sizes:
            return None
        try:
            return self._decompressor.decompress((self.directory / sha256).read_bytes())
        except (OSError, zstandard.ZstdError):
            self._total -= self._sizes.pop(sha256, 0)
            return None

    def put(self, sha256: str, content: bytes) -> None:
        if sha256 in self._sizes or self._max_bytes == 0:
            return
        blob = self._compressor.compress(content)
        if len(blob) > self._max_bytes:
            return
        temporary = self.directory / f"{sha256}.tmp"
        temporary.write_bytes(blob)
        os.replace(temporary, self.directory / sha256)
        self._sizes[sha256] = len(blob)
        self._total += len(blob)
        if self._total > self._max_bytes:
            self._evict(keep=sha256)

    def _evict(self, keep: str) -> None:
        """Free down to EVICT_TO of the bound, so a full store evicts once per many puts, not on each."""
        referenced = self._referenced()
        unreferenced = [sha for sha in self._sizes if sha not in referenced and sha != keep]
        oldest_first = [sha for sha in self._sizes if sha in referenced and sha != keep]
        goal = self._max_bytes * EVICT_TO
        for sha in unreferenced + oldest_first:
            if self._total <= goal:
                break
            self._total -= self._sizes.pop(sha)
            (self.directory / sha).unlink(missing_ok=True)
