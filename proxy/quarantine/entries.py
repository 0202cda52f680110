"""The queue: entries (one per held version, or project, per index and policy) and the
files each holds.

Holds arrive per request (``record``): a request that meets several files of one
version under one policy touches their entry once. A page view counts as one
*view* of each entry it withholds; a request for a file (or its metadata) counts
as a *request* of that file and of its entry; a hold of the project itself
counts a view when its page was refused and a request when one of its files was.
Reviewer blocks (policy ``review``) are counted on the entries they stand for
and create none.

States: an entry is ``quarantined`` while any of its files is (a project-level
entry: until decided); a decision about a version or a project sets the state
of its entries and of all their files; a decision about one file sets that
file's state, and its entry's once no file of it is left held. Age holds come
of age by themselves (``expire``). A file held again after it was released or
expired is held anew, and its entry with it; so is a project-level entry.

Writes take the caller's transaction (``Tx``); reads open their own. Blocking.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from pipgate.policies.rules import ProjectRule
from pipgate.proxy.models import version_of
from pipgate.proxy.quarantine.records import (
    ALL_INDEXES,
    REVIEW,
    STATES,
    AuditRecord,
    ClientCount,
    Entry,
    EntryDetail,
    EntryPage,
    EntryQuery,
    HeldFile,
    Hold,
    TopHeld,
    from_timestamp,
    timestamp,
    valid_id,
)
from pipgate.proxy.storage.sql import Database, Tx

#: Clients listed with an entry (most frequent first), and on its detail.
TOP_CLIENTS = 5
MAX_CLIENTS_SHOWN = 50
#: When a group's files leave the queue, the group takes the state of the last one.
_OPEN = ("released", "expired")


def version_key(filename: str | None) -> str:
    """The version a held file is grouped under ('' for the project, or an unknown one)."""
    version = version_of(filename) if filename else None
    return str(version) if version is not None else ""


class EntryRepository:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._greatest = database.dialect.greatest

    # -- intake ----------------------------------------------------------------------------

    def record(self, tx: Tx, requests: Iterable[Sequence[Hold]]) -> list[int]:
        """Write the holds of each request; returns the ids of the entries this created."""
        created: list[int] = []
        for holds in requests:
            # The entries this request touched, with the latest hold of their own policy.
            touched: dict[int, Hold | None] = {}
            for hold in holds:
                entry_id = self._record_one(tx, hold, touched)
                if entry_id is not None:
                    created.append(entry_id)
            for entry_id, latest in touched.items():
                if latest is not None:
                    self._update_entry(tx, entry_id, latest)
        return created

    def _record_one(self, tx: Tx, hold: Hold, touched: dict[int, Hold | None]) -> int | None:
        when = hold.when.timestamp()
        version = version_key(hold.file)
        if hold.policy == REVIEW:
            rows = tx.execute(
                "SELECT id FROM entries WHERE idx = ? AND project = ? AND version = ?",
                (hold.index, hold.project, version),
            ).fetchall()
            for row in rows:
                if hold.file is None or self._file_id(tx, row["id"], hold.file) is not None:
                    self._count(tx, row["id"], hold, when, touched, policy=False)
            return None
        row = tx.execute(
            "SELECT id, state, changed_at FROM entries "
            "WHERE idx = ? AND project = ? AND version = ? AND policy = ?",
            (hold.index, hold.project, version, hold.policy),
        ).fetchone()
        created = None
        if row is None:
            entry_id = created = int(
                tx.execute(
                    "INSERT INTO entries (idx, project, version, policy, action, reason, "
                    "available_at, first_requested, last_requested) VALUES (?,?,?,?,?,?,?,?,?) "
                    "RETURNING id",
                    (
                        hold.index,
                        hold.project,
                        version,
                        hold.policy,
                        hold.action,
                        hold.reason,
                        timestamp(hold.available_at),
                        when,
                        when,
                    ),
                ).fetchone()[0]
            )
            state = "quarantined"
        else:
            entry_id, state = int(row["id"]), row["state"]
        if hold.file is not None:
            reopen = self._hold_file(tx, entry_id, hold, when) and state != "quarantined"
        else:
            reopen = state in _OPEN and (row["changed_at"] is None or when > row["changed_at"])
        if reopen:
            tx.execute(
                "UPDATE entries SET state = 'quarantined', until = NULL WHERE id = ?", (entry_id,)
            )
        self._count(tx, entry_id, hold, when, touched, policy=True)
        return created

    def _file_id(self, tx: Tx, entry_id: int, file: str) -> int | None:
        row = tx.execute(
            "SELECT id FROM entry_files WHERE entry_id = ? AND file = ?", (entry_id, file)
        ).fetchone()
        return None if row is None else int(row[0])

    def _hold_file(self, tx: Tx, entry_id: int, hold: Hold, when: float) -> bool:
        """Insert or update the file's row; true when it is held anew (new, or reopened)."""
        row = tx.execute(
            "SELECT id, state, changed_at FROM entry_files WHERE entry_id = ? AND file = ?",
            (entry_id, hold.file),
        ).fetchone()
        available_at = timestamp(hold.available_at)
        if row is None:
            tx.execute(
                "INSERT INTO entry_files (entry_id, file, reason, available_at, first_held) "
                "VALUES (?,?,?,?,?)",
                (entry_id, hold.file, hold.reason, available_at, when),
            )
            return True
        reopen = row["state"] in _OPEN and (row["changed_at"] is None or when > row["changed_at"])
        tx.execute(
            "UPDATE entry_files SET reason = ?, available_at = ?"
            + (", state = 'quarantined'" if reopen else "")
            + " WHERE id = ?",
            (hold.reason, available_at, row["id"]),
        )
        return reopen

    def _update_entry(self, tx: Tx, entry_id: int, hold: Hold) -> None:
        """The entry's action, reason and when it comes of age, after a request's holds."""
        if hold.file is None:
            tx.execute(
                "UPDATE entries SET action = ?, reason = ?, available_at = ? WHERE id = ?",
                (hold.action, hold.reason, timestamp(hold.available_at), entry_id),
            )
            return
        # When every file came of age; unknown for one file is unknown for the version.
        tx.execute(
            "UPDATE entries SET action = ?, reason = ?, available_at = (SELECT CASE WHEN "
            "count(*) = count(available_at) THEN max(available_at) END FROM entry_files "
            "WHERE entry_id = ?) WHERE id = ?",
            (hold.action, hold.reason, entry_id, entry_id),
        )

    def _count(
        self,
        tx: Tx,
        entry_id: int,
        hold: Hold,
        when: float,
        touched: dict[int, Hold | None],
        *,
        policy: bool,
    ) -> None:
        """One request's share: a view once per entry, a request per file asked for.

        ``policy``: the hold is the entry's own (not a reviewer's block): its action and
        reason become the entry's once the request is written.
        """
        first = entry_id not in touched
        if policy:
            touched[entry_id] = hold
        elif first:
            touched[entry_id] = None
        if not hold.page:
            tx.execute("UPDATE entries SET requests = requests + 1 WHERE id = ?", (entry_id,))
            if hold.file is not None:
                tx.execute(
                    "UPDATE entry_files SET requests = requests + 1, last_requested = "
                    f"{self._greatest}(coalesce(last_requested, 0), ?) "
                    "WHERE entry_id = ? AND file = ?",
                    (when, entry_id, hold.file),
                )
        if not first:
            return
        tx.execute(
            f"UPDATE entries SET last_requested = {self._greatest}(last_requested, ?), "
            f"views = views + ? WHERE id = ?",
            (when, 1 if hold.page else 0, entry_id),
        )
        tx.execute(
            "INSERT INTO clients (entry_id, client, count, last_seen) VALUES (?, ?, 1, ?) "
            "ON CONFLICT (entry_id, client) DO UPDATE SET count = clients.count + 1, "
            f"last_seen = {self._greatest}(clients.last_seen, excluded.last_seen)",
            (entry_id, hold.client, when),
        )

    def expire(self, tx: Tx, now: float) -> int:
        """Mark age holds whose time has come as ``expired`` (files, then the entries with
        none left held); returns how many entries expired."""
        tx.execute(
            "UPDATE entry_files SET state = 'expired', changed_at = available_at "
            "WHERE state = 'quarantined' AND available_at IS NOT NULL AND available_at <= ?",
            (now,),
        )
        cursor = tx.execute(
            "UPDATE entries SET state = 'expired', changed_by = 'pipgate', "
            "change_reason = 'came of age', changed_at = coalesce((SELECT max(f.changed_at) "
            "FROM entry_files f WHERE f.entry_id = entries.id AND f.state = 'expired'), "
            "available_at) "
            "WHERE state = 'quarantined' AND NOT EXISTS (SELECT 1 FROM entry_files f "
            "WHERE f.entry_id = entries.id AND f.state = 'quarantined') AND (EXISTS "
            "(SELECT 1 FROM entry_files f WHERE f.entry_id = entries.id AND f.state = 'expired') "
            "OR (available_at IS NOT NULL AND available_at <= ?))",
            (now,),
        )
        return int(cursor.rowcount)

    # -- decisions -------------------------------------------------------------------------

    def decide(
        self,
        tx: Tx,
        *,
        index: str,
        project: str,
        version: str | None,
        file: str | None,
        state: str,
        actor: str,
        stamp: float,
        reason: str,
        until: float | None,
    ) -> list[int]:
        """Put what a release or reject covers in ``state``; returns the entries it touched.

        ``index`` is one index or ``ALL_INDEXES``; ``file`` names one file (of any
        version), else ``version`` one version, else the whole project.
        """
        scoped, args = ("", []) if index == ALL_INDEXES else (" AND e.idx = ?", [index])
        if not file:
            where, more = ("AND e.version = ?", [version]) if version else ("", [])
            ids = [
                int(row[0])
                for row in tx.execute(
                    f"SELECT e.id FROM entries e WHERE e.project = ?{scoped} {where}",
                    [project, *args, *more],
                )
            ]
            self.set_state(tx, ids, state, actor, stamp, reason, until)
            return ids
        rows = tx.execute(
            "SELECT f.id, f.entry_id FROM entry_files f JOIN entries e ON e.id = f.entry_id "
            f"WHERE e.project = ? AND f.file = ?{scoped}",
            [project, file, *args],
        ).fetchall()
        tx.executemany(
            "UPDATE entry_files SET state = ?, changed_at = ? WHERE id = ?",
            [(state, stamp, row["id"]) for row in rows],
        )
        ids = sorted({int(row["entry_id"]) for row in rows})
        done = [
            entry_id
            for entry_id in ids
            if tx.execute(
                "SELECT 1 FROM entry_files WHERE entry_id = ? AND state = 'quarantined'",
                (entry_id,),
            ).fetchone()
            is None
        ]
        self._set_entries(tx, done, state, actor, stamp, reason, until)
        return ids

    def matching(
        self, tx: Tx, index: str, rule: ProjectRule, state: str | None = None
    ) -> list[int]:
        """Entries of ``index`` (every index for ``ALL_INDEXES``) a list rule matches,
        optionally only those in ``state``."""
        where, args = [], []
        if index != ALL_INDEXES:
            where.append("idx = ?")
            args.append(index)
        if state:
            where.append("state = ?")
            args.append(state)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        rows = tx.execute(f"SELECT id, project, version FROM entries{clause}", args).fetchall()
        return [
            int(row["id"])
            for row in rows
            if rule.matches(row["project"], Version(row["version"]) if row["version"] else None)
        ]

    def set_state(
        self,
        tx: Tx,
        ids: list[int],
        state: str,
        actor: str,
        stamp: float,
        reason: str,
        until: float | None,
        *,
        files_in: str | None = None,
    ) -> None:
        """Put entries and their files (only those in ``files_in``, if given) in ``state``."""
        self._set_entries(tx, ids, state, actor, stamp, reason, until)
        only = "" if files_in is None else " AND state = ?"
        tx.executemany(
            f"UPDATE entry_files SET state = ?, changed_at = ? WHERE entry_id = ?{only}",
            [(state, stamp, i, *([] if files_in is None else [files_in])) for i in ids],
        )

    def _set_entries(
        self,
        tx: Tx,
        ids: list[int],
        state: str,
        actor: str,
        stamp: float,
        reason: str,
        until: float | None,
    ) -> None:
        tx.executemany(
            "UPDATE entries SET state = ?, changed_by = ?, changed_at = ?, change_reason = ?, "
            "until = ? WHERE id = ?",
            [(state, actor, stamp, reason, until, i) for i in ids],
        )

    # -- reading ---------------------------------------------------------------------------

    def page(self, query: EntryQuery) -> EntryPage:
        """A page of entries, most recently requested first, and the total matching."""
        where, args = [], []
        for column, value in (
            ("state", query.state),
            ("idx", query.index),
            ("policy", query.policy),
        ):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if query.project:
            where.append("project LIKE ?")
            args.append(f"%{canonicalize_name(query.project)}%")
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        with self._database.read() as db:
            total = db.execute(f"SELECT count(*) FROM entries{clause}", args).fetchone()[0]
            rows = db.execute(
                f"SELECT * FROM entries{clause} ORDER BY last_requested DESC, id DESC "
                "LIMIT ? OFFSET ?",
                [*args, query.limit, query.offset],
            ).fetchall()
            entries = _entries(db, rows)
        return EntryPage(tuple(entries), int(total), query.limit, query.offset)

    def get_many(self, ids: Sequence[int]) -> list[Entry]:
        """The entries of ``ids``, in that order (missing ones left out)."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        with self._database.read() as db:
            rows = db.execute(f"SELECT * FROM entries WHERE id IN ({marks})", list(ids))
            found = {entry.id: entry for entry in _entries(db, rows.fetchall())}
        return [found[i] for i in ids if i in found]

    def get(self, entry_id: int) -> Entry | None:
        if not valid_id(entry_id):
            return None
        found = self.get_many([entry_id])
        return found[0] if found else None

    def detail(self, entry: Entry, history: Sequence[AuditRecord]) -> EntryDetail:
        """``entry`` with everyone who asked for it and ``history``."""
        with self._database.read() as db:
            clients = tuple(
                ClientCount(c["client"], c["count"], from_timestamp(c["last_seen"]))  # type: ignore[arg-type]
                for c in db.execute(
                    "SELECT * FROM clients WHERE entry_id = ? ORDER BY last_seen DESC LIMIT ?",
                    (entry.id, MAX_CLIENTS_SHOWN),
                )
            )
        fields = {name: getattr(entry, name) for name in Entry.__dataclass_fields__}
        return EntryDetail(**fields, clients=clients, history=tuple(history))

    def states(self, db: Tx) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for row in db.execute("SELECT state, count(*) FROM entries GROUP BY state"):
            counts[row[0]] = int(row[1])
        return counts

    def top_held(self, db: Tx, top: int) -> list[TopHeld]:
        """The held projects asked for most (views and requests)."""
        rows = db.execute(
            "SELECT idx, project, CAST(sum(views) AS BIGINT) AS v, "
            "CAST(sum(requests) AS BIGINT) AS r, count(*) AS e FROM entries "
            "WHERE state = 'quarantined' GROUP BY idx, project "
            "ORDER BY sum(views) + sum(requests) DESC, project LIMIT ?",
            (top,),
        )
        return [
            TopHeld(r["idx"], r["project"], int(r["v"]), int(r["r"]), int(r["e"])) for r in rows
        ]


def _entries(db: Tx, rows: Sequence[Any]) -> list[Entry]:
    """Entries of ``rows`` with their files and top clients (two queries for all)."""
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    marks = ",".join("?" * len(ids))
    files: dict[int, list[HeldFile]] = defaultdict(list)
    for f in db.execute(
        f"SELECT * FROM entry_files WHERE entry_id IN ({marks}) ORDER BY file", ids
    ):
        files[f["entry_id"]].append(
            HeldFile(
                file=f["file"],
                reason=f["reason"],
                available_at=from_timestamp(f["available_at"]),
                requests=int(f["requests"]),
                first_held=from_timestamp(f["first_held"]),  # type: ignore[arg-type]
                last_requested=from_timestamp(f["last_requested"]),
                state=f["state"],
            )
        )
    clients: dict[int, list[str]] = defaultdict(list)
    for c in db.execute(
        f"SELECT entry_id, client FROM clients WHERE entry_id IN ({marks}) "
        "ORDER BY count DESC, last_seen DESC",
        ids,
    ):
        if len(clients[c["entry_id"]]) < TOP_CLIENTS:
            clients[c["entry_id"]].append(c["client"])
    return [
        Entry(
            id=int(row["id"]),
            index=row["idx"],
            project=row["project"],
            version=row["version"] or None,
            policy=row["policy"],
            action=row["action"],
            reason=row["reason"],
            available_at=from_timestamp(row["available_at"]),
            first_requested=from_timestamp(row["first_requested"]),  # type: ignore[arg-type]
            last_requested=from_timestamp(row["last_requested"]),  # type: ignore[arg-type]
            views=int(row["views"]),
            requests=int(row["requests"]),
            files=tuple(files[row["id"]]),
            top_clients=tuple(clients[row["id"]]),
            state=row["state"],
            changed_by=row["changed_by"],
            changed_at=from_timestamp(row["changed_at"]),
            change_reason=row["change_reason"],
            until=from_timestamp(row["until"]),
        )
        for row in rows
    ]
