"""One process running a set of roles: what `watchkeeper up` and `watchkeeper agent run` start.

`up` runs every role on one machine with no external service: the agent's
batches go into the local spool, the embedded collector reads the spool into
chdb, the sealer chains and signs audit events, and the API serves it all.
`agent run` runs only the agent roles and forwards the spool to Kafka.

Roles are started in dependency order and stopped in reverse, so on SIGTERM
the producers stop first and whatever they handed on is flushed before exit.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from agent.audit.agent import AuditAgent
from agent.cwagent_config import AgentConfig
from agent.host import PsutilProbe
from agent.logs.from_config import tail_options, tail_specs
from agent.logs.tailer import Tailer
from agent.metrics_loop import MetricsLoop
from agent.shipper import Shipper
from watchkeeper.config.settings import Settings
from watchkeeper.transport.spool import Spool

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


class Role(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class ThreadRole:
    """A role whose work is one blocking `run` that returns after `halt` is called."""

    name: str
    run: Callable[[], None]
    halt: Callable[[], None]
    join_timeout_s: float = 30.0
    _thread: threading.Thread | None = field(default=None, init=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._guarded, name=self.name, daemon=True)
        self._thread.start()

    def _guarded(self) -> None:
        try:
            self.run()
        except Exception:  # a role that dies is logged loudly; the process keeps serving the others
            log.exception("%s stopped with an error", self.name)

    def stop(self) -> None:
        self.halt()
        if self._thread is not None:
            self._thread.join(self.join_timeout_s)


@dataclass
class CallbackRole:
    name: str
    on_start: Callable[[], None]
    on_stop: Callable[[], None]

    def start(self) -> None:
        self.on_start()

    def stop(self) -> None:
        self.on_stop()


def periodic(name: str, interval_s: float, work: Callable[[], object]) -> ThreadRole:
    """A role that calls work() every interval_s seconds until stopped (once more at stop)."""
    stopping = threading.Event()

    def run() -> None:
        while not stopping.wait(interval_s):
            try:
                work()
            except Exception:  # the next round retries; one failure must not end the loop
                log.exception("%s failed; retrying in %.0fs", name, interval_s)
        work()

    return ThreadRole(name, run, stopping.set)


class Node:
    """Roles started in order, stopped in reverse."""

    def __init__(self, progress: Progress) -> None:
        self._roles: list[Role] = []
        self._progress = progress
        self._stack: list[Callable[[], None]] = []

    def add(self, role: Role) -> None:
        self._roles.append(role)

    def on_close(self, closer: Callable[[], None]) -> None:
        """Release a resource after every role stopped (engines, spools)."""
        self._stack.append(closer)

    def start(self) -> None:
        for role in self._roles:
            self._progress(f"starting {role.name}")
            role.start()

    def stop(self) -> None:
        for role in reversed(self._roles):
            self._progress(f"stopping {role.name}")
            try:
                role.stop()
            except Exception:  # keep stopping the others: each one flushes what it holds
                log.exception("%s did not stop cleanly", role.name)
        for closer in reversed(self._stack):
            closer()


def open_spool(settings: Settings) -> Spool:
    return Spool(settings.spool_dir(), settings.spool.max_bytes, settings.spool.segment_bytes, settings.spool.fsync)


def logs_role(config: AgentConfig, shipper: Shipper, settings: Settings) -> ThreadRole | None:
    """The log tailer for the agent config's logs section, or None when it tails nothing."""
    if config.logs is None:
        return None
    host = settings.agent.resolved_host()
    specs = tail_specs(config.logs, host, _ip_address(host))
    if not specs:
        return None
    tailer = Tailer(specs, shipper.submit, settings.agent_state_dir() / "logs", settings.agent.resolved_id(), host,
                    tail_options(config.logs))
    stop = threading.Event()
    return ThreadRole("log tailer", lambda: tailer.run(stop), stop.set)


def _ip_address(host: str) -> str:
    try:
        return socket.gethostbyname(host)
    except OSError:
        return "127.0.0.1"


def agent_roles(config: AgentConfig, shipper: Shipper, settings: Settings) -> list[Role]:
    """What the agent runs: host metrics and the log tailer (per the agent config), audit sources ([audit])."""
    roles: list[Role] = []
    if config.metrics is not None:
        roles.append(metrics_role(config, shipper, settings))
    if (tailer := logs_role(config, shipper, settings)) is not None:
        roles.append(tailer)
    if settings.audit.enabled:
        audit = AuditAgent(settings, settings.agent.resolved_host(), settings.agent.resolved_id(),
                           settings.agent_state_dir() / "audit", shipper.submit)
        roles.append(CallbackRole("audit sources", audit.start, audit.stop))
    return roles


def metrics_role(config: AgentConfig, shipper: Shipper, settings: Settings) -> CallbackRole:
    loop = MetricsLoop(config, PsutilProbe(), shipper.submit, agent_id=settings.agent.resolved_id(),
                       host=settings.agent.resolved_host())
    return CallbackRole("host metrics", loop.start, lambda: loop.stop(10.0))
