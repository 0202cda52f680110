"""One SQL text for SQLite and PostgreSQL.

Stores write their queries once, with ``?`` placeholders, and run them through a
``Database``: ``with db.write() as tx:`` is one write transaction (writers are
serialised, as SQLite's ``BEGIN IMMEDIATE`` does, so a check-then-insert stays
atomic on PostgreSQL too), ``with db.read() as tx:`` reads. ``tx.execute`` returns
a cursor whose rows answer both ``row["column"]`` and ``row[0]``. New rows give
their id with ``RETURNING id`` (both engines), never ``lastrowid``.

What differs between the engines is here and only here (``Dialect``): the
placeholder, the scalar ``max`` and reading the audit
``detail`` JSON. Schemas differ too (identity columns, ``double precision``,
triggers): each engine has its own migrations (``quarantine.migrations`` for SQLite,
``storage.schema`` for PostgreSQL), kept to the same tables and columns.

Why not SQLAlchemy Core: the queries were written for SQLite and needed five
small changes to run on PostgreSQL; a query builder would have meant rewriting
every one of them and adding a dependency, for differences that fit in a table.

A store that cannot be used now (disk full, locked, PostgreSQL unreachable)
raises ``StoreUnavailable``; a mistake in a query raises as it is.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pipgate.proxy.errors import StoreUnavailable

log = logging.getLogger("pipgate.storage")


@dataclass(frozen=True)
class Dialect:
    """The few spellings that differ between SQLite and PostgreSQL."""

    name: str
    #: The scalar maximum of two values (``max(a, b)`` / ``greatest(a, b)``).
    greatest: str
    #: ``WHERE`` clause of the audit records about one entry (naming its id, or an id one
    #: of its files had before entries were grouped); takes the entry's id four times.
    audit_about_entry: str
    #: A statement that tells other processes of a change (one parameter), if any.
    notify: str | None = None

    def placeholders(self, sql: str) -> str:
        return sql if self.name == "sqlite" else _to_format(sql)


SQLITE = Dialect(
    name="sqlite",
    greatest="max",
    audit_about_entry=(
        "json_extract(detail, '$.entry') IN "
        "(SELECT ? UNION SELECT legacy_id FROM entry_aliases WHERE entry_id = ?) "
        "OR EXISTS (SELECT 1 FROM json_each(detail, '$.entries') j WHERE j.value IN "
        "(SELECT ? UNION SELECT legacy_id FROM entry_aliases WHERE entry_id = ?))"
    ),
)
POSTGRES = Dialect(
    name="postgresql",
    greatest="greatest",
    audit_about_entry=(
        "(detail::jsonb ->> 'entry')::bigint IN "
        "(SELECT (?)::bigint UNION SELECT legacy_id FROM entry_aliases WHERE entry_id = ?) "
        "OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN "
        "jsonb_typeof(detail::jsonb -> 'entries') = 'array' THEN detail::jsonb -> 'entries' "
        "ELSE '[]'::jsonb END) AS j (value) WHERE j.value::bigint IN "
        "(SELECT (?)::bigint UNION SELECT legacy_id FROM entry_aliases WHERE entry_id = ?))"
    ),
    notify="SELECT pg_notify('pipgate_changes', ?)",
)

_QUOTED_OR_MARK = re.compile(r"'(?:[^']|'')*'|\?|%")
_converted: dict[str, str] = {}


def _to_format(sql: str) -> str:
    """``?`` -> ``%s`` and ``%`` -> ``%%`` outside string literals (psycopg's format)."""
    found = _converted.get(sql)
    if found is None:

        def swap(match: re.Match[str]) -> str:
            text = match.group(0)
            return "%s" if text == "?" else "%%" if text == "%" else text

        found = _QUOTED_OR_MARK.sub(swap, sql)
        if len(_converted) < 4096:
            _converted[sql] = found
    return found


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Tx(Protocol):
    """A connection inside a transaction (or a read), with ``?`` placeholders."""

    def execute(self, sql: str, params: Any = ()) -> Cursor: ...

    def executemany(self, sql: str, params: Any) -> Any: ...


class Database(Protocol):
    """Where a store's tables live: SQLite under the data directory, or PostgreSQL."""

    dialect: Dialect
    #: What the database is, for messages (a path, or a URL without its password).
    label: str

    def write(self) -> AbstractContextManager[Tx]: ...

    def read(self) -> AbstractContextManager[Tx]: ...

    def close(self) -> None: ...


_UNAVAILABLE = (
    "SQLITE_FULL",
    "SQLITE_IOERR",
    "SQLITE_READONLY",
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_CANTOPEN",
    "SQLITE_NOMEM",
)


def sqlite_unavailable(exc: sqlite3.DatabaseError) -> bool:
    """Whether ``exc`` is the disk or the database refusing, not a mistake in a query."""
    return str(getattr(exc, "sqlite_errorname", "")).startswith(_UNAVAILABLE)


class SQLiteDatabase:
    """One SQLite file (WAL), shared by the threads of a process under one lock.

    Several processes may open the same file (the CLI's ``--data-dir`` mode):
    ``BEGIN IMMEDIATE`` serialises their writes.
    """

    dialect = SQLITE

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.connection = sqlite3.connect(
            path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
        self.connection.row_factory = sqlite3.Row
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        with self.lock:
            self.connection.close()

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.lock:
            yield self.connection  # type: ignore[misc]

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """One write transaction; a refused write raises ``StoreUnavailable``, rolled back."""
        db = self.connection
        with self.lock:
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db  # type: ignore[misc]
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                # A failed COMMIT may leave the transaction open (SQLITE_BUSY) or not.
                if db.in_transaction:
                    try:
                        db.execute("ROLLBACK")
                    except sqlite3.Error:
                        log.warning("rollback failed after %s", exc)
                if not sqlite_unavailable(exc):
                    raise
                raise StoreUnavailable(
                    f"the quarantine store {self.label!r} cannot be written now: {exc}"
                ) from exc
