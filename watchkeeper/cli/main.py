"""Entry point: discovers command modules and turns Watchkeeper errors into clear exits.

Exit codes: 0 ok, 1 the command ran and found something wrong (e.g. validation of
audit logs), 2 invalid input or configuration, 3 a service could not be reached.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from watchkeeper import __version__
from watchkeeper import cli as cli_package
from watchkeeper.errors import ApiError, ConfigError, StorageUnavailable, TransportError, WatchkeeperError


class _Root(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            for problem in error.problems:
                click.echo(f"error: {problem}", err=True)
            ctx.exit(2)
        except ApiError as error:
            click.echo(f"error: {error.code}: {error.message}", err=True)
            ctx.exit(2 if error.status < 500 else 3)
        except (StorageUnavailable, TransportError) as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(3)
        except WatchkeeperError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(1)
        return None


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="watchkeeper")
@click.option("--endpoint", envvar="WATCHKEEPER_ENDPOINT", default="http://127.0.0.1:4680", show_default=True,
              help="The Watchkeeper API the client commands talk to.")
@click.option("--output", type=click.Choice(["json", "table", "text"]), default="json", show_default=True)
@click.pass_context
def cli(ctx: click.Context, endpoint: str, output: str) -> None:
    """Watchkeeper: a self-hosted CloudWatch + CloudTrail."""
    ctx.obj = {"endpoint": endpoint.rstrip("/"), "output": output}


def _register() -> None:
    for info in pkgutil.iter_modules(cli_package.__path__):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"{cli_package.__name__}.{info.name}")
            cli.add_command(module.command)


_register()


def main() -> None:
    sys.exit(cli.main(standalone_mode=True))
