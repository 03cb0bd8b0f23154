"""What is audited: the configured roots minus the exclude globs."""

from __future__ import annotations

import fnmatch
import os


class Scope:
    def __init__(self, roots: list[str], exclude: list[str]) -> None:
        self.roots = [os.path.normpath(os.path.abspath(root)) for root in roots]
        self._exclude = list(exclude)

    def excluded(self, path: str) -> bool:
        """fnmatch on the full path, so '*.swp' and '/etc/mtab' both work; an excluded directory prunes its tree."""
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self._exclude)

    def contains(self, path: str) -> bool:
        """Below a root, and neither the path nor a directory on the way to it is excluded."""
        root = next((root for root in self.roots if is_within(path, root)), None)
        if root is None:
            return False
        while True:
            if self.excluded(path):
                return False
            if len(path) <= len(root):
                return True
            path = os.path.dirname(path)

    def watch_targets(self) -> list[tuple[str, bool]]:
        """(directory, recursive) pairs to watch: roots that are directories, and the parent of file roots."""
        targets = []
        for root in self.roots:
            if os.path.isdir(root):
                targets.append((root, True))
            else:
                targets.append((os.path.dirname(root) or "/", False))
        return targets


def is_within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")
