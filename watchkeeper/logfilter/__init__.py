"""The CloudWatch Logs filter pattern language: parse once, match in process, push down to ClickHouse.

    pattern = compile_pattern('{ $.status >= 500 }')   # FilterPatternError if malformed
    pattern.matches(message)                           # in process
    to_sql(pattern.tree, engine.capabilities)          # SqlFilter(condition, exact)

See docs/filter-patterns.md for the syntax as implemented and what is pushed down where.
"""

from watchkeeper.errors import FilterPatternError
from watchkeeper.logfilter.matcher import CompiledPattern, compile_pattern
from watchkeeper.logfilter.parser import parse
from watchkeeper.logfilter.sql import SqlFilter, to_sql

__all__ = ["CompiledPattern", "FilterPatternError", "SqlFilter", "compile_pattern", "parse", "to_sql"]
