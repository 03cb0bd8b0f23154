"""A cursor over the pattern text shared by the sub-parsers; every error it raises names a column."""

from __future__ import annotations

from typing import NoReturn

from watchkeeper.errors import FilterPatternError

WHITESPACE = " \t\r\n"


class Scanner:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.pos = 0
        self.regexes = 0  # AWS allows at most MAX_REGEXES per pattern

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self, count: int = 1) -> str:
        return self.text[self.pos:self.pos + count]

    def skip_space(self) -> None:
        while not self.at_end() and self.text[self.pos] in WHITESPACE:
            self.pos += 1

    def take(self, literal: str) -> bool:
        """Consume `literal` if it comes next."""
        if self.text.startswith(literal, self.pos):
            self.pos += len(literal)
            return True
        return False

    def expect(self, literal: str, context: str) -> None:
        if not self.take(literal):
            self.fail(f"expected '{literal}' {context}, found {self.describe_next()}")

    def take_while(self, allowed: str) -> str:
        start = self.pos
        while not self.at_end() and self.text[self.pos] in allowed:
            self.pos += 1
        return self.text[start:self.pos]

    def describe_next(self) -> str:
        return "the end of the pattern" if self.at_end() else repr(self.text[self.pos])

    def fail(self, reason: str, at: int | None = None) -> NoReturn:
        column = (self.pos if at is None else at) + 1
        raise FilterPatternError(self.text, column, reason, self.source)

    def quoted(self) -> str:
        """A double-quoted string starting at the cursor; `\\"` and `\\\\` escape."""
        start = self.pos
        self.expect('"', "to open a quoted string")
        chars: list[str] = []
        while not self.at_end():
            char = self.text[self.pos]
            self.pos += 1
            if char == '"':
                return "".join(chars)
            if char == "\\" and self.peek() in ('"', "\\"):
                char = self.text[self.pos]
                self.pos += 1
            chars.append(char)
        self.fail("this quoted string is never closed: expected a '\"'", at=start)
