"""Parse a filter pattern once into its syntax tree (watchkeeper.logfilter.syntax).

The first non-blank character picks the form: `{` JSON, `[` space-delimited, `%` regex,
anything else a list of terms. Blank text, `""` and `" "` match everything (the guide:
'The filter pattern "" matches all log events'; newer: '" "' "returns all log events").
"""

from __future__ import annotations

import re
import string

from watchkeeper.logfilter.delimited_parser import scan_delimited
from watchkeeper.logfilter.json_parser import scan_json
from watchkeeper.logfilter.regex import scan_regex
from watchkeeper.logfilter.scanner import WHITESPACE, Scanner
from watchkeeper.logfilter.syntax import MatchAll, Pattern, RegexPattern, TermPattern

# AWS: "terms that include characters other than alphanumeric or underscore must be placed
# inside double quotes".
MATCH_ALL = re.compile(r'[ \t\r\n]*"[ \t\r\n]*"[ \t\r\n]*')
TERM_CHARS = string.ascii_letters + string.digits + "_"


def parse(text: str, source: str = "filter pattern") -> Pattern:
    """The syntax tree of `text`; raises FilterPatternError naming the column of the first mistake."""
    scanner = Scanner(text, source)
    scanner.skip_space()
    if scanner.at_end() or MATCH_ALL.fullmatch(text):
        return MatchAll()
    first = scanner.peek()
    pattern: Pattern
    if first == "{":
        pattern = scan_json(scanner)
    elif first == "[":
        pattern = scan_delimited(scanner)
    elif first == "%":
        pattern = RegexPattern(scan_regex(scanner))
    else:
        return _scan_terms(scanner)
    scanner.skip_space()
    if not scanner.at_end():
        scanner.fail(f"unexpected {scanner.describe_next()} after the end of the pattern")
    return pattern


def _scan_terms(scanner: Scanner) -> TermPattern:
    required: list[str] = []
    optional: list[str] = []
    excluded: list[str] = []
    while not scanner.at_end():
        bucket = optional if scanner.take("?") else excluded if scanner.take("-") else required
        term_at = scanner.pos
        if scanner.peek() == '"':
            term = scanner.quoted()
            if not term:
                scanner.fail('an empty term "" only makes sense as the whole pattern', at=term_at)
        else:
            term = scanner.take_while(TERM_CHARS)
            if not term:
                what = scanner.describe_next()
                if scanner.peek() in ("{", "[", "%"):
                    scanner.fail(f"{what} starts a JSON, space-delimited or regex pattern, which must be "
                                 f"the whole filter pattern, not one of several terms")
                scanner.fail(f"expected a term, found {what}")
        if not scanner.at_end() and scanner.peek() not in WHITESPACE:
            scanner.fail(f"{scanner.describe_next()} cannot appear in an unquoted term: put terms with "
                         f"characters other than letters, digits and _ in double quotes")
        bucket.append(term)
        scanner.skip_space()
    return TermPattern(tuple(required), tuple(optional), tuple(excluded))
