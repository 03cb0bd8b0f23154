"""Times on the command line: ISO-8601, epoch seconds, `now`, and relative forms such as -15m or -2h."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import click

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_RELATIVE = re.compile(r"^-(\d+(?:\.\d+)?)([smhdw])$")
ALLOWED = "ISO-8601 (2026-11-28T10:00:00Z), epoch seconds, now, or -N followed by s, m, h, d or w (-15m)"


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """A timezone-aware UTC datetime; a time without a zone is UTC, as in AWS's CLI. ValueError if unreadable."""
    now = now or datetime.now(UTC)
    value = text.strip()
    if value == "now":
        return now
    if relative := _RELATIVE.match(value):
        return now - timedelta(**{_UNITS[relative.group(2)]: float(relative.group(1))})
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return datetime.fromtimestamp(float(value), UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"found {text!r}; allowed: {ALLOWED}") from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TimeParam(click.ParamType[str]):
    """A click option type that yields the time as the API's ISO-8601 UTC string."""

    name = "time"

    def convert(self, value: str, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return iso(parse_time(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)
