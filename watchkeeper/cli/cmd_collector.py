"""`watchkeeper collector run`: consume Kafka into ClickHouse until SIGTERM/SIGINT.

The configuration is validated before anything connects (exit 2 on a bad file).
At start the collector waits up to --wait seconds for ClickHouse and Kafka,
logging every failed attempt, then exits 3; once running it rides out outages
(see docs/collector.md).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from pathlib import Path
from types import FrameType

import click

from watchkeeper.config import load_settings


@click.group("collector")
def command() -> None:
    """The Kafka -> ClickHouse collector."""


@command.command("run")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="watchkeeper.toml ([kafka], [clickhouse], [collector]).")
@click.option("--wait", "wait_s", type=click.FloatRange(min=0), default=120.0, show_default=True,
              help="Seconds to wait for ClickHouse and Kafka at start before exiting with status 3.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning"]), default="info", show_default=True)
def run_command(config_path: Path | None, wait_s: float, log_level: str) -> None:
    """Consume agent batches from Kafka and insert them into ClickHouse."""
    settings = load_settings(config_path)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The clients log every failed connect with a traceback; our own retry messages say it once, plainly.
    logging.getLogger("clickhouse_driver").setLevel(logging.ERROR)
    logging.getLogger("kafka").setLevel(logging.ERROR)
    # Imported after validation: a bad config file is reported without loading Kafka and ClickHouse clients.
    from collector.service import kafka_collector, open_storage
    from audit.signing import Signer
    from collector.upkeep import upkeep_roles

    engine = open_storage(settings, wait_s)
    try:
        collector = kafka_collector(settings, engine, wait_s)

        def stop(signum: int, _frame: FrameType | None) -> None:
            logging.getLogger(__name__).info("%s received; flushing and committing", signal.Signals(signum).name)
            collector.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        name = f"collector@{socket.gethostname()}:{os.getpid()}"
        roles = upkeep_roles(settings, engine, Signer.load_or_create(settings.audit_signing_key()), name,
                             collector.stats, shared=True)
        for role in roles:
            role.start()
        try:
            collector.run()
        finally:
            for role in reversed(roles):
                role.stop()
    finally:
        engine.close()
    click.echo(f"collector stopped: {collector.stats()}")
