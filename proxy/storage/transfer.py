"""``pipgate storage import --from-data-dir DIR``: a single-node data directory into the
shared stores, so scaling out loses no quarantine history.

Copied: the quarantine database (entries with their files, former ids and clients,
rules and runtime lists, the audit log, traffic, aggregates, console sessions and
the rules revision) with their ids, so audit records still name the right rules and
entries, and no id is handed out again; the decision
log (``decisions.jsonl``); and, with ``[storage] blobs``, every stored file and
METADATA (each hash checked again on the way) with the facts kept about them, and
the hosted indexes (``hosted/``: each uploaded file, hash checked, into the blob
store's ``hosted/`` prefix, its METADATA, and its upload record, oldest first; a
file an index already has in the database is left as it is there).

The target database must hold no quarantine history yet (this is a move, not a
merge: ids would collide). Stop the pipgate that uses the directory first.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from anyio import to_thread

from pipgate.proxy.config.settings import StorageSettings
from pipgate.proxy.errors import ReviewError
from pipgate.proxy.storage.blobs import file_key, metadata_key
from pipgate.proxy.storage.postgres import PostgresDatabase
from pipgate.proxy.storage.schema import migrate

#: Tables copied as they are, ids included (identity columns are set explicitly).
TABLES = (
    "entries",
    "entry_files",
    "entry_aliases",
    "clients",
    "rules",
    "audit",
    "traffic",
    "aggregates",
    "sessions",
)
IDENTITY = ("entries", "entry_files", "rules", "audit", "sessions")


def _copy_state(source: Path, database: PostgresDatabase) -> dict[str, int]:
    from pipgate.proxy.quarantine.review import DB_NAME
    from pipgate.proxy.quarantine.store import QuarantineStore

    counts: dict[str, int] = {}
    path = source / DB_NAME
    if not path.exists():
        return counts
    QuarantineStore(path).close()  # brings an older directory's schema up to date
    sqlite = sqlite3.connect(path)
    try:
        with database.write() as tx:
            for table in ("entries", "rules", "audit", "sessions"):
                if tx.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
                    raise ReviewError(
                        f"{database.label} already holds quarantine history (table {table}); "
                        "import into a database no replica has used yet"
                    )
            for table in TABLES:
                cursor = sqlite.execute(f"SELECT * FROM {table}")
                columns = [d[0] for d in cursor.description]
                rows = cursor.fetchall()
                if rows:
                    overriding = " OVERRIDING SYSTEM VALUE" if table in IDENTITY else ""
                    marks = ", ".join("?" * len(columns))
                    tx.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}){overriding} VALUES ({marks})",
                        rows,
                    )
                counts[table] = len(rows)
            for table in IDENTITY:
                # SQLite's high-water mark: ids of removed or rolled-back rows stay used.
                row = sqlite.execute(
                    "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)
                ).fetchone()
                tx.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"greatest(coalesce((SELECT max(id) FROM {table}), 0), ?) + 1, false)",
                    (int(row[0]) if row else 0,),
                )
            revision = sqlite.execute("SELECT value FROM meta WHERE key = 'rules'").fetchone()
            if revision:
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('rules', ?) ON CONFLICT (key) "
                    "DO UPDATE SET value = greatest(meta.value, excluded.value) + 1",
                    (int(revision[0]),),
                )
    finally:
        sqlite.close()
    return counts


def _copy_decisions(source: Path, database: PostgresDatabase) -> int:
    path = source / "decisions.jsonl"
    if not path.exists():
        return 0
    fields = ("time", "client", "index", "project", "file", "policy", "action", "mode", "reason")
    batch: list[tuple[Any, ...]] = []
    total = 0

    def flush() -> None:
        with database.write() as tx:
            tx.executemany(
                "INSERT INTO decisions (time, client, idx, project, file, policy, action, mode, "
                "reason, available_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                batch,
            )

    with path.open("rb") as handle:
        for line in handle:
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            values = [entry.get(k) or "" for k in fields]
            values[fields.index("file")] = entry.get("file") or None  # a project: no file
            batch.append((*values, entry.get("available_at")))
            if len(batch) >= 1000:
                flush()
                total += len(batch)
                batch.clear()
    if batch:
        flush()
        total += len(batch)
    return total


async def _copy_files(source: Path, storage: StorageSettings, database: PostgresDatabase) -> str:
    import diskcache

    from pipgate.proxy.storage.facts import FileFacts
    from pipgate.proxy.storage.s3 import S3Blobs

    assert storage.blobs is not None
    blobs = S3Blobs(storage.blobs)
    facts = FileFacts(database)
    cache = diskcache.Cache(str(source / "files"))
    files = metadata = skipped = 0
    try:
        for key in list(cache.iterkeys()):
            if not isinstance(key, str):
                continue
            kind, _, rest = key.partition(":")
            if kind == "file":
                handle = cache.get(key, read=True)
                if handle is None:
                    continue
                with handle:
                    digest = hashlib.sha256()
                    for chunk in iter(lambda h=handle: h.read(1 << 20), b""):
                        digest.update(chunk)
                    if digest.hexdigest() != rest:
                        skipped += 1
                        continue
                    size = handle.tell()
                    handle.seek(0)
                    await blobs.put_file(file_key(rest), handle, size=size)
                files += 1
            elif kind == "metadata":
                data = cache.get(key)
                if isinstance(data, bytes):
                    await to_thread.run_sync(blobs.put_bytes, metadata_key(rest), data)
                    fact = hashlib.sha256(data).hexdigest()
                    await to_thread.run_sync(facts.put, "metadata-sha256:" + rest, fact)
                    metadata += 1
            elif kind == "url":
                value = cache.get(key)
                if isinstance(value, str):
                    await to_thread.run_sync(facts.put, key, value)
    finally:
        cache.close()
    return f"{files} files and {metadata} metadata copied to {storage.blobs}" + (
        f"; {skipped} stored files did not match their hash and were left out" if skipped else ""
    )


def _copy_hosted(source: Path, storage: StorageSettings, database: PostgresDatabase) -> str:
    from pipgate.proxy.hosted.store import LocalHostedStore
    from pipgate.proxy.storage.blobs import hosted_key
    from pipgate.proxy.storage.facts import FileFacts
    from pipgate.proxy.storage.hosted import _INSERT, row_values
    from pipgate.proxy.storage.s3 import S3Blobs

    assert storage.blobs is not None
    directory = source / "hosted"
    if not (directory / "hosted.sqlite3").exists():
        return "hosted indexes: none in the data directory"
    blobs = S3Blobs(storage.blobs)
    facts = FileFacts(database)
    local = LocalHostedStore(directory)
    copied = kept = 0
    missing: list[str] = []
    try:
        records = [record for index in local.indexes() for record in local.records(index)]
        records.sort(key=lambda r: r.uploaded_at)
        for record in records:
            handle = local.open(record.sha256)
            if handle is None:
                missing.append(record.filename)
                continue
            with handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()  # type: ignore[arg-type]
                if digest != record.sha256:
                    missing.append(record.filename)
                    continue
                handle.seek(0)
                blobs.put_path(hosted_key(record.sha256), handle, size=record.size)
            metadata = local.get_metadata(record.sha256)
            if metadata is not None:
                blobs.put_bytes(metadata_key(record.sha256), metadata)
                facts.put("metadata-sha256:" + record.sha256, hashlib.sha256(metadata).hexdigest())
            with database.write() as tx:
                inserted = tx.execute(
                    _INSERT + " ON CONFLICT (idx, filename) DO NOTHING RETURNING id",
                    row_values(record),
                ).fetchone()
            if inserted is None:
                kept += 1
            else:
                copied += 1
    finally:
        local.close()
    summary = f"hosted indexes: {copied} files copied to {storage.blobs}"
    if kept:
        summary += f", {kept} already there"
    if missing:
        summary += f"; {len(missing)} missing or damaged, left out: {', '.join(missing[:10])}"
    return summary


async def import_data_dir(
    source: Path, storage: StorageSettings, *, echo: Callable[[str], None]
) -> str:
    """Copy ``source`` into the shared stores of ``storage``; returns a summary."""
    assert storage.database is not None
    await to_thread.run_sync(migrate, storage.database)
    database = PostgresDatabase(storage.database, max_size=2)
    try:
        counts = await to_thread.run_sync(_copy_state, source, database)
        echo("quarantine: " + ", ".join(f"{n} {table}" for table, n in counts.items()))
        decisions = await to_thread.run_sync(_copy_decisions, source, database)
        echo(f"decision log: {decisions} lines")
        if storage.blobs:
            echo(await _copy_files(source, storage, database))
            echo(await to_thread.run_sync(_copy_hosted, source, storage, database))
        else:
            echo("files: not copied ([storage] blobs is not set; they stay in the data directory)")
    finally:
        database.close()
    return f"imported {source} into {database.label}"
