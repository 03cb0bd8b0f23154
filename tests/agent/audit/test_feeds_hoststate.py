"""Accounts, systemd and cron feeds: state compared with the last seen, changes as records."""

from __future__ import annotations

import os
from pathlib import Path

from feed_helpers import CONTEXT

from agent.audit.feeds.accounts import AccountsFeed, account_changes, parse_group, parse_passwd
from agent.audit.feeds.cron import CronFeed
from agent.audit.feeds.systemd import SystemdFeed
from agent.audit.redaction import Redactor
from watchkeeper.config.settings import AuditFilesSettings

PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash
"""
GROUP = """root:x:0:
sudo:x:27:alice
alice:x:1000:
"""


def test_passwd_and_group_parse() -> None:
    assert parse_passwd(PASSWD)["alice"] == {"uid": 1000, "gid": 1000, "gecos": "Alice,,,", "home": "/home/alice",
                                             "shell": "/bin/bash"}
    assert parse_group(GROUP)["sudo"] == {"gid": 27, "members": ["alice"]}


def test_account_changes_cover_users_groups_and_membership() -> None:
    before = {"users": parse_passwd(PASSWD), "groups": parse_group(GROUP), "shadow": ["alice", "root"]}
    after = {"users": parse_passwd(PASSWD.replace("/bin/bash\n", "/bin/zsh\n", 2).replace("daemon", "gone") +
                                   "bob:x:1001:1001::/home/bob:/bin/sh\n"),
             "groups": parse_group(GROUP.replace("sudo:x:27:alice", "sudo:x:27:bob") + "bob:x:1001:\n"),
             "shadow": ["alice", "bob"]}
    changes = {(name, target): details for name, _, target, details in account_changes(before, after)}
    assert set(changes) == {("CreateUser", "bob"), ("CreateUser", "gone"), ("DeleteUser", "daemon"),
                            ("ModifyUser", "alice"), ("ModifyUser", "root"), ("CreateGroup", "bob"),
                            ("ModifyGroup", "sudo")}
    assert changes[("ModifyUser", "alice")] == {"changed": {"shell": {"before": "/bin/bash", "after": "/bin/zsh"}}}
    assert changes[("ModifyGroup", "sudo")] == {"changed": {}, "addedMembers": ["bob"], "removedMembers": ["alice"]}
    assert changes[("ModifyUser", "root")]["shadowEntry"] == {"before": True, "after": False}


def test_accounts_feed_records_changes_after_first_poll(tmp_path: Path) -> None:
    passwd, group, shadow = tmp_path / "passwd", tmp_path / "group", tmp_path / "shadow"
    passwd.write_text(PASSWD)
    group.write_text(GROUP)
    feed = AccountsFeed(CONTEXT, str(passwd), str(group), str(shadow))
    feed.restore(None)
    assert feed.poll() == []  # first run: the state is only recorded
    with passwd.open("a") as out:
        out.write("deploy:x:1002:1002::/srv/deploy:/bin/sh\n")
    [record] = feed.poll()
    assert (record["eventSource"], record["eventName"]) == ("accounts.watchkeeper.local", "CreateUser")
    assert record["requestParameters"]["after"]["home"] == "/srv/deploy"
    assert record["resources"][0]["type"] == "Host::User" and record["userIdentity"]["type"] == "Unknown"
    assert "foundAtStart" not in record.get("additionalEventData", {})


def test_systemd_enable_disable_and_mask(tmp_path: Path) -> None:
    wants = tmp_path / "multi-user.target.wants"
    wants.mkdir()
    feed = SystemdFeed(CONTEXT, [str(tmp_path)])
    feed.restore(None)
    assert feed.poll() == []
    os.symlink("/lib/systemd/system/nginx.service", wants / "nginx.service")
    os.symlink("/dev/null", tmp_path / "apache2.service")
    records = feed.poll()
    assert [(r["eventName"], r["requestParameters"]["unit"]) for r in records] == [
        ("MaskUnit", "apache2.service"), ("EnableUnit", "nginx.service")]
    assert records[1]["requestParameters"]["wantedBy"] == "multi-user.target"
    assert records[1]["requestParameters"]["unitFile"] == "/lib/systemd/system/nginx.service"
    (wants / "nginx.service").unlink()
    [disable] = feed.poll()
    assert disable["eventName"] == "DisableUnit" and disable["resources"][0]["type"] == "Host::SystemdUnit"


def test_cron_edit_gives_a_redacted_diff(tmp_path: Path) -> None:
    crontabs = tmp_path / "crontabs"
    crontabs.mkdir()
    (crontabs / "root").write_text("0 3 * * * /usr/local/bin/backup\n")
    feed = CronFeed(CONTEXT, [str(crontabs), str(tmp_path / "crontab")], Redactor(AuditFilesSettings().redact_patterns))
    feed.restore(None)
    assert feed.poll() == []
    (crontabs / "root").write_text("0 3 * * * /usr/local/bin/backup\n*/5 * * * * TOKEN=abc123 /usr/bin/sync\n")
    (tmp_path / "crontab").write_text("SHELL=/bin/sh\n")
    records = sorted(feed.poll(), key=lambda r: r["additionalEventData"]["change"], reverse=True)
    assert [(r["eventName"], r["requestParameters"]["path"], r["additionalEventData"]["change"]) for r in records] == [
        ("ModifyCrontab", str(crontabs / "root"), "modified"), ("ModifyCrontab", str(tmp_path / "crontab"), "created")]
    extra = records[0]["additionalEventData"]
    assert "+*/5 * * * * TOKEN=[REDACTED] /usr/bin/sync\n" in extra["diff"] and "abc123" not in extra["diff"]
    assert extra["diffRedacted"] is True
    assert records[1]["userIdentity"]["identitySource"] == "fileOwner"
