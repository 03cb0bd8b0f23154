"""Start, stop and crash the real Kafka and ClickHouse servers that tests use.

Plain helpers around ``scripts/services.sh`` (no pytest fixtures here, so that
conftest files, scripts and ad-hoc sessions can all use them). The shell script
does the real work: it installs the services, keeps one data directory, pid file
and log per named instance, and waits until an instance answers before it
returns. Tests that stop or crash a broker use a *private* instance (own name and
ports) so the shared ``main`` instances stay up for everyone else.

Example::

    broker = KafkaInstance("failover", 19092, 19093)
    broker.start()          # no-op if it already runs
    ...                     # produce to broker.bootstrap
    broker.kill()           # SIGKILL, like a crash
    broker.start()          # same data dir: topics and records survive
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT: Path = Path(__file__).resolve().parent.parent
"""The repository root; this file lives in ``<root>/tests/``."""

SCRIPT: Path = REPO_ROOT / "scripts" / "services.sh"
"""The shell script that owns all service processes."""

HOST = "127.0.0.1"
"""Every service listens on loopback only."""

DEFAULT_TIMEOUT_S = 300.0
"""Upper bound for one script call: a first start may download jars or install packages."""


class ServiceError(RuntimeError):
    """A services.sh command failed; the message carries the script's output (log tails)."""


def run_services(*args: str, timeout: float = DEFAULT_TIMEOUT_S) -> str:
    """Run ``scripts/services.sh ARGS...`` and return its stdout.

    Raises ServiceError with the combined output on a non-zero exit or timeout,
    because the script prints the failing service's log tail on stderr and a
    test failure should show it.
    """
    try:
        proc = subprocess.run(
            ["bash", str(SCRIPT), *args],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=os.environ.copy(),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ServiceError(f"services.sh {' '.join(args)} timed out after {timeout}s") from exc
    if proc.returncode != 0:
        raise ServiceError(
            f"services.sh {' '.join(args)} exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )
    return proc.stdout


def services_up() -> str:
    """Install if needed and start the shared ``main`` Kafka and ClickHouse (idempotent)."""
    return run_services("up")


@dataclass(frozen=True)
class KafkaInstance:
    """One single-node KRaft Kafka (broker and controller in one JVM) on 127.0.0.1.

    ``name`` picks the data directory, so an instance restarted under the same
    name keeps its topics and records. Ports are fixed at first start.
    """

    name: str
    port: int
    controller_port: int

    @property
    def bootstrap(self) -> str:
        """The ``bootstrap_servers`` string for clients, e.g. ``127.0.0.1:9092``."""
        return f"{HOST}:{self.port}"

    def start(self) -> None:
        """Start (or restart after stop/kill, keeping data) and wait until it serves clients."""
        run_services("kafka-start", self.name, str(self.port), str(self.controller_port))

    def stop(self) -> None:
        """Stop gracefully (SIGTERM; SIGKILL if it hangs). No-op when not running."""
        run_services("kafka-stop", self.name)

    def kill(self) -> None:
        """Crash it with SIGKILL, to test recovery from an unclean broker death."""
        run_services("kafka-kill", self.name)

    def reset(self) -> None:
        """Kill it and delete its data, for a test that needs an empty broker."""
        run_services("kafka-reset", self.name)


@dataclass(frozen=True)
class ClickHouseInstance:
    """One ClickHouse server (Debian's 18.16) on 127.0.0.1, user ``default``, no password.

    ``name`` picks the data directory, so tables survive a stop/kill and restart.
    Ports are fixed at first start.
    """

    name: str
    tcp_port: int
    http_port: int

    @property
    def url(self) -> str:
        """Native-protocol URL, e.g. ``clickhouse://127.0.0.1:9000`` (clickhouse-driver's from_url)."""
        return f"clickhouse://{HOST}:{self.tcp_port}"

    @property
    def http_url(self) -> str:
        """HTTP interface URL, e.g. ``http://127.0.0.1:8123``."""
        return f"http://{HOST}:{self.http_port}"

    def start(self) -> None:
        """Start (or restart, keeping data) and wait until ``SELECT 1`` answers on both ports."""
        run_services("clickhouse-start", self.name, str(self.tcp_port), str(self.http_port))

    def stop(self) -> None:
        """Stop gracefully (SIGTERM; SIGKILL if it hangs). No-op when not running."""
        run_services("clickhouse-stop", self.name)

    def kill(self) -> None:
        """Crash it with SIGKILL, to test writers that must survive a server death."""
        run_services("clickhouse-kill", self.name)

    def reset(self) -> None:
        """Kill it and delete its data, for a test that needs an empty server."""
        run_services("clickhouse-reset", self.name)


MAIN_KAFKA = KafkaInstance("main", 9092, 9093)
"""The shared broker started by ``scripts/services.sh up``; tests must not stop it."""

MAIN_CLICKHOUSE = ClickHouseInstance("main", 9000, 8123)
"""The shared ClickHouse started by ``scripts/services.sh up``; tests must not stop it."""
