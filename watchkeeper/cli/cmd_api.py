"""`watchkeeper api --config FILE`: serve the HTTP API (distributed setup), and ApiServer for `up` and tests."""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click
import uvicorn
from fastapi import FastAPI

from alarms.service import AlarmService
from watchkeeper.api.app import create_app
from watchkeeper.api.context import ApiContext
from watchkeeper.config import load_settings
from watchkeeper.errors import ConfigError, Problem, WatchkeeperError
from watchkeeper.storage.engine import open_engine
from watchkeeper.storage.schema import migrate


class ApiServer:
    """uvicorn serving an app from a background thread, on a socket bound before start returns.

    Binding first means a port of 0 picks a free port that `url` reports, and a
    port already in use fails in start() with a clear error, not in the thread.
    """

    def __init__(self, app: FastAPI, listen: str, source: str = "api.listen") -> None:
        host, _, port = listen.rpartition(":")
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host.strip("[]"), int(port)))
        except OSError as error:
            self._socket.close()
            raise ConfigError([Problem(source, "", f"cannot listen on {listen}: {error.strerror}")]) from None
        bound_host, bound_port = self._socket.getsockname()[:2]
        self.url = f"http://{bound_host if ':' not in bound_host else f'[{bound_host}]'}:{bound_port}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name="watchkeeper-api", daemon=True)

    def start(self) -> None:
        self._thread.start()
        while not self._server.started and self._thread.is_alive():
            self._thread.join(0.05)
        if not self._server.started:
            self._socket.close()
            raise WatchkeeperError(f"the API server at {self.url} failed to start; see the messages above")

    def stop(self) -> None:
        """Finish the requests in flight, then close the socket."""
        self._server.should_exit = True
        self._thread.join()
        self._socket.close()

    @classmethod
    @contextmanager
    def running(cls, app: FastAPI, listen: str) -> Iterator[ApiServer]:
        server = cls(app, listen)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def wait_for_stop_signal() -> None:
    """Block until SIGINT or SIGTERM arrives."""
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)
    stop.wait()


@click.command("api")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="watchkeeper.toml: clickhouse.url to query, api.listen to serve on.")
def command(config_path: Path | None) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json) until SIGINT or SIGTERM."""
    settings = load_settings(config_path)
    engine = open_engine(settings.clickhouse.url, settings.clickhouse.password, settings.clickhouse.secure)
    try:
        migrate(engine, settings.retention)
        context = ApiContext(settings, engine)
        # Every API process evaluates alarms; the evaluator lease lets only one of them send.
        # The server gets a second connection for delivery bookkeeping (chdb has one session per path).
        reopen = (lambda: open_engine(settings.clickhouse.url, settings.clickhouse.password,
                                      settings.clickhouse.secure)) if engine.kind == "server" else None
        alarms = AlarmService(settings, engine, context.services, open_bookkeeping_engine=reopen)
        context.services["alarms"] = alarms
        alarms.start()
        server = ApiServer(create_app(context), settings.api.listen)
        server.start()
        click.echo(f"watchkeeper api: serving {server.url} (storage {settings.clickhouse.url}); "
                   "Ctrl-C stops", err=True)
        wait_for_stop_signal()
        click.echo("watchkeeper api: stopping", err=True)
        server.stop()
        alarms.stop()
    finally:
        engine.close()
