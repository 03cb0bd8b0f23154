"""Users and groups: /etc/passwd and /etc/group (and whether /etc/shadow has an entry) compared on change.

Who made the change is not in these files: records name an Unknown identity, and the
file integrity monitor's record of the same file edit carries the hashes and diff.
"""

from __future__ import annotations

import os
from typing import Any

from agent.audit.feeds.base import FeedContext
from agent.audit.feeds.snapshot import SnapshotFeed
from agent.audit.identity import host_user

SOURCE = "accounts.watchkeeper.local"
PASSWD_FIELDS = ("password", "uid", "gid", "gecos", "home", "shell")


def _lines(text: str) -> list[list[str]]:
    return [line.split(":") for line in text.splitlines() if line.strip() and not line.startswith("#")]


def parse_passwd(text: str) -> dict[str, dict[str, Any]]:
    users = {}
    for fields in _lines(text):
        if len(fields) >= 7:
            users[fields[0]] = {"uid": int(fields[2]) if fields[2].isdigit() else fields[2],
                                "gid": int(fields[3]) if fields[3].isdigit() else fields[3],
                                "gecos": fields[4], "home": fields[5], "shell": fields[6]}
    return users


def parse_group(text: str) -> dict[str, dict[str, Any]]:
    groups = {}
    for fields in _lines(text):
        if len(fields) >= 4:
            groups[fields[0]] = {"gid": int(fields[2]) if fields[2].isdigit() else fields[2],
                                 "members": sorted(member for member in fields[3].split(",") if member)}
    return groups


def shadow_names(text: str) -> list[str]:
    return sorted(fields[0] for fields in _lines(text))


def account_changes(previous: dict[str, Any], current: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(eventName, resource type, name, details) for every user and group added, removed or changed."""
    found: list[tuple[str, str, str, dict[str, Any]]] = []
    for kind, resource_type in (("users", "Host::User"), ("groups", "Host::Group")):
        noun = "User" if kind == "users" else "Group"
        before, after = previous.get(kind, {}), current.get(kind, {})
        for name in sorted(after.keys() - before.keys()):
            found.append((f"Create{noun}", resource_type, name, {"after": after[name]}))
        for name in sorted(before.keys() - after.keys()):
            found.append((f"Delete{noun}", resource_type, name, {"before": before[name]}))
        for name in sorted(after.keys() & before.keys()):
            if before[name] != after[name]:
                found.append((f"Modify{noun}", resource_type, name, _modification(before[name], after[name])))
    shadowed_before, shadowed_after = set(previous.get("shadow", [])), set(current.get("shadow", []))
    for name in sorted((shadowed_before ^ shadowed_after) & set(current.get("users", {})) & set(previous.get("users", {}))):
        found.append(("ModifyUser", "Host::User", name, {"shadowEntry": {"before": name in shadowed_before,
                                                                         "after": name in shadowed_after}}))
    return found


def _modification(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {"changed": {key: {"before": before.get(key), "after": after.get(key)}
                                           for key in sorted(before.keys() | after.keys())
                                           if key != "members" and before.get(key) != after.get(key)}}
    if "members" in after:
        details["addedMembers"] = sorted(set(after["members"]) - set(before.get("members", [])))
        details["removedMembers"] = sorted(set(before.get("members", [])) - set(after["members"]))
    return details


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


class AccountsFeed(SnapshotFeed):
    name = "accounts"

    def __init__(self, context: FeedContext, passwd_file: str, group_file: str, shadow_file: str) -> None:
        super().__init__(context)
        self.files = (passwd_file, group_file, shadow_file)

    def read(self) -> Any:
        passwd, group, shadow = (_read(path) for path in self.files)
        return {"users": parse_passwd(passwd or ""), "groups": parse_group(group or ""),
                "shadow": shadow_names(shadow) if shadow is not None else []}

    def compare(self, previous: Any, current: Any) -> list[dict[str, Any]]:
        when = max((os.stat(path).st_mtime for path in self.files if os.path.exists(path)), default=0.0)
        return [self.context.record(
            source=SOURCE, name=event_name, identity=host_user(None, None, "unknown"), resource_type=resource_type,
            resource_name=name, event_time=when, request={"name": name, **details}, agent_part="accounts",
            id_parts=(event_name, name, repr(details)))
            for event_name, resource_type, name, details in account_changes(previous, current)]
