"""`watchkeeper up`: the whole of Watchkeeper on this machine, in one process, with nothing else to install."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

import click

from agent.cwagent_config import load_agent_config
from watchkeeper.cli.cmd_api import wait_for_stop_signal
from watchkeeper.config import load_settings
from watchkeeper.embedded import build


def _progress(message: str) -> None:
    click.echo(f"watchkeeper up: {message}", err=True)


@click.command("up")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Where data, spool and keys live (default: $XDG_DATA_HOME/watchkeeper).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None, help="watchkeeper.toml")
@click.option("--agent-config", type=click.Path(path_type=Path), default=None,
              help="amazon-cloudwatch-agent.json (default: Watchkeeper's own: host metrics every 10 s).")
@click.option("--listen", default=None, help="API address, overriding api.listen (default 127.0.0.1:4680).")
def command(data_dir: Path | None, config_path: Path | None, agent_config: Path | None, listen: str | None) -> None:
    """Run agent, collector, audit sealer and API together: spool instead of Kafka, chdb instead of a server."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings(config_path)
    updates: dict[str, object] = {}
    if data_dir is not None:
        updates["data_dir"] = data_dir.resolve()
    if listen is not None:
        updates["api"] = settings.api.model_copy(update={"listen": listen})
    settings = settings.model_copy(update=updates)
    with resources.as_file(resources.files("watchkeeper.defaults") / "amazon-cloudwatch-agent.json") as default:
        config, warnings = load_agent_config(agent_config or default)
    for warning in warnings:
        _progress(f"warning: {warning}")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _progress(f"data directory {settings.data_dir}")
    embedded = build(settings, config, _progress)
    embedded.node.start()
    _progress(f"API at {embedded.api_url} (OpenAPI: {embedded.api_url}/openapi.json)")
    _progress(f"try: watchkeeper --endpoint {embedded.api_url} metrics list-metrics --namespace CWAgent")
    _progress("running; Ctrl-C (or SIGTERM) stops and flushes")
    wait_for_stop_signal()
    _progress("stopping")
    embedded.node.stop()
    _progress("stopped; everything accepted is stored")
