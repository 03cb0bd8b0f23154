"""`%regex%`: the subset AWS documents, checked character by character, and its Python twin.

AWS allows letters, digits, the symbols `: _ # = @ / ; , -` and the operators
`^ $ ? [ ] { } | \\ * + .`; no parentheses, no multi-byte characters (source:
docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html, "Supported
regular expressions (regex) syntax"). We also allow a space, which AWS's examples need.

ClickHouse evaluates the source text with re2 (UTF-8, `.` matches a newline, `$` only at
the very end, `\\s` is `[\\t\\n\\f\\r ]`). The Python pattern is translated so that it
means exactly the same on the same text: DOTALL and ASCII flags, `$` -> `\\Z`, `\\s` spelled out.
"""

from __future__ import annotations

import re
import string

from watchkeeper.logfilter.scanner import Scanner
from watchkeeper.logfilter.syntax import Regex

ALLOWED = frozenset(string.ascii_letters + string.digits + ":_#=@/;,-" + "^$?[]{}|\\*+." + " ")
RE2_SPACE = "\\t\\n\\f\\r "
MAX_REGEXES = 2


def scan_regex(scanner: Scanner) -> Regex:
    """Read `%...%` at the cursor."""
    start = scanner.pos
    scanner.expect("%", "to open a regex")
    scanner.regexes += 1
    if scanner.regexes > MAX_REGEXES:
        scanner.fail(f"a filter pattern may hold at most {MAX_REGEXES} regexes", at=start)
    end = scanner.text.find("%", scanner.pos)
    if end < 0:
        scanner.fail("this regex is never closed: expected a '%'", at=start)
    source = scanner.text[scanner.pos:end]
    if not source:
        scanner.fail("empty regex '%%': put an expression between the percent signs", at=start)
    for offset, char in enumerate(source):
        if char not in ALLOWED:
            scanner.fail(f"{char!r} is not allowed in a regex; allowed: letters, digits, space, "
                         f"': _ # = @ / ; , -' and '^ $ ? [ ] {{ }} | \\ * + .'", at=scanner.pos + offset)
    try:
        compiled = re.compile(_python_equivalent(source), re.DOTALL | re.ASCII)
    except re.error as error:
        scanner.fail(f"invalid regex: {error.msg}", at=scanner.pos + (error.pos or 0))
    scanner.pos = end + 1
    return Regex(source, compiled)


def _python_equivalent(source: str) -> str:
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\" and index + 1 < len(source):
            escaped = source[index + 1]
            if escaped == "s":
                out.append(RE2_SPACE if in_class else f"[{RE2_SPACE}]")
            elif escaped == "S" and not in_class:
                out.append(f"[^{RE2_SPACE}]")
            else:
                out.append(char + escaped)
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            # A ']' (or '^]') right after '[' is a literal member, not the end of the class.
            if source[index + 1:index + 2] == "^":
                out.append("^")
                index += 1
            if source[index + 1:index + 2] == "]":
                out.append("\\]")
                index += 1
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        elif char == "$" and not in_class:
            out.append("\\Z")
        else:
            out.append(char)
        index += 1
    return "".join(out)
