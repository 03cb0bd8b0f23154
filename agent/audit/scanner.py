"""The current state of the audited files, over the whole scope or below a few paths."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping

from agent.audit.filestate import FileState, is_recorded, observe
from agent.audit.scope import Scope, is_within


class Scanner:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def scan_all(self, known: Mapping[str, FileState]) -> dict[str, FileState]:
        """Every audited file now; hashes are reused from known where the stat is unchanged."""
        found: dict[str, FileState] = {}
        for root in self.scope.roots:
            self._scan(root, known, found)
        return found

    def scan_paths(self, paths: Iterable[str], known: Mapping[str, FileState]) -> tuple[set[str], dict[str, FileState]]:
        """(the paths looked at, their state now) for the given paths and, for directories, their trees.

        The first set also holds every known path below a given one, so a deleted
        directory's files are seen as gone.
        """
        covered: set[str] = set()
        found: dict[str, FileState] = {}
        subtrees = []
        for path in {os.path.normpath(p) for p in paths}:
            if not self.scope.contains(path):
                continue
            covered.add(path)
            if path not in known and not self._scan(path, known, found):
                subtrees.append(path)  # a directory now, or gone and maybe a directory before
            elif path in known:
                self._scan(path, known, found)
        if subtrees:
            covered.update(p for p in known if any(is_within(p, tree) for tree in subtrees))
        return covered, found

    def _scan(self, path: str, known: Mapping[str, FileState], found: dict[str, FileState]) -> bool:
        """Add path (a file) or its tree (a directory) to found; True when path was a single file."""
        try:
            info = os.lstat(path)
        except OSError:
            return False
        if not stat.S_ISDIR(info.st_mode):
            if is_recorded(info):
                found[path] = observe(path, info, known.get(path))
            return True
        self._walk(path, known, found)
        return False

    def _walk(self, directory: str, known: Mapping[str, FileState], found: dict[str, FileState]) -> None:
        pending = [directory]
        while pending:
            current = pending.pop()
            try:
                entries = list(os.scandir(current))
            except OSError:
                continue  # vanished meanwhile: its files are gone
            for entry in entries:
                if self.scope.excluded(entry.path):
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(info.st_mode):
                    pending.append(entry.path)
                elif is_recorded(info):
                    found[entry.path] = observe(entry.path, info, known.get(entry.path))
