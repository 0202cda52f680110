"""Distribution files stored by sha256 in a size-limited, LRU-evicting diskcache.

A file enters the store only whole and verified (``commit``), from a temporary
file in ``tmp/`` that ``Downloads`` wrote. Temporary files left by a crash are
removed at start-up, so a partial file is never served. Every method blocks on
disk: call them from a worker thread.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
import zipfile
from pathlib import Path
from typing import BinaryIO

import diskcache

_FILE = "file:"
_META = "metadata:"
_META_HASH = "metadata-sha256:"
#: A wheel's METADATA larger than this (inflated) is not extracted (a zip bomb, not metadata).
METADATA_LIMIT = 16 << 20


class FileStore:
    def __init__(self, directory: Path, *, size_limit: int) -> None:
        self.directory = directory
        self.tmp_dir = directory / "tmp"
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._cache = diskcache.Cache(
            str(directory / "files"),
            size_limit=size_limit,
            eviction_policy="least-recently-used",
            cull_limit=10,
        )

    def close(self) -> None:
        self._cache.close()

    def new_temp_path(self) -> Path:
        return self.tmp_dir / f"{uuid.uuid4().hex}.part"

    def open(self, sha256: str) -> BinaryIO | None:
        """An open handle on the stored file, or ``None``. The caller closes it.

        The handle stays readable even if the file is evicted meanwhile.
        """
        try:
            handle = self._cache.get(_FILE + sha256, read=True)
        except OSError:
            return None
        return handle  # type: ignore[no-any-return]

    def __contains__(self, sha256: str) -> bool:
        return (_FILE + sha256) in self._cache

    def commit(self, sha256: str, temp_path: Path) -> None:
        """Move a verified temporary file into the store (the temp file is removed)."""
        try:
            with temp_path.open("rb") as handle:
                self._cache.set(_FILE + sha256, handle, read=True)
        finally:
            temp_path.unlink(missing_ok=True)

    def delete(self, sha256: str) -> bool:
        """Remove a stored file and the metadata kept for it; true if the file was stored.

        Handles opened before stay readable (POSIX), so a response already
        streaming finishes; every later ``open`` finds nothing.
        """
        found = bool(self._cache.delete(_FILE + sha256))
        self._cache.delete(_META + sha256)
        self._cache.delete(_META_HASH + sha256)
        return found

    def remember_url(self, url: str, sha256: str) -> None:
        """Record that ``url`` (listed upstream without a hash) had these bytes."""
        self._cache.set(_url_key(url), sha256)

    def sha256_for_url(self, url: str) -> str | None:
        """The sha256 recorded for an unhashed upstream ``url``, if any."""
        value = self._cache.get(_url_key(url))
        return value if isinstance(value, str) else None

    def get_metadata(self, sha256: str) -> bytes | None:
        value = self._cache.get(_META + sha256)
        return value if isinstance(value, bytes) else None

    def put_metadata(self, sha256: str, metadata: bytes) -> None:
        self._cache.set(_META + sha256, metadata)
        self._cache.set(_META_HASH + sha256, hashlib.sha256(metadata).hexdigest())

    def metadata_hash(self, sha256: str) -> str | None:
        """The sha256 of the METADATA extracted from the stored wheel ``sha256``, if any."""
        value = self._cache.get(_META_HASH + sha256)
        return value if isinstance(value, str) else None

    def volume(self) -> int:
        return int(self._cache.volume())


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
