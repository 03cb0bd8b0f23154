"""`watchkeeper config check FILE...`: validate Watchkeeper's TOML settings and agent JSON files."""

from __future__ import annotations

from pathlib import Path

import click

from agent.cwagent_config import load_agent_config
from watchkeeper.config import load_settings
from watchkeeper.errors import ConfigError, Problem


@click.group("config")
def command() -> None:
    """Configuration files."""


def check_file(path: Path) -> list[Problem]:
    """Validate one file by its kind (.toml: watchkeeper.toml; otherwise the agent's JSON); returns warnings."""
    if path.suffix.lower() == ".toml":
        load_settings(path)
        return []
    return load_agent_config(path)[1]


@command.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def check_command(files: tuple[Path, ...]) -> None:
    """Validate each FILE and print every error and warning; exit 2 if any file has an error."""
    problems: list[Problem] = []
    for path in files:
        try:
            warnings = check_file(path)
        except ConfigError as error:
            problems += error.problems
            continue
        for warning in warnings:
            click.echo(f"warning: {warning}", err=True)
        click.echo(f"OK {path}")
    if problems:
        raise ConfigError(problems)
