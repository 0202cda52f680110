"""The audit log: every reviewer action, append-only, mirrored to ``audit.jsonl``.

The ``audit`` table refuses updates and deletes (a trigger on either engine).
Records are appended inside the action's own transaction; the JSONL mirror is
written only after COMMIT (``mirror``), so a line never describes a transaction
that rolled back. A line the disk kept out is written by the next call; the
file is locked, so several processes sharing the data directory (the CLI's
``--data-dir`` mode) write each record once.

Methods that read or mirror block: call them from a thread.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from pathlib import Path
from typing import Any

import orjson

from pipgate.proxy.quarantine.records import AuditRecord, from_timestamp, utc_text, valid_id
from pipgate.proxy.storage.sql import Database, Tx

log = logging.getLogger("pipgate.quarantine")


class AuditLog:
    def __init__(self, database: Database, mirror_path: Path | None) -> None:
        self._database = database
        self._mirror_path = mirror_path
        self._lock = threading.Lock()
        #: Records may be missing from the mirror (see ``mirror``).
        self.pending = True

    def append(
        self,
        tx: Tx,
        *,
        stamp: float,
        actor: str,
        action: str,
        index: str,
        target: str,
        reason: str,
        detail: dict[str, Any],
    ) -> None:
        """A record, in the caller's transaction (mirrored after its COMMIT)."""
        self.pending = True
        tx.execute(
            "INSERT INTO audit (time, actor, action, idx, target, reason, detail) "
            "VALUES (?,?,?,?,?,?,?)",
            (stamp, actor, action, index, target, reason, orjson.dumps(detail).decode()),
        )

    def records(self, *, limit: int = 100, offset: int = 0) -> list[AuditRecord]:
        """Records, newest first."""
        with self._database.read() as db:
            rows = db.execute(
                "SELECT * FROM audit ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset)
            ).fetchall()
        return [_record(row) for row in rows]

    def about_entry(self, entry_id: int, *, limit: int = 100) -> list[AuditRecord]:
        """The records about one entry (or about the ids its files had before they were
        grouped into it), newest first."""
        if not valid_id(entry_id):
            return []
        where = self._database.dialect.audit_about_entry
        with self._database.read() as db:
            rows = db.execute(
                f"SELECT * FROM audit WHERE {where} ORDER BY id DESC LIMIT ?",
                (entry_id, entry_id, entry_id, entry_id, limit),
            ).fetchall()
        return [_record(row) for row in rows]

    def mirror(self) -> None:
        """Append the committed records ``audit.jsonl`` lacks (a failure is logged)."""
        if self._mirror_path is None:
            return
        try:
            with (
                self._lock,
                self._mirror_path.open("a+b") as handle,
                self._database.read() as db,
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
                    handle.write(b"".join(orjson.dumps(_line(r)) + b"\n" for r in rows))
                    handle.flush()
                self.pending = False
        except OSError as exc:
            log.warning(
                "audit.jsonl is behind the audit table (%s); the next write catches it up", exc
            )


def _record(row: Any) -> AuditRecord:
    return AuditRecord(
        id=row["id"],
        time=from_timestamp(row["time"]),  # type: ignore[arg-type]
        actor=row["actor"],
        action=row["action"],
        index=row["idx"],
        target=row["target"],
        reason=row["reason"],
        detail=orjson.loads(row["detail"]),
    )


def _line(row: Any) -> dict[str, Any]:
    """A mirror line: the record's fields flat, its detail's keys beside them."""
    return {
        "audit_id": row["id"],
        "time": utc_text(from_timestamp(row["time"])),  # type: ignore[arg-type]
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
