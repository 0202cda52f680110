"""What a failing disk looks like, and how much room the data directory has left.

A full or read-only disk surfaces as ``OSError`` (file writes) or ``sqlite3.Error``
(diskcache's and the quarantine store's index: "database or disk is full"), and
diskcache's lock timeout as ``diskcache.Timeout``. Callers that can serve without
the write catch ``STORAGE_ERRORS``, count it and go on.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import diskcache

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
