"""Host-metrics inputs, Telegraf style: one module per metrics_collected section, found by name.

Each module (names without a leading underscore) exposes SPEC, an InputSpec with its
config model, its input class and a sample section; adding an input adds one module here.
"""

from __future__ import annotations

import importlib
import pkgutil

from agent.inputs._base import InputSpec


def _discover() -> dict[str, InputSpec]:
    specs = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            spec = importlib.import_module(f"{__name__}.{info.name}").SPEC
            specs[spec.name] = spec
    return dict(sorted(specs.items()))


INPUTS: dict[str, InputSpec] = _discover()

__all__ = ["INPUTS", "InputSpec"]
