"""The review store's schema on SQLite, built by ordered migrations.

Version 1 is the original schema (``SCHEMA_V1``); every later step changes it
in one transaction and records ``schema_version`` in ``meta``, so an existing
database is brought up to date on open and keeps its rows' meaning.
PostgreSQL has its own DDL (``storage.schema``), kept to the same tables and
columns; the data move of version 5 (``REGROUP``) is one SQL text for both.

Tables: ``entries`` (the queue: one held version, or project, per index and
policy; ``entry_files`` the files it holds; ``entry_aliases`` the ids entries
had before they were grouped), ``clients`` (who asked for each entry),
``rules`` (reviewer decisions and the runtime allow and deny lists), ``audit``
(append-only: triggers refuse updates and deletes), ``traffic`` (hourly counts
for the charts), ``aggregates`` (holds counted rather than queued),
``sessions`` (console logins) and ``meta`` (the rules revision, the audit
mirror's position, ``schema_version``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from pipgate.proxy.storage.sql import SQLiteDatabase

log = logging.getLogger("pipgate.quarantine")

#: Version 1: the schema before migrations existed. Never change it; add a migration.
SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    idx TEXT NOT NULL,
    project TEXT NOT NULL,
    file TEXT NOT NULL DEFAULT '',
    version TEXT,
    policy TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    available_at REAL,
    first_requested REAL NOT NULL,
    last_requested REAL NOT NULL,
    request_count INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'quarantined',
    changed_by TEXT,
    changed_at REAL,
    change_reason TEXT,
    until REAL,
    UNIQUE (idx, project, file, policy)
);
CREATE INDEX IF NOT EXISTS entries_state ON entries (state, last_requested);
CREATE INDEX IF NOT EXISTS entries_project ON entries (project);
CREATE TABLE IF NOT EXISTS clients (
    entry_id INTEGER NOT NULL REFERENCES entries (id),
    client TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_seen REAL NOT NULL,
    PRIMARY KEY (entry_id, client)
);
CREATE TABLE IF NOT EXISTS rules (
    id INTEGER PRIMARY KEY,
    idx TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('release', 'reject', 'allow', 'deny')),
    project TEXT NOT NULL,
    version TEXT,
    file TEXT,
    rule TEXT,
    until REAL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at REAL NOT NULL,
    removed_at REAL,
    removed_by TEXT
);
CREATE INDEX IF NOT EXISTS rules_active ON rules (removed_at, idx, project);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    idx TEXT NOT NULL,
    target TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS traffic (
    hour INTEGER NOT NULL,
    idx TEXT NOT NULL,
    kind TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (hour, idx, kind)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_ENTRIES_V2 = """
CREATE TABLE entries_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idx TEXT NOT NULL,
    project TEXT NOT NULL,
    file TEXT NOT NULL DEFAULT '',
    version TEXT,
    policy TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    available_at REAL,
    first_requested REAL NOT NULL,
    last_requested REAL NOT NULL,
    request_count INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'quarantined',
    changed_by TEXT,
    changed_at REAL,
    change_reason TEXT,
    until REAL,
    UNIQUE (idx, project, file, policy)
);
CREATE INDEX entries_state ON entries (state, last_requested);
CREATE INDEX entries_project ON entries (project)
"""
_RULES_V2 = """
CREATE TABLE rules_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idx TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('release', 'reject', 'allow', 'deny')),
    project TEXT NOT NULL,
    version TEXT,
    file TEXT,
    rule TEXT,
    until REAL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at REAL NOT NULL,
    removed_at REAL,
    removed_by TEXT
);
CREATE INDEX rules_active ON rules (removed_at, idx, project)
"""


def _rebuild(db: sqlite3.Connection, table: str, schema: str) -> None:
    """Replace ``table`` by the ``<table>_new`` of ``schema``, rows and ids kept.

    ``schema`` creates ``<table>_new`` first, then the indexes of ``table``.
    """
    create, *indexes = schema.split(";")
    db.execute(create)
    db.execute(f"INSERT INTO {table}_new SELECT * FROM {table}")
    db.execute(f"DROP TABLE {table}")
    db.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
    for statement in indexes:
        db.execute(statement)


def _migrate_autoincrement(db: sqlite3.Connection) -> None:
    # Without AUTOINCREMENT SQLite hands out max(id) + 1, so the id of a removed or
    # rolled-back last row comes back; rule and entry ids are quoted in audit records.
    _rebuild(db, "entries", _ENTRIES_V2)
    _rebuild(db, "rules", _RULES_V2)
    # Audit lines written before this version carry no id: they cover what exists now.
    db.execute(
        "INSERT OR REPLACE INTO meta (key, value) "
        "SELECT 'audit_mirrored', coalesce(max(id), 0) FROM audit"
    )


def _migrate_aggregates(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE aggregates (
            hour INTEGER NOT NULL,
            idx TEXT NOT NULL,
            policy TEXT NOT NULL,
            action TEXT NOT NULL,
            requests INTEGER NOT NULL,
            samples TEXT NOT NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY (hour, idx, policy, action)
        )"""
    )


def _migrate_sessions(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            secret_sha256 TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            token TEXT NOT NULL,
            csrf TEXT NOT NULL,
            client TEXT NOT NULL,
            user_agent TEXT NOT NULL,
            created REAL NOT NULL,
            last_seen REAL NOT NULL,
            expires REAL NOT NULL,
            ended_at REAL,
            ended_by TEXT,
            end_reason TEXT
        )"""
    )
    db.execute("CREATE INDEX sessions_name ON sessions (name, ended_at)")


_GROUPED_TABLES = """
CREATE TABLE entries_grouped (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idx TEXT NOT NULL,
    project TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    policy TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    available_at REAL,
    first_requested REAL NOT NULL,
    last_requested REAL NOT NULL,
    views INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'quarantined',
    changed_by TEXT,
    changed_at REAL,
    change_reason TEXT,
    until REAL,
    UNIQUE (idx, project, version, policy)
);
CREATE TABLE entry_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id INTEGER NOT NULL REFERENCES entries_grouped (id),
    file TEXT NOT NULL,
    reason TEXT NOT NULL,
    available_at REAL,
    requests INTEGER NOT NULL DEFAULT 0,
    first_held REAL NOT NULL,
    last_requested REAL,
    state TEXT NOT NULL DEFAULT 'quarantined',
    changed_at REAL,
    UNIQUE (entry_id, file)
);
CREATE TABLE entry_aliases (
    legacy_id INTEGER PRIMARY KEY,
    entry_id INTEGER NOT NULL
);
CREATE TABLE clients_grouped (
    entry_id INTEGER NOT NULL REFERENCES entries_grouped (id),
    client TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_seen REAL NOT NULL,
    PRIMARY KEY (entry_id, client)
)
"""

_OLD = """WITH old AS (
    SELECT e.*,
        min(id) OVER w AS group_id,
        row_number() OVER (w ORDER BY last_requested DESC, id DESC) AS newest,
        row_number() OVER (w ORDER BY coalesce(changed_at, 0) DESC, id DESC) AS latest_change
    FROM entries e
    WINDOW w AS (PARTITION BY idx, project, coalesce(version, ''), policy)
)
"""
#: Version 5, the data move shared by SQLite and PostgreSQL (``{overriding}``: how an
#: explicit id is inserted into an identity column). One entry per file becomes one entry
#: per (index, project, version, policy) with the files inside. Each group keeps the
#: smallest id of its files (``entry_aliases`` keeps all of them, so the audit records
#: that name them still show in its history); it is held while any of its files was,
#: else in the state of its latest change. The old ``request_count`` counted page views
#: and downloads together: the largest count of a group's files becomes its ``views``,
#: and its files start with no requests counted.
REGROUP = (
    _OLD
    + """INSERT INTO entries_grouped (id, idx, project, version, policy, action, reason,
    available_at, first_requested, last_requested, views, requests, state, changed_by,
    changed_at, change_reason, until) {overriding}
SELECT g.group_id, g.idx, g.project, g.version, g.policy, n.action, n.reason, g.available_at,
    g.first_requested, g.last_requested, g.views, 0,
    CASE WHEN g.held > 0 THEN 'quarantined' ELSE c.state END,
    c.changed_by, c.changed_at, c.change_reason, c.until
FROM (
    SELECT group_id, idx, project, coalesce(version, '') AS version, policy,
        CASE WHEN count(*) = count(available_at) THEN max(available_at) END AS available_at,
        min(first_requested) AS first_requested, max(last_requested) AS last_requested,
        max(request_count) AS views,
        sum(CASE WHEN state = 'quarantined' THEN 1 ELSE 0 END) AS held
    FROM old GROUP BY group_id, idx, project, coalesce(version, ''), policy
) g
JOIN old n ON n.group_id = g.group_id AND n.newest = 1
JOIN old c ON c.group_id = g.group_id AND c.latest_change = 1""",
    _OLD
    + """INSERT INTO entry_files (entry_id, file, reason, available_at, requests, first_held,
    last_requested, state, changed_at)
SELECT group_id, file, reason, available_at, 0, first_requested, NULL, state, changed_at
FROM old WHERE file <> ''""",
    _OLD + "INSERT INTO entry_aliases (legacy_id, entry_id) SELECT id, group_id FROM old",
    _OLD
    + """INSERT INTO clients_grouped (entry_id, client, count, last_seen)
SELECT o.group_id, c.client, sum(c.count), max(c.last_seen)
FROM clients c JOIN old o ON o.id = c.entry_id GROUP BY o.group_id, c.client""",
    "DROP TABLE clients",
    "DROP TABLE entries",
    "ALTER TABLE entries_grouped RENAME TO entries",
    "ALTER TABLE clients_grouped RENAME TO clients",
    "CREATE INDEX entries_state ON entries (state, last_requested)",
    "CREATE INDEX entries_project ON entries (project)",
    "CREATE INDEX entry_files_state ON entry_files (state, available_at)",
)


def _migrate_grouped(db: sqlite3.Connection) -> None:
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'entries'").fetchone()
    last_id = int(row[0]) if row else 0
    for statement in _GROUPED_TABLES.split(";"):
        db.execute(statement)
    for statement in REGROUP:
        db.execute(statement.format(overriding=""))
    # New entries must never take an id an entry had before: audit records name those.
    db.execute("DELETE FROM sqlite_sequence WHERE name = 'entries'")
    db.execute(
        "INSERT INTO sqlite_sequence (name, seq) "
        "SELECT 'entries', max(?, coalesce((SELECT max(id) FROM entries), 0))",
        (last_id,),
    )


#: ``(version, step)`` in order; the database records the last one applied.
MIGRATIONS: tuple[tuple[int, Callable[[sqlite3.Connection], None]], ...] = (
    (2, _migrate_autoincrement),
    (3, _migrate_aggregates),
    (4, _migrate_sessions),
    (5, _migrate_grouped),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def schema_version(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 1


def migrate(database: SQLiteDatabase) -> None:
    """Bring the SQLite database up to ``SCHEMA_VERSION``, one step per transaction.

    Several processes may open the directory at once (the CLI's ``--data-dir``
    mode): each step reads the version inside its write lock and is skipped if
    another process applied it first.
    """
    with database.lock:
        database.connection.executescript(SCHEMA_V1)
    for version, step in MIGRATIONS:
        with database.write() as db:
            connection: sqlite3.Connection = db  # type: ignore[assignment]
            if schema_version(connection) >= version:
                continue
            step(connection)
            connection.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (version,),
            )
            log.info("quarantine store %s migrated to schema version %d", database.label, version)
    # After the migrations: a table rebuild must not meet foreign key checks.
    database.connection.execute("PRAGMA foreign_keys=ON")
