"""Unified diffs of small text files, redacted; or why there is none."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from agent.audit.redaction import Redactor


@dataclass(frozen=True, slots=True)
class TextDiff:
    diff: str | None
    redacted: bool = False
    omitted: str | None = None  # why diff is None: "binary", "too large", "previous content unknown", ...


def as_text(content: bytes) -> str | None:
    """The content as text, or None for binary (NUL bytes or not UTF-8)."""
    if b"\0" in content:
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def text_diff(before: bytes, after: bytes, before_name: str, after_name: str, redactor: Redactor) -> TextDiff:
    """The redacted unified diff from before to after (either may be b"" for a created or deleted file)."""
    old, new = as_text(before), as_text(after)
    if old is None or new is None:
        return TextDiff(None, omitted="binary")
    safe_old, hit_old = redactor.redact(old)
    safe_new, hit_new = redactor.redact(new)
    lines = difflib.unified_diff(safe_old.splitlines(keepends=True), safe_new.splitlines(keepends=True),
                                 before_name, after_name)
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    return TextDiff(text, redacted=hit_old or hit_new)
