"""What every host change feed is: a poll that turns what changed since last time into records.

A feed keeps its position (log offsets, or the last seen state of a file) in memory;
the runner hands the records on first and saves every feed's state after, atomically,
in one file. If handing on fails the runner puts the saved state back, so nothing is
skipped; if the agent dies in between, the next poll finds the same events again
with the same ids (stable_event_id), which the collector keeps once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from agent.audit.identity import stable_event_id
from audit.record import new_record, resource


@dataclass(frozen=True, slots=True)
class FeedContext:
    host: str
    installation_id: str

    def record(self, *, source: str, name: str, identity: dict[str, Any], resource_type: str, resource_name: str,
               event_time: float, id_parts: tuple[object, ...], request: dict[str, Any] | None = None,
               extra: dict[str, Any] | None = None, error: tuple[str, str] | None = None,
               agent_part: str) -> dict[str, Any]:
        """A HostChange record whose eventID is derived from the host, the source and id_parts."""
        record = new_record(
            event_source=source,
            event_name=name,
            user_identity=identity,
            installation_id=self.installation_id,
            resources=[resource(resource_type, resource_name, self.host)],
            event_type="HostChange",
            request_parameters=request,
            additional_event_data=extra,
            user_agent=f"watchkeeper-agent/{agent_part}",
            error_code=error[0] if error else None,
            error_message=error[1] if error else None,
            event_time=event_time,
        )
        record["eventID"] = stable_event_id(self.host, source, *id_parts)
        return record


class Feed(Protocol):
    name: str

    def restore(self, saved: Any | None) -> None:
        """Take up the state saved() returned last time (None: first run)."""

    def poll(self) -> list[dict[str, Any]]:
        """Records for what changed since the last poll; the feed's state moves past them."""

    def saved(self) -> Any:
        """The state to persist (JSON-able)."""
