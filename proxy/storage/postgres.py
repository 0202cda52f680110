"""The PostgreSQL ``Database``: psycopg 3 with a synchronous pool (``psycopg-pool``).

Stores call their methods from worker threads (as they always have with
SQLite), so the synchronous pool serves them; the change listener has a
connection of its own (``changes.py``). Connections are checked when taken from
the pool (``check_connection``), so a restarted server costs no failed query;
taking one waits at most ``timeout`` seconds, and every connection attempt at
most ``connect_timeout``: with PostgreSQL down, a caller learns it within
seconds (``StoreUnavailable``), never after minutes.

Every write transaction first takes a transaction-scoped advisory lock, so
writers are serialised across replicas as SQLite serialises them with
``BEGIN IMMEDIATE``: a check-then-insert (``list_add``) stays atomic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from pipgate.proxy.errors import StoreUnavailable
from pipgate.proxy.storage.sql import POSTGRES, Tx
from pipgate.proxy.urls import redact

log = logging.getLogger("pipgate.storage")

#: Advisory lock keys (any 64-bit numbers no other application on the database uses).
WRITE_LOCK = 0x7069_7067_6174_0001
MIGRATION_LOCK = 0x7069_7067_6174_0002

#: psycopg errors that mean "the database cannot be used now", not "the query is wrong".
UNAVAILABLE: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    PoolTimeout,
)


class Row:
    """A result row read as ``row["column"]`` or ``row[0]``, like ``sqlite3.Row``."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values, strict=False))!r})"


def row_factory(cursor: Any) -> Callable[[Sequence[Any]], Row]:
    description = cursor.description or ()
    index = {column.name: i for i, column in enumerate(description)}
    return lambda values: Row(values, index)


class PgTx:
    """A pooled connection with ``?`` placeholders (``sql.Tx``)."""

    __slots__ = ("connection",)

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.connection.execute(POSTGRES.placeholders(sql), params or None)

    def executemany(self, sql: str, params: Any) -> Any:
        cursor = self.connection.cursor()
        cursor.executemany(POSTGRES.placeholders(sql), params)
        return cursor


def connect_kwargs(application: str) -> dict[str, Any]:
    return {
        "autocommit": True,
        "connect_timeout": 2,
        "application_name": application,
        "row_factory": row_factory,
    }


class PostgresDatabase:
    """A PostgreSQL database reached through a pool; see the module docstring."""

    dialect = POSTGRES

    def __init__(
        self,
        url: str,
        *,
        max_size: int = 10,
        timeout: float = 2.0,
        application: str = "pipgate",
    ) -> None:
        self.url = url
        self.label = redact(url)
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            timeout=timeout,
            kwargs=connect_kwargs(application),
            check=ConnectionPool.check_connection,
            open=False,
            name="pipgate",
        )
        self.pool.open(wait=False)
        #: Set while the database has not been reached since start-up: callers then learn
        #: it at once rather than each waiting ``timeout`` (a replica starting without
        #: its database, see ``storage.cluster``); cleared once it answers.
        self.unreached = False

    @property
    def _wait(self) -> float | None:
        return 0.05 if self.unreached else None

    def close(self) -> None:
        self.pool.close(timeout=2.0)

    @contextmanager
    def _unavailable_as_error(self, what: str) -> Iterator[None]:
        try:
            yield
        except UNAVAILABLE as exc:
            raise StoreUnavailable(
                f"PostgreSQL {self.label} cannot be {what} now: {_first_line(exc)}"
            ) from exc

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self._unavailable_as_error("read"), self.pool.connection(self._wait) as connection:
            yield PgTx(connection)

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with (
            self._unavailable_as_error("written"),
            self.pool.connection(self._wait) as connection,
            connection.transaction(),
        ):
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield PgTx(connection)

    @contextmanager
    def write_free(self) -> Iterator[Tx]:
        """Statements that commit one by one, not serialised with other writers: for
        tables where each statement is atomic on its own (leases, pages, facts)."""
        with self._unavailable_as_error("written"), self.pool.connection(self._wait) as connection:
            yield PgTx(connection)

    @contextmanager
    def batch(self) -> Iterator[Tx]:
        """One transaction not serialised with other writers: many rows of a table
        that only ever gets inserts (the decision log), committed together."""
        with (
            self._unavailable_as_error("written"),
            self.pool.connection(self._wait) as connection,
            connection.transaction(),
        ):
            yield PgTx(connection)

    def ping(self) -> None:
        """One round trip (waiting for a connection as long as ever, even while
        ``unreached``); raises ``StoreUnavailable`` when it fails, else clears ``unreached``."""
        with self._unavailable_as_error("read"), self.pool.connection() as connection:
            connection.execute("SELECT 1").fetchone()
        self.unreached = False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def describe(exc: BaseException) -> str:
    """A one-line reason for ``exc``, for logs and /readyz."""
    return _first_line(exc)
