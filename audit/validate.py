"""validate-logs: walk the signed digests and the hash chains and name every inconsistency.

In the spirit of `aws cloudtrail validate-logs`: each digest hour and each chain
range is reported valid or INVALID with the reason: event modified, event
deleted, event inserted, digest missing, digest modified, signature
verification failed, chain broken.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.chain import record_hash
from audit.digest import HOUR, StoredDigest, load_digests, signed_message
from audit.record import iso_time
from audit.signing import verify
from watchkeeper.storage.engine import Engine
from watchkeeper.storage.sql import quote


@dataclass
class Finding:
    hour: int
    subject: str
    valid: bool
    reason: str = ""


@dataclass
class Report:
    start: int
    end: int
    findings: list[Finding] = field(default_factory=list)
    digests_checked: int = 0
    digests_valid: int = 0
    events_checked: int = 0
    events_invalid: int = 0

    @property
    def valid(self) -> bool:
        return all(f.valid for f in self.findings)

    def add(self, hour: int, subject: str, reason: str = "") -> None:
        self.findings.append(Finding(hour, subject, not reason, reason))

    def lines(self, verbose: bool) -> list[str]:
        out = [f"Validating audit events between {iso_time(self.start)} and {iso_time(self.end)}", ""]
        for finding in self.findings:
            if finding.valid and not verbose:
                continue
            if finding.valid:
                status = "valid" + (f" ({finding.reason})" if finding.reason else "")
            else:
                status = f"INVALID: {finding.reason}"
            out.append(f"{iso_time(finding.hour)}  {finding.subject}  {status}")
        if len(out) > 2:
            out.append("")
        out.append(f"{self.digests_valid}/{self.digests_checked} digests valid")
        out.append(f"{self.events_checked - self.events_invalid}/{self.events_checked} events valid"
                   + (f", {self.events_invalid} INVALID" if self.events_invalid else ""))
        return out


KeyLookup = Callable[[str], Ed25519PublicKey | None]


def validate_logs(engine: Engine, keys: KeyLookup, start: float, end: float) -> Report:
    """Validate every digest hour in [start, end] and the chain ranges they pin."""
    start_hour = int(start) // HOUR * HOUR
    end_hour = int(end) // HOUR * HOUR
    report = Report(start_hour, end_hour)
    digests = {d.hour: d for d in load_digests(engine, start_hour - HOUR, end_hour)}
    latest = engine.query("SELECT toUInt32(max(hour)), count() FROM audit_digests")
    latest_hour = int(latest[0][0]) if latest and int(latest[0][1]) else None
    first = engine.query("SELECT toUInt32(min(hour)), count() FROM audit_digests")
    first_hour = int(first[0][0]) if first and int(first[0][1]) else None
    for hour in range(start_hour, end_hour + 1, HOUR):
        digest = digests.get(hour)
        if digest is None:
            if latest_hour is not None and first_hour is not None and first_hour < hour < latest_hour:
                report.digests_checked += 1
                report.add(hour, "digest", "digest missing")
            elif latest_hour is None or hour > latest_hour:  # before the first digest ever, every hour is pending
                _report_undigested(engine, report, hour)
            continue
        report.digests_checked += 1
        reason = _check_digest(digest, digests.get(hour - HOUR), keys)
        report.add(hour, "digest", reason)
        if not reason:
            report.digests_valid += 1
        _check_events(engine, report, digest)
    return report


def _check_digest(digest: StoredDigest, previous: StoredDigest | None, keys: KeyLookup) -> str:
    if hashlib.sha256(digest.text.encode()).hexdigest() != digest.digest_hash:
        return "digest modified (its hash does not match its content)"
    key = keys(digest.key_fingerprint)
    if key is None:
        return f"signature verification failed (unknown public key {digest.key_fingerprint[:16]}...)"
    if not verify(key, signed_message(digest.text, digest.body.get("previousDigestSignature")), digest.signature):
        return "signature verification failed"
    if previous is not None and (digest.body.get("previousDigestHash") != previous.digest_hash
                                 or digest.body.get("previousDigestSignature") != previous.signature):
        return "chain broken (previous digest hash or signature does not match)"
    return ""


def _check_events(engine: Engine, report: Report, digest: StoredDigest) -> None:
    hour = digest.hour
    pinned = {c["chain"]: c for c in digest.body.get("chains", [])}
    recorded = engine.query(
        "SELECT chain, seq, event_id FROM audit_events "
        f"WHERE recorded_at >= toDateTime({hour}) AND recorded_at < toDateTime({hour + HOUR})"
    )
    for chain, seq, event_id in recorded:
        entry = pinned.get(chain)
        if entry is None or not entry["firstSeq"] <= int(seq) <= entry["lastSeq"]:
            report.events_checked += 1
            report.events_invalid += 1
            report.add(hour, f"chain {chain} seq {seq}", f"event inserted (eventID {event_id} is in no digest)")
    for chain, entry in sorted(pinned.items()):
        rows = engine.query(
            "SELECT seq, event_id, event_hash, prev_hash, record FROM audit_events "
            f"WHERE chain = {quote(chain)} AND seq >= {int(entry['firstSeq'])} AND seq <= {int(entry['lastSeq'])} "
            "ORDER BY seq, event_id"
        )
        problems = _check_range(entry, rows)
        subject = f"chain {chain} seq {entry['firstSeq']}-{entry['lastSeq']}"
        report.events_checked += max(len(rows), int(entry["count"]))
        report.events_invalid += len(problems)
        if not problems:
            report.add(hour, subject)
        for problem in problems:
            report.add(hour, subject, problem)


def _check_range(entry: dict[str, object], rows: list[tuple[object, ...]]) -> list[str]:
    problems: list[str] = []
    by_seq: dict[int, list[tuple[object, ...]]] = defaultdict(list)
    for row in rows:
        by_seq[int(str(row[0]))].append(row)
    first, last = int(str(entry["firstSeq"])), int(str(entry["lastSeq"]))
    previous_hash = str(entry["firstPrevHash"])
    for seq in range(first, last + 1):
        candidates = by_seq.get(seq, [])
        if not candidates:
            problems.append(f"event deleted (seq {seq} is missing)")
            previous_hash = ""
            continue
        genuine = [c for c in candidates if str(c[3]) == previous_hash] or candidates[:1]
        for extra in candidates:
            if extra is not genuine[0]:
                problems.append(f"event inserted (eventID {extra[1]} duplicates seq {seq})")
        _, event_id, event_hash, prev_hash, record = genuine[0]
        if record_hash(str(record)) != str(event_hash):
            problems.append(f"event modified (eventID {event_id}: content does not match its hash)")
        elif previous_hash and str(prev_hash) != previous_hash:
            problems.append(f"chain broken (eventID {event_id} does not link to seq {seq - 1})")
        previous_hash = str(event_hash)
    last_rows = by_seq.get(last, [])
    if last_rows and previous_hash and previous_hash != str(entry["headHash"]) and not problems:
        problems.append(f"chain broken (head of seq {last} differs from the signed digest)")
    return problems


def _report_undigested(engine: Engine, report: Report, hour: int) -> None:
    count = engine.query(
        "SELECT count() FROM audit_events "
        f"WHERE recorded_at >= toDateTime({hour}) AND recorded_at < toDateTime({hour + HOUR})"
    )
    if count and int(count[0][0]):
        report.findings.append(Finding(hour, "digest", True, f"not yet digested: {int(count[0][0])} events"))
