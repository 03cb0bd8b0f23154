"""auth.log: sudo commands and ssh logins, successes and failures, in both syslog time formats."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from feed_helpers import CONTEXT, sample

from agent.audit.feeds.logins import LoginsFeed, parse_auth_line, parse_time

NOW = datetime(2024, 6, 1, 12, 0, 0)


def test_sample_lines_parse_to_sudo_and_ssh_events() -> None:
    events = [e for e in (parse_auth_line(line, NOW) for line in sample("auth.log").splitlines()) if e is not None]
    assert [(e.event_name, e.user, e.error is not None) for e in events] == [
        ("SudoCommand", "alice", False), ("SshLogin", "alice", False), ("SshLogin", "admin", True),
        ("SshLogin", "root", True), ("SudoCommand", "bob", True), ("SudoCommand", "mallory", True),
        ("SudoCommand", "alice", False), ("SshLogin", "bob", False)]
    sudo = events[0]
    assert sudo.when == datetime(2024, 5, 2, 10, 14, 50)
    assert sudo.request == {"runAs": "root", "command": "/usr/bin/apt-get install -y nginx", "tty": "pts/0",
                            "workingDirectory": "/home/alice"}
    assert events[1].source_ip == "10.0.0.7" and events[1].request == {"method": "publickey", "port": 52344}
    assert events[2].error == ("Failed authentication", "invalid user")
    assert events[3].error == ("Failed authentication", "password rejected")
    assert events[4].error == ("AccessDenied", "3 incorrect password attempts")
    assert events[5].error == ("AccessDenied", "user NOT in sudoers")
    assert events[6].request["runAs"] == "postgres" and events[6].request["command"].startswith("/usr/bin/psql")


def test_classic_timestamps_from_last_december_read_in_january() -> None:
    assert parse_time("Dec 31 23:59:59", datetime(2025, 1, 1, 0, 5)) == datetime(2024, 12, 31, 23, 59, 59)
    assert parse_time("Jan  1 00:01:00", datetime(2025, 1, 1, 0, 5)) == datetime(2025, 1, 1, 0, 1)


def test_feed_records_carry_identity_source_ip_and_error_code(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(sample("auth.log"))
    feed = LoginsFeed(CONTEXT, [str(log), str(tmp_path / "secure")])
    feed.restore(None)
    records = feed.poll()
    assert len(records) == 8
    ssh = records[1]
    assert ssh["eventSource"] == "logins.watchkeeper.local" and ssh["eventName"] == "SshLogin"
    assert ssh["sourceIPAddress"] == "10.0.0.7" and "errorCode" not in ssh
    failed = records[3]
    assert failed["errorCode"] == "Failed authentication" and failed["errorMessage"] == "password rejected"
    assert failed["userIdentity"] == {"type": "HostUser", "identitySource": "log", "principalId": "0", "uid": 0,
                                      "userName": "root"}
    assert records[2]["userIdentity"] == {"type": "HostUser", "identitySource": "log", "userName": "admin"}
    assert feed.poll() == []
