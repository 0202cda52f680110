"""A queue of one entry per file, from before entries were grouped by version, is migrated
on SQLite and on PostgreSQL and keeps its meaning: states, counts, clients, history, ids."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pipgate.proxy.quarantine import migrations
from pipgate.proxy.quarantine.records import EntryQuery
from pipgate.proxy.quarantine.review import Review
from pipgate.proxy.storage import schema
from pipgate.proxy.storage.postgres import PostgresDatabase
from tests.support.clocks import Clock
from tests.support.review_records import NOW, SQUAT, hold, record

#: (id, project, file, version, policy, state, request_count, changed_at). Ids 1, 2 and 6
#: become one entry (id 1); id 5 was handed out once and rolled back.
OLD_ENTRIES = [
    (1, "demo", "demo-1.0-py3-none-any.whl", "1.0", "release-age", "quarantined", 5, None),
    (2, "demo", "demo-1.0.tar.gz", "1.0", "release-age", "released", 3, 100.0),
    (3, "demo", "demo-2.0-py3-none-any.whl", "2.0", "release-age", "released", 2, 90.0),
    (4, "squat", "", None, "typosquat", "rejected", 7, 50.0),
    (6, "demo", "demo-1.0-cp312-cp312-win_arm64.whl", "1.0", "release-age", "quarantined", 4, None),
]
OLD_CLIENTS = [(1, "10.0.0.1", 2, 10.0), (2, "10.0.0.1", 1, 20.0), (6, "10.0.0.2", 1, 30.0)]
#: A file-level release of entry 2 (the sdist), as the old code recorded it.
OLD_AUDIT = (100.0, "alice", "release", "default", "demo 1.0 demo-1.0.tar.gz", "ok")
OLD_DETAIL = '{"rule": 1, "scope": "file", "entry": 2, "entries": [2]}'


def fill(tx: object, overriding: str = "") -> None:
    execute = tx.execute  # type: ignore[attr-defined]
    for id_, project, file, version, policy, state, count, changed in OLD_ENTRIES:
        execute(
            "INSERT INTO entries (id, idx, project, file, version, policy, action, reason, "
            "available_at, first_requested, last_requested, request_count, state, changed_by, "
            f"changed_at) {overriding} VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                id_,
                "default",
                project,
                file,
                version,
                policy,
                "quarantine",
                f"reason of {id_}",
                None,
                float(id_),
                float(id_),
                count,
                state,
                None if changed is None else "alice",
                changed,
            ),
        )
    for row in OLD_CLIENTS:
        execute("INSERT INTO clients (entry_id, client, count, last_seen) VALUES (?,?,?,?)", row)
    execute(
        "INSERT INTO audit (time, actor, action, idx, target, reason, detail) "
        "VALUES (?,?,?,?,?,?,?)",
        (*OLD_AUDIT, OLD_DETAIL),
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Review]:
    """A review whose store held ``OLD_ENTRIES`` before it was migrated."""
    database = None
    if request.param == "sqlite":
        db = sqlite3.connect(tmp_path / "quarantine.sqlite3")
        db.executescript(migrations.SCHEMA_V1)
        fill(db)
        db.commit()
        db.close()
    else:
        url = request.getfixturevalue("postgres_schema_url")
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(schema._VERSION_TABLE)
            connection.execute(schema.MIGRATIONS[0].sql)
            connection.execute(
                "INSERT INTO schema_version (version, applied_by, min_reader) VALUES (1, 't', 1)"
            )
        database = PostgresDatabase(url)
        with database.write() as tx:
            fill(tx, "OVERRIDING SYSTEM VALUE")
        database.close()
        assert schema.migrate(url) == list(range(2, schema.SCHEMA_VERSION + 1))
        database = PostgresDatabase(url)
    review = Review(tmp_path, clock=Clock(NOW), database=database)
    yield review
    review.close()


def test_one_entry_per_file_becomes_one_per_version(migrated: Review) -> None:
    page = migrated.entries(EntryQuery(limit=10))
    by_id = {e.id: e for e in page.entries}
    assert sorted(by_id) == [1, 3, 4] and page.total == 3
    version = by_id[1]
    assert (version.project, version.version, version.state) == ("demo", "1.0", "quarantined")
    assert {f.file: f.state for f in version.files} == {
        "demo-1.0-py3-none-any.whl": "quarantined",
        "demo-1.0.tar.gz": "released",
        "demo-1.0-cp312-cp312-win_arm64.whl": "quarantined",
    }
    # Old counts mixed page views and downloads: the largest is kept as views.
    assert (version.views, version.requests) == (5, 0)
    assert version.reason == "reason of 6"  # the most recently requested file's
    project = by_id[4]
    assert (project.version, project.files, project.state, project.views) == (
        None,
        (),
        "rejected",
        7,
    )
    assert by_id[3].state == "released" and by_id[3].changed_by == "alice"


def test_clients_history_and_ids_are_kept(migrated: Review) -> None:
    detail = migrated.entry(1)
    assert [(c.client, c.count) for c in detail.clients] == [("10.0.0.2", 1), ("10.0.0.1", 3)]
    # The old record names entry 2 (now a file of entry 1): it is in entry 1's history.
    assert [(h.action, h.detail["entry"]) for h in detail.history] == [("release", 2)]
    assert migrated.entry(4).history == ()
    # No new entry takes an id an old one had (5 was handed out once, then rolled back).
    (created,) = record(migrated, hold(project="new", file=None, d=SQUAT))
    assert created.id > 6
    assert migrated.entry(created.id).history == ()
