"""CloudWatch-agent timestamp_format: find the timestamp in a line and turn it into epoch ms.

The format is strftime-like (%Y %y %b %B %m %-m %d %-d %H %-H %I %p %M %S %f %z %Z %a %A %j).
It is compiled once into a regex with a named group per field, so parsing a line is
one regex search plus integer arithmetic, not a strptime call per line.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import datetime, timedelta, timezone
from typing import Literal

MONTHS = {name.lower(): index for index, name in enumerate(calendar.month_abbr) if name}

# directive -> (group name or None for a field that is matched but ignored, regex)
DIRECTIVES: dict[str, tuple[str | None, str]] = {
    "Y": ("Y", r"\d{4}"),
    "y": ("y", r"\d{2}"),
    "b": ("b", r"[A-Za-z]{3}"),
    "B": ("b", r"[A-Za-z]{3,9}"),
    "m": ("m", r"\d{2}"),
    "-m": ("m", r"\d{1,2}"),
    "d": ("d", r"\d{2}"),
    "-d": ("d", r"\d{1,2}"),
    "e": ("d", r"[ \d]\d"),
    "H": ("H", r"\d{2}"),
    "-H": ("H", r"\d{1,2}"),
    "I": ("I", r"\d{2}"),
    "-I": ("I", r"\d{1,2}"),
    "p": ("p", r"[AaPp][Mm]"),
    "M": ("M", r"\d{2}"),
    "-M": ("M", r"\d{1,2}"),
    "S": ("S", r"\d{2}"),
    "-S": ("S", r"\d{1,2}"),
    "f": ("f", r"\d{1,9}"),
    "z": ("z", r"Z|[+-]\d{2}:?\d{2}"),
    "Z": (None, r"[A-Z]{2,5}"),
    "a": (None, r"[A-Za-z]{3}"),
    "A": (None, r"[A-Za-z]{6,9}"),
    "j": ("j", r"\d{3}"),
}
DIRECTIVE = re.compile(r"%(-?[A-Za-z%])")


def format_to_regex(timestamp_format: str) -> re.Pattern[str]:
    """Compile a timestamp_format; raises ValueError naming an unknown directive."""
    out: list[str] = []
    used: set[str] = set()
    position = 0
    for match in DIRECTIVE.finditer(timestamp_format):
        out.append(re.escape(timestamp_format[position:match.start()]))
        position = match.end()
        directive = match.group(1)
        if directive == "%":
            out.append("%")
            continue
        if directive not in DIRECTIVES:
            allowed = " ".join("%" + d for d in DIRECTIVES)
            raise ValueError(f"found unknown directive %{directive} in {timestamp_format!r}; allowed: {allowed}")
        group, regex = DIRECTIVES[directive]
        if group is None or group in used:
            out.append(f"(?:{regex})")
        else:
            used.add(group)
            out.append(f"(?P<{group}>{regex})")
    out.append(re.escape(timestamp_format[position:]))
    if not used & {"H", "I", "d", "j"}:
        raise ValueError(f"found {timestamp_format!r}, which has no day or hour; allowed: a format such as "
                         "%Y-%m-%d %H:%M:%S")
    return re.compile("".join(out).replace(r"\ ", r"\s+"))


class TimestampParser:
    """Finds a timestamp of one format in a message and returns it as epoch milliseconds."""

    def __init__(self, timestamp_format: str, zone: Literal["Local", "UTC"]) -> None:
        self.pattern = format_to_regex(timestamp_format)
        self.utc = zone == "UTC"

    def parse_ms(self, message: str, now: float) -> int | None:
        """The timestamp in message, or None when there is none (or it is not a real date)."""
        match = self.pattern.search(message)
        if match is None:
            return None
        try:
            return self._to_ms(match.groupdict(), now)
        except (ValueError, KeyError, OverflowError):
            return None

    def _to_ms(self, fields: dict[str, str | None], now: float) -> int:
        def number(name: str, default: int) -> int:
            value = fields.get(name)
            return int(value) if value else default

        hour = number("H", 0)
        if fields.get("I"):
            hour = number("I", 12) % 12 + (12 if (fields.get("p") or "").lower() == "pm" else 0)
        fraction = fields.get("f") or ""
        micros = int((fraction + "000000")[:6]) if fraction else 0
        year_given = bool(fields.get("Y") or fields.get("y"))
        year = number("Y", 0) or (2000 + number("y", 0) if fields.get("y") else time.gmtime(now).tm_year)
        if fields.get("j"):
            moment = datetime(year, 1, 1) + timedelta(days=number("j", 1) - 1, hours=hour,
                                                        minutes=number("M", 0), seconds=number("S", 0),
                                                        microseconds=micros)
        else:
            month = MONTHS[(fields.get("b") or "")[:3].lower()] if fields.get("b") else number("m", 1)
            moment = datetime(year, month, number("d", 1), hour, number("M", 0), number("S", 0), micros)
        stamp = self._epoch(moment, fields.get("z"))
        if not year_given and stamp > now + 86400:
            # A syslog-style line without a year written in December, read in January.
            stamp = self._epoch(moment.replace(year=year - 1), fields.get("z"))
        return int(stamp * 1000)

    def _epoch(self, moment: datetime, offset: str | None) -> float:
        if offset:
            if offset == "Z":
                zone = timezone.utc
            else:
                digits = offset.replace(":", "")
                minutes = int(digits[1:3]) * 60 + int(digits[3:5])
                zone = timezone(timedelta(minutes=-minutes if digits[0] == "-" else minutes))
            return moment.replace(tzinfo=zone).timestamp()
        if self.utc:
            return moment.replace(tzinfo=timezone.utc).timestamp()
        return moment.timestamp()  # naive = local time
