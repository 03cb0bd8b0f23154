"""Replace a small state file so that a crash or power cut leaves the old content or the new, never half.

Write a temporary file beside it, fsync it, rename it over the old one, fsync the
directory (the rename itself is only durable once the directory is). Offsets,
spool positions, baselines and keys are all written this way.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def write_atomically(path: Path, payload: bytes, mode: int = 0o644) -> None:
    temporary = path.with_name(path.name + ".tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(handle, payload)
        os.fsync(handle)
    finally:
        os.close(handle)
    os.replace(temporary, path)
    fsync_directory(path.parent)
