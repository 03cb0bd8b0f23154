"""sudo and sshd lines of the auth log (Debian's auth.log, Red Hat's secure) as records.

Both syslog time formats are read: the classic `May  2 10:20:01` (no year: the year
that puts it not in the future) and rsyslog's RFC 3339 `2024-05-02T10:20:01.123+00:00`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agent.audit.feeds.base import FeedContext
from agent.audit.feeds.logreader import Position, read_new_lines
from agent.audit.identity import host_user

SOURCE = "logins.watchkeeper.local"
CLASSIC = re.compile(r"^(?P<time>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?P<host>\S+) (?P<prog>[\w.-]+)(?:\[\d+\])?: (?P<msg>.*)$")
RFC3339 = re.compile(r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (?P<host>\S+) "
                     r"(?P<prog>[\w.-]+)(?:\[\d+\])?: (?P<msg>.*)$")
SUDO = re.compile(r"^\s*(?P<user>\S+) : (?:(?P<problem>[^;]*?) ; )?TTY=(?P<tty>[^;]*) ; PWD=(?P<pwd>[^;]*) ; "
                  r"USER=(?P<target>[^;]*) ;(?: [A-Z]+=[^;]* ;)* COMMAND=(?P<command>.*)$")
SSH_ACCEPTED = re.compile(r"^Accepted (?P<method>\S+) for (?P<user>\S+) from (?P<ip>\S+) port (?P<port>\d+)")
SSH_FAILED = re.compile(r"^Failed (?P<method>\S+) for (?P<invalid>invalid user )?(?P<user>\S+) from (?P<ip>\S+) "
                        r"port (?P<port>\d+)")


@dataclass(frozen=True, slots=True)
class LoginEvent:
    when: datetime
    event_name: str  # SudoCommand | SshLogin
    user: str
    request: dict[str, Any]
    source_ip: str | None = None
    error: tuple[str, str] | None = None


def parse_time(text: str, now: datetime) -> datetime:
    """A syslog timestamp as local naive time (RFC 3339 converted), the classic form placed in now's year or the one before."""
    if "T" in text:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone().replace(tzinfo=None)
    parsed = datetime.strptime(f"{now.year} {' '.join(text.split())}", "%Y %b %d %H:%M:%S")
    # A December line read in January belongs to last year; a day of slack absorbs clock skew.
    return parsed.replace(year=now.year - 1) if parsed > now + timedelta(days=1) else parsed


def parse_auth_line(line: str, now: datetime) -> LoginEvent | None:
    """A sudo command or an ssh login attempt; None for every other line."""
    match = CLASSIC.match(line) or RFC3339.match(line)
    if match is None:
        return None
    program, message = match.group("prog"), match.group("msg")
    if program == "sudo":
        return _sudo(match.group("time"), message, now)
    if program in ("sshd", "sshd-session"):
        return _ssh(match.group("time"), message, now)
    return None


def _sudo(stamp: str, message: str, now: datetime) -> LoginEvent | None:
    found = SUDO.match(message)
    if found is None:
        return None
    request = {"runAs": found.group("target"), "command": found.group("command"), "tty": found.group("tty"),
               "workingDirectory": found.group("pwd")}
    problem = found.group("problem")
    error = ("AccessDenied", problem.strip()) if problem else None
    return LoginEvent(parse_time(stamp, now), "SudoCommand", found.group("user"), request, error=error)


def _ssh(stamp: str, message: str, now: datetime) -> LoginEvent | None:
    if accepted := SSH_ACCEPTED.match(message):
        return LoginEvent(parse_time(stamp, now), "SshLogin", accepted.group("user"),
                          {"method": accepted.group("method"), "port": int(accepted.group("port"))},
                          source_ip=accepted.group("ip"))
    if failed := SSH_FAILED.match(message):
        reason = "invalid user" if failed.group("invalid") else f"{failed.group('method')} rejected"
        return LoginEvent(parse_time(stamp, now), "SshLogin", failed.group("user"),
                          {"method": failed.group("method"), "port": int(failed.group("port"))},
                          source_ip=failed.group("ip"), error=("Failed authentication", reason))
    return None


class LoginsFeed:
    name = "logins"

    def __init__(self, context: FeedContext, auth_logs: list[str]) -> None:
        self.context = context
        self.auth_logs = auth_logs
        self.positions: dict[str, Position] = {}

    def restore(self, saved: Any | None) -> None:
        self.positions = {path: Position.from_json(row) for path, row in (saved or {}).items()}

    def saved(self) -> Any:
        return {path: position.to_json() for path, position in self.positions.items()}

    def poll(self) -> list[dict[str, Any]]:
        records = []
        now = datetime.now()
        for path in self.auth_logs:
            lines, after = read_new_lines(path, self.positions.get(path))
            if after is None:
                continue
            for line in lines:
                event = parse_auth_line(line.text, now)
                if event is not None:
                    records.append(self._record(event, path, after.file_identity, line.offset))
            self.positions[path] = after
        return records

    def _record(self, event: LoginEvent, path: str, file_identity: str, offset: int) -> dict[str, Any]:
        record = self.context.record(
            source=SOURCE, name=event.event_name, identity=host_user(event.user, None, "log"),
            resource_type="Host::User", resource_name=event.user, event_time=event.when.timestamp(),
            request=event.request, error=event.error, id_parts=(path, file_identity, offset), agent_part="logins")
        if event.source_ip:
            record["sourceIPAddress"] = event.source_ip
        return record
