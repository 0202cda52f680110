"""What a failing disk looks like, and how much room the data directory has left.

A full or read-only disk surfaces as ``OSError`` (file writes) or ``sqlite3.Error``
(diskcache's and the quarantine store's index: "database or disk is full"), and
diskcache's lock timeout as ``diskcache.Timeout``. Callers that can serve without
the write catch ``STORAGE_ERRORS``, count it and go on.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import diskcache

T = TypeVar("T")

STORAGE_ERRORS: tuple[type[Exception], ...] = (OSError, sqlite3.Error, diskcache.Timeout)


class CleanDisk(diskcache.Disk):
    """diskcache's file writer, removing the partial file a failed write leaves behind
    (on a full disk it would otherwise hold on to the space that ran out)."""

    def _write(self, full_path, iterator, mode, encoding=None):  # type: ignore[no-untyped-def]
        try:
            return super()._write(full_path, iterator, mode, encoding)
        except BaseException:
            try:
                os.remove(full_path)
            except OSError:
                pass
            raise


@dataclass(frozen=True)
class Space:
    """Free and total bytes of the file system holding a directory."""

    free: int
    total: int


def space_of(directory: Path) -> Space:
    """The room left for an unprivileged writer under ``directory`` (blocking)."""
    stat = os.statvfs(directory)
    return Space(free=stat.f_bavail * stat.f_frsize, total=stat.f_blocks * stat.f_frsize)


class DiskThreads:
    """A fixed few threads for the blocking calls of one diskcache-backed store.

    diskcache opens a SQLite connection in each thread that uses a cache (three
    descriptors in WAL mode: the database, its ``-wal`` and ``-shm``) and keeps it
    while the thread lives. Called from anyio's shared worker threads (up to 40,
    idle ones only ending when a later call prunes them), a store came to hold as
    many connections as threads that ever touched it; on these threads it holds at
    most ``workers``. A store called on another thread anyway (a page build asking for
    metadata hashes, the scan opening a file) closes that thread's connection after the
    call (``own_current_thread``).

    ``run`` cannot be cancelled half-way, like ``anyio.to_thread.run_sync``: a caller
    that is cancelled hears of it once the call has returned, so what it cleans up
    afterwards (a temporary file being committed, say) is not still in use.
    """

    def __init__(self, name: str, workers: int) -> None:
        self._idents: set[int] = set()
        self._pool = ThreadPoolExecutor(
            max_workers=workers,
            thread_name_prefix=f"pipgate-{name}",
            initializer=lambda: self._idents.add(threading.get_ident()),
        )

    def own_current_thread(self) -> bool:
        """Whether the calling thread is one of these."""
        return threading.get_ident() in self._idents

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        future = asyncio.wrap_future(self._pool.submit(call, *args))
        with anyio.CancelScope(shield=True):  # anyio's cancellation waits
            try:
                return await asyncio.shield(future)
            except asyncio.CancelledError:  # and so does a task's own
                await asyncio.wait([future])
                raise

    def close(self) -> None:
        """Wait for the calls under way; later ``run`` calls raise ``RuntimeError``."""
        self._pool.shutdown(wait=True)
