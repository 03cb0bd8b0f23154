"""JSON state files replaced atomically, so a crash leaves the old or the new state, never a torn one.

Write to a temporary file, fsync, rename over the old one, fsync the directory. A file
that cannot be parsed is kept aside (`.corrupt`) and the caller starts from nothing:
for audit state that means a fresh baseline, which records nothing spurious as
"changed" (no previous state to compare with) and loses only the diff of that moment.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import orjson

from watchkeeper.atomicfile import write_atomically

log = logging.getLogger(__name__)


def save_json(path: Path, version: int, data: Any) -> None:
    write_atomically(path, orjson.dumps({"version": version, "data": data}))


def load_json(path: Path, version: int) -> Any | None:
    """The saved data, or None when there is none (or it was unreadable and has been kept aside)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        document = orjson.loads(raw)
        if not isinstance(document, dict) or document.get("version") != version:
            raise ValueError(f"expected version {version}")
        return document["data"]
    except (ValueError, KeyError) as error:
        aside = path.with_name(path.name + ".corrupt")
        os.replace(path, aside)
        log.warning("audit state %s is unreadable (%s); kept as %s, starting from a fresh baseline", path, error, aside)
        return None
