"""Secrets out of diffs: configurable regexes whose matches become [REDACTED].

Redaction runs on whole file contents before diffing, so a multi-line private key
block is matched as one piece, and a change of only a secret value leaves lines that
read the same on both sides (the hashes still tell that the file changed).
"""

from __future__ import annotations

import re

from watchkeeper.errors import ConfigError, Problem

MARK = "[REDACTED]"


class Redactor:
    def __init__(self, patterns: list[str], source: str = "[audit.files] redact_patterns") -> None:
        problems = []
        compiled = []
        for index, pattern in enumerate(patterns):
            try:
                compiled.append(re.compile(pattern))
            except re.error as error:
                problems.append(Problem(source, f"[{index}]", f"found {pattern!r}: not a valid regex ({error})"))
        if problems:
            raise ConfigError(problems)
        self._patterns = compiled

    def redact(self, text: str) -> tuple[str, bool]:
        """The text with every match replaced (keeping group 1, the 'password = ' part), and whether any matched."""
        hit = False
        for pattern in self._patterns:
            text, count = pattern.subn(self._replacement, text)
            hit = hit or count > 0
        return text, hit

    @staticmethod
    def _replacement(match: re.Match[str]) -> str:
        kept = match.group(1) if match.re.groups >= 1 and match.group(1) is not None else ""
        return kept + MARK
