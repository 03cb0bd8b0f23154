"""One insert at a time on a thread of its own, so the collector converts the next batch meanwhile.

An insert mostly waits for the server (parsing, sorting and writing the part);
done on the loop's thread, the collector's CPU and the server's CPU would take
turns. Here the loop hands a sealed batch over and goes on polling and
converting; it learns the outcome with `take_finished` and only then settles the
batch's records, so the ledger, the commits and the after-insert hook stay on the
loop's thread and an offset is never committed before the insert holding it returned.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from collector.buffers import Batch
from watchkeeper.errors import StorageError
from watchkeeper.storage.engine import Engine


class InsertThread:
    """Runs engine.insert for one batch at a time; the caller starts the next only after taking the last."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collector-insert")
        self._running: tuple[Batch, Future[None]] | None = None

    @property
    def busy(self) -> bool:
        """An insert was started and its outcome not yet taken (it may have ended already)."""
        return self._running is not None

    def start(self, batch: Batch) -> None:
        if self._running is not None:
            raise RuntimeError(f"insert into {self._running[0].table} still in flight; take its outcome first")
        self._running = (batch, self._executor.submit(self._engine.insert, batch.table, batch.columns))

    def take_finished(self, wait: bool) -> tuple[Batch, StorageError | None] | None:
        """The batch whose insert ended and its storage error (None: stored); None while none ended.

        With wait, blocks until the insert in flight ends. Errors other than StorageError are
        defects, not outages: they are raised here, on the caller's thread.
        """
        if self._running is None:
            return None
        batch, future = self._running
        if not wait and not future.done():
            return None
        self._running = None
        try:
            future.result()
        except StorageError as error:
            return batch, error
        return batch, None

    def close(self) -> None:
        self._executor.shutdown(wait=True)
