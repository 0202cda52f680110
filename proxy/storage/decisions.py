"""The decision log of replicas: the ``decisions`` table in PostgreSQL.

``SharedDecisionLog`` is the ``DecisionSink`` of a replica with ``[storage]
database``: the same entries as ``decisions.jsonl`` (one row each), so the admin
API, the console and ``pipgate decisions tail`` on any replica read what every
replica decided. Repeats are thinned out per replica, as in the file.

Writing never slows or fails a request: ``record`` appends to a queue in memory,
and a writer thread inserts what is queued every ``interval`` seconds in one
transaction. While PostgreSQL refuses, the rows wait (the thread tries again,
waiting longer each time, up to ``MAX_BACKOFF``); at most ``max_pending`` wait, and
beyond that the oldest are dropped, counted (``dropped``, and ``on_error`` for the
metrics) and reported in the server log at most once a minute. Holds still reach
the quarantine queue, which has its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipgate.policies.decision import Decision
from pipgate.proxy.errors import StoreUnavailable
from pipgate.proxy.observe.decision_log import FIELDS, Repeats, decision_entry

if TYPE_CHECKING:
    from pipgate.proxy.storage.postgres import PostgresDatabase

log = logging.getLogger("pipgate.decisions")

#: Entries kept in memory while PostgreSQL refuses them.
MAX_PENDING = 10_000
#: Longest wait between two attempts of the writer, in seconds.
MAX_BACKOFF = 30.0
#: Rows inserted in one transaction at most.
BATCH = 1000

_COLUMNS = ("time", "client", "index", "project", "file", "policy", "action", "mode", "reason")
_INSERT = (
    "INSERT INTO decisions (time, client, idx, project, file, policy, action, mode, reason, "
    "available_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: ``FIELDS`` as columns of the table.
_COLUMN_OF = {"index": "idx"}


def _row(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (*(entry[k] for k in _COLUMNS), entry.get("available_at"))


class SharedDecisionLog:
    def __init__(
        self,
        database: PostgresDatabase,
        *,
        repeat_after: float = 600.0,
        interval: float = 0.25,
        max_pending: int = MAX_PENDING,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self._database = database
        self._repeats = Repeats(repeat_after)
        self._interval = interval
        self._pending: deque[tuple[Any, ...]] = deque()
        self._max_pending = max_pending
        self._lock = threading.Lock()
        self._on_error = on_error or (lambda store: None)
        #: Entries dropped because PostgreSQL refused them for too long.
        self.dropped = 0
        self._reported = -60.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pipgate-decisions", daemon=True)
        self._thread.start()

    def record(
        self,
        *,
        index: str,
        project: str,
        file: str | None,
        decision: Decision,
        client: str,
        now: datetime,
        page: bool = False,
    ) -> bool:
        if not self._repeats.first(index, project, file, decision, client, page):
            return False
        entry = decision_entry(
            index=index, project=project, file=file, decision=decision, client=client, now=now
        )
        with self._lock:
            if len(self._pending) >= self._max_pending:
                self._pending.popleft()
                self._lost(1, "the queue is full")
            self._pending.append(_row(entry))
            if len(self._pending) >= BATCH:
                self._wake.set()
        return True

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        """Insert everything queued so far; raises ``StoreUnavailable`` (keeping it) if
        refused. Blocking."""
        while True:
            with self._lock:
                batch = [self._pending.popleft() for _ in range(min(BATCH, len(self._pending)))]
            if not batch:
                return
            try:
                with self._database.batch() as tx:
                    tx.executemany(_INSERT, batch)
            except StoreUnavailable:
                with self._lock:
                    self._pending.extendleft(reversed(batch))
                    excess = len(self._pending) - self._max_pending
                    for _ in range(max(excess, 0)):
                        self._pending.popleft()
                    if excess > 0:
                        self._lost(excess, "the queue is full")
                raise

    def _lost(self, count: int, why: str) -> None:
        self.dropped += count
        for _ in range(count):
            self._on_error("decisions")
        now = time.monotonic()
        if now - self._reported >= 60:
            self._reported = now
            log.error(
                "dropped decision log entries (%s: PostgreSQL %s has refused them); %d lost so far",
                why,
                self._database.label,
                self.dropped,
            )

    def _run(self) -> None:
        wait = self._interval
        while not self._stop.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            try:
                self.flush()
            except StoreUnavailable as exc:
                wait = min(max(wait * 2, 1.0), MAX_BACKOFF)
                log.warning(
                    "decision log: %d entries wait for PostgreSQL: %s", len(self._pending), exc
                )
            except Exception:  # a bug must not stop the writer for good
                log.exception("decision log writer failed")
                wait = MAX_BACKOFF
            else:
                wait = self._interval

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(5)
        try:
            self.flush()
        except StoreUnavailable as exc:
            log.error("%d decision log entries not written at shutdown: %s", self.pending, exc)

    def search(
        self, *, q: str | None = None, limit: int = 100, **fields: str | None
    ) -> list[dict[str, Any]]:
        return search_table(self._database, q=q, limit=limit, **fields)


def search_table(
    database: PostgresDatabase, *, q: str | None = None, limit: int = 100, **fields: str | None
) -> list[dict[str, Any]]:
    """``DecisionSink.search`` over the ``decisions`` table. Blocking."""
    where, params = [], []
    for name, value in fields.items():
        if value and name in FIELDS:
            where.append(f"{_COLUMN_OF.get(name, name)} = ?")
            params.append(value)
    needle = (q or "").strip()
    if needle:
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            "concat_ws(' ', time, client, idx, project, file, policy, action, mode, reason, "
            "available_at) ILIKE ?"
        )
        params.append(pattern)
    sql = "SELECT * FROM decisions"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC LIMIT ?"
    with database.read() as tx:
        rows = tx.execute(sql, (*params, limit)).fetchall()
    found = []
    for row in rows:
        entry = {k: row[_COLUMN_OF.get(k, k)] for k in _COLUMNS}
        entry["file"] = entry["file"] or None
        if row["available_at"]:
            entry["available_at"] = row["available_at"]
        found.append(entry)
    return found
