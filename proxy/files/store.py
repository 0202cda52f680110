"""Distribution files stored by sha256 in a size-limited, LRU-evicting diskcache.

A file enters the store only whole and verified (``commit``), from a temporary
file in ``tmp/`` that ``Downloads`` wrote. Temporary files left by a crash are
removed at start-up, so a partial file is never served. Every method blocks on
disk: call them from a worker thread.

On a full disk, reads still work: diskcache records each read for its LRU
eviction (a write), and when that write fails the entry is read without it.
Writes that only save work later (metadata, URL hashes) fail quietly; each
failure is reported to ``on_error`` for the metrics.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import diskcache

from pipgate.proxy.observe.disk import STORAGE_ERRORS, CleanDisk, DiskThreads, space_of

log = logging.getLogger("pipgate.store")

_FILE = "file:"
_META = "metadata:"
_META_HASH = "metadata-sha256:"
#: A wheel's METADATA larger than this (inflated) is not extracted (a zip bomb, not metadata).
T = TypeVar("T")

METADATA_LIMIT = 16 << 20
#: Threads for the store's blocking calls. A replica's store also asks PostgreSQL and
#: the object store (``SharedFileStore``), so a few more than the disk needs.
STORE_THREADS = 8


def _closing_off_its_threads(method: Callable[..., T]) -> Callable[..., T]:
    """``method`` of a ``FileStore``, closing the calling thread's SQLite connection
    afterwards unless the thread is one of the store's own (see ``DiskThreads``)."""

    @functools.wraps(method)
    def call(self: FileStore, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        finally:
            if not self.threads.own_current_thread():
                self._cache.close()

    return call


class FileStore:
    def __init__(
        self,
        directory: Path,
        *,
        size_limit: int,
        keep_free: Callable[[int], int] = lambda total: 0,
        on_error: Callable[[str], None] | None = None,
        shared_directory: bool = False,
    ) -> None:
        """``shared_directory``: other processes use ``directory`` too (``serve --workers``),
        so each keeps its temporary files in ``tmp/<pid>`` and removes only its own and
        those of processes that no longer exist."""
        self.directory = directory
        self.tmp_dir = directory / "tmp"
        if shared_directory:
            _remove_orphans(self.tmp_dir)
            self.tmp_dir = self.tmp_dir / str(os.getpid())
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._cache = diskcache.Cache(
            str(directory / "files"),
            size_limit=size_limit,
            eviction_policy="least-recently-used",
            cull_limit=10,
            disk=CleanDisk,
        )
        self._keep_free = keep_free
        self._on_error = on_error or (lambda store: None)
        #: The threads to call this store's blocking methods on (``await
        #: store.threads.run(store.open, sha256)``): a fixed few SQLite connections.
        self.threads = DiskThreads("store", STORE_THREADS)

    def close(self) -> None:
        self.threads.close()
        self._cache.close()

    def new_temp_path(self) -> Path:
        return self.tmp_dir / f"{uuid.uuid4().hex}.part"

    @_closing_off_its_threads
    def open(self, sha256: str) -> BinaryIO | None:
        """An open handle on the stored file, or ``None``. The caller closes it.

        The handle stays readable even if the file is evicted meanwhile.
        """
        try:
            handle = self._get(_FILE + sha256, read=True)
        except OSError:
            return None
        return handle  # type: ignore[no-any-return]

    @_closing_off_its_threads
    def has_room(self, size: int | None) -> bool:
        """Whether the disk can take a download of ``size`` bytes (twice: the
        temporary file, then its copy in the store) and still keep free the
        bytes ``keep_free(volume size)`` asks for (``[cache] min_free_space``)."""
        space = space_of(self.tmp_dir)
        return space.free >= 2 * (size or 0) + self._keep_free(space.total)

    def _get(self, key: str, *, read: bool = False) -> Any:
        try:
            return self._cache.get(key, read=read)
        except STORAGE_ERRORS as exc:
            if isinstance(exc, FileNotFoundError):
                return None
            self._failed("record a read", exc)
        try:
            return _peek(self._cache, key, read=read)
        except STORAGE_ERRORS as exc:
            self._failed("read", exc)
            return None

    def _failed(self, what: str, exc: Exception, store: str = "files") -> None:
        log.warning("file store could not %s: %s", what, exc)
        self._on_error(store)

    @_closing_off_its_threads
    def __contains__(self, sha256: str) -> bool:
        return (_FILE + sha256) in self._cache

    @_closing_off_its_threads
    def commit(self, sha256: str, temp_path: Path) -> None:
        """Move a verified temporary file into the store (the temp file is removed).

        Raises one of ``STORAGE_ERRORS`` when the store cannot take it (a full
        disk); the temporary file is then left in place for the caller."""
        try:
            with temp_path.open("rb") as handle:
                self._cache.set(_FILE + sha256, handle, read=True)
        except STORAGE_ERRORS as exc:
            self._failed(f"store file {sha256}", exc)
            raise
        temp_path.unlink(missing_ok=True)

    @_closing_off_its_threads
    def delete(self, sha256: str) -> bool:
        """Remove a stored file and the metadata kept for it; true if the file was stored.

        Handles opened before stay readable (POSIX), so a response already
        streaming finishes; every later ``open`` finds nothing.
        """
        found = bool(self._cache.delete(_FILE + sha256))
        self._cache.delete(_META + sha256)
        self._cache.delete(_META_HASH + sha256)
        return found

    @_closing_off_its_threads
    def remember_url(self, url: str, sha256: str) -> bool:
        """Record that ``url`` (listed upstream without a hash) had these bytes;
        false if the disk refused (the file is then fetched again next time)."""
        try:
            self._cache.set(_url_key(url), sha256)
        except STORAGE_ERRORS as exc:
            self._failed("record a file's hash", exc)
            return False
        return True

    @_closing_off_its_threads
    def sha256_for_url(self, url: str) -> str | None:
        """The sha256 recorded for an unhashed upstream ``url``, if any."""
        value = self._get(_url_key(url))
        return value if isinstance(value, str) else None

    @_closing_off_its_threads
    def get_metadata(self, sha256: str) -> bytes | None:
        value = self._get(_META + sha256)
        return value if isinstance(value, bytes) else None

    @_closing_off_its_threads
    def put_metadata(self, sha256: str, metadata: bytes) -> bool:
        """Keep a file's METADATA; false if the disk refused (it is extracted again later)."""
        try:
            self._cache.set(_META + sha256, metadata)
            self._cache.set(_META_HASH + sha256, hashlib.sha256(metadata).hexdigest())
        except STORAGE_ERRORS as exc:
            self._failed(f"store the metadata of {sha256}", exc, "metadata")
            return False
        return True

    @_closing_off_its_threads
    def metadata_hash(self, sha256: str) -> str | None:
        """The sha256 of the METADATA extracted from the stored wheel ``sha256``, if any."""
        value = self._get(_META_HASH + sha256)
        return value if isinstance(value, str) else None

    @_closing_off_its_threads
    def metadata_hashes(self, sha256s: list[str]) -> dict[str, str]:
        """``metadata_hash`` of many wheels at once: sha256 -> hash for those that have
        one. A page of 10,000 wheels is a few queries, not 10,000 (reads are not
        recorded for LRU eviction: a page only asks whether the metadata is there)."""
        found: dict[str, str] = {}
        for start in range(0, len(sha256s), _BATCH):
            keys = [_META_HASH + sha256 for sha256 in sha256s[start : start + _BATCH]]
            try:
                values = _peek_many(self._cache, keys)
            except STORAGE_ERRORS as exc:
                self._failed("read", exc, "metadata")
                return found
            for key, value in values.items():
                if isinstance(value, str):
                    found[key[len(_META_HASH) :]] = value
        return found

    @_closing_off_its_threads
    def volume(self) -> int:
        return int(self._cache.volume())


def _peek(cache: diskcache.Cache, key: str, *, read: bool) -> Any:
    """``cache[key]`` read without recording the read (no write at all), or ``None``.

    diskcache has no public read-only get under an LRU policy; this is its own
    lookup (``Cache.get``'s fast path) without the update that follows it."""
    db_key, raw = cache._disk.put(key)
    rows = cache._sql(
        "SELECT mode, filename, value FROM Cache WHERE key = ? AND raw = ?"
        " AND (expire_time IS NULL OR expire_time > ?)",
        (db_key, raw, time.time()),
    ).fetchall()
    if not rows:
        return None
    ((mode, filename, value),) = rows
    try:
        return cache._disk.fetch(mode, filename, value, read)
    except OSError:
        return None


def _remove_orphans(tmp_dir: Path) -> None:
    """Remove what the processes that are gone left in ``tmp_dir`` (files and pid folders)."""
    if not tmp_dir.is_dir():
        return
    for child in tmp_dir.iterdir():
        if child.is_dir() and child.name.isdigit():
            try:
                os.kill(int(child.name), 0)
                continue  # alive
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
            shutil.rmtree(child, ignore_errors=True)
        elif child.is_file():
            child.unlink(missing_ok=True)


#: Keys asked for in one query (SQLite allows 32,766 parameters; keep statements short).
_BATCH = 500


def _peek_many(cache: diskcache.Cache, keys: list[str]) -> dict[str, Any]:
    """``_peek`` of many string keys in one query: key -> value for those present."""
    if not keys:
        return {}
    marks = ",".join("?" * len(keys))
    rows = cache._sql(
        f"SELECT key, mode, filename, value FROM Cache WHERE raw = 1 AND key IN ({marks})"
        " AND (expire_time IS NULL OR expire_time > ?)",
        (*keys, time.time()),
    ).fetchall()
    found = {}
    for key, mode, filename, value in rows:
        try:
            found[key] = cache._disk.fetch(mode, filename, value, False)
        except OSError:
            continue
    return found


def _url_key(url: str) -> str:
    # Hashed: upstream URLs can carry credentials, which must not sit in the index file.
    return "url:" + hashlib.sha256(url.encode()).hexdigest()


def extract_wheel_metadata(path: Path | BinaryIO) -> bytes | None:
    """The ``*.dist-info/METADATA`` of a wheel, or ``None`` if it has none or is not a zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            candidates = [
                n
                for n in archive.namelist()
                if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ]
            if len(candidates) != 1 or archive.getinfo(candidates[0]).file_size > METADATA_LIMIT:
                return None
            with archive.open(candidates[0]) as member:  # file_size is only what the zip claims
                data = member.read(METADATA_LIMIT + 1)
            return data if len(data) <= METADATA_LIMIT else None
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
