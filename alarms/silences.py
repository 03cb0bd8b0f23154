"""Silences in Alertmanager's spirit: while an alarm's name matches an active silence, its actions are
recorded as suppressed in its history instead of being sent.

A silence has one matcher on the alarm name (exact, prefix or regex, the regex
matching the whole name), a window [StartsAt, EndsAt), a comment and its
author. Expiring a silence ends its window now; silences are never deleted, so
`list-silences` shows what was muted when.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from alarms.reason import iso_time
from alarms.store import next_version
from watchkeeper.config import Strict
from watchkeeper.errors import ApiError
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.sql import quote

MatcherType = Literal["exact", "prefix", "regex"]
SilenceStatus = Literal["pending", "active", "expired"]


class AlarmNameMatcher(Strict):
    Type: MatcherType = Field(description="exact: the name; prefix: names starting with Value; regex: full match.")
    Value: str = Field(min_length=1, max_length=1024)

    @model_validator(mode="after")
    def _regex_compiles(self) -> AlarmNameMatcher:
        if self.Type == "regex":
            try:
                re.compile(self.Value)
            except re.error as error:
                raise PydanticCustomError("regex", f"found {self.Value!r}: not a regular expression ({error})")
        return self


class CreateSilenceRequest(Strict):
    Matcher: AlarmNameMatcher
    StartsAt: datetime | None = Field(default=None, description="Default: now.")
    EndsAt: datetime
    Comment: str = Field(min_length=1, max_length=1024, description="Why; shown in list-silences and history.")
    CreatedBy: str = Field(min_length=1, max_length=255)

    @field_validator("StartsAt", "EndsAt")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Silence:
    silence_id: str
    matcher_type: MatcherType
    matcher_value: str
    starts_ms: int
    ends_ms: int
    comment: str
    created_by: str
    created_ms: int

    def matches(self, alarm_name: str) -> bool:
        if self.matcher_type == "exact":
            return alarm_name == self.matcher_value
        if self.matcher_type == "prefix":
            return alarm_name.startswith(self.matcher_value)
        return re.fullmatch(self.matcher_value, alarm_name) is not None

    def status(self, now_ms: int) -> SilenceStatus:
        if now_ms < self.starts_ms:
            return "pending"
        return "active" if now_ms < self.ends_ms else "expired"

    def describe(self, now_ms: int) -> dict[str, Any]:
        return {"SilenceId": self.silence_id, "Matcher": {"Type": self.matcher_type, "Value": self.matcher_value},
                "StartsAt": iso_time(self.starts_ms / 1000), "EndsAt": iso_time(self.ends_ms / 1000),
                "Comment": self.comment, "CreatedBy": self.created_by,
                "CreatedAt": iso_time(self.created_ms / 1000), "Status": self.status(now_ms)}


_COLUMNS = ("matcher_type", "matcher_value", "starts_ms", "ends_ms", "comment", "created_by", "created_ms")


class Silences:
    """The alarm_silences table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _write(self, silence: Silence) -> None:
        self._engine.insert("alarm_silences", {
            "silence_id": [silence.silence_id], "matcher_type": [silence.matcher_type],
            "matcher_value": [silence.matcher_value], "starts_ms": [silence.starts_ms], "ends_ms": [silence.ends_ms],
            "comment": [silence.comment], "created_by": [silence.created_by], "created_ms": [silence.created_ms],
            "version": [next_version()]})

    def create(self, request: CreateSilenceRequest, now_ms: int) -> Silence:
        starts_ms = int(request.StartsAt.timestamp() * 1000) if request.StartsAt else now_ms
        ends_ms = int(request.EndsAt.timestamp() * 1000)
        if ends_ms <= max(starts_ms, now_ms):
            raise ApiError("InvalidParameterValue", f"EndsAt: found {iso_time(ends_ms / 1000)}; allowed a time "
                                                    "after StartsAt and after now")
        silence = Silence(uuid.uuid4().hex, request.Matcher.Type, request.Matcher.Value, starts_ms, ends_ms,
                          request.Comment, request.CreatedBy, now_ms)
        self._write(silence)
        return silence

    def all(self, silence_id: str | None = None) -> list[Silence]:
        where = f"WHERE silence_id = {quote(silence_id)} " if silence_id is not None else ""
        rows = self._engine.query(
            "SELECT silence_id, " + ", ".join(f"argMax({c}, version)" for c in _COLUMNS)
            + f" FROM alarm_silences {where}GROUP BY silence_id ORDER BY silence_id")
        silences = [Silence(str(r[0]), r[1], str(r[2]), int(r[3]), int(r[4]), str(r[5]), str(r[6]), int(r[7]))
                    for r in rows]
        return sorted(silences, key=lambda s: (s.created_ms, s.silence_id))

    def expire(self, silence_id: str, now_ms: int) -> Silence:
        found = self.all(silence_id)
        if not found:
            raise ApiError("ResourceNotFound", f"SilenceId: found {silence_id!r}; no such silence", 404)
        silence = found[0]
        if silence.ends_ms > now_ms:
            silence = Silence(silence.silence_id, silence.matcher_type, silence.matcher_value,
                              min(silence.starts_ms, now_ms), now_ms, silence.comment, silence.created_by,
                              silence.created_ms)
            self._write(silence)
        return silence

    def active(self, now_ms: int) -> list[Silence]:
        """The silences active at now_ms, oldest first (one query; the cycle matches them in Python)."""
        return [s for s in self.all() if s.status(now_ms) == "active"]


def first_match(silences: Sequence[Silence], alarm_name: str) -> Silence | None:
    """The first of the silences whose matcher matches alarm_name."""
    return next((s for s in silences if s.matches(alarm_name)), None)
