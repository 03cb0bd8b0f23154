"""The baseline at start: changes made while the agent was down are found and marked; nothing else is reported."""

from __future__ import annotations

import os
from pathlib import Path

from fim_helpers import Collected, monitor

from agent.audit.fim import SNAPSHOT_FILE


def tree(root: Path) -> Path:
    (root / "cron.d").mkdir(parents=True)
    (root / "hosts").write_text("127.0.0.1 localhost\n")
    (root / "cron.d" / "backup").write_text("0 3 * * * root /usr/local/bin/backup\n")
    (root / "motd").write_text("welcome\n")
    return root


def run_once(watched: Path, state: Path) -> Collected:
    collected = Collected()
    fim = monitor(watched, state, collected)
    fim.start()
    fim.stop()
    return collected


def test_first_start_records_state_without_events(tmp_path: Path) -> None:
    watched, state = tree(tmp_path / "etc"), tmp_path / "state"
    assert run_once(watched, state).records == []
    assert (state / SNAPSHOT_FILE).exists()


def test_unchanged_tree_gives_no_events_at_start(tmp_path: Path) -> None:
    watched, state = tree(tmp_path / "etc"), tmp_path / "state"
    run_once(watched, state)
    os.utime(watched / "motd")  # touched, content the same: not a change
    assert run_once(watched, state).records == []


def test_changes_while_stopped_are_found_at_start(tmp_path: Path) -> None:
    watched, state = tree(tmp_path / "etc"), tmp_path / "state"
    run_once(watched, state)
    (watched / "hosts").write_text("127.0.0.1 localhost\n10.0.0.5 db\n")
    (watched / "motd").unlink()
    (watched / "cron.d" / "backup").rename(watched / "cron.d" / "backup-nightly")
    (watched / "cron.d" / "new").write_text("* * * * * root true\n")
    os.chmod(watched / "cron.d" / "new", 0o600)
    collected = run_once(watched, state)
    assert sorted(collected.names()) == sorted([
        ("ModifyFile", str(watched / "hosts")),
        ("DeleteFile", str(watched / "motd")),
        ("MoveFile", str(watched / "cron.d" / "backup-nightly")),
        ("CreateFile", str(watched / "cron.d" / "new")),
    ])
    for record in collected.records:
        assert record["additionalEventData"]["foundAtStart"] is True
        assert record["additionalEventData"]["detectedBy"] == "baseline"
    hosts = collected.named("ModifyFile", watched / "hosts")[0]
    assert "+10.0.0.5 db\n" in hosts["additionalEventData"]["diff"]  # the content store outlives the restart
    assert run_once(watched, state).records == []  # found once, not again


def test_same_change_found_twice_keeps_its_event_id(tmp_path: Path) -> None:
    """A crash after emitting but before the snapshot is saved re-finds the change: the id must repeat."""
    watched, state = tree(tmp_path / "etc"), tmp_path / "state"
    run_once(watched, state)
    saved = (state / SNAPSHOT_FILE).read_bytes()
    (watched / "hosts").write_text("changed\n")
    first = run_once(watched, state).records
    (state / SNAPSHOT_FILE).write_bytes(saved)  # as if the crash came before the save
    second = run_once(watched, state).records
    assert [r["eventID"] for r in first] == [r["eventID"] for r in second] and len(first) == 1


def test_unreadable_snapshot_is_kept_aside_and_baseline_starts_over(tmp_path: Path) -> None:
    watched, state = tree(tmp_path / "etc"), tmp_path / "state"
    run_once(watched, state)
    (state / SNAPSHOT_FILE).write_bytes(b"{not json")
    assert run_once(watched, state).records == []
    assert (state / (SNAPSHOT_FILE + ".corrupt")).read_bytes() == b"{not json"
