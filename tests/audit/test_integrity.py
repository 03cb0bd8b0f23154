"""Tamper evidence on both engines: every kind of tampering is caught and named; untouched validates clean."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from audit.chain import Chainer, write_audit
from audit.digest import HOUR, make_digests
from audit.record import new_record, resource
from audit.signing import Signer
from audit.validate import validate_logs
from watchkeeper.storage.engine import Engine

NOW = 1_795_000_000 // HOUR * HOUR + 10 * HOUR


def _records(n: int, host: str, start: float) -> list[dict[str, Any]]:
    return [
        new_record(event_source="files.watchkeeper.local", event_name="ModifyFile",
                   user_identity={"type": "HostUser", "userName": "root", "principalId": "0"},
                   installation_id="123456789012", resources=[resource("Host::File", f"/etc/f{i}", host)],
                   event_time=start + i)
        for i in range(n)
    ]


def _fill(engine: Engine, signer: Signer) -> None:
    """Three hours of events on two chains, recorded at known times, digested."""
    chainer = Chainer(engine)
    for hour in range(3):
        recorded = NOW - 4 * HOUR + hour * HOUR + 60
        for host in ("web-1", "web-2"):
            columns, heads = chainer.chain([(host, _records(5, host, recorded))], recorded_at=recorded)
            engine.insert("audit_events", columns)
            chainer.advance(heads)
    assert make_digests(engine, signer, now=NOW + 200, grace_s=120) == [NOW - 4 * HOUR + h * HOUR for h in range(4)]


def _mutate(engine: Engine, statement: str) -> None:
    """Run a mutation and wait until it is applied (18.16 has no mutations_sync)."""
    engine.command(statement)
    for _ in range(200):
        pending = engine.query(f"SELECT count() FROM system.mutations WHERE database = '{engine.database}' "
                               "AND is_done = 0")
        if int(pending[0][0]) == 0:
            return
        time.sleep(0.05)
    raise AssertionError("mutation did not finish")


def _validate(engine: Engine, signer: Signer) -> list[str]:
    report = validate_logs(engine, lambda fp: signer.public_key if fp == signer.fingerprint else None,
                           NOW - 5 * HOUR, NOW)
    return [f.reason for f in report.findings if not f.valid]


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer.load_or_create(tmp_path / "key.pem")


def test_untouched_store_validates_clean(engine: Engine, signer: Signer) -> None:
    _fill(engine, signer)
    report = validate_logs(engine, lambda fp: signer.public_key, NOW - 5 * HOUR, NOW)
    assert report.valid, report.lines(verbose=True)
    assert report.digests_checked == 4 and report.digests_valid == 4
    assert report.events_checked == 30 and report.events_invalid == 0


def test_redelivered_batch_is_not_chained_twice(engine: Engine) -> None:
    records = _records(3, "web-1", NOW)
    chainer = Chainer(engine)
    assert write_audit(engine, chainer, [("web-1", records)]) == 3
    assert write_audit(engine, Chainer(engine), [("web-1", records)]) == 0
    assert engine.query("SELECT count(), max(seq) FROM audit_events") == [(3, 3)]


TAMPERING: list[tuple[str, Callable[[Engine], None], str]] = [
    ("modified", lambda e: _mutate(e, "ALTER TABLE audit_events UPDATE record = replaceOne(record, 'ModifyFile', "
                                      "'ReadFile') WHERE chain = 'web-1' AND seq = 7"), "event modified"),
    ("deleted", lambda e: _mutate(e, "ALTER TABLE audit_events DELETE WHERE chain = 'web-2' AND seq = 3"),
     "event deleted"),
    ("inserted", lambda e: e.command(
        "INSERT INTO audit_events SELECT chain, seq, 'forged', event_time, recorded_at, event_source, event_name, "
        "'mallory', access_key_id, read_only, resource_types, resource_names, event_hash, prev_hash, record "
        "FROM audit_events WHERE chain = 'web-1' AND seq = 4"), "event inserted"),
    ("digest deleted", lambda e: _mutate(e, f"ALTER TABLE audit_digests DELETE WHERE hour = toDateTime({NOW - 3 * HOUR})"),
     "digest missing"),
    ("signature altered", lambda e: _mutate(
        # the first character always changes: a fixed replacement would miss signatures starting with it
        e, f"ALTER TABLE audit_digests UPDATE signature = concat(if(substring(signature, 1, 1) = 'A', 'B', 'A'), "
           f"substring(signature, 2)) "
           f"WHERE hour = toDateTime({NOW - 2 * HOUR})"), "signature verification failed"),
]


@pytest.mark.parametrize(("what", "tamper", "expected"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_tampering_is_caught_and_named(engine: Engine, signer: Signer, what: str,
                                       tamper: Callable[[Engine], None], expected: str) -> None:
    _fill(engine, signer)
    tamper(engine)
    reasons = _validate(engine, signer)
    assert reasons, f"{what} went unnoticed"
    assert any(r.startswith(expected) for r in reasons), reasons


def test_sealer_chains_delivered_records_once_in_delivery_order(engine: Engine, signer: Signer) -> None:
    from audit.ingest import to_rows
    from audit.sealer import Sealer
    from watchkeeper.events import Kind
    from watchkeeper.wire import make_envelope

    first = make_envelope(Kind.AUDIT, "web-1", "web-1", _records(3, "web-1", NOW))
    second = make_envelope(Kind.AUDIT, "web-1", "web-1", _records(2, "web-1", NOW + 10))
    for envelope in (first, second, first):  # the first batch is delivered twice
        engine.insert("audit_incoming", to_rows(envelope)["audit_incoming"])
    sealer = Sealer(engine, signer, digest_grace_s=0)
    assert sealer.seal(now=NOW)[0] == 5
    assert Sealer(engine, signer, digest_grace_s=0).seal(now=NOW)[0] == 0  # a restarted sealer adds nothing
    rows = engine.query("SELECT seq, event_id FROM audit_events ORDER BY seq")
    expected = [r["eventID"] for r in first.items + second.items]
    assert [r[1] for r in rows] == expected
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
