"""The hosted store: per index, the projects uploaded to pipgate, their files and metadata.

``HostedStore`` is the interface the request path uses; ``LocalHostedStore`` keeps
records (one row per file, with who uploaded it, from where and when) in SQLite
and the bytes and PEP 658 metadata in a ``FileStore`` of their own, both under
``<data_dir>/hosted/``. That store never evicts: hosted files are the only copy.
With shared stores (``[storage]`` database and blobs) ``storage.hosted.SharedHostedStore``
keeps the records in PostgreSQL and the files in the object store instead, so every
replica serves what was uploaded to any of them.
Every method blocks (disk, database): call them from a worker thread.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from packaging.utils import NormalizedName
from packaging.version import Version

from pipgate.proxy.files.store import FileStore
from pipgate.proxy.models import DistFile, Project

#: A hosted file's URL inside pipgate: it never reaches a client (pages link ``/files/``).
URL_SCHEME = "hosted:"
#: Never evict: a file uploaded to pipgate has no other copy.
UNLIMITED = 1 << 62


class FileExists(Exception):
    """The index already has a file of that name (or an sdist of that release)."""


@dataclass(frozen=True)
class HostedFile:
    """One uploaded file and its upload record."""

    index: str
    project: NormalizedName
    filename: str
    version: str
    sha256: str
    size: int
    requires_python: str | None
    metadata_sha256: str | None
    uploaded_at: datetime
    uploader: str
    client: str

    def as_dist_file(self) -> DistFile:
        return DistFile(
            filename=self.filename,
            url=URL_SCHEME + self.sha256,
            hashes={"sha256": self.sha256},
            requires_python=self.requires_python,
            size=self.size,
            upload_time=self.uploaded_at,
            core_metadata={"sha256": self.metadata_sha256} if self.metadata_sha256 else False,
        )


@dataclass(frozen=True)
class HostedProject:
    """A hosted project as a page: ``revision`` changes with every upload to it."""

    project: Project
    revision: int


class HostedStore(Protocol):
    """Blocking; a store that cannot be used now raises ``StoreUnavailable``."""

    def project(self, index: str, name: NormalizedName) -> HostedProject | None:
        """The project's page on ``index``, or ``None`` when nothing of it was uploaded."""
        ...

    def projects(self, index: str) -> list[NormalizedName]: ...

    def add(self, record: HostedFile, temp_path: Path, metadata: bytes | None) -> None:
        """Keep a verified upload (the file at ``temp_path``, moved or copied) and its
        record; raises ``FileExists`` for a name (or sdist of a release) already there."""
        ...

    def new_temp_path(self) -> Path: ...

    def open(self, sha256: str) -> BinaryIO | None:
        """An open handle on the uploaded file (the caller closes it), or ``None``."""
        ...

    def get_metadata(self, sha256: str) -> bytes | None: ...

    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idx TEXT NOT NULL,
    project TEXT NOT NULL,
    filename TEXT NOT NULL,
    version TEXT NOT NULL,
    is_sdist INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    requires_python TEXT,
    metadata_sha256 TEXT,
    uploaded_at TEXT NOT NULL,
    uploader TEXT NOT NULL,
    client TEXT NOT NULL,
    UNIQUE (idx, filename)
);
CREATE INDEX IF NOT EXISTS files_by_project ON files (idx, project);
"""


class LocalHostedStore:
    """``HostedStore`` in a data directory (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.blobs = FileStore(directory, size_limit=UNLIMITED)
        self._db = sqlite3.connect(directory / "hosted.sqlite3", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()
        self.blobs.close()

    def new_temp_path(self) -> Path:
        return self.blobs.new_temp_path()

    def project(self, index: str, name: NormalizedName) -> HostedProject | None:
        rows = self._rows("SELECT * FROM files WHERE idx = ? AND project = ?", (index, name))
        return hosted_project(name, rows)

    def projects(self, index: str) -> list[NormalizedName]:
        rows = self._rows("SELECT DISTINCT project FROM files WHERE idx = ?", (index,))
        return sorted(NormalizedName(row["project"]) for row in rows)

    def indexes(self) -> list[str]:
        """The indexes with at least one upload."""
        return sorted(str(r["idx"]) for r in self._rows("SELECT DISTINCT idx FROM files", ()))

    def records(self, index: str) -> list[HostedFile]:
        """Every upload record of ``index``, oldest first."""
        return [record_of(r) for r in self._rows("SELECT * FROM files WHERE idx = ?", (index,))]

    def add(self, record: HostedFile, temp_path: Path, metadata: bytes | None) -> None:
        """Keep the verified file at ``temp_path`` (moved into the store) and its record.

        Raises ``FileExists`` when ``index`` has a file of that name, or an sdist of
        that release already: a published file is never replaced. Raises one of
        ``STORAGE_ERRORS`` when the disk refuses it (nothing is recorded then).
        """
        is_sdist = not record.filename.endswith(".whl")
        with self._lock:
            existing = self._db.execute(
                EXISTING.format(table="files"),
                (record.index, record.filename, record.project, record.version, is_sdist),
            ).fetchone()
            if existing is not None:
                raise file_exists(record, existing[0], existing[1])
            if record.sha256 not in self.blobs:
                self.blobs.commit(record.sha256, temp_path)
            else:
                temp_path.unlink(missing_ok=True)
            if metadata is not None:
                self.blobs.put_metadata(record.sha256, metadata)
            with self._db:
                self._db.execute(
                    "INSERT INTO files (idx, project, filename, version, is_sdist, sha256, size,"
                    " requires_python, metadata_sha256, uploaded_at, uploader, client)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.index,
                        record.project,
                        record.filename,
                        record.version,
                        is_sdist,
                        record.sha256,
                        record.size,
                        record.requires_python,
                        record.metadata_sha256,
                        record.uploaded_at.astimezone(UTC).isoformat(),
                        record.uploader,
                        record.client,
                    ),
                )

    def open(self, sha256: str) -> BinaryIO | None:
        return self.blobs.open(sha256)

    def get_metadata(self, sha256: str) -> bytes | None:
        return self.blobs.get_metadata(sha256)

    def _rows(self, sql: str, args: Iterable[object]) -> list[sqlite3.Row]:
        with self._lock:
            cursor = self._db.execute(sql, tuple(args))
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()


#: Finds a file of the same name, or an sdist of the same release (parameters: index,
#: filename, project, version, whether the new file is an sdist).
EXISTING = (
    "SELECT filename, uploaded_at FROM {table} WHERE idx = ? AND (filename = ? "
    "OR (project = ? AND version = ? AND is_sdist AND ?))"
)


def file_exists(record: HostedFile, filename: str, uploaded_at: str) -> FileExists:
    """Why ``record`` is refused: ``filename`` (uploaded at ``uploaded_at``) is there."""
    same = filename == record.filename
    return FileExists(
        f"File already exists: {filename!r} was uploaded to index "
        f"{record.index!r} at {uploaded_at[:19].replace('T', ' ')} UTC"
        + ("" if same else f"; a release has one sdist, so {record.filename!r} is refused")
        + "; a published file is never replaced: upload a new version"
    )


def hosted_project(name: NormalizedName, rows: Iterable[Any]) -> HostedProject | None:
    """The page of a hosted project from its file rows (``None`` without any)."""
    rows = list(rows)
    if not rows:
        return None
    files = [record_of(row) for row in rows]
    versions = sorted({f.version for f in files}, key=Version)  # validated at upload
    project = Project(name, tuple(f.as_dist_file() for f in files), tuple(versions))
    # Negative: never equal to a revision of an upstream copy of the same name.
    return HostedProject(project, -max(row["id"] for row in rows))


def record_of(row: Any) -> HostedFile:
    """A file row (SQLite or PostgreSQL) as a ``HostedFile``."""
    return HostedFile(
        index=row["idx"],
        project=NormalizedName(row["project"]),
        filename=row["filename"],
        version=row["version"],
        sha256=row["sha256"],
        size=row["size"],
        requires_python=row["requires_python"],
        metadata_sha256=row["metadata_sha256"],
        uploaded_at=datetime.fromisoformat(row["uploaded_at"]),
        uploader=row["uploader"],
        client=row["client"],
    )
