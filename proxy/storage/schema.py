"""PostgreSQL's schema and its migrations, safe when several replicas start at once.

``MIGRATIONS`` is ordered: ``(version, min_reader, sql)``. Version 1 is the
schema of the first release: the quarantine tables as SQLite's migrations left
them at their version 4, with PostgreSQL's types (identity columns, ``double
precision`` times, an append-only trigger on ``audit``), and the tables replicas
share (pages, file facts, leases, the decision log). Version 2 groups the queue
as SQLite's version 5 does (``quarantine.migrations.REGROUP``: one entry per
held version with its files inside); old replicas cannot read that, so its
``min_reader`` is 2: stop them before migrating. Otherwise versions only add
(expand), and drop in a later release (contract), so old and new replicas can run
side by side during a rolling upgrade (version 3 adds stored-file markers to
leases, the cluster's peer secret, made once under the lock in the migrating
transaction, and hosted files); ``min_reader`` is the oldest code version
that may still use the schema, and a replica whose code is older refuses to start.

``migrate`` runs on one dedicated connection (never a pooled one: the lock is
held by the session) under ``pg_advisory_lock``: replicas that start together
queue on the lock and each one after the first finds nothing to do, so the
database is migrated exactly once. Each step commits with its
``schema_version`` row; a crashed migrator's lock goes with its connection, and
PostgreSQL's transactional DDL leaves no half-applied step.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from pipgate.proxy.errors import StoreUnavailable
from pipgate.proxy.quarantine.migrations import REGROUP
from pipgate.proxy.storage.postgres import MIGRATION_LOCK, UNAVAILABLE, connect_kwargs, describe
from pipgate.proxy.urls import redact

log = logging.getLogger("pipgate.storage")

_V1 = """
CREATE TABLE entries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idx text NOT NULL,
    project text NOT NULL,
    file text NOT NULL DEFAULT '',
    version text,
    policy text NOT NULL,
    action text NOT NULL,
    reason text NOT NULL,
    available_at double precision,
    first_requested double precision NOT NULL,
    last_requested double precision NOT NULL,
    request_count bigint NOT NULL DEFAULT 0,
    state text NOT NULL DEFAULT 'quarantined',
    changed_by text,
    changed_at double precision,
    change_reason text,
    until double precision,
    UNIQUE (idx, project, file, policy)
);
CREATE INDEX entries_state ON entries (state, last_requested);
CREATE INDEX entries_project ON entries (project);
CREATE TABLE clients (
    entry_id bigint NOT NULL REFERENCES entries (id),
    client text NOT NULL,
    count bigint NOT NULL,
    last_seen double precision NOT NULL,
    PRIMARY KEY (entry_id, client)
);
CREATE TABLE rules (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idx text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('release', 'reject', 'allow', 'deny')),
    project text NOT NULL,
    version text,
    file text,
    rule text,
    until double precision,
    reason text NOT NULL,
    actor text NOT NULL,
    created_at double precision NOT NULL,
    removed_at double precision,
    removed_by text
);
CREATE INDEX rules_active ON rules (removed_at, idx, project);
CREATE TABLE audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time double precision NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    idx text NOT NULL,
    target text NOT NULL,
    reason text NOT NULL,
    detail text NOT NULL
);
CREATE FUNCTION pipgate_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION pipgate_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION pipgate_audit_append_only();
CREATE TABLE traffic (
    hour bigint NOT NULL,
    idx text NOT NULL,
    kind text NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (hour, idx, kind)
);
CREATE TABLE meta (key text PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE aggregates (
    hour bigint NOT NULL,
    idx text NOT NULL,
    policy text NOT NULL,
    action text NOT NULL,
    requests bigint NOT NULL,
    samples text NOT NULL,
    reason text NOT NULL,
    PRIMARY KEY (hour, idx, policy, action)
);
CREATE TABLE sessions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    secret_sha256 text NOT NULL UNIQUE,
    name text NOT NULL,
    token text NOT NULL,
    csrf text NOT NULL,
    client text NOT NULL,
    user_agent text NOT NULL,
    created double precision NOT NULL,
    last_seen double precision NOT NULL,
    expires double precision NOT NULL,
    ended_at double precision,
    ended_by text,
    end_reason text
);
CREATE INDEX sessions_name ON sessions (name, ended_at);

-- Shared by replicas: parsed project pages (pickled ``Project``) and upstream 404s.
CREATE TABLE pages (
    name text PRIMARY KEY,
    fetched_at double precision NOT NULL,
    etag text,
    last_modified text,
    revision bigint NOT NULL,
    body bytea NOT NULL
);
CREATE TABLE missing_pages (
    name text PRIMARY KEY,
    until double precision NOT NULL,
    message text NOT NULL
);
-- 'url:<sha256 of URL>' -> sha256 of the bytes; 'metadata-sha256:<file sha256>' -> hash.
CREATE TABLE file_facts (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE leases (
    key text PRIMARY KEY,
    holder text NOT NULL,
    holder_url text NOT NULL,
    expires_at timestamptz NOT NULL,
    started_at timestamptz NOT NULL
);
CREATE TABLE decisions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time text NOT NULL,
    client text NOT NULL,
    idx text NOT NULL,
    project text NOT NULL,
    file text,
    policy text NOT NULL,
    action text NOT NULL,
    mode text NOT NULL,
    reason text NOT NULL,
    available_at text
);
CREATE INDEX decisions_project ON decisions (project, id);
"""


@dataclass(frozen=True)
class Migration:
    version: int
    #: The oldest code version (``SCHEMA_VERSION``) that can work with this schema.
    min_reader: int
    sql: str
    #: Rows made in the same transaction, with values only Python makes (secrets).
    seed: Callable[[psycopg.Connection[object]], None] | None = None


_GROUPED_TABLES = """
CREATE TABLE entries_grouped (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idx text NOT NULL,
    project text NOT NULL,
    version text NOT NULL DEFAULT '',
    policy text NOT NULL,
    action text NOT NULL,
    reason text NOT NULL,
    available_at double precision,
    first_requested double precision NOT NULL,
    last_requested double precision NOT NULL,
    views bigint NOT NULL DEFAULT 0,
    requests bigint NOT NULL DEFAULT 0,
    state text NOT NULL DEFAULT 'quarantined',
    changed_by text,
    changed_at double precision,
    change_reason text,
    until double precision,
    UNIQUE (idx, project, version, policy)
);
CREATE TABLE entry_files (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id bigint NOT NULL REFERENCES entries_grouped (id),
    file text NOT NULL,
    reason text NOT NULL,
    available_at double precision,
    requests bigint NOT NULL DEFAULT 0,
    first_held double precision NOT NULL,
    last_requested double precision,
    state text NOT NULL DEFAULT 'quarantined',
    changed_at double precision,
    UNIQUE (entry_id, file)
);
CREATE TABLE entry_aliases (
    legacy_id bigint PRIMARY KEY,
    entry_id bigint NOT NULL
);
CREATE TABLE clients_grouped (
    entry_id bigint NOT NULL REFERENCES entries_grouped (id),
    client text NOT NULL,
    count bigint NOT NULL,
    last_seen double precision NOT NULL,
    PRIMARY KEY (entry_id, client)
);
-- New entries never take an id an entry had before: audit records name those.
SELECT setval(pg_get_serial_sequence('entries_grouped', 'id'), greatest(last, 1), last > 0)
FROM (SELECT greatest(
    coalesce(pg_sequence_last_value(pg_get_serial_sequence('entries', 'id')::regclass), 0),
    coalesce((SELECT max(id) FROM entries), 0)) AS last) s;
"""
_V2 = (
    _GROUPED_TABLES
    + ";\n".join(statement.format(overriding="OVERRIDING SYSTEM VALUE") for statement in REGROUP)
    + ";\n"
)

# Version 3 (expand only: replicas of version 2 keep working beside it).
_V3 = """
-- A file lease whose holder stored the file stays as a marker (stored, expired) for a
-- while, so a replica that looked in the bucket a moment before it was stored learns it
-- from its claim and looks again, instead of fetching from upstream a second time.
ALTER TABLE leases ADD COLUMN stored boolean NOT NULL DEFAULT false;
-- Secrets the replicas share (``peer``: followers streaming from a lease holder).
CREATE TABLE cluster_secrets (name text PRIMARY KEY, value text NOT NULL);
-- Hosted indexes: one row per uploaded file (the bytes are in the blob store).
CREATE TABLE hosted_files (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idx text NOT NULL,
    project text NOT NULL,
    filename text NOT NULL,
    version text NOT NULL,
    is_sdist boolean NOT NULL,
    sha256 text NOT NULL,
    size bigint NOT NULL,
    requires_python text,
    metadata_sha256 text,
    uploaded_at text NOT NULL,
    uploader text NOT NULL,
    client text NOT NULL,
    UNIQUE (idx, filename)
);
CREATE INDEX hosted_files_by_project ON hosted_files (idx, project);
"""


def _seed_v3(connection: psycopg.Connection[object]) -> None:
    connection.execute(
        "INSERT INTO cluster_secrets (name, value) VALUES ('peer', %s) "
        "ON CONFLICT (name) DO NOTHING",
        (secrets.token_urlsafe(32),),
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, 1, _V1),
    Migration(2, 2, _V2),
    Migration(3, 2, _V3, _seed_v3),
)
#: The schema version this code writes and needs.
SCHEMA_VERSION = MIGRATIONS[-1].version

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL,
    min_reader integer NOT NULL
)
"""


class SchemaError(StoreUnavailable):
    """The database's schema does not fit this code (behind it, or too new for it)."""


@dataclass(frozen=True)
class SchemaState:
    #: The newest version applied (0: an empty database).
    version: int
    #: The oldest code version the database still accepts.
    min_reader: int

    def problem(self) -> str | None:
        """Why this code cannot use the database as it is, or ``None``."""
        if self.version < SCHEMA_VERSION:
            return (
                f"the database schema is at version {self.version}; this pipgate needs "
                f"{SCHEMA_VERSION}: run 'pipgate migrate' (or set [storage] migrate = \"auto\")"
            )
        if self.min_reader > SCHEMA_VERSION:
            return (
                f"the database schema (version {self.version}) needs pipgate code of schema "
                f"version {self.min_reader} or newer; this one is {SCHEMA_VERSION}: upgrade it"
            )
        return None


def _who() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _connect(url: str) -> psycopg.Connection[object]:
    try:
        return psycopg.connect(url, **connect_kwargs("pipgate-migrate"))  # type: ignore[arg-type]
    except UNAVAILABLE as exc:
        raise StoreUnavailable(
            f"cannot connect to PostgreSQL {redact(url)}: {describe(exc)}"
        ) from exc


def _state(connection: psycopg.Connection[object]) -> SchemaState:
    exists = connection.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:  # type: ignore[index]
        return SchemaState(0, 0)
    row = connection.execute(
        "SELECT coalesce(max(version), 0), coalesce(max(min_reader), 0) FROM schema_version"
    ).fetchone()
    return SchemaState(int(row[0]), int(row[1]))  # type: ignore[index]


def schema_state(url: str) -> SchemaState:
    """The database's schema version, without changing anything."""
    with _connect(url) as connection:
        try:
            return _state(connection)
        except UNAVAILABLE as exc:
            raise StoreUnavailable(f"PostgreSQL {redact(url)}: {describe(exc)}") from exc


def migrate(url: str, *, applied_by: str | None = None) -> list[int]:
    """Bring the database up to ``SCHEMA_VERSION``; returns the versions this call applied.

    Raises ``SchemaError`` when the database is newer than this code can use, and
    ``StoreUnavailable`` when PostgreSQL cannot be reached.
    """
    who = applied_by or _who()
    applied: list[int] = []
    with _connect(url) as connection:
        try:
            connection.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
            try:
                connection.execute(_VERSION_TABLE)
                state = _state(connection)
                if state.min_reader > SCHEMA_VERSION:
                    raise SchemaError(str(state.problem()))
                for step in MIGRATIONS:
                    if step.version <= state.version:
                        continue
                    with connection.transaction():
                        connection.execute(step.sql)  # type: ignore[arg-type]
                        if step.seed is not None:
                            step.seed(connection)
                        connection.execute(
                            "INSERT INTO schema_version (version, applied_by, min_reader) "
                            "VALUES (%s, %s, %s)",
                            (step.version, who, step.min_reader),
                        )
                    applied.append(step.version)
                    log.info(
                        "PostgreSQL %s migrated to schema version %d", redact(url), step.version
                    )
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        except UNAVAILABLE as exc:
            raise StoreUnavailable(
                f"migrating PostgreSQL {redact(url)} failed: {describe(exc)}"
            ) from exc
    return applied
