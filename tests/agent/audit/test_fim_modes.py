"""Burst coalescing, excludes, and polling when inotify is off or exhausted."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path

from fim_helpers import HOST, INSTALLATION, Collected, monitor
from watchdog.observers.api import BaseObserver
from watchdog.observers.inotify import InotifyObserver

from agent.audit.fim import FileIntegrityMonitor
from watchkeeper.config.settings import AuditFilesSettings


def test_burst_of_writes_becomes_one_event_with_the_final_state(tmp_path: Path) -> None:
    watched = tmp_path / "etc"
    watched.mkdir()
    target = watched / "counter"
    target.write_text("start\n")
    collected = Collected()
    fim = monitor(watched, tmp_path / "state", collected, coalesce_s=1.0)
    fim.start()
    try:
        for value in range(100):
            target.write_text(f"value {value}\n")
        (watched / "marker").write_text("after the burst\n")
        collected.wait_named("CreateFile", watched / "marker")
    finally:
        fim.stop()
    modifies = collected.named("ModifyFile", target)
    assert len(modifies) == 1
    extra = modifies[0]["additionalEventData"]
    assert extra["after"]["sha256"] == hashlib.sha256(b"value 99\n").hexdigest()
    assert extra["diff"].endswith("-start\n+value 99\n")


def test_excluded_paths_are_never_recorded(tmp_path: Path) -> None:
    watched = tmp_path / "etc"
    (watched / "cache").mkdir(parents=True)
    collected = Collected()
    fim = monitor(watched, tmp_path / "state", collected, exclude=["*.swp", str(watched / "cache")])
    fim.start()
    try:
        (watched / ".passwd.swp").write_text("editor scratch\n")
        (watched / "cache" / "entry").write_text("cached\n")
        (watched / "kept").write_text("recorded\n")
        collected.wait_named("CreateFile", watched / "kept")
    finally:
        fim.stop()
    assert collected.names() == [("CreateFile", str(watched / "kept"))]


def test_poll_mode_finds_changes_without_inotify(tmp_path: Path) -> None:
    watched = tmp_path / "etc"
    watched.mkdir()
    (watched / "resolv.conf").write_text("nameserver 10.0.0.1\n")
    collected = Collected()
    fim = monitor(watched, tmp_path / "state", collected, watch_mode="poll", poll_interval_s=0.2)
    fim.start()
    try:
        assert fim.polling
        (watched / "resolv.conf").write_text("nameserver 10.0.0.2\n")
        record = collected.wait_named("ModifyFile", watched / "resolv.conf")
    finally:
        fim.stop()
    assert record["additionalEventData"]["detectedBy"] == "poll"
    assert "+nameserver 10.0.0.2\n" in record["additionalEventData"]["diff"]


class ExhaustedInotify(InotifyObserver):  # type: ignore[misc]
    """A real inotify observer on a host whose max_user_watches is used up: scheduling fails with ENOSPC."""

    def schedule(self, *args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")


def test_inotify_limit_falls_back_to_polling(tmp_path: Path) -> None:
    watched = tmp_path / "etc"
    watched.mkdir()
    collected = Collected()
    settings = AuditFilesSettings(paths=[str(watched)], poll_interval_s=0.2, coalesce_s=0.1)
    observer: type[BaseObserver] = ExhaustedInotify
    fim = FileIntegrityMonitor(settings, HOST, INSTALLATION, tmp_path / "state", collected, observer_factory=observer)
    fim.start()
    try:
        assert fim.polling
        (watched / "sudoers").write_text("root ALL=(ALL) ALL\n")
        assert collected.wait_named("CreateFile", watched / "sudoers")["additionalEventData"]["detectedBy"] == "poll"
    finally:
        fim.stop()


def test_periodic_rescan_catches_changes_inotify_cannot_see(tmp_path: Path) -> None:
    """A root that did not exist at start is not watched; the rescan still finds its files."""
    watched = tmp_path / "later"
    collected = Collected()
    fim = monitor(watched, tmp_path / "state", collected, rescan_interval_s=0.3)
    fim.start()
    try:
        watched.mkdir()
        (watched / "unit.service").write_text("[Unit]\n")
        record = collected.wait_named("CreateFile", watched / "unit.service")
    finally:
        fim.stop()
    assert record["additionalEventData"]["detectedBy"] in ("rescan", "inotify")
