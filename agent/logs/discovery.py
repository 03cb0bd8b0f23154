"""Which files the globs match now, and the warnings about what they match but cannot read.

`*` matches within a directory, `**` any depth (glob's recursive mode). A directory
matched by a glob is skipped; an unreadable file is skipped and tried again at every
rescan. Each is warned about once, until it changes, so a log is not flooded.
"""

from __future__ import annotations

import glob
import logging
import os
import stat
from dataclasses import dataclass, field

log = logging.getLogger(__name__)
GLOB_CHARACTERS = frozenset("*?[")


@dataclass
class WarnOnce:
    """Remembers what was warned about, so each problem is logged once until it clears."""

    seen: set[tuple[str, str]] = field(default_factory=set)

    def warn(self, path: str, problem: str, message: str, *args: object) -> None:
        if (path, problem) not in self.seen:
            self.seen.add((path, problem))
            log.warning(message, *args)

    def clear(self, path: str, problem: str) -> None:
        self.seen.discard((path, problem))


def matching_files(pattern: str, warnings: WarnOnce) -> list[str]:
    """Regular files the pattern matches now, in a stable order; directories warned about and skipped."""
    out = []
    for path in sorted(glob.glob(pattern, recursive=True)):
        if os.path.isdir(path):
            warnings.warn(path, "directory", "%s matches file_path %r but is a directory; skipped", path, pattern)
        else:
            out.append(path)
    return out


def open_for_tailing(path: str, warnings: WarnOnce) -> int | None:
    """A read-only descriptor, or None (warned once) when the file cannot be opened now."""
    try:
        # O_NONBLOCK: a FIFO matched by a glob must not hang the agent in open().
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return None  # gone between the glob and the open: the next rescan sees what replaced it
    except OSError as error:
        warnings.warn(path, "unreadable", "cannot read %s (%s); will retry at every rescan", path, error.strerror)
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        warnings.warn(path, "special", "%s is not a regular file (a FIFO or device); skipped", path)
        return None
    warnings.clear(path, "unreadable")
    return fd


def watch_root(pattern: str) -> tuple[str, bool]:
    """The deepest directory without glob characters above the pattern, and whether to watch below it."""
    parts = pattern.split(os.sep)
    fixed: list[str] = []
    for part in parts[:-1]:
        if GLOB_CHARACTERS & set(part):
            return os.sep.join(fixed) or os.sep, True
        fixed.append(part)
    return os.sep.join(fixed) or os.sep, False


def rotated_siblings(path: str) -> list[str]:
    """Files next to path named like its rotations (app.log -> app.log.1, app.log-20240101, app.1.log)."""
    directory, name = os.path.split(path)
    stem = name.split(".", 1)[0]
    return [candidate for candidate in glob.glob(os.path.join(glob.escape(directory or "."), glob.escape(stem) + "*"))
            if candidate != path and os.path.isfile(candidate)]
