"""The review store: the review tables of one database, as small repositories.

    entries   the queue (``entries.py``): held versions and projects, their files
    rules     reviewer decisions and the runtime lists (``rules.py``)
    audit     the append-only audit log and its ``audit.jsonl`` mirror (``audit.py``)
    traffic   hourly counts and aggregated holds (``traffic.py``)

Sessions (``sessions.py``) keep their table in the same database. The database is
a SQLite file under the data directory (migrated here on open, see
``migrations``) or PostgreSQL (migrated by ``storage.schema.migrate`` before use).

``write()`` is one transaction across repositories: an action's rule, entry
states and audit record commit together or not at all. A write the database
refuses (disk full, read-only, PostgreSQL down) raises ``StoreUnavailable`` and
leaves nothing behind; the audit mirror is written only after COMMIT.

Every method blocks: call it from a thread, never from the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path

from pipgate.proxy.errors import StoreUnavailable
from pipgate.proxy.quarantine import migrations
from pipgate.proxy.quarantine.audit import AuditLog
from pipgate.proxy.quarantine.entries import EntryRepository
from pipgate.proxy.quarantine.records import Entry, Hold, Stats
from pipgate.proxy.quarantine.rules import RuleRepository
from pipgate.proxy.quarantine.traffic import TrafficRepository
from pipgate.proxy.storage.sql import Database, SQLiteDatabase, Tx

log = logging.getLogger("pipgate.quarantine")


class QuarantineStore:
    def __init__(self, database: Path | Database, *, audit_log: Path | None = None) -> None:
        """``database``: a SQLite file (created and migrated here) or a ``Database``;
        ``audit_log``: where the audit mirror is written (none: not mirrored)."""
        if isinstance(database, Path):
            database = SQLiteDatabase(database)
            migrations.migrate(database)
        self.database = database
        self.entries = EntryRepository(database)
        self.rules = RuleRepository(database)
        self.audit = AuditLog(database, audit_log)
        self.traffic = TrafficRepository(database)
        try:
            self.audit.mirror()
        except StoreUnavailable as exc:  # PostgreSQL down at start: the next write catches up
            log.warning("audit.jsonl not brought up to date: %s", exc)

    def close(self) -> None:
        self.database.close()

    def schema_version(self) -> int:
        with self.database.read() as db:
            return migrations.schema_version(db)  # type: ignore[arg-type]

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """One write transaction; new audit records reach ``audit.jsonl`` after COMMIT."""
        with self.database.write() as tx:
            yield tx
        if self.audit.pending:
            self.audit.mirror()

    def read(self) -> AbstractContextManager[Tx]:
        return self.database.read()

    # -- what the intake writes ------------------------------------------------------------

    def record(self, requests: Iterable[Sequence[Hold]]) -> list[Entry]:
        """Write the holds of each request; returns the entries this created."""
        with self.write() as tx:
            created = self.entries.record(tx, requests)
        return self.entries.get_many(created)

    def add_counts(
        self,
        traffic: Mapping[tuple[int, str, str], int],
        aggregates: Mapping[tuple[int, str, str, str], tuple[int, list[str], str]],
    ) -> None:
        """Add hourly traffic and aggregated holds (see ``traffic``) in one transaction."""
        if not traffic and not aggregates:
            return
        with self.write() as tx:
            self.traffic.add_traffic(tx, traffic)
            self.traffic.add_aggregates(tx, aggregates)

    def expire(self, now: datetime) -> int:
        """Mark age holds whose time has come as expired; returns how many entries."""
        with self.write() as tx:
            return self.entries.expire(tx, now.timestamp())

    def stats(self, now: datetime, *, hours: int = 48, top: int = 10) -> Stats:
        """Hourly counts up to ``now``, entries by state and the held projects asked most."""
        with self.read() as db:
            return Stats(
                hours=self.traffic.hourly(db, now, hours),
                states=self.entries.states(db),
                top_held=tuple(self.entries.top_held(db, top)),
            )
