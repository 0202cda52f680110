"""Hosted indexes on the shared stores: records in PostgreSQL, files in the object store.

``SharedHostedStore`` is the ``HostedStore`` of replicas (``[storage]`` database and
blobs): one row per uploaded file in ``hosted_files`` (the same columns as the
local SQLite table), the bytes in the blob store under ``hosted/ab/<sha256>`` (the
only copy: a prefix of its own, see ``blobs.py``), written once and before the
row, so a row never names a missing blob. METADATA goes where every file's does
(``metadata/ab/<sha256>`` and its hash as a fact): it can be extracted again from
the wheel. Reads go through this replica's L1 file store: a file not there yet is
copied from the blob store (its sha256 checked) and kept there.

Pages of hosted projects are asked for on every request to an index with a hosted
source, most of them for names that are not hosted at all, so they never wait on
the database: this replica keeps in memory which projects each index has and the
newest row of each, and the pages built from them. An upload changes them with a
notification (``{"kind": "hosted"}`` on ``pipgate_changes``) sent in the inserting
transaction; every replica then reloads (``refresh``), as it does after the change
listener reconnects and, as a back-up, once a second from the probe task. With
PostgreSQL down, what is known keeps being served; a replica that never reached
it refuses hosted lookups (``StoreUnavailable``: 503).

Blocking like every ``HostedStore``: call in a thread.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import orjson
from packaging.utils import NormalizedName

from pipgate.proxy.errors import IntegrityError, StoreUnavailable
from pipgate.proxy.hosted.store import (
    EXISTING,
    HostedFile,
    HostedProject,
    file_exists,
    hosted_project,
)
from pipgate.proxy.observe.disk import STORAGE_ERRORS
from pipgate.proxy.storage.blobs import BlobStore, hosted_key

if TYPE_CHECKING:
    from pipgate.proxy.storage.files import SharedFileStore
    from pipgate.proxy.storage.postgres import PostgresDatabase

log = logging.getLogger("pipgate.hosted")

_INSERT = (
    "INSERT INTO hosted_files (idx, project, filename, version, is_sdist, sha256, size, "
    "requires_python, metadata_sha256, uploaded_at, uploader, client) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def row_values(record: HostedFile) -> tuple[object, ...]:
    """``record`` as the values of ``_INSERT`` (also used by ``storage import``)."""
    from datetime import UTC

    return (
        record.index,
        record.project,
        record.filename,
        record.version,
        not record.filename.endswith(".whl"),
        record.sha256,
        record.size,
        record.requires_python,
        record.metadata_sha256,
        record.uploaded_at.astimezone(UTC).isoformat(),
        record.uploader,
        record.client,
    )


class SharedHostedStore:
    """``HostedStore`` on PostgreSQL and the object store; see the module docstring."""

    def __init__(self, database: PostgresDatabase, blobs: BlobStore, l1: SharedFileStore) -> None:
        """``l1``: this replica's file store, which also shares METADATA with the cluster."""
        self._database = database
        self._blobs = blobs
        self._l1 = l1
        self._lock = threading.Lock()
        #: (index, project) -> id of its newest row; ``None`` until first loaded.
        self._newest: dict[tuple[str, str], int] | None = None
        self._revision = -1
        self._pages: dict[tuple[str, str], HostedProject] = {}
        #: One copy from the blob store at a time per file.
        self._copying: dict[str, threading.Lock] = {}

    def close(self) -> None:
        pass  # the database, blobs and L1 belong to the cluster and the app

    def new_temp_path(self) -> Path:
        return self._l1.new_temp_path()

    # -- what is hosted ----------------------------------------------------------------------

    def refresh(self) -> bool:
        """Reload which projects each index has if anything was uploaded since the last
        look (one query when nothing was); true when something changed."""
        with self._database.read() as tx:
            revision = int(
                tx.execute("SELECT coalesce(max(id), 0) FROM hosted_files").fetchone()[0]
            )
            if revision == self._revision:
                return False
            rows = tx.execute(
                "SELECT idx, project, max(id) FROM hosted_files GROUP BY idx, project"
            ).fetchall()
        newest = {(str(r[0]), str(r[1])): int(r[2]) for r in rows}
        with self._lock:
            old = self._newest or {}
            for key in [k for k in self._pages if newest.get(k) != old.get(k)]:
                del self._pages[key]
            self._newest, self._revision = newest, revision
        return True

    def _known(self) -> dict[tuple[str, str], int]:
        newest = self._newest
        if newest is None:
            self.refresh()  # raises StoreUnavailable while PostgreSQL cannot be reached
            newest = self._newest
            assert newest is not None
        return newest

    def project(self, index: str, name: NormalizedName) -> HostedProject | None:
        key = (index, name)
        if key not in self._known():
            return None
        found = self._pages.get(key)
        if found is not None:
            return found
        with self._database.read() as tx:
            rows = tx.execute(
                "SELECT * FROM hosted_files WHERE idx = ? AND project = ? ORDER BY id",
                (index, name),
            ).fetchall()
        found = hosted_project(name, rows)
        if found is not None:
            with self._lock:
                if self._newest is not None and self._newest.get(key) == -found.revision:
                    self._pages[key] = found
        return found

    def projects(self, index: str) -> list[NormalizedName]:
        return sorted(NormalizedName(p) for i, p in self._known() if i == index)

    # -- uploads -----------------------------------------------------------------------------

    def add(self, record: HostedFile, temp_path: Path, metadata: bytes | None) -> None:
        """Keep an upload: the file in the blob store, its METADATA, then its row (the
        uniqueness check and the insert serialised across replicas), then a copy in L1.
        An upload refused as a duplicate after its blob was written leaves that blob
        (content-addressed: the same bytes, or unreferenced and harmless)."""
        is_sdist = not record.filename.endswith(".whl")
        check = (record.index, record.filename, record.project, record.version, is_sdist)
        with self._database.read() as tx:
            existing = tx.execute(EXISTING.format(table="hosted_files"), check).fetchone()
        if existing is not None:
            raise file_exists(record, existing[0], existing[1])
        self._blobs.put_path(hosted_key(record.sha256), temp_path, size=record.size)
        if metadata is not None:
            self._l1.put_metadata(record.sha256, metadata)
        with self._database.write() as tx:
            existing = tx.execute(EXISTING.format(table="hosted_files"), check).fetchone()
            if existing is not None:
                raise file_exists(record, existing[0], existing[1])
            tx.execute(_INSERT, row_values(record))
            notify = self._database.dialect.notify
            if notify is not None:
                change = {"kind": "hosted", "index": record.index, "project": record.project}
                tx.execute(notify, (orjson.dumps(change).decode(),))
        try:
            self._l1.commit(record.sha256, temp_path)
        except STORAGE_ERRORS as exc:
            log.warning("could not keep %s in this replica's cache: %s", record.filename, exc)
        try:
            self.refresh()
        except StoreUnavailable as exc:  # the upload stands; the listener catches up
            log.warning("could not reload hosted projects after an upload: %s", exc)

    # -- files -------------------------------------------------------------------------------

    def open(self, sha256: str) -> BinaryIO | None:
        handle = self._l1.open(sha256)
        if handle is not None:
            return handle
        with self._lock:
            copying = self._copying.setdefault(sha256, threading.Lock())
        with copying:
            handle = self._l1.open(sha256)
            if handle is None:
                handle = self._copy(sha256)
        with self._lock:
            self._copying.pop(sha256, None)
        return handle

    def _copy(self, sha256: str) -> BinaryIO | None:
        """The file from the blob store into L1 (checked), as an open handle."""
        temp = self._l1.new_temp_path()
        try:
            with temp.open("w+b") as out:
                if self._blobs.read_into(hosted_key(sha256), out) is None:
                    return None
                out.seek(0)
                digest = hashlib.file_digest(out, "sha256").hexdigest()  # type: ignore[arg-type]
            if digest != sha256:
                raise IntegrityError(
                    f"hosted file {sha256} in {self._blobs.label} does not match its hash"
                )
            handle = temp.open("rb")  # readable whether or not L1 takes it
            try:
                self._l1.commit(sha256, temp)
            except STORAGE_ERRORS as exc:
                log.warning("could not keep hosted file %s in the cache: %s", sha256, exc)
            return handle
        finally:
            if temp.exists():
                os.unlink(temp)

    def get_metadata(self, sha256: str) -> bytes | None:
        return self._l1.get_metadata(sha256)
