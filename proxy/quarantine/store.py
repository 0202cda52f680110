"""The quarantine store: one SQLite database (WAL) under the data directory.

Tables: ``entries`` (one per held project or file and policy: what, why, who
asked, how often, and its review state), ``clients`` (who requested each
entry), ``rules`` (reviewer decisions the gate applies: ``release``,
``reject``, and the runtime ``allow`` and ``deny`` lists), ``audit`` (every
action, append-only: triggers refuse updates and deletes; also mirrored to
``audit.jsonl`` once committed), ``traffic`` (hourly counts for charts),
``aggregates`` (holds that do not enter the queue one by one: hourly counts per
index and policy with sample names), ``sessions`` (console logins, see
``sessions.py``) and ``meta`` (the rules revision and the ``schema_version``).

Scope of a rule: ``idx`` is an index name, or ``*`` for every index. A
reviewer's reject and a deny-list entry are global unless scoped to one
index; a release and an allow-list entry always name one index.

The schema is built by ordered migrations (``MIGRATIONS``): version 1 is the
original schema, every later step changes it in one transaction and records
``schema_version``, so an existing database is brought up to date on open and
keeps its rows' meaning.

Entry states: ``quarantined`` (held, waiting for a reviewer), ``released``,
``rejected``, and ``expired`` (an age hold that came of age by itself).
A hold seen again after its entry was released or expired reopens it, so a
lapsed release shows up in the queue again.

Every method is blocking: call it from a thread, never from the event loop.
Times are stored as POSIX seconds and returned as ISO 8601 strings in UTC.
A write the disk refuses (full, read-only, I/O error) raises ``StoreUnavailable``
(HTTP 503) and leaves nothing behind: the audit mirror is written only after
COMMIT, and ids of rolled-back rows are never handed out again.
"""

from __future__ import annotations

import fcntl
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipgate.policies.rules import parse_rule
from pipgate.proxy.errors import Conflict, NotFound, ReviewError, StoreUnavailable
from pipgate.proxy.models import version_of
from pipgate.proxy.storage.sql import Database, SQLiteDatabase, Tx

log = logging.getLogger("pipgate.quarantine")

STATES = ("quarantined", "released", "rejected", "expired")
SCOPES = ("file", "version", "project")
#: The policy name of decisions that come from reviewers (see ``overrides``).
REVIEW = "review"
MAX_CLIENTS_SHOWN = 50
#: Longest reason kept (characters): reasons go to the audit log, pages and webhooks.
MAX_REASON = 2000
#: The index of a rule that applies on every index.
ALL_INDEXES = "*"
#: Largest id SQLite can store; a bigger number names nothing (and cannot be bound).
MAX_ID = 2**63 - 1
#: Sample names kept per aggregate row.
AGGREGATE_SAMPLES = 10

#: Version 1: the schema before migrations existed. Never change it; add a migration.
_SCHEMA = """
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


#: ``(version, step)`` in order; the database records the last one applied.
MIGRATIONS: tuple[tuple[int, Any], ...] = (
    (2, _migrate_autoincrement),
    (3, _migrate_aggregates),
    (4, _migrate_sessions),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def valid_id(value: object) -> bool:
    """Whether ``value`` can be the id of a row (route converters pass any int)."""
    return isinstance(value, int) and 0 < value <= MAX_ID


@dataclass(frozen=True, slots=True)
class Hold:
    """One enforced hold as the recorder saw it."""

    index: str
    project: str
    file: str | None
    policy: str
    action: str
    reason: str
    available_at: datetime | None
    client: str
    when: datetime
    #: Decided by name alone, before upstream was asked (see ``intake``).
    by_name: bool = False


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def check_reason(reason: str) -> None:
    if len(reason) > MAX_REASON:
        raise ReviewError(f"the reason is {len(reason)} characters long; at most {MAX_REASON}")


def normalize_version(text: str) -> str:
    try:
        return str(Version(text))
    except InvalidVersion:
        raise ReviewError(f"{text!r} is not a valid version") from None


class QuarantineStore:
    """The quarantine tables in ``database``: a path (SQLite, migrated here on open) or a
    ``Database`` (PostgreSQL, migrated by ``storage.schema.migrate`` before use)."""

    def __init__(self, database: Path | Database, *, audit_log: Path | None = None) -> None:
        if isinstance(database, Path):
            database = SQLiteDatabase(database)
        self.database = database
        self.dialect = database.dialect
        self.path = getattr(database, "path", None)
        self._audit_log = audit_log
        #: Audit records may be missing from the JSONL mirror (see ``_mirror_audit``).
        self._audit_pending = True
        self._lock = threading.RLock()
        if isinstance(database, SQLiteDatabase):
            with database.lock:
                database.connection.executescript(_SCHEMA)
                self._migrate()
            # After the migrations: a table rebuild must not meet foreign key checks.
            database.connection.execute("PRAGMA foreign_keys=ON")
        try:
            self._mirror_audit()
        except StoreUnavailable as exc:  # PostgreSQL down at start: the next write catches up
            log.warning("audit.jsonl not brought up to date: %s", exc)

    def close(self) -> None:
        self.database.close()

    def schema_version(self) -> int:
        with self.database.read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 1

    def _migrate(self) -> None:
        for version, step in MIGRATIONS:
            with self._write(mirror=False) as db:
                # Read inside the write lock: another process may have just migrated.
                row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if (int(row[0]) if row else 1) >= version:
                    continue
                step(db)
                db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (version,),
                )
                log.info(
                    "quarantine store %s migrated to schema version %d",
                    self.database.label,
                    version,
                )

    @contextmanager
    def _write(self, *, mirror: bool = True) -> Iterator[Tx]:
        """One write transaction. A refused write raises ``StoreUnavailable``, rolled back.

        After COMMIT (never before) new audit records are appended to ``audit.jsonl``.
        """
        with self.database.write() as db:
            yield db
        if mirror and self._audit_pending:
            self._mirror_audit()

    def transaction(self) -> Any:
        """``with store.transaction() as db:``: one write transaction (see ``_write``)."""
        return self._write()

    def reading(self) -> Any:
        """``with store.reading() as db:``: a connection for reads."""
        return self.database.read()

    def _mirror_audit(self) -> None:
        """Append the committed audit records ``audit.jsonl`` lacks.

        Called after every commit, so a line is never written for a transaction
        that rolled back. A line that could not be written (disk full) is written
        by the next call; the file is locked, so several processes sharing the
        data directory (the CLI's ``--data-dir`` mode) write each record once.
        """
        if self._audit_log is None:
            return
        try:
            with (
                self._lock,
                self._audit_log.open("a+b") as handle,
                self.database.read() as db,
            ):
                fcntl.flock(handle, fcntl.LOCK_EX)
                last = _last_mirrored(handle)
                if last is None:
                    row = db.execute(
                        "SELECT value FROM meta WHERE key = 'audit_mirrored'"
                    ).fetchone()
                    last = int(row[0]) if row else 0
                rows = db.execute(
                    "SELECT * FROM audit WHERE id > ? ORDER BY id", (last,)
                ).fetchall()
                if rows:
                    handle.write(b"".join(orjson.dumps(_audit_line(r)) + b"\n" for r in rows))
                    handle.flush()
                self._audit_pending = False
        except OSError as exc:
            log.warning(
                "audit.jsonl is behind the audit table (%s); the next write catches it up", exc
            )

    # -- intake ----------------------------------------------------------------------------

    def record(self, holds: Iterable[Hold]) -> list[dict[str, Any]]:
        """Write a batch of holds; returns the entries this batch created."""
        created: list[int] = []
        with self._write() as db:
            for hold in holds:
                entry_id = self._record_one(db, hold)
                if entry_id is not None:
                    created.append(entry_id)
        return [e for e in (self.entry(i) for i in created) if e is not None]

    def _record_one(self, db: Tx, hold: Hold) -> int | None:
        when = hold.when.timestamp()
        file = hold.file or ""
        if hold.policy == REVIEW:
            # A reviewer's block: count it on the entries it stands for, create none.
            rows = db.execute(
                "SELECT id FROM entries WHERE idx = ? AND project = ? AND file = ?",
                (hold.index, hold.project, file),
            ).fetchall()
            for row in rows:
                self._seen(db, row["id"], hold.client, when)
            return None
        row = db.execute(
            "SELECT id, state, changed_at FROM entries "
            "WHERE idx = ? AND project = ? AND file = ? AND policy = ?",
            (hold.index, hold.project, file, hold.policy),
        ).fetchone()
        if row is None:
            version = version_of(file) if file else None
            cursor = db.execute(
                "INSERT INTO entries (idx, project, file, version, policy, action, reason, "
                "available_at, first_requested, last_requested) VALUES (?,?,?,?,?,?,?,?,?,?) "
                "RETURNING id",
                (
                    hold.index,
                    hold.project,
                    file,
                    str(version) if version else None,
                    hold.policy,
                    hold.action,
                    hold.reason,
                    _ts(hold.available_at),
                    when,
                    when,
                ),
            )
            entry_id = int(cursor.fetchone()[0])
            self._seen(db, entry_id, hold.client, when)
            return entry_id
        reopen = row["state"] in ("released", "expired") and (
            row["changed_at"] is None or when > row["changed_at"]
        )
        db.execute(
            "UPDATE entries SET action = ?, reason = ?, available_at = ?"
            + (", state = 'quarantined', until = NULL" if reopen else "")
            + " WHERE id = ?",
            (hold.action, hold.reason, _ts(hold.available_at), row["id"]),
        )
        self._seen(db, row["id"], hold.client, when)
        return None

    def _seen(self, db: Tx, entry_id: int, client: str, when: float) -> None:
        db.execute(
            "UPDATE entries SET request_count = request_count + 1, "
            f"last_requested = {self.dialect.greatest}(last_requested, ?) WHERE id = ?",
            (when, entry_id),
        )
        db.execute(
            "INSERT INTO clients (entry_id, client, count, last_seen) VALUES (?, ?, 1, ?) "
            "ON CONFLICT (entry_id, client) DO UPDATE SET count = clients.count + 1, "
            f"last_seen = {self.dialect.greatest}(clients.last_seen, excluded.last_seen)",
            (entry_id, client, when),
        )

    def add_traffic(self, counts: Mapping[tuple[int, str, str], int]) -> None:
        """Add ``{(hour, index, kind): n}``; ``hour`` is POSIX seconds // 3600."""
        if not counts:
            return
        with self._write() as db:
            db.executemany(
                "INSERT INTO traffic (hour, idx, kind, count) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (hour, idx, kind) DO UPDATE SET count = traffic.count + excluded.count",
                [(h, i, k, n) for (h, i, k), n in counts.items()],
            )

    def add_aggregates(
        self, rows: Mapping[tuple[int, str, str, str], tuple[int, list[str], str]]
    ) -> None:
        """Add ``{(hour, index, policy, action): (count, sample names, latest reason)}``."""
        if not rows:
            return
        with self._write() as db:
            for (hour, index, policy, action), (count, samples, reason) in rows.items():
                key = (hour, index, policy, action)
                row = db.execute(
                    "SELECT samples FROM aggregates WHERE hour = ? AND idx = ? AND policy = ? "
                    "AND action = ?",
                    key,
                ).fetchone()
                kept = orjson.loads(row["samples"]) if row else []
                kept += [name for name in samples if name not in kept]
                db.execute(
                    "INSERT INTO aggregates (hour, idx, policy, action, requests, samples, reason) "
                    "VALUES (?,?,?,?,?,?,?) ON CONFLICT (hour, idx, policy, action) DO UPDATE "
                    "SET requests = aggregates.requests + excluded.requests, samples = excluded.samples, "
                    "reason = excluded.reason",
                    (*key, count, orjson.dumps(kept[:AGGREGATE_SAMPLES]).decode(), reason),
                )

    def aggregates(self, now: datetime, *, hours: int = 24) -> list[dict[str, Any]]:
        """Aggregate rows of the last ``hours`` hours, newest first, most requests first."""
        first = int(now.timestamp()) // 3600 - hours + 1
        with self.database.read() as db:
            rows = db.execute(
                "SELECT * FROM aggregates WHERE hour >= ? ORDER BY hour DESC, requests DESC",
                (first,),
            ).fetchall()
        return [
            {
                "hour": iso(r["hour"] * 3600),
                "index": r["idx"],
                "policy": r["policy"],
                "action": r["action"],
                "requests": r["requests"],
                "samples": orjson.loads(r["samples"]),
                "reason": r["reason"],
            }
            for r in rows
        ]

    def expire(self, now: datetime) -> int:
        """Mark age holds whose time has come as ``expired``; returns how many."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE entries SET state = 'expired', changed_at = available_at, "
                "changed_by = 'pipgate', change_reason = 'came of age' "
                "WHERE state = 'quarantined' AND available_at IS NOT NULL AND available_at <= ?",
                (now.timestamp(),),
            )
            return cursor.rowcount

    # -- reading ---------------------------------------------------------------------------

    def entries(
        self,
        *,
        state: str | None = None,
        index: str | None = None,
        project: str | None = None,
        policy: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of entries, most recently requested first, and the total matching."""
        where, args = [], []
        for column, value in (("state", state), ("idx", index), ("policy", policy)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if project:
            where.append("project LIKE ?")
            args.append(f"%{canonicalize_name(project)}%")
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        with self.database.read() as db:
            total = db.execute(f"SELECT count(*) FROM entries{clause}", args).fetchone()[0]
            rows = db.execute(
                f"SELECT * FROM entries{clause} ORDER BY last_requested DESC, id DESC "
                "LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return [self._entry_json(db, row) for row in rows], int(total)

    def entry(self, entry_id: int) -> dict[str, Any] | None:
        if not valid_id(entry_id):
            return None
        with self.database.read() as db:
            row = db.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
            if row is None:
                return None
            entry = self._entry_json(db, row)
            entry["clients"] = [
                {"client": c["client"], "count": c["count"], "last_seen": iso(c["last_seen"])}
                for c in db.execute(
                    "SELECT * FROM clients WHERE entry_id = ? ORDER BY last_seen DESC LIMIT ?",
                    (entry_id, MAX_CLIENTS_SHOWN),
                )
            ]
            entry["history"] = self.audit(entry_id=entry_id)
            return entry

    def _entry_json(self, db: Tx, row: Any) -> dict[str, Any]:
        clients = [
            c[0]
            for c in db.execute(
                "SELECT client FROM clients WHERE entry_id = ? ORDER BY count DESC LIMIT 5",
                (row["id"],),
            )
        ]
        return {
            "id": row["id"],
            "index": row["idx"],
            "project": row["project"],
            "version": row["version"],
            "file": row["file"] or None,
            "policy": row["policy"],
            "action": row["action"],
            "reason": row["reason"],
            "available_at": iso(row["available_at"]),
            "first_requested": iso(row["first_requested"]),
            "last_requested": iso(row["last_requested"]),
            "request_count": row["request_count"],
            "top_clients": clients,
            "state": row["state"],
            "changed_by": row["changed_by"],
            "changed_at": iso(row["changed_at"]),
            "change_reason": row["change_reason"],
            "until": iso(row["until"]),
        }

    def rules(self, *, kind: str | None = None, index: str | None = None) -> list[dict[str, Any]]:
        """Active rules (not removed), oldest first; ``index`` keeps those that apply there
        (its own and the global ones)."""
        where, args = ["removed_at IS NULL"], []
        if kind:
            where.append("kind = ?")
            args.append(kind)
        if index:
            where.append("idx IN (?, ?)")
            args += [index, ALL_INDEXES]
        with self.database.read() as db:
            rows = db.execute(
                f"SELECT * FROM rules WHERE {' AND '.join(where)} ORDER BY id", args
            ).fetchall()
        return [
            {
                "id": r["id"],
                "index": r["idx"],
                "kind": r["kind"],
                "project": r["project"],
                "version": r["version"],
                "file": r["file"],
                "rule": r["rule"],
                "until": iso(r["until"]),
                "reason": r["reason"],
                "actor": r["actor"],
                "created_at": iso(r["created_at"]),
            }
            for r in rows
        ]

    def rules_revision(self) -> int:
        with self.database.read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'rules'").fetchone()
        return int(row[0]) if row else 0

    def audit(
        self, *, limit: int = 100, offset: int = 0, entry_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Audit records, newest first; with ``entry_id``, the ones about that entry."""
        where, args = "", []
        if entry_id is not None and not valid_id(entry_id):
            return []
        if entry_id is not None:
            where = f" WHERE {self.dialect.audit_about_entry}"
            args = [entry_id, entry_id]
        with self.database.read() as db:
            rows = db.execute(
                f"SELECT * FROM audit{where} ORDER BY id DESC LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return [
            {
                "id": r["id"],
                "time": iso(r["time"]),
                "actor": r["actor"],
                "action": r["action"],
                "index": r["idx"],
                "target": r["target"],
                "reason": r["reason"],
                "detail": orjson.loads(r["detail"]),
            }
            for r in rows
        ]

    def stats(self, now: datetime, *, hours: int = 48, top: int = 10) -> dict[str, Any]:
        """Hourly served/quarantined/blocked counts, entry counts by state, top held projects."""
        last = int(now.timestamp()) // 3600
        first = last - hours + 1
        series = {h: {"served": 0, "quarantine": 0, "block": 0} for h in range(first, last + 1)}
        with self.database.read() as db:
            for row in db.execute(
                "SELECT hour, kind, CAST(sum(count) AS BIGINT) AS n FROM traffic WHERE hour >= ? GROUP BY hour, kind",
                (first,),
            ):
                if row["hour"] in series and row["kind"] in series[row["hour"]]:
                    series[row["hour"]][row["kind"]] = row["n"]
            states = {s: 0 for s in STATES}
            for row in db.execute("SELECT state, count(*) FROM entries GROUP BY state"):
                states[row[0]] = row[1]
            top_held = [
                {"index": r["idx"], "project": r["project"], "requests": r["n"], "entries": r["e"]}
                for r in db.execute(
                    "SELECT idx, project, CAST(sum(request_count) AS BIGINT) AS n, count(*) AS e "
                    "FROM entries "
                    "WHERE state = 'quarantined' GROUP BY idx, project ORDER BY n DESC LIMIT ?",
                    (top,),
                )
            ]
        return {
            "hours": [
                {
                    "hour": iso(h * 3600),
                    "served": c["served"],
                    "quarantined": c["quarantine"],
                    "blocked": c["block"],
                }
                for h, c in series.items()
            ],
            "states": states,
            "top_held": top_held,
        }

    # -- actions ---------------------------------------------------------------------------

    def decide(
        self,
        kind: str,
        *,
        index: str,
        project: str,
        version: str | None = None,
        file: str | None = None,
        until: datetime | None = None,
        reason: str,
        actor: str,
        now: datetime,
        entry_id: int | None = None,
    ) -> dict[str, Any]:
        """Release or reject a file, a version or a whole project; returns the rule.

        ``index`` is one index, or ``ALL_INDEXES`` for a reject that applies on
        every index (a release always names one). A new decision on the same
        target replaces the previous one of the same index (a global one: of
        every index). Entries the target covers take the new state.
        """
        if kind not in ("release", "reject"):
            raise ReviewError(f"unknown decision {kind!r}; choose release or reject")
        if kind == "release" and index == ALL_INDEXES:
            raise ReviewError("a release applies to one index; name it ('index')")
        if not reason.strip():
            raise ReviewError(f"a {kind} needs a reason")
        check_reason(reason)
        if until is not None and until <= now:
            raise ReviewError(f"'until' {until.isoformat()} is not in the future")
        name = canonicalize_name(project)
        version = normalize_version(version) if version else None
        stamp = now.timestamp()
        target = " ".join(p for p in (name, version, file) if p)
        where_index = "" if index == ALL_INDEXES else "AND idx = ? "
        with self._write() as db:
            db.execute(
                "UPDATE rules SET removed_at = ?, removed_by = ? WHERE removed_at IS NULL "
                f"AND kind IN ('release', 'reject') {where_index}AND project = ? "
                f"AND version {self.dialect.same} ? AND file {self.dialect.same} ?",
                (stamp, actor, *([] if index == ALL_INDEXES else [index]), name, version, file),
            )
            rule_id = db.execute(
                "INSERT INTO rules (idx, kind, project, version, file, until, reason, actor, "
                "created_at) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
                (index, kind, name, version, file, _ts(until), reason, actor, stamp),
            ).fetchone()[0]
            covered = self._covered(db, index, name, version, file)
            self._set_state(
                db,
                covered,
                "released" if kind == "release" else "rejected",
                actor,
                stamp,
                reason,
                _ts(until),
            )
            detail = {
                "rule": rule_id,
                "scope": "file" if file else "version" if version else "project",
                "applies_to": applies_to(index),
                "until": iso(_ts(until)),
                "entry": entry_id,
                "entries": covered,
            }
            self._audit(db, stamp, actor, kind, index, target, reason, detail)
            self._bump(db)
        return next(r for r in self.rules() if r["id"] == rule_id)

    def decide_entry(
        self,
        kind: str,
        entry_id: int,
        *,
        scope: str = "file",
        index: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """``decide`` on the file, version or project of an entry.

        A release applies to the entry's index. A reject applies to every index
        unless ``index`` is the entry's own (malware is malware on every index).
        """
        entry = self.entry(entry_id)
        if entry is None:
            raise NotFound(f"no quarantine entry {entry_id}")
        if scope not in SCOPES:
            raise ReviewError(f"unknown scope {scope!r}; choose file, version or project")
        if kind == "release":
            index = index or entry["index"]
        else:
            index = index or ALL_INDEXES
        if index not in (entry["index"], ALL_INDEXES) or (
            kind == "release" and index != entry["index"]
        ):
            raise ReviewError(
                f"entry {entry_id} belongs to index {entry['index']!r}; a {kind} of it applies "
                + (
                    "there"
                    if kind == "release"
                    else f"to every index ('*') or to {entry['index']!r} only"
                )
            )
        if scope == "file" and not entry["file"]:
            scope = "project"
        if scope == "version" and not entry["version"]:
            raise ReviewError(
                f"entry {entry_id} ({entry['project']}) has no version; use scope 'project'"
                if not entry["file"]
                else f"the version of {entry['file']!r} is unknown; use scope 'file'"
            )
        return self.decide(
            kind,
            index=index,
            project=entry["project"],
            version=entry["version"] if scope in ("file", "version") else None,
            file=entry["file"] if scope == "file" else None,
            entry_id=entry_id,
            **fields,
        )

    def list_add(
        self,
        kind: str,
        *,
        index: str,
        rule: str,
        reason: str,
        actor: str,
        now: datetime,
        everything: bool = False,
    ) -> dict[str, Any]:
        """Add a rule (``name``, ``name==1.2``, ``acme-*``) to the runtime allow or deny list.

        ``index`` is one index, or ``ALL_INDEXES`` for a deny rule of every index
        (an allow rule always names one). An allow rule that matches every project
        name (``*``) lifts every policy from every project; it is refused unless
        ``everything`` confirms it.
        """
        if kind not in ("allow", "deny"):
            raise ReviewError(f"unknown list {kind!r}; choose allow or deny")
        if kind == "allow" and index == ALL_INDEXES:
            raise ReviewError("an allow rule applies to one index; name it ('index')")
        if not reason.strip():
            raise ReviewError(f"adding to the {kind} list needs a reason")
        check_reason(reason)
        try:
            parsed = parse_rule(rule)
        except ValueError as exc:
            raise ReviewError(str(exc)) from None
        if kind == "allow" and parsed.matches_every_name and not everything:
            raise ReviewError(
                f"{parsed.text!r} matches every project: it would lift every policy on index "
                f'{index!r}; if that is really meant, confirm it with "everything": true '
                "(pipgate allow add --everything)"
            )
        stamp = now.timestamp()
        with self._write() as db:
            existing = db.execute(
                "SELECT id FROM rules WHERE removed_at IS NULL AND kind = ? AND idx = ? AND rule = ?",
                (kind, index, parsed.text),
            ).fetchone()
            if existing is not None:
                raise Conflict(f"{parsed.text!r} is already on the {kind} list of {_where(index)}")
            rule_id = db.execute(
                "INSERT INTO rules (idx, kind, project, rule, reason, actor, created_at) "
                "VALUES (?,?,?,?,?,?,?) RETURNING id",
                (index, kind, parsed.pattern, parsed.text, reason, actor, stamp),
            ).fetchone()[0]
            covered = [
                row["id"]
                for row in self._entries_of(db, index)
                if parsed.matches(
                    row["project"], Version(row["version"]) if row["version"] else None
                )
            ]
            self._set_state(
                db,
                covered,
                "released" if kind == "allow" else "rejected",
                actor,
                stamp,
                reason,
                None,
            )
            self._audit(
                db,
                stamp,
                actor,
                f"{kind}-add",
                index,
                parsed.text,
                reason,
                {"rule": rule_id, "applies_to": applies_to(index), "entries": covered},
            )
            self._bump(db)
        return next(r for r in self.rules() if r["id"] == rule_id)

    def list_remove(
        self, kind: str, *, index: str, rule: str, reason: str, actor: str, now: datetime
    ) -> dict[str, Any]:
        if kind not in ("allow", "deny"):
            raise ReviewError(f"unknown list {kind!r}; choose allow or deny")
        check_reason(reason)
        try:
            text = parse_rule(rule).text
        except ValueError as exc:
            raise ReviewError(str(exc)) from None
        stamp = now.timestamp()
        with self._write() as db:
            row = db.execute(
                "SELECT id FROM rules WHERE removed_at IS NULL AND kind = ? AND idx = ? AND rule = ?",
                (kind, index, text),
            ).fetchone()
            if row is None:
                raise NotFound(f"{text!r} is not on the {kind} list of {_where(index)}")
            db.execute(
                "UPDATE rules SET removed_at = ?, removed_by = ? WHERE id = ?",
                (stamp, actor, row["id"]),
            )
            # What the rule released or rejected is held again, until decided otherwise.
            parsed = parse_rule(text)
            reopened = [
                entry["id"]
                for entry in self._entries_of(
                    db, index, "released" if kind == "allow" else "rejected"
                )
                if parsed.matches(
                    entry["project"], Version(entry["version"]) if entry["version"] else None
                )
            ]
            self._set_state(
                db, reopened, "quarantined", actor, stamp, f"removed from the {kind} list", None
            )
            self._audit(
                db,
                stamp,
                actor,
                f"{kind}-remove",
                index,
                text,
                reason or "-",
                {"rule": row["id"], "applies_to": applies_to(index), "entries": reopened},
            )
            self._bump(db)
        return {"removed": row["id"], "index": index, "rule": text, "kind": kind}

    def _covered(
        self,
        db: Tx,
        index: str,
        project: str,
        version: str | None,
        file: str | None,
    ) -> list[int]:
        query = "SELECT id FROM entries WHERE project = ?"
        args: list[Any] = [project]
        if index != ALL_INDEXES:
            query += " AND idx = ?"
            args.append(index)
        if file:
            query += " AND file = ?"
            args.append(file)
        elif version:
            query += " AND version = ?"
            args.append(version)
        return [row[0] for row in db.execute(query, args)]

    def _entries_of(self, db: Tx, index: str, state: str | None = None) -> list[Any]:
        """Entries of ``index`` (every index for ``ALL_INDEXES``), optionally in ``state``."""
        where, args = [], []
        if index != ALL_INDEXES:
            where.append("idx = ?")
            args.append(index)
        if state:
            where.append("state = ?")
            args.append(state)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        return db.execute(f"SELECT id, project, version FROM entries{clause}", args).fetchall()

    def _set_state(
        self,
        db: Tx,
        ids: list[int],
        state: str,
        actor: str,
        stamp: float,
        reason: str,
        until: float | None,
    ) -> None:
        db.executemany(
            "UPDATE entries SET state = ?, changed_by = ?, changed_at = ?, change_reason = ?, "
            "until = ? WHERE id = ?",
            [(state, actor, stamp, reason, until, i) for i in ids],
        )

    def _audit(
        self,
        db: Tx,
        stamp: float,
        actor: str,
        action: str,
        index: str,
        target: str,
        reason: str,
        detail: dict[str, Any],
    ) -> None:
        """An audit record, in the caller's transaction (mirrored to JSONL after COMMIT)."""
        self._audit_pending = True
        db.execute(
            "INSERT INTO audit (time, actor, action, idx, target, reason, detail) "
            "VALUES (?,?,?,?,?,?,?)",
            (stamp, actor, action, index, target, reason, orjson.dumps(detail).decode()),
        )

    #: ``_audit`` for the store's other tables (sessions): in the caller's transaction.
    audit_record = _audit

    def _bump(self, db: Tx) -> None:
        """A new rules revision; on PostgreSQL every replica is told on COMMIT (``changes``)."""
        revision = db.execute(
            "INSERT INTO meta (key, value) VALUES ('rules', 1) "
            "ON CONFLICT (key) DO UPDATE SET value = meta.value + 1 RETURNING value"
        ).fetchone()[0]
        if self.dialect.notify:
            db.execute(self.dialect.notify, (f'{{"kind":"rules","revision":{int(revision)}}}',))


def _where(index: str) -> str:
    return "every index" if index == ALL_INDEXES else f"index {index!r}"


def applies_to(index: str) -> str:
    """How an audit record names the scope of a rule."""
    return "all indexes" if index == ALL_INDEXES else f"index {index}"


def _audit_line(row: Any) -> dict[str, Any]:
    return {
        "audit_id": row["id"],
        "time": iso(row["time"]),
        "actor": row["actor"],
        "action": row["action"],
        "index": row["idx"],
        "target": row["target"],
        "reason": row["reason"],
        **orjson.loads(row["detail"]),
    }


def _last_mirrored(handle: Any) -> int | None:
    """The ``audit_id`` of the last complete line of the mirror (``None``: none has one).

    A line cut short (the disk filled up while it was written) is removed first.
    """
    position = handle.seek(0, 2)
    chunk = b""
    # Read backwards until the last complete line, and anything after it, is in ``chunk``.
    while position > 0 and chunk.count(b"\n") < 2:
        step = min(64 * 1024, position)
        position -= step
        handle.seek(position)
        chunk = handle.read(step) + chunk
    complete = chunk.rfind(b"\n") + 1
    if complete < len(chunk):
        handle.truncate(position + complete)
        chunk = chunk[:complete]
    lines = chunk.split(b"\n")
    if len(lines) < 2:
        return None
    try:
        value = orjson.loads(lines[-2]).get("audit_id")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return value if isinstance(value, int) else None
