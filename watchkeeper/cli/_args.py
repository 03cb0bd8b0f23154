"""Argument forms shared by the aws-cli-shaped commands: lists, Key=value shorthand, file:// JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson

from watchkeeper.errors import ConfigError, Problem


class ListOption(click.Option):
    """An option that takes one or more values as the aws CLI's lists do: `--statistics Average Maximum`.

    The values run up to the next token that starts with `--`; repeating the option adds more.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["multiple"] = True
        super().__init__(*args, **kwargs)

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        option = next(parser._long_opt[name] for name in self.opts if name in parser._long_opt)
        take_one = option.process

        def take_many(value: str, state: Any) -> None:
            take_one(value, state)
            while state.rargs and not state.rargs[0].startswith("--"):
                take_one(state.rargs.pop(0), state)

        option.process = take_many


def pairs(text: str, option: str) -> dict[str, str]:
    """The aws CLI shorthand `Key=value,Key2=value2` as a dict."""
    out = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"found {text!r}; allowed: Key=value pairs separated by commas", param_hint=option)
        out[key.strip()] = value
    return out


def dimensions(texts: tuple[str, ...], option: str = "--dimensions") -> list[dict[str, str]]:
    """`Name=host,Value=web-1` (one dimension) or `host=web-1,role=db` (several), as the aws CLI accepts."""
    out = []
    for text in texts:
        fields = pairs(text, option)
        if fields.keys() == {"Name", "Value"} or fields.keys() == {"Name"}:
            out.append(fields)
        else:
            out.extend({"Name": name, "Value": value} for name, value in fields.items())
    return out


def json_file(argument: str, option: str) -> Any:
    """The JSON in file://path, or ConfigError naming the file."""
    path = Path(argument.removeprefix("file://"))
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), "", f"file not found (given to {option})")]) from None
    except OSError as error:
        raise ConfigError([Problem(str(path), "", f"cannot be read: {error.strerror}")]) from None
    except orjson.JSONDecodeError as error:
        raise ConfigError([Problem(str(path), "", f"not valid JSON: {error}")]) from None
