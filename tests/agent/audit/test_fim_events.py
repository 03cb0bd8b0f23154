"""Each kind of file change under a watched directory becomes one record with the right hashes, diff and identity."""

from __future__ import annotations

import hashlib
import os
import pwd
from collections.abc import Iterator
from pathlib import Path

import pytest
from fim_helpers import HOST, INSTALLATION, Collected, monitor

from agent.audit.contentstore import ContentStore
from agent.audit.fim import FileIntegrityMonitor

PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQUJDREVGRw==\n-----END OPENSSH PRIVATE KEY-----\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def watched(tmp_path: Path) -> Path:
    directory = tmp_path / "etc"
    (directory / "ssh").mkdir(parents=True)
    (directory / "ssh" / "sshd_config").write_text("Port 22\nPermitRootLogin yes\n")
    return directory


@pytest.fixture
def running(watched: Path, tmp_path: Path) -> Iterator[tuple[FileIntegrityMonitor, Collected]]:
    collected = Collected()
    fim = monitor(watched, tmp_path / "state", collected)
    fim.start()
    yield fim, collected
    fim.stop()


def test_edit_gives_modify_with_hashes_and_diff(watched: Path, running: tuple[FileIntegrityMonitor, Collected]) -> None:
    fim, collected = running
    config = watched / "ssh" / "sshd_config"
    config.write_text("Port 22\nPermitRootLogin no\n")
    record = collected.wait_named("ModifyFile", config)
    assert not fim.polling
    extra = record["additionalEventData"]
    assert extra["before"]["sha256"] == sha(b"Port 22\nPermitRootLogin yes\n")
    assert extra["after"]["sha256"] == sha(b"Port 22\nPermitRootLogin no\n")
    assert extra["after"]["size"] == len(b"Port 22\nPermitRootLogin no\n")
    assert "-PermitRootLogin yes\n+PermitRootLogin no\n" in extra["diff"]
    assert extra["diffRedacted"] is False and extra["detectedBy"] == "inotify" and "foundAtStart" not in extra
    assert record["eventSource"] == "files.watchkeeper.local" and record["eventType"] == "HostChange"
    assert record["resources"] == [{"ARN": f"wk:host:{HOST}:file/{config}", "accountId": INSTALLATION,
                                    "type": "Host::File"}]
    me = pwd.getpwuid(os.getuid())
    assert record["userIdentity"] == {"type": "HostUser", "identitySource": "fileOwner", "principalId": str(me.pw_uid),
                                      "uid": me.pw_uid, "userName": me.pw_name}


def test_create_shows_content_with_secrets_redacted(watched: Path, running: tuple[FileIntegrityMonitor, Collected]) -> None:
    _, collected = running
    created = watched / "app.env"
    created.write_text("user = app\npassword = hunter2\napi_key: abc123\n" + PRIVATE_KEY)
    record = collected.wait_named("CreateFile", created)
    extra = record["additionalEventData"]
    assert extra["before"] is None and extra["after"]["sha256"] == sha(created.read_bytes())
    diff = extra["diff"]
    assert "+user = app\n" in diff and "+password = [REDACTED]\n" in diff and "+api_key: [REDACTED]\n" in diff
    assert "hunter2" not in diff and "abc123" not in diff and "b3BlbnNzaC1rZXktdjEAAAAA" not in diff
    assert "+[REDACTED]\n" in diff and extra["diffRedacted"] is True


def test_chmod_and_chown(watched: Path, running: tuple[FileIntegrityMonitor, Collected]) -> None:
    _, collected = running
    config = watched / "ssh" / "sshd_config"
    os.chmod(config, 0o600)
    chmod = collected.wait_named("ChangeFileMode", config)
    assert chmod["requestParameters"]["mode"] == "0600"
    assert chmod["additionalEventData"]["before"]["mode"] == "0644"
    assert chmod["additionalEventData"]["after"]["mode"] == "0600"
    assert not collected.named("ModifyFile", config)  # content unchanged
    nobody = pwd.getpwnam("nobody")
    os.chown(config, nobody.pw_uid, nobody.pw_gid)
    chown = collected.wait_named("ChangeFileOwner", config)
    assert chown["requestParameters"]["owner"] == "nobody" and chown["requestParameters"]["uid"] == nobody.pw_uid
    assert chown["additionalEventData"]["before"]["uid"] == os.getuid()
    assert chown["userIdentity"]["userName"] == "nobody"  # the owner now: the actor is unknowable via inotify


def test_rename_and_delete(watched: Path, running: tuple[FileIntegrityMonitor, Collected]) -> None:
    _, collected = running
    config = watched / "ssh" / "sshd_config"
    content_hash = sha(config.read_bytes())
    renamed = watched / "ssh" / "sshd_config.bak"
    config.rename(renamed)
    move = collected.wait_named("MoveFile", renamed)
    assert move["requestParameters"] == {"path": str(renamed), "sourcePath": str(config)}
    assert move["additionalEventData"]["after"]["sha256"] == content_hash
    assert [r["type"] for r in move["resources"]] == ["Host::File", "Host::File"]
    renamed.unlink()
    delete = collected.wait_named("DeleteFile", renamed)
    assert delete["additionalEventData"]["before"]["sha256"] == content_hash
    assert delete["additionalEventData"]["after"] is None
    assert "-PermitRootLogin yes\n" in delete["additionalEventData"]["diff"]
    assert [name for name, _ in collected.names()] == ["MoveFile", "DeleteFile"]


def test_directory_moved_away_and_deleted_tree(watched: Path, running: tuple[FileIntegrityMonitor, Collected],
                                              tmp_path: Path) -> None:
    _, collected = running
    (watched / "ssh").rename(tmp_path / "outside")  # leaves the watched tree: its files are gone from it
    collected.wait_named("DeleteFile", watched / "ssh" / "sshd_config")


def test_binary_and_large_files_get_hashes_but_no_diff(watched: Path, tmp_path: Path) -> None:
    collected = Collected()
    fim = monitor(watched, tmp_path / "state", collected, diff_max_bytes=100)
    fim.start()
    try:
        (watched / "blob.bin").write_bytes(b"\x00\x01binary")
        (watched / "big.txt").write_text("x" * 200)
        assert collected.wait_named("CreateFile", watched / "blob.bin")["additionalEventData"]["diffOmitted"] == "binary"
        big = collected.wait_named("CreateFile", watched / "big.txt")["additionalEventData"]
        assert big["diffOmitted"] == "larger than diff_max_bytes (100)" and "diff" not in big
        assert big["after"]["sha256"] == sha(b"x" * 200)
    finally:
        fim.stop()


def test_no_diff_files_get_hashes_only(watched: Path, tmp_path: Path) -> None:
    shadow = watched / "shadow"
    shadow.write_text("root:$y$j9T$salt$hash:19800:0:99999:7:::\n")
    collected = Collected()
    fim = monitor(watched, tmp_path / "state", collected, no_diff=[str(shadow)])
    fim.start()
    try:
        shadow.write_text("root:$y$j9T$other$hash2:19801:0:99999:7:::\n")
        extra = collected.wait_named("ModifyFile", shadow)["additionalEventData"]
    finally:
        fim.stop()
    assert extra["diffOmitted"] == "no_diff" and "diff" not in extra
    assert extra["after"]["sha256"] == sha(shadow.read_bytes())
    store = ContentStore(tmp_path / "state", 1 << 20, set)
    stored = [store.get(blob.name) for blob in store.directory.iterdir()]
    assert stored and not any(b"$y$" in (content or b"") for content in stored)
