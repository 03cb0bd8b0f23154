"""The storage engine interface and its two implementations.

`ServerEngine` speaks the native protocol to a ClickHouse server (clickhouse-driver,
columnar inserts, lz4 on the wire). `EmbeddedEngine` runs ClickHouse in-process
(chdb) for `watchkeeper up`. Callers render SQL once (storage/sql.py) and both
engines return rows as tuples of plain Python values: by convention queries
return times as UInt32 seconds, so results are identical on both.
"""

from __future__ import annotations

import importlib
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import orjson

from watchkeeper.errors import ConfigError, Problem, StorageError, StorageUnavailable
from watchkeeper.storage.capabilities import Capabilities
from watchkeeper.storage.sql import quote

# A column is a list, or a numpy array (inserted without a Python object per value).
Column = Sequence[Any] | np.ndarray[Any, Any]
Columns = Mapping[str, Column]
Row = tuple[Any, ...]


class Engine(ABC):
    """A ClickHouse to run statements against; one database per engine."""

    database: str
    capabilities: Capabilities

    @abstractmethod
    def query(self, sql: str) -> list[Row]:
        """Run a SELECT and return its rows."""

    def query_columns(self, sql: str) -> list[Sequence[Any]]:
        """Run a SELECT and return its result column by column ([] when it has no rows): a reader of
        thousands of rows then builds no tuple per row. Engines override this with their native form."""
        return [list(column) for column in zip(*self.query(sql), strict=True)]

    @abstractmethod
    def command(self, sql: str) -> None:
        """Run a statement that returns nothing (DDL, ALTER, INSERT ... SELECT)."""

    @abstractmethod
    def insert(self, table: str, columns: Columns) -> None:
        """Insert equally long columns as one block (one part, one atomic insert)."""

    @abstractmethod
    def close(self) -> None: ...

    @property
    def kind(self) -> str:
        return "chdb" if isinstance(self, EmbeddedEngine) else "server"


_NUMPY_INSERT_MODULES = ("clickhouse_driver.columns.numpy.service", "clickhouse_driver.numpy.helpers")


class ServerEngine(Engine):
    """A ClickHouse server over the native protocol."""

    def __init__(self, host: str, port: int, database: str, user: str = "default", password: str = "",
                 secure: bool = False) -> None:
        from clickhouse_driver import Client

        # The driver imports its numpy (pandas) column support at the first numpy insert: a collector
        # would stall its first insert for it (0.3-0.8 s measured) while already draining; load it here.
        for module in _NUMPY_INSERT_MODULES:
            importlib.import_module(module)
        self.database = database
        self._lock = threading.Lock()
        self._client = Client(host=host, port=port, user=user, password=password, secure=secure,
                              compression="lz4", connect_timeout=5, send_receive_timeout=60,
                              settings={"strings_as_bytes": False})
        version = self._run("SELECT version()")[0][0]
        self.capabilities = Capabilities.for_version(version)
        # A read-only user (Grafana's) may not run CREATE, even IF NOT EXISTS: ask first.
        if not self._run(f"SELECT 1 FROM system.databases WHERE name = {quote(database)}"):
            self._run(f"CREATE DATABASE IF NOT EXISTS {database}")
        self._client = Client(host=host, port=port, database=database, user=user, password=password,
                              secure=secure, compression="lz4", connect_timeout=5, send_receive_timeout=60)

    def _run(self, sql: str, data: Any = None, columnar: bool = False,
             settings: dict[str, Any] | None = None) -> list[Row]:
        from clickhouse_driver import errors

        with self._lock:
            try:
                result = self._client.execute(sql, data, columnar=columnar, settings=settings) if data is not None \
                    else self._client.execute(sql, columnar=columnar)
            except (errors.NetworkError, errors.SocketTimeoutError, EOFError, ConnectionError, OSError) as error:
                self._client.disconnect()
                raise StorageUnavailable(f"ClickHouse server unreachable: {error}") from error
            except errors.Error as error:
                raise StorageError(str(error).split("Stack trace")[0].strip()) from error
        return result if isinstance(result, list) else []

    def query(self, sql: str) -> list[Row]:
        return [tuple(row) for row in self._run(sql)]

    def query_columns(self, sql: str) -> list[Sequence[Any]]:
        return list(self._run(sql, columnar=True))

    def command(self, sql: str) -> None:
        self._run(sql)

    def insert(self, table: str, columns: Columns) -> None:
        names = ", ".join(columns)
        values = list(columns.values())
        # numpy columns go in through the driver's numpy mode: one buffer write per column
        # instead of a Python object per value (the driver's own ceiling otherwise).
        arrays = [column for column in values if isinstance(column, np.ndarray)]
        settings: dict[str, bool] | None = None
        if len(arrays) == len(values):
            # String columns arrive as str, or all as bytes already encoded once per distinct value.
            as_bytes = any(array.dtype == object and len(array) and isinstance(array[0], bytes) for array in arrays)
            settings = {"use_numpy": True, "strings_as_bytes": as_bytes}
        self._run(f"INSERT INTO {table} ({names}) VALUES", values, columnar=True, settings=settings)

    def close(self) -> None:
        self._client.disconnect()


class EmbeddedEngine(Engine):
    """ClickHouse in-process (chdb), persisted in a directory; one process holds a path."""

    _JSON_SETTINGS = " SETTINGS output_format_json_quote_64bit_integers = 0"

    def __init__(self, path: Path, database: str = "watchkeeper") -> None:
        from chdb import session

        path.mkdir(parents=True, exist_ok=True)
        self.database = database
        self._lock = threading.Lock()
        self._session = session.Session(str(path))
        self._session.query(f"CREATE DATABASE IF NOT EXISTS {database}")
        self._session.query(f"USE {database}")
        version = self.query("SELECT version()")[0][0]
        self.capabilities = Capabilities.for_version(version)

    def _run(self, sql: str, fmt: str) -> Any:
        with self._lock:
            try:
                return self._session.query(sql, fmt)
            except Exception as error:  # chdb raises plain RuntimeError/Exception for SQL errors
                raise StorageError(str(error).split("Stack trace")[0].strip()) from error

    def query(self, sql: str) -> list[Row]:
        text = _with_settings(sql, self._JSON_SETTINGS)
        result = self._run(text, "JSONCompact")
        raw = result.bytes() if hasattr(result, "bytes") else bytes(result)
        if not raw:
            return []
        return [tuple(row) for row in orjson.loads(raw)["data"]]

    def query_columns(self, sql: str) -> list[Sequence[Any]]:
        result = self._run(_with_settings(sql, self._JSON_SETTINGS), "JSONCompactColumns")
        raw = result.bytes() if hasattr(result, "bytes") else bytes(result)
        columns: list[Sequence[Any]] = orjson.loads(raw) if raw else []
        return columns if columns and columns[0] else []

    def command(self, sql: str) -> None:
        self._run(sql, "CSV")

    def insert(self, table: str, columns: Columns) -> None:
        names = ", ".join(columns)
        import pyarrow

        # The Python() table function reads this local by name. Arrow carries array
        # columns (plain dicts do not); INSERT ... SELECT casts to the table's types.
        data = pyarrow.table({name: _arrow_column(values) for name, values in columns.items()})  # noqa: F841
        self._run(f"INSERT INTO {table} ({names}) SELECT {names} FROM Python(data)", "CSV")

    def close(self) -> None:
        with self._lock:
            self._session.close()


def _arrow_column(values: Column) -> Any:
    """An Arrow array for a column; arrays that are empty in every row would infer as list<null>,
    which ClickHouse cannot cast to Array(String), so they are typed as lists of strings."""
    import pyarrow

    # numpy columns convert without a Python object per value; lists as they are.
    array = pyarrow.array(values if isinstance(values, np.ndarray) else list(values))
    if pyarrow.types.is_list(array.type) and pyarrow.types.is_null(array.type.value_type):
        return array.cast(pyarrow.list_(pyarrow.string()))
    return array


def _with_settings(sql: str, settings: str) -> str:
    """Append output settings unless the query already has a SETTINGS clause."""
    stripped = sql.rstrip().rstrip(";")
    if re.search(r"\bSETTINGS\b", stripped, re.IGNORECASE) or re.search(r"\bFORMAT\b", stripped, re.IGNORECASE):
        return stripped
    return stripped + settings


def open_engine(url: str, password: str | None = None, secure: bool = False, source: str = "clickhouse.url") -> Engine:
    """Open clickhouse://[user@]host:port/db or chdb:///path[?database=db]."""
    parsed = urlparse(url)
    if parsed.scheme == "chdb":
        path = Path(parsed.netloc + parsed.path) if parsed.netloc else Path(parsed.path)
        database = dict(p.split("=", 1) for p in parsed.query.split("&") if "=" in p).get("database", "watchkeeper")
        return EmbeddedEngine(path, database)
    if parsed.scheme == "clickhouse":
        database = parsed.path.strip("/") or "watchkeeper"
        return ServerEngine(parsed.hostname or "127.0.0.1", parsed.port or 9000, database,
                            user=parsed.username or "default", password=password or parsed.password or "",
                            secure=secure)
    raise ConfigError([Problem(source, "", f"found {url!r}; allowed: clickhouse://host:port/db or chdb:///path")])
