"""Feed positions survive a restart: nothing is emitted twice, nothing written meanwhile is missed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from feed_helpers import CONTEXT, sample

from agent.audit.feeds.base import Feed
from agent.audit.feeds.logins import LoginsFeed
from agent.audit.feeds.packages import PackagesFeed
from agent.audit.feeds.runner import STATE_FILE, FeedRunner
from agent.audit.feeds.systemd import SystemdFeed


def feeds(tmp_path: Path) -> list[Feed]:
    return [PackagesFeed(CONTEXT, str(tmp_path / "dpkg.log"), str(tmp_path / "history.log")),
            LoginsFeed(CONTEXT, [str(tmp_path / "auth.log")]),
            SystemdFeed(CONTEXT, [str(tmp_path / "systemd")])]


def runner(tmp_path: Path, collected: list[dict[str, Any]]) -> FeedRunner:
    return FeedRunner(feeds(tmp_path), tmp_path / "state", collected.extend, poll_interval_s=60)


def test_restart_neither_repeats_nor_misses(tmp_path: Path) -> None:
    (tmp_path / "dpkg.log").write_text(sample("dpkg.log"))
    (tmp_path / "history.log").write_text(sample("history.log"))
    (tmp_path / "auth.log").write_text(sample("auth.log"))
    (tmp_path / "systemd" / "multi-user.target.wants").mkdir(parents=True)
    first: list[dict[str, Any]] = []
    runner(tmp_path, first).poll_once()
    assert len(first) == 6 + 8
    with (tmp_path / "auth.log").open("a") as out:
        out.write("May  3 08:00:00 web-1 sshd[1]: Accepted publickey for carol from 10.0.0.9 port 1 ssh2\n")
    (tmp_path / "systemd" / "multi-user.target.wants" / "cron.service").symlink_to("/lib/systemd/system/cron.service")
    second: list[dict[str, Any]] = []
    runner(tmp_path, second).poll_once()
    assert [(r["eventName"], r["resources"][0]["ARN"].rsplit("/", 1)[1]) for r in second] == [
        ("SshLogin", "carol"), ("EnableUnit", "cron.service")]
    assert second[1]["additionalEventData"]["foundAtStart"] is True
    assert {r["eventID"] for r in first}.isdisjoint(r["eventID"] for r in second)


def test_lost_state_re_reads_with_the_same_event_ids(tmp_path: Path) -> None:
    (tmp_path / "auth.log").write_text(sample("auth.log"))
    first: list[dict[str, Any]] = []
    runner(tmp_path, first).poll_once()
    (tmp_path / "state" / STATE_FILE).unlink()
    again: list[dict[str, Any]] = []
    runner(tmp_path, again).poll_once()
    assert [r["eventID"] for r in again] == [r["eventID"] for r in first] and first


def test_rotated_log_is_read_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(sample("auth.log"))
    collected: list[dict[str, Any]] = []
    runner(tmp_path, collected).poll_once()
    log.rename(tmp_path / "auth.log.1")
    log.write_text("May  4 09:00:00 web-1 sudo:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls\n")
    rotated: list[dict[str, Any]] = []
    runner(tmp_path, rotated).poll_once()
    assert [(r["eventName"], r["requestParameters"]["command"]) for r in rotated] == [("SudoCommand", "/bin/ls")]


def test_failed_hand_over_keeps_the_position(tmp_path: Path) -> None:
    (tmp_path / "auth.log").write_text(sample("auth.log"))

    def refuse(records: list[dict[str, Any]]) -> None:
        raise OSError("spool disk full")

    FeedRunner(feeds(tmp_path), tmp_path / "state", refuse, poll_interval_s=60).poll_once()
    collected: list[dict[str, Any]] = []
    runner(tmp_path, collected).poll_once()
    assert len([r for r in collected if r["eventSource"] == "logins.watchkeeper.local"]) == 8


@pytest.mark.parametrize("damage", [b"", b"{\"version\": 1, \"data\": ", b"[]"])
def test_damaged_state_is_kept_aside(tmp_path: Path, damage: bytes) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / STATE_FILE).write_bytes(damage)
    collected: list[dict[str, Any]] = []
    runner(tmp_path, collected).poll_once()
    assert (tmp_path / "state" / (STATE_FILE + ".corrupt")).read_bytes() == damage


def test_without_history_the_first_start_passes_over_what_the_logs_already_hold(tmp_path: Path) -> None:
    (tmp_path / "dpkg.log").write_text(sample("dpkg.log"))
    (tmp_path / "auth.log").write_text(sample("auth.log"))
    first: list[dict[str, Any]] = []
    fresh = FeedRunner(feeds(tmp_path), tmp_path / "state", first.extend, poll_interval_s=60,
                       history_on_first_start=False)
    fresh.poll_once()
    assert first == []
    stamp = datetime.now().strftime("%b %e %H:%M:%S")
    with (tmp_path / "auth.log").open("a") as out:
        out.write(f"{stamp} web-1 sshd[1]: Accepted publickey for carol from 10.0.0.9 port 1 ssh2\n")
    fresh.poll_once()
    assert [r["eventName"] for r in first] == ["SshLogin"]
    # once positions are saved it is no longer a first start: an old line appended later is recorded
    with (tmp_path / "auth.log").open("a") as out:
        out.write("May  3 08:00:00 web-1 sshd[1]: Accepted publickey for dave from 10.0.0.9 port 1 ssh2\n")
    later: list[dict[str, Any]] = []
    FeedRunner(feeds(tmp_path), tmp_path / "state", later.extend, poll_interval_s=60,
               history_on_first_start=False).poll_once()
    assert [r["resources"][0]["ARN"].rsplit("/", 1)[1] for r in later] == ["dave"]
