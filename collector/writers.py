"""Which function turns an envelope of each kind into rows, per table.

A writer is `to_rows(envelope) -> {table: columns}` and raises WireError for an
invalid item (naming the item and the field). Writers are named as
"module:function" strings and imported on first use, so registering the logs or
audit writer is one line here and the collector never imports packages whose
kinds it is not consuming.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from watchkeeper.errors import WireError
from watchkeeper.events import Kind
from watchkeeper.storage.engine import Columns
from watchkeeper.wire import Envelope

ToRows = Callable[[Envelope], dict[str, Columns]]

WRITERS: dict[Kind, str] = {
    Kind.METRICS: "watchkeeper.storage.metrics:to_rows",
    Kind.LOGS: "watchkeeper.storage.logs:to_rows",
    Kind.AUDIT: "audit.ingest:to_rows",
}


def writable_kinds() -> list[Kind]:
    """The kinds this collector can store: the topics it subscribes to."""
    return [kind for kind in Kind if kind in WRITERS]


@cache
def writer_for(kind: Kind) -> ToRows:
    """The writer registered for kind; WireError when there is none."""
    target = WRITERS.get(kind)
    if target is None:
        allowed = ", ".join(k.value for k in writable_kinds())
        raise WireError(f"no writer for kind {kind.value!r}; this collector stores: {allowed}")
    module_name, _, function_name = target.partition(":")
    writer: ToRows = getattr(importlib.import_module(module_name), function_name)
    return writer


def rows_for(envelope: Envelope) -> dict[str, Columns]:
    """Rows per table for one envelope, by its kind's writer."""
    return writer_for(envelope.kind)(envelope)
