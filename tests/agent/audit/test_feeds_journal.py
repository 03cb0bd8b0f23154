"""Units started/stopped/failed from journal entries: the parser on recorded entries, and the feed
against a real `journalctl` process (a small script on PATH that serves recorded entries as journalctl does)."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from feed_helpers import CONTEXT, sample

from agent.audit.feeds.journal import JournalFeed, unit_record
from agent.audit.feeds.runner import FeedRunner, standard_feeds
from agent.audit.identity import stable_event_id
from agent.audit.redaction import Redactor
from watchkeeper.config.settings import AuditFeedsSettings

ENTRIES = [json.loads(line) for line in sample("journal.json").splitlines()]

# Serves the entries of journal.jsonl like journalctl: -n N (last N), --since=@SECONDS, --after-cursor=CURSOR and
# FIELD=VALUE matches (values of one field are alternatives).
FAKE_JOURNALCTL = '''#!{python}
import json, sys
entries = [json.loads(line) for line in open({entries!r})]
matches = {{}}
last = None
for arg in sys.argv[1:]:
    if arg.startswith("--after-cursor="):
        cursors = [e["__CURSOR"] for e in entries]
        entries = entries[cursors.index(arg.split("=", 1)[1]) + 1:]
    elif arg.startswith("--since=@"):
        entries = [e for e in entries if int(e["__REALTIME_TIMESTAMP"]) >= int(arg[9:]) * 1000000]
    elif "=" in arg and not arg.startswith("-"):
        name, value = arg.split("=", 1)
        matches.setdefault(name, set()).add(value)
    elif arg.isdigit():
        last = int(arg)
entries = [e for e in entries if all(e.get(name) in values for name, values in matches.items())]
for entry in entries[-last:] if last else entries:
    print(json.dumps(entry))
'''


def test_sample_entries_give_started_stopped_and_failed_units() -> None:
    records = [r for r in (unit_record(CONTEXT, entry) for entry in ENTRIES) if r is not None]
    for record in records:
        record.pop("requestID")
    nginx_started = records[0]
    assert nginx_started == {
        **nginx_started,
        "eventSource": "systemd.watchkeeper.local", "eventName": "StartUnit", "eventType": "HostChange",
        "eventTime": "2024-06-03T08:00:00Z",
        "userIdentity": {"type": "Service", "principalId": "systemd", "identitySource": "journal"},
        "requestParameters": {"unit": "nginx.service", "jobType": "start"},
        "additionalEventData": {
            "jobResult": "done", "journalHostname": "web-1", "pid": 1, "uid": 0,
            "message": "Started nginx.service - A high performance web server and a reverse proxy server.",
            "journalCursor": ENTRIES[2]["__CURSOR"]},
        "eventID": stable_event_id("web-1", "systemd.watchkeeper.local", "journal", ENTRIES[2]["__CURSOR"]),
    }
    assert nginx_started["resources"][0]["type"] == "Host::SystemdUnit"
    assert nginx_started["resources"][0]["ARN"].endswith("/nginx.service")
    assert [(r["eventName"], r["requestParameters"], r["eventTime"], r.get("errorCode"), r.get("errorMessage"))
            for r in records] == [
        ("StartUnit", {"unit": "nginx.service", "jobType": "start"}, "2024-06-03T08:00:00Z", None, None),
        ("StopUnit", {"unit": "nginx.service", "jobType": "stop"}, "2024-06-03T08:10:00Z", None, None),
        ("FailUnit", {"unit": "billing-sync.service", "jobType": "start"}, "2024-06-03T08:12:00Z", "failed",
         "Failed to start billing-sync.service - Billing export to S3."),
        ("StartUnit", {"unit": "syncthing.service", "jobType": "start", "userUnit": True}, "2024-06-03T08:15:00Z",
         None, None),
    ]
    assert records[3]["additionalEventData"]["uid"] == 1000 and records[3]["additionalEventData"]["pid"] == 1342


def test_event_ids_follow_the_cursor() -> None:
    started = unit_record(CONTEXT, ENTRIES[2])
    again = unit_record(CONTEXT, dict(ENTRIES[2]))
    other = unit_record(CONTEXT, {**ENTRIES[2], "__CURSOR": ENTRIES[2]["__CURSOR"] + "0"})
    assert started is not None and again is not None and other is not None
    assert again["eventID"] == started["eventID"] != other["eventID"]


def test_starting_stopping_and_other_entries_are_not_events() -> None:
    assert [unit_record(CONTEXT, ENTRIES[i]) for i in (0, 1, 3, 5, 6)] == [None] * 5


def fresh(entry: dict[str, Any], when_s: float, serial: int) -> dict[str, Any]:
    """A recorded entry as if journald wrote it now: a later timestamp and its own cursor."""
    return {**entry, "__REALTIME_TIMESTAMP": str(int(when_s * 1_000_000)),
            "__CURSOR": f"{entry['__CURSOR']};fresh={serial}"}


@pytest.fixture()
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file the journalctl on PATH serves; it starts with the recorded (past) entries."""
    entries = tmp_path / "journal.jsonl"
    entries.write_text(sample("journal.json"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "journalctl"
    script.write_text(FAKE_JOURNALCTL.format(python=sys.executable, entries=str(entries)))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return entries


def append(journal: Path, entries: list[dict[str, Any]]) -> None:
    with journal.open("a") as out:
        out.writelines(json.dumps(entry) + "\n" for entry in entries)


def run_once(tmp_path: Path) -> list[dict[str, Any]]:
    collected: list[dict[str, Any]] = []
    FeedRunner([JournalFeed(CONTEXT)], tmp_path / "state", collected.extend, poll_interval_s=60).poll_once()
    return collected


def test_first_start_skips_history_and_a_restart_neither_repeats_nor_misses(journal: Path, tmp_path: Path) -> None:
    assert run_once(tmp_path) == []  # the recorded entries are history
    now = time.time() + 1  # the feed starts from whole seconds; entries written after its start
    append(journal, [fresh(ENTRIES[2], now, 1), fresh(ENTRIES[6], now, 2), fresh(ENTRIES[7], now, 3)])
    first = run_once(tmp_path)
    assert [r["eventName"] for r in first] == ["StartUnit", "FailUnit"]
    assert run_once(tmp_path) == []
    append(journal, [fresh(ENTRIES[4], now + 1, 4)])
    second = run_once(tmp_path)
    assert [(r["eventName"], r["additionalEventData"]["journalCursor"]) for r in second] == [
        ("StopUnit", ENTRIES[4]["__CURSOR"] + ";fresh=4")]


def test_without_journalctl_the_feed_logs_once_and_records_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    feed = JournalFeed(CONTEXT)
    with caplog.at_level(logging.INFO, logger="agent.audit.feeds.journal"):
        assert feed.poll() == [] and feed.poll() == []
    assert [r.getMessage() for r in caplog.records] == [
        "no readable systemd journal (journalctl missing): units started/stopped are not recorded; they need journald"]


def test_an_empty_journal_counts_as_unreadable(journal: Path, caplog: pytest.LogCaptureFixture) -> None:
    journal.write_text("")
    with caplog.at_level(logging.INFO, logger="agent.audit.feeds.journal"):
        assert JournalFeed(CONTEXT).poll() == []
    assert "shows no entries" in caplog.text


def test_the_journal_setting_adds_or_leaves_out_the_feed() -> None:
    redactor = Redactor([])
    names = [feed.name for feed in standard_feeds(AuditFeedsSettings(), CONTEXT, redactor)]
    assert names[-1] == "journal"
    assert "journal" not in [feed.name for feed in standard_feeds(AuditFeedsSettings(journal=False), CONTEXT, redactor)]
