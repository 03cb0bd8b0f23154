"""`watchkeeper agent run`: the agent on one server, shipping to Kafka through its local spool."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from agent.cwagent_config import load_agent_config
from agent.shipper import Shipper
from watchkeeper.cli.cmd_api import wait_for_stop_signal
from watchkeeper.config import load_settings
from watchkeeper.node import CallbackRole, Node, agent_roles, open_spool, periodic
from watchkeeper.selfmetrics import REPORT_INTERVAL_S, agent_reporter


def _progress(message: str) -> None:
    click.echo(f"watchkeeper agent: {message}", err=True)


@click.group("agent")
def command() -> None:
    """The agent that runs on every server."""


@command.command("run")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None, help="watchkeeper.toml")
@click.option("--agent-config", type=click.Path(path_type=Path), required=True,
              help="amazon-cloudwatch-agent.json, as the CloudWatch agent reads it.")
def run(config_path: Path | None, agent_config: Path) -> None:
    """Collect and ship until SIGINT or SIGTERM; what is not yet in Kafka stays in the spool."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings(config_path)
    config, warnings = load_agent_config(agent_config)
    for warning in warnings:
        _progress(f"warning: {warning}")
    node = Node(_progress)
    spool = open_spool(settings)
    node.on_close(spool.close)
    _progress(f"spool at {settings.spool_dir()} ({spool.pending_entries} batches waiting)")
    shipper = Shipper.to_kafka(spool, settings.kafka)
    node.add(CallbackRole("forwarder to Kafka", shipper.start, lambda: shipper.stop(10.0)))
    for role in agent_roles(config, shipper, settings):
        node.add(role)
    reporter = agent_reporter(spool, settings.agent.resolved_host(), settings.agent.resolved_id(), shipper.submit)
    node.add(periodic("self-metrics", REPORT_INTERVAL_S, reporter))
    node.start()
    _progress(f"shipping to {', '.join(settings.kafka.bootstrap_servers)}; Ctrl-C (or SIGTERM) stops")
    wait_for_stop_signal()
    node.stop()
    _progress("stopped")
