"""Watchkeeper's own settings: one TOML file, a section per role.

Secrets may come from the environment instead of the file, so the file can be
checked in: WATCHKEEPER_KAFKA_SASL_PASSWORD and WATCHKEEPER_CLICKHOUSE_PASSWORD
override the values in the file, and so does WATCHKEEPER_SMTP_PASSWORD ([alarms.smtp]).
"""

from __future__ import annotations

import os
import socket
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, FilePath

from watchkeeper.config._validate import Strict, validate
from watchkeeper.errors import ConfigError, Problem


def default_data_dir() -> Path:
    """Where `watchkeeper up` keeps its data: $XDG_DATA_HOME/watchkeeper."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "watchkeeper"


class AgentSettings(Strict):
    """The agent on each server."""

    id: str = Field(default="", description="Stable agent id; defaults to the host name.")
    host: str = Field(default="", description="The `host` dimension; defaults to the host name.")
    state_dir: Path | None = Field(
        default=None, description="Offsets and other agent state; defaults to <data dir>/agent."
    )

    def resolved_host(self) -> str:
        return self.host or socket.gethostname()

    def resolved_id(self) -> str:
        return self.id or self.resolved_host()


class KafkaSettings(Strict):
    """How agents and collectors reach Kafka."""

    bootstrap_servers: list[str] = Field(default_factory=lambda: ["127.0.0.1:9092"])
    topic_prefix: str = Field(default="watchkeeper", pattern=r"^[A-Za-z0-9._-]+$")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: str | None = Field(default=None, description="Overridden by WATCHKEEPER_KAFKA_SASL_PASSWORD.")
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    compression: Literal["zstd", "lz4", "gzip", "none"] = "zstd"
    max_in_flight_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024 * 1024,
        description="Spool bytes the agent's forwarder sends before it waits for Kafka's acknowledgements; the "
                    "agent holds about this much while replaying a backlog (zstd envelopes: 16 MiB is ~150 MiB "
                    "of log lines, as fast to drain as 64 MiB).")
    request_timeout_s: float = Field(default=30.0, gt=0)

    def topic(self, kind: str) -> str:
        return f"{self.topic_prefix}.{kind}"


class ClickHouseSettings(Strict):
    """Where the collector and the API store and query data."""

    url: str = Field(
        default="clickhouse://127.0.0.1:9000/watchkeeper",
        description="clickhouse://[user@]host:port/database for a server; chdb:///path for in-process.",
        pattern=r"^(clickhouse|chdb)://",
    )
    password: str | None = Field(default=None, description="Overridden by WATCHKEEPER_CLICKHOUSE_PASSWORD.")
    secure: bool = False


class SpoolSettings(Strict):
    """The agent's local durable buffer while Kafka is away (and the transport of `up`)."""

    dir: Path | None = Field(default=None, description="Defaults to <data dir>/spool.")
    max_bytes: int = Field(default=1024 * 1024 * 1024, ge=1024 * 1024)
    segment_bytes: int = Field(default=16 * 1024 * 1024, ge=64 * 1024)
    fsync: Literal["always", "batch", "never"] = Field(
        default="always",
        description="always: fsync after every appended batch (nothing acknowledged is lost on power "
        "failure); never: leave it to the OS (survives a process crash, not a power cut).",
    )


class CollectorSettings(Strict):
    """Kafka -> ClickHouse."""

    group_id: str = "watchkeeper-collector"
    max_rows: int = Field(default=50_000, ge=1, description="Insert when a table's buffer holds this many rows.")
    max_age_s: float = Field(default=1.0, gt=0, description="...or when its oldest row waited this long.")
    retry_max_s: float = Field(default=30.0, gt=0, description="Upper bound of the ClickHouse retry backoff.")


class ApiSettings(Strict):
    """The HTTP API (served by `up` and by `watchkeeper api`)."""

    listen: str = Field(default="127.0.0.1:4680", pattern=r"^[^:]+:\d+$")


class RetentionSettings(Strict):
    """How long each kind of data is kept (CloudWatch's tiers by default)."""

    metrics_days: int = Field(default=15, ge=1)
    metrics_5m_days: int = Field(default=63, ge=1)
    metrics_1h_days: int = Field(default=455, ge=1)


class AuditFilesSettings(Strict):
    """File integrity monitoring on each server ([audit.files])."""

    paths: list[str] = Field(
        default_factory=lambda: ["/etc", "/usr/lib/systemd/system", "/etc/systemd/system", "/var/spool/cron"],
        description="Files or directories watched recursively.",
    )
    exclude: list[str] = Field(
        default_factory=lambda: ["/etc/mtab", "/etc/ld.so.cache", "/etc/adjtime", "*.swp", "*~"],
        description="Glob patterns (fnmatch on the full path) that are never recorded.",
    )
    diff_max_bytes: int = Field(default=64 * 1024, ge=0, description="Text files up to this size get a unified diff.")
    redact_patterns: list[str] = Field(
        default_factory=lambda: [
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
            r"(?i)((?:password|passwd|secret|token|api[_-]?key)\s*[=:]\s*)\S+",
        ],
        description="Regexes whose matches are replaced by [REDACTED] in diffs (group 1, if any, is kept).",
    )
    no_diff: list[str] = Field(
        default_factory=lambda: ["/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "*/ssh_host_*_key",
                                 "*.key", "*.pem"],
        description="Globs of files whose content is never stored or diffed (hashes only): secrets no pattern catches.")
    rescan_interval_s: float = Field(default=300.0, gt=0, description="Full rescan that catches missed events.")
    watch_mode: Literal["auto", "poll"] = Field(
        default="auto", description="auto = inotify (watchdog), falling back to polling when inotify fails or its "
        "limits are hit; poll = stat every file every poll_interval_s.")
    poll_interval_s: float = Field(default=10.0, gt=0, description="Full stat scan interval in polling mode.")
    coalesce_s: float = Field(
        default=1.0, ge=0, description="Changes to a path within this quiet time become one event with the final state.")
    content_store_max_bytes: int = Field(
        default=16 * 1024 * 1024, ge=0, description="Bound of the store of small text files' last content (for diffs).")


class AuditFeedsSettings(Strict):
    """Host change feeds on each server ([audit.feeds]): packages, accounts, logins, systemd, journal, cron."""

    enabled: bool = Field(default=True, description="Run the host change feeds at all.")
    poll_interval_s: float = Field(default=2.0, gt=0, description="How often each feed looks for changes.")
    history_on_first_start: bool = Field(
        default=True, description="On the very first start (no saved positions) record what the dpkg, apt and "
        "auth logs already hold; false records only what happens from the first start on.")
    dpkg_log: str = Field(default="/var/log/dpkg.log", description="dpkg's log: installs, upgrades, removals.")
    apt_history_log: str = Field(default="/var/log/apt/history.log", description="apt's history: command lines, users.")
    auth_logs: list[str] = Field(
        default_factory=lambda: ["/var/log/auth.log", "/var/log/secure"],
        description="sudo and sshd logs (Debian's and Red Hat's names; those present are read).")
    passwd_file: str = Field(default="/etc/passwd", description="Users.")
    group_file: str = Field(default="/etc/group", description="Groups and memberships.")
    shadow_file: str = Field(default="/etc/shadow", description="Only whether a user has a shadow entry is recorded.")
    systemd_dirs: list[str] = Field(
        default_factory=lambda: ["/etc/systemd/system"],
        description="Directories whose *.wants/ and *.requires/ symlinks say which units are enabled.")
    journal: bool = Field(
        default=True, description="Read units started, stopped and failed from the systemd journal (journalctl); "
        "skipped with a log line where there is no readable journal.")
    cron_paths: list[str] = Field(
        default_factory=lambda: ["/var/spool/cron/crontabs", "/etc/cron.d", "/etc/crontab"],
        description="Crontab files, or directories of them.")


class AuditSettings(Strict):
    """The audit trail: identity of this installation, signing, retention."""

    enabled: bool = Field(default=True, description="Run the audit sources (file integrity, host feeds) in the agent.")
    record_read_calls: bool = Field(default=False, description="Also record the API's read actions "
                                    "(Describe*, Get*, List*, Lookup*, ...) as readOnly events.")

    installation_id: str = Field(default="000000000000", description="recipientAccountId of every record.")
    signing_key: Path | None = Field(
        default=None, description="Ed25519 private key (PEM) that signs digests; created when missing. "
        "Defaults to <data dir>/audit-signing-key.pem.")
    retention_days: int = Field(default=90, ge=1)
    digest_grace_s: float = Field(default=120.0, ge=0, description="How long after an hour ends its digest is made.")
    files: AuditFilesSettings = Field(default_factory=AuditFilesSettings)
    feeds: AuditFeedsSettings = Field(default_factory=AuditFeedsSettings)


class SmtpSettings(Strict):
    """The mail server that delivers mailto: alarm actions ([alarms.smtp])."""

    host: str = Field(default="127.0.0.1", description="SMTP server host.")
    port: int = Field(default=25, ge=1, le=65535, description="SMTP server port (587 for submission).")
    starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS before sending.")
    username: str | None = Field(default=None, description="Log in with this user (after STARTTLS, if set).")
    password: str | None = Field(default=None, description="Overridden by WATCHKEEPER_SMTP_PASSWORD.")
    ca_file: FilePath | None = Field(
        default=None, description="PEM file of the CA(s) that verify the server's STARTTLS certificate (a private "
                                  "CA, a self-signed server); default: the system's trusted CAs.")
    from_address: str = Field(default="watchkeeper@localhost", description="The From: of alarm mails.")


class AlarmsSettings(Strict):
    """The alarm service ([alarms]): evaluation leadership, notification delivery, GitOps."""

    region: str = Field(default="local", description="Region in alarm ARNs and notifications.")
    rules_dir: Path | None = Field(
        default=None, description="A directory of *.json PutMetricAlarm/PutCompositeAlarm bodies applied at start.")
    default_secret: str | None = Field(
        default=None, description="HMAC-SHA256 key signing http(s) notifications; overridden per URL by secrets.")
    secrets: dict[str, str] = Field(
        default_factory=dict, description="Per action URL signing keys (URL -> secret).")
    queue_size: int = Field(default=10_000, ge=1, description="Notifications waiting at most; overflow is "
                            "counted, logged and recorded as a failed action.")
    workers: int = Field(default=4, ge=1, description="Threads delivering notifications.")
    attempt_timeout_s: float = Field(default=10.0, gt=0, description="Timeout of one delivery attempt.")
    retries: int = Field(default=3, ge=0, description="Attempts after the first failed one.")
    backoff_initial_s: float = Field(default=1.0, gt=0, description="Wait before the first retry; doubles.")
    backoff_max_s: float = Field(default=60.0, gt=0, description="Upper bound of the wait between retries.")
    lease_ttl_s: float = Field(default=30.0, gt=0, description="How long an evaluator leads without renewing.")
    lease_settle_s: float = Field(default=1.0, ge=0, description="Wait between claiming the lease and reading "
                                  "back the winner (longer than an insert takes).")
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)


class Settings(Strict):
    """The whole watchkeeper.toml."""

    data_dir: Path = Field(default_factory=default_data_dir)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    clickhouse: ClickHouseSettings = Field(default_factory=ClickHouseSettings)
    spool: SpoolSettings = Field(default_factory=SpoolSettings)
    collector: CollectorSettings = Field(default_factory=CollectorSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    alarms: AlarmsSettings = Field(default_factory=AlarmsSettings)

    def spool_dir(self) -> Path:
        return self.spool.dir or self.data_dir / "spool"

    def audit_signing_key(self) -> Path:
        return self.audit.signing_key or self.data_dir / "audit-signing-key.pem"

    def agent_state_dir(self) -> Path:
        return self.agent.state_dir or self.data_dir / "agent"


def read_toml(path: Path) -> dict[str, object]:
    """Read a TOML file, turning I/O and syntax errors into a ConfigError naming the file."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), "", "file not found")]) from None
    except OSError as error:
        raise ConfigError([Problem(str(path), "", f"cannot be read: {error.strerror}")]) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([Problem(str(path), "", f"not valid TOML: {error}")]) from None


def load_settings(path: Path | None) -> Settings:
    """Load watchkeeper.toml (or the defaults when path is None), then apply secret overrides."""
    data = read_toml(path) if path is not None else {}
    settings = validate(Settings, data, str(path) if path else "<defaults>")
    overrides: dict[str, dict[str, str]] = {}
    if secret := os.environ.get("WATCHKEEPER_KAFKA_SASL_PASSWORD"):
        overrides["kafka"] = {"sasl_password": secret}
    if secret := os.environ.get("WATCHKEEPER_CLICKHOUSE_PASSWORD"):
        overrides["clickhouse"] = {"password": secret}
    if secret := os.environ.get("WATCHKEEPER_SMTP_PASSWORD"):
        settings = settings.model_copy(update={"alarms": settings.alarms.model_copy(
            update={"smtp": settings.alarms.smtp.model_copy(update={"password": secret})})})
    for section, values in overrides.items():
        current = getattr(settings, section)
        settings = settings.model_copy(update={section: current.model_copy(update=values)})
    return settings
