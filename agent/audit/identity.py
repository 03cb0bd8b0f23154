"""Who did it, as far as a host can tell, and event ids that are the same on every re-read.

inotify does not say which process or user changed a file, so file events name the
file's owner (type HostUser, `identitySource: fileOwner`), not the actor; log-based
feeds name the user the log names (`identitySource: log`). Only auditd could name the
actor of a file change; this agent does not depend on it (docs/audit-sources.md).
"""

from __future__ import annotations

import uuid
from typing import Any

from agent.audit.filestate import user_id, user_name

# Fixed namespace: ids derived from (host, source, identity, position) are stable across restarts and agents.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c7f0e-2b7a-5c1e-9d3a-5e0b8a7c4d21")


def stable_event_id(host: str, source: str, *parts: object) -> str:
    """uuid5 over the host, the feed and where in it the event was found: re-reading it gives the same id."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, "\x1f".join([host, source, *map(str, parts)])))


def host_user(name: str | None, uid: int | None, identity_source: str) -> dict[str, Any]:
    """userIdentity of an OS user; name or uid may be unknown (None), then only what is known is given."""
    if name is None and uid is not None:
        name = user_name(uid)
    elif uid is None and name is not None:
        uid = user_id(name)
    if name is None and uid is None:
        return {"type": "Unknown", "identitySource": identity_source}
    identity: dict[str, Any] = {"type": "HostUser", "identitySource": identity_source}
    if uid is not None:
        identity["principalId"] = str(uid)
        identity["uid"] = uid
    if name is not None:
        identity["userName"] = name
    return identity
