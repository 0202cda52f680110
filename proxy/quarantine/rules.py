"""Reviewer rules: releases and rejects, and the runtime allow and deny lists.

Scope of a rule: ``idx`` is an index name, or ``*`` (``ALL_INDEXES``) for every
index. A rule is never deleted: removing or replacing one stamps
``removed_at``. Every change bumps the rules revision (``meta``), which tells
every process sharing the store to reload (on PostgreSQL at once, through
``pg_notify``).

Writes take the caller's transaction (``Tx``); reads open their own. Blocking.
"""

from __future__ import annotations

from typing import Any

from pipgate.policies.rules import ProjectRule
from pipgate.proxy.errors import Conflict, NotFound
from pipgate.proxy.quarantine.entries import version_key
from pipgate.proxy.quarantine.records import ALL_INDEXES, Rule, from_timestamp
from pipgate.proxy.storage.sql import Database, Tx


def where(index: str) -> str:
    """How a message names the scope of a list: ``every index`` or ``index 'x'``."""
    return "every index" if index == ALL_INDEXES else f"index {index!r}"


class RuleRepository:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._dialect = database.dialect

    def add_decision(
        self,
        tx: Tx,
        *,
        kind: str,
        index: str,
        project: str,
        version: str | None,
        file: str | None,
        until: float | None,
        reason: str,
        actor: str,
        stamp: float,
    ) -> int:
        """A release or reject of a project, version or file. It replaces the earlier
        decisions on the same target and on the narrower ones inside it (a version's
        files; a project's versions and files) of the same index (a global one: of
        every index), so the newest decision about a target is the one in force."""
        scoped, args = ("", []) if index == ALL_INDEXES else ("AND idx = ? ", [index])
        rows = tx.execute(
            "SELECT id, version, file FROM rules WHERE removed_at IS NULL "
            f"AND kind IN ('release', 'reject') {scoped}AND project = ?",
            (*args, project),
        ).fetchall()
        replaced = [row["id"] for row in rows if _inside(row, version, file)]
        tx.executemany(
            "UPDATE rules SET removed_at = ?, removed_by = ? WHERE id = ?",
            [(stamp, actor, rule_id) for rule_id in replaced],
        )
        return int(
            tx.execute(
                "INSERT INTO rules (idx, kind, project, version, file, until, reason, actor, "
                "created_at) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
                (index, kind, project, version, file, until, reason, actor, stamp),
            ).fetchone()[0]
        )

    def add_list_rule(
        self,
        tx: Tx,
        *,
        kind: str,
        index: str,
        rule: ProjectRule,
        reason: str,
        actor: str,
        stamp: float,
    ) -> int:
        """Add ``rule`` to the ``allow`` or ``deny`` list of ``index``; ``Conflict`` if it is
        on it already."""
        if self._list_rule_id(tx, kind, index, rule.text) is not None:
            raise Conflict(f"{rule.text!r} is already on the {kind} list of {where(index)}")
        return int(
            tx.execute(
                "INSERT INTO rules (idx, kind, project, rule, reason, actor, created_at) "
                "VALUES (?,?,?,?,?,?,?) RETURNING id",
                (index, kind, rule.pattern, rule.text, reason, actor, stamp),
            ).fetchone()[0]
        )

    def remove_list_rule(
        self, tx: Tx, *, kind: str, index: str, text: str, actor: str, stamp: float
    ) -> int:
        """Remove ``text`` from a list; returns its id, ``NotFound`` if it is not on it."""
        rule_id = self._list_rule_id(tx, kind, index, text)
        if rule_id is None:
            raise NotFound(f"{text!r} is not on the {kind} list of {where(index)}")
        tx.execute(
            "UPDATE rules SET removed_at = ?, removed_by = ? WHERE id = ?", (stamp, actor, rule_id)
        )
        return rule_id

    def _list_rule_id(self, tx: Tx, kind: str, index: str, text: str) -> int | None:
        row = tx.execute(
            "SELECT id FROM rules WHERE removed_at IS NULL AND kind = ? AND idx = ? AND rule = ?",
            (kind, index, text),
        ).fetchone()
        return None if row is None else int(row[0])

    def get(self, tx: Tx, rule_id: int) -> Rule:
        return _rule(tx.execute("SELECT * FROM rules WHERE id = ?", (rule_id,)).fetchone())

    def active(self, *, kind: str | None = None, index: str | None = None) -> list[Rule]:
        """Rules in force (not removed), oldest first; ``index`` keeps those that apply
        there (its own and the global ones)."""
        clauses, args = ["removed_at IS NULL"], []
        if kind:
            clauses.append("kind = ?")
            args.append(kind)
        if index:
            clauses.append("idx IN (?, ?)")
            args += [index, ALL_INDEXES]
        with self._database.read() as db:
            rows = db.execute(
                f"SELECT * FROM rules WHERE {' AND '.join(clauses)} ORDER BY id", args
            ).fetchall()
        return [_rule(row) for row in rows]

    def revision(self) -> int:
        with self._database.read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'rules'").fetchone()
        return int(row[0]) if row else 0

    def bump(self, tx: Tx) -> None:
        """A new rules revision; on PostgreSQL every replica is told on COMMIT (``changes``)."""
        revision = tx.execute(
            "INSERT INTO meta (key, value) VALUES ('rules', 1) "
            "ON CONFLICT (key) DO UPDATE SET value = meta.value + 1 RETURNING value"
        ).fetchone()[0]
        if self._dialect.notify:
            tx.execute(self._dialect.notify, (f'{{"kind":"rules","revision":{int(revision)}}}',))


def _inside(row: Any, version: str | None, file: str | None) -> bool:
    """Whether the rule of ``row`` decides on ``version``/``file`` or something inside it."""
    if file:
        return bool(row["file"] == file)
    if version:
        return row["version"] == version or (
            bool(row["file"]) and version_key(row["file"]) == version
        )
    return True


def _rule(row: Any) -> Rule:
    return Rule(
        id=int(row["id"]),
        index=row["idx"],
        kind=row["kind"],
        project=row["project"],
        version=row["version"],
        file=row["file"],
        rule=row["rule"],
        until=from_timestamp(row["until"]),
        reason=row["reason"],
        actor=row["actor"],
        created_at=from_timestamp(row["created_at"]),  # type: ignore[arg-type]
    )
