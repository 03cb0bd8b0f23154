"""Pure pieces of file integrity: redaction, move detection, content store bound."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from agent.audit.changes import ChangeKind, changes_between
from agent.audit.contentstore import ContentStore
from agent.audit.filestate import FileState
from agent.audit.redaction import Redactor
from watchkeeper.config.settings import AuditFilesSettings
from watchkeeper.errors import ConfigError


def state(sha: str, inode: int, mode: int = 0o644, uid: int = 0) -> FileState:
    return FileState(sha, 10, stat.S_IFREG | mode, uid, 0, 1, 1, inode, 1)


def test_default_patterns_redact_keys_and_assignments() -> None:
    redactor = Redactor(AuditFilesSettings().redact_patterns)
    text = ("db_password=s3cret\nTOKEN: abc\nname = x\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\nAAAA\n"
            "-----END RSA PRIVATE KEY-----\n")
    redacted, hit = redactor.redact(text)
    assert hit and redacted == "db_password=[REDACTED]\nTOKEN: [REDACTED]\nname = x\n[REDACTED]\n"
    assert redactor.redact("nothing here\n") == ("nothing here\n", False)


def test_bad_redact_pattern_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError) as caught:
        Redactor(["ok", "(unclosed"])
    assert "[1]" in str(caught.value) and "(unclosed" in str(caught.value)


def test_reused_inode_with_other_content_is_not_a_move() -> None:
    changes = changes_between({"/a": state("aa", 7)}, {"/b": state("bb", 7)}, {"/a", "/b"})
    assert [(c.kind, c.path) for c in changes] == [(ChangeKind.CREATE, "/b"), (ChangeKind.DELETE, "/a")]
    moved = changes_between({"/a": state("aa", 7)}, {"/b": state("aa", 7)}, {"/a", "/b"})
    assert [(c.kind, c.path, c.source_path) for c in moved] == [(ChangeKind.MOVE, "/b", "/a")]


def test_mode_and_owner_change_give_one_event_each() -> None:
    changes = changes_between({"/a": state("aa", 7)}, {"/a": state("aa", 7, mode=0o600, uid=65534)}, {"/a"})
    assert [c.kind for c in changes] == [ChangeKind.CHMOD, ChangeKind.CHOWN]


def test_content_store_evicts_unreferenced_first_and_stays_bounded(tmp_path: Path) -> None:
    referenced = {"keep"}
    store = ContentStore(tmp_path, max_bytes=1000, referenced=lambda: referenced)
    store.put("keep", b"k" * 5000 + b"x")  # compresses to a few dozen bytes
    for index in range(20):
        store.put(f"old{index}", os.urandom(100))  # incompressible: about 110 bytes each, 2 KB in all
    assert store.total_bytes <= 1000 and not store.has("old0") and store.has("old19")
    assert store.get("keep") == b"k" * 5000 + b"x"
    reopened = ContentStore(tmp_path, max_bytes=1000, referenced=lambda: referenced)
    assert reopened.has("keep") and reopened.total_bytes == store.total_bytes
