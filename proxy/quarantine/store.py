"""The quarantine store: one SQLite database (WAL) under the data directory.

Tables: ``entries`` (one per held project or file and policy: what, why, who
asked, how often, and its review state), ``clients`` (who requested each
entry), ``rules`` (reviewer decisions the gate applies: ``release``,
``reject``, and the runtime ``allow`` and ``deny`` lists), ``audit`` (every
action, append-only: triggers refuse updates and deletes; also mirrored to
``audit.jsonl``) and ``traffic`` (hourly counts for charts).

Entry states: ``quarantined`` (held, waiting for a reviewer), ``released``,
``rejected``, and ``expired`` (an age hold that came of age by itself).
A hold seen again after its entry was released or expired reopens it, so a
lapsed release shows up in the queue again.

Every method is blocking: call it from a thread, never from the event loop.
Times are stored as POSIX seconds and returned as ISO 8601 strings in UTC.
"""

from __future__ import annotations

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

from ..models import version_of

STATES = ("quarantined", "released", "rejected", "expired")
SCOPES = ("file", "version", "project")
#: The policy name of decisions that come from reviewers (see ``overrides``).
REVIEW = "review"
MAX_CLIENTS_SHOWN = 50
#: Longest reason kept (characters): reasons go to the audit log, pages and webhooks.
MAX_REASON = 2000

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


class ReviewError(Exception):
    """An action that cannot be done; the message says why. ``status`` is for HTTP."""

    status = 400


class NotFound(ReviewError):
    status = 404


class Conflict(ReviewError):
    status = 409


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
    def __init__(self, path: Path, *, audit_log: Path | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._audit_log = audit_log
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._lock:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

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

    def _record_one(self, db: sqlite3.Connection, hold: Hold) -> int | None:
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
                "available_at, first_requested, last_requested) VALUES (?,?,?,?,?,?,?,?,?,?)",
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
            entry_id = int(cursor.lastrowid or 0)
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

    def _seen(self, db: sqlite3.Connection, entry_id: int, client: str, when: float) -> None:
        db.execute(
            "UPDATE entries SET request_count = request_count + 1, "
            "last_requested = max(last_requested, ?) WHERE id = ?",
            (when, entry_id),
        )
        db.execute(
            "INSERT INTO clients (entry_id, client, count, last_seen) VALUES (?, ?, 1, ?) "
            "ON CONFLICT (entry_id, client) DO UPDATE SET count = count + 1, "
            "last_seen = max(last_seen, excluded.last_seen)",
            (entry_id, client, when),
        )

    def add_traffic(self, counts: Mapping[tuple[int, str, str], int]) -> None:
        """Add ``{(hour, index, kind): n}``; ``hour`` is POSIX seconds // 3600."""
        if not counts:
            return
        with self._write() as db:
            db.executemany(
                "INSERT INTO traffic (hour, idx, kind, count) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (hour, idx, kind) DO UPDATE SET count = count + excluded.count",
                [(h, i, k, n) for (h, i, k), n in counts.items()],
            )

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
        with self._lock:
            total = self._db.execute(f"SELECT count(*) FROM entries{clause}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT * FROM entries{clause} ORDER BY last_requested DESC, id DESC "
                "LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return [self._entry_json(row) for row in rows], int(total)

    def entry(self, entry_id: int) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
            if row is None:
                return None
            entry = self._entry_json(row)
            entry["clients"] = [
                {"client": c["client"], "count": c["count"], "last_seen": iso(c["last_seen"])}
                for c in self._db.execute(
                    "SELECT * FROM clients WHERE entry_id = ? ORDER BY last_seen DESC LIMIT ?",
                    (entry_id, MAX_CLIENTS_SHOWN),
                )
            ]
            entry["history"] = self.audit(entry_id=entry_id)
            return entry

    def _entry_json(self, row: sqlite3.Row) -> dict[str, Any]:
        clients = [
            c[0]
            for c in self._db.execute(
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
        """Active rules (not removed), oldest first."""
        where, args = ["removed_at IS NULL"], []
        if kind:
            where.append("kind = ?")
            args.append(kind)
        if index:
            where.append("idx = ?")
            args.append(index)
        with self._lock:
            rows = self._db.execute(
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
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'rules'").fetchone()
        return int(row[0]) if row else 0

    def audit(
        self, *, limit: int = 100, offset: int = 0, entry_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Audit records, newest first; with ``entry_id``, the ones about that entry."""
        where, args = "", []
        if entry_id is not None:
            where = " WHERE json_extract(detail, '$.entry') = ? OR ? IN (SELECT value FROM json_each(detail, '$.entries'))"
            args = [entry_id, entry_id]
        with self._lock:
            rows = self._db.execute(
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
        with self._lock:
            for row in self._db.execute(
                "SELECT hour, kind, sum(count) AS n FROM traffic WHERE hour >= ? GROUP BY hour, kind",
                (first,),
            ):
                if row["hour"] in series and row["kind"] in series[row["hour"]]:
                    series[row["hour"]][row["kind"]] = row["n"]
            states = {s: 0 for s in STATES}
            for row in self._db.execute("SELECT state, count(*) FROM entries GROUP BY state"):
                states[row[0]] = row[1]
            top_held = [
                {"index": r["idx"], "project": r["project"], "requests": r["n"], "entries": r["e"]}
                for r in self._db.execute(
                    "SELECT idx, project, sum(request_count) AS n, count(*) AS e FROM entries "
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

        A new decision on the same target replaces the previous one. Entries
        the target covers take the new state.
        """
        if kind not in ("release", "reject"):
            raise ReviewError(f"unknown decision {kind!r}; choose release or reject")
        if not reason.strip():
            raise ReviewError(f"a {kind} needs a reason")
        check_reason(reason)
        if until is not None and until <= now:
            raise ReviewError(f"'until' {until.isoformat()} is not in the future")
        name = canonicalize_name(project)
        version = normalize_version(version) if version else None
        stamp = now.timestamp()
        target = " ".join(p for p in (name, version, file) if p)
        with self._write() as db:
            db.execute(
                "UPDATE rules SET removed_at = ?, removed_by = ? WHERE removed_at IS NULL "
                "AND kind IN ('release', 'reject') AND idx = ? AND project = ? "
                "AND version IS ? AND file IS ?",
                (stamp, actor, index, name, version, file),
            )
            rule_id = db.execute(
                "INSERT INTO rules (idx, kind, project, version, file, until, reason, actor, "
                "created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (index, kind, name, version, file, _ts(until), reason, actor, stamp),
            ).lastrowid
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
                "until": iso(_ts(until)),
                "entry": entry_id,
                "entries": covered,
            }
            self._audit(db, stamp, actor, kind, index, target, reason, detail)
            self._bump(db)
        return next(r for r in self.rules() if r["id"] == rule_id)

    def decide_entry(
        self, kind: str, entry_id: int, *, scope: str = "file", **fields: Any
    ) -> dict[str, Any]:
        """``decide`` on the file, version or project of an entry."""
        entry = self.entry(entry_id)
        if entry is None:
            raise NotFound(f"no quarantine entry {entry_id}")
        if scope not in SCOPES:
            raise ReviewError(f"unknown scope {scope!r}; choose file, version or project")
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
            index=entry["index"],
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

        An allow rule that matches every project name (``*``) lifts every policy from
        every project; it is refused unless ``everything`` confirms it.
        """
        if kind not in ("allow", "deny"):
            raise ReviewError(f"unknown list {kind!r}; choose allow or deny")
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
                raise Conflict(f"{parsed.text!r} is already on the {kind} list of index {index!r}")
            rule_id = db.execute(
                "INSERT INTO rules (idx, kind, project, rule, reason, actor, created_at) "
                "VALUES (?,?,?,?,?,?,?)",
                (index, kind, parsed.pattern, parsed.text, reason, actor, stamp),
            ).lastrowid
            covered = [
                row["id"]
                for row in db.execute(
                    "SELECT id, project, version FROM entries WHERE idx = ? AND state IN "
                    "('quarantined', 'expired', 'released', 'rejected')",
                    (index,),
                )
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
                {"rule": rule_id, "entries": covered},
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
                raise NotFound(f"{text!r} is not on the {kind} list of index {index!r}")
            db.execute(
                "UPDATE rules SET removed_at = ?, removed_by = ? WHERE id = ?",
                (stamp, actor, row["id"]),
            )
            # What the rule released or rejected is held again, until decided otherwise.
            parsed = parse_rule(text)
            reopened = [
                entry["id"]
                for entry in db.execute(
                    "SELECT id, project, version FROM entries WHERE idx = ? AND state = ?",
                    (index, "released" if kind == "allow" else "rejected"),
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
                {"rule": row["id"], "entries": reopened},
            )
            self._bump(db)
        return {"removed": row["id"], "index": index, "rule": text, "kind": kind}

    def _covered(
        self,
        db: sqlite3.Connection,
        index: str,
        project: str,
        version: str | None,
        file: str | None,
    ) -> list[int]:
        query = "SELECT id FROM entries WHERE idx = ? AND project = ?"
        args: list[Any] = [index, project]
        if file:
            query += " AND file = ?"
            args.append(file)
        elif version:
            query += " AND version = ?"
            args.append(version)
        return [row[0] for row in db.execute(query, args)]

    def _set_state(
        self,
        db: sqlite3.Connection,
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
        db: sqlite3.Connection,
        stamp: float,
        actor: str,
        action: str,
        index: str,
        target: str,
        reason: str,
        detail: dict[str, Any],
    ) -> None:
        db.execute(
            "INSERT INTO audit (time, actor, action, idx, target, reason, detail) "
            "VALUES (?,?,?,?,?,?,?)",
            (stamp, actor, action, index, target, reason, orjson.dumps(detail).decode()),
        )
        if self._audit_log is not None:
            line = {
                "time": iso(stamp),
                "actor": actor,
                "action": action,
                "index": index,
                "target": target,
                "reason": reason,
                **detail,
            }
            with self._audit_log.open("ab") as handle:
                handle.write(orjson.dumps(line) + b"\n")

    def _bump(self, db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('rules', 1) "
            "ON CONFLICT (key) DO UPDATE SET value = value + 1"
        )
