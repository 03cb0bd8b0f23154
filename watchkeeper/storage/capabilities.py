"""What a ClickHouse server can do, derived from its version, so one schema renders for all.

The thresholds are the releases that introduced each feature. Debian's 18.16 has
none of them; chdb and the servers users run (23.x-26.x) have all of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    version: tuple[int, ...]
    low_cardinality: bool
    ttl: bool
    codecs: bool
    datetime64: bool
    map_type: bool
    json_extract: bool
    window_functions: bool
    to_start_of_interval: bool
    insert_deduplication_token: bool
    text_skip_index: bool

    @classmethod
    def for_version(cls, version: str | tuple[int, ...]) -> Capabilities:
        parts = tuple(int(p) for p in version.split(".")[:3]) if isinstance(version, str) else version

        def at_least(*release: int) -> bool:
            return parts >= release

        return cls(
            version=parts,
            low_cardinality=at_least(19, 0),
            ttl=at_least(19, 6),
            codecs=at_least(19, 1),
            datetime64=at_least(20, 1),
            map_type=at_least(21, 8),
            json_extract=at_least(19, 9),
            window_functions=at_least(21, 9),
            to_start_of_interval=at_least(19, 1),
            insert_deduplication_token=at_least(22, 2),
            text_skip_index=at_least(19, 17),
        )

    @property
    def modern(self) -> bool:
        return self.window_functions and self.ttl

    def lc(self, inner: str = "String") -> str:
        """LowCardinality(inner) where supported, else the plain type."""
        return f"LowCardinality({inner})" if self.low_cardinality else inner

    def codec(self, spec: str) -> str:
        """A column CODEC clause where supported, else nothing."""
        return f" CODEC({spec})" if self.codecs else ""

    def bucket(self, column: str, seconds: int) -> str:
        """Start of the seconds-wide bucket holding column (a DateTime), as a DateTime."""
        return f"toDateTime(intDiv(toUInt32({column}), {seconds}) * {seconds})"
